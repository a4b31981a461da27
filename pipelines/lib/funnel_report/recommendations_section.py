"""The report's "Fix this first" section: agg_funnel_recommendations ranked, across every
campaign and per campaign. Every value passes through ``esc`` (escaped)."""

from __future__ import annotations

from pipelines.lib.funnel_report.html_labels import (
    campaign_label,
    esc,
    scope_attributes,
)
from pipelines.lib.funnel_report.model import (
    Recommendation,
    Scope,
)
from pipelines.lib.funnel_report.text_formats import (
    format_count,
    format_money,
    format_rate,
)


def _recommendation_row(r: Recommendation, currency: str | None, where: str) -> str:
    """Cells of one recommendation; ``where`` is plain text (escaped here)."""
    final = "" if r.is_final else '<span class="badge">not final</span>'
    at_stake = f"{format_count(r.journeys_at_stake)}"
    share = f"{format_rate(r.share_at_stake)} of {format_count(r.entries)}"
    return (
        f'<td class="rank">{esc(r.priority)}</td>'
        f'<td class="action text"><strong>{esc(r.action)}</strong>'
        f"<small>{esc(r.funnel_id)}{esc(where)}</small></td>"
        f"<td>{esc(at_stake)}<br><small>{esc(share)}</small></td>"
        f"<td>{esc(format_money(r.spend_at_stake, currency))}</td>"
        f'<td class="evidence">{esc(r.evidence)}{final}</td>'
    )


def recommendations_section(
    recommendations: list[Recommendation], names: dict[Scope, str | None], currency: str | None
) -> str:
    if not recommendations:
        return ""
    head = (
        '<thead><tr><th>rank</th><th class="text">what to change</th><th>people at stake</th>'
        '<th>spend at stake</th><th class="text">evidence</th></tr></thead>'
    )
    funnel_rows = "".join(
        f"<tr>{_recommendation_row(r, currency, '')}</tr>"
        for r in recommendations
        if r.scope == "funnel"
    )
    campaign_rows = "".join(
        f'<tr class="filter-row" {scope_attributes(r.platform, r.campaign_id)}>'
        + _recommendation_row(
            r, currency, f" · {campaign_label((r.platform, r.campaign_id), names)}"
        )
        + "</tr>"
        for r in recommendations
        if r.scope == "campaign"
    )
    every = (
        f'<div class="every-only"><h3>Across every campaign</h3>'
        f'<table class="wide recommendations funnel-scope">{head}<tbody>{funnel_rows}</tbody>'
        "</table></div>"
        if funnel_rows
        else ""
    )
    per_campaign = (
        f'<h3>By campaign</h3><table class="wide recommendations campaign-scope">{head}'
        f"<tbody>{campaign_rows}</tbody></table>"
        if campaign_rows
        else ""
    )
    return f"""
<section id="recommendations"><h2>Fix this first</h2>
<p class="muted">Ranked by the people each change concerns (journeys lost where the finding
points), then by the ad spend that bought them (spend at stake = the group's spend x people at
stake / its entries). From agg_funnel_recommendations, over every cohort in the file.</p>
{every}{per_campaign}</section>"""
