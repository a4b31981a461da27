"""The report's campaign performance table: ad platform numbers beside the journeys of each
funnel a campaign feeds. Every value passes through ``esc`` (escaped)."""

from __future__ import annotations

from pipelines.lib.funnel_report.html_labels import (
    campaign_cell,
    esc,
    scope_attributes,
)
from pipelines.lib.funnel_report.model import (
    CampaignFunnel,
    CampaignRow,
    Scope,
)
from pipelines.lib.funnel_report.text_formats import (
    format_count,
    format_money,
    format_number,
    format_rate,
)


def _campaign_body(c: CampaignRow, names: dict[Scope, str | None], currency: str | None) -> str:
    """One <tbody> per campaign: the ad numbers span the rows of the funnels it feeds. Money
    carries its currency unless the header does (one currency for every campaign)."""
    money = None if currency else c.currency
    scope = (c.platform, c.campaign_id)
    funnels: list[CampaignFunnel | None] = [*c.funnels] or [None]
    span = f' rowspan="{len(funnels)}"' if len(funnels) > 1 else ""
    ads = (
        f"<td{span}>{campaign_cell(scope, names)}</td>"
        f"<td{span}>{esc(format_count(c.impressions))}</td>"
        f"<td{span}>{esc(format_count(c.clicks))}</td><td{span}>{esc(format_rate(c.ctr))}</td>"
        f"<td{span}>{esc(format_money(c.spend, money))}</td>"
        f"<td{span}>{esc(format_money(c.cpc, money))}</td>"
        f"<td{span}>{esc(format_number(c.platform_conversions))}</td>"
    )
    rows = []
    for i, f in enumerate(funnels):
        if f is None:
            cells = '<td class="text" colspan="5"><small>no journeys in any funnel</small></td>'
        else:
            cells = (
                f'<td class="text">{esc(f.funnel_id)}</td><td>{esc(format_count(f.journeys))}</td>'
                f"<td>{esc(format_count(f.conversions))}</td>"
                f"<td>{esc(format_rate(f.conversion_rate))}</td>"
                f"<td>{esc(format_money(f.cost_per_conversion, money))}</td>"
            )
        rows.append(f"<tr>{ads if i == 0 else ''}{cells}</tr>")
    return (
        f'<tbody class="filter-row" {scope_attributes(c.platform, c.campaign_id)}>'
        f"{''.join(rows)}</tbody>"
    )


def performance_section(
    campaigns: list[CampaignRow], names: dict[Scope, str | None], currency: str | None
) -> str:
    if not campaigns:
        return ""
    bodies = "".join(_campaign_body(c, names, currency) for c in campaigns)
    unit = f" ({esc(currency)})" if currency else ""
    return f"""
<section id="campaign-performance"><h2>Campaign performance</h2>
<p class="muted">Ad platform numbers per campaign beside the journeys of each funnel the
campaign feeds (the funnel column says which): journeys = journeys started from the campaign's
hooks, conversions = those that reached the funnel's last stage, cost per conversion = the
campaign's spend on those journeys' cohort days / conversions. Platform conv. are the ad
platform's own (modelled) conversions.</p>
<div class="table-scroll"><table class="wide campaigns"><thead><tr><th>campaign</th>
<th>impressions</th><th>clicks</th><th>CTR</th><th>spend{unit}</th><th>CPC{unit}</th>
<th>platform conv.</th><th class="text">funnel</th><th>journeys</th><th>conversions</th>
<th>conv. rate</th><th>cost per conv.{unit}</th></tr></thead>{bodies}</table></div>
</section>"""
