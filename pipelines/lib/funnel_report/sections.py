"""The report's sections as HTML strings; every value passes through ``_e`` (escaped)."""

from __future__ import annotations

from html import escape

from pipelines.lib.funnel_report.model import (
    ALL,
    EVERY,
    CampaignRow,
    ComparisonSide,
    Finding,
    FunnelReport,
    FunnelView,
    MomentumPoint,
    Recommendation,
    Scope,
    SegmentSummary,
    SequenceComparison,
    StageSummary,
    TimeBucket,
    WeekPoint,
)
from pipelines.lib.funnel_report.svg import (
    comparison_chart,
    daily_chart,
    funnel_chart,
    momentum_chart,
    segment_chart,
    time_histogram,
    weekly_chart,
)
from pipelines.lib.funnel_report.text_formats import (
    format_count,
    format_duration,
    format_interval,
    format_money,
    format_number,
    format_p_value,
    format_points,
    format_rate,
    format_ratio,
    format_signed_rate,
)

# Diagnostic codes (agg_funnel_diagnostics.finding) as headings; unknown codes are shown as-is.
FINDING_TITLES = {
    "largest_dropoff": "Largest drop-off",
    "slowest_step": "Slowest step",
    "delay_without_filter": "Delay that filters nobody out",
    "asking_too_much_too_soon": "Asking too much too soon",
    "stalled_journeys": "Stalled journeys",
}


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def scope_attributes(platform: str, campaign_id: str) -> str:
    return f'data-platform="{_e(platform)}" data-campaign="{_e(campaign_id)}"'


def campaign_label(scope: Scope, names: dict[Scope, str | None]) -> str:
    """Plain text: the campaign's name (or id), for option lists and headings."""
    platform, campaign_id = scope
    if scope == EVERY:
        return "Every campaign"
    if campaign_id == ALL:
        return f"Every {platform} campaign"
    if campaign_id == "(none)":
        return f"{platform} (no campaign)"
    return names.get(scope) or campaign_id


def campaign_cell(scope: Scope, names: dict[Scope, str | None]) -> str:
    """HTML: the campaign's name over its platform and id."""
    platform, campaign_id = scope
    if campaign_id == "(none)":
        return f"{_e(platform)} <small>(no campaign)</small>"
    return (
        f"{_e(campaign_label(scope, names))}<br><small>{_e(platform)} · {_e(campaign_id)}</small>"
    )


def _funnel_label(funnel_id: str, version: int | None) -> str:
    return (
        f"{_e(funnel_id)} <small>v{_e(version)}</small>" if version is not None else _e(funnel_id)
    )


# --- fix this first ----------------------------------------------------------------------------


def _recommendation_row(r: Recommendation, currency: str | None, where: str) -> str:
    """Cells of one recommendation; ``where`` is plain text (escaped here)."""
    final = "" if r.is_final else '<span class="badge">not final</span>'
    at_stake = f"{format_count(r.journeys_at_stake)}"
    share = f"{format_rate(r.share_at_stake)} of {format_count(r.entries)}"
    return (
        f'<td class="rank">{_e(r.priority)}</td>'
        f'<td class="action text"><strong>{_e(r.action)}</strong>'
        f"<small>{_e(r.funnel_id)}{_e(where)}</small></td>"
        f"<td>{_e(at_stake)}<br><small>{_e(share)}</small></td>"
        f"<td>{_e(format_money(r.spend_at_stake, currency))}</td>"
        f'<td class="evidence">{_e(r.evidence)}{final}</td>'
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


# --- sequence comparison -------------------------------------------------------------------------


def _comparison_block(c: SequenceComparison, currency: str | None) -> str:
    sides: list[tuple[str, ComparisonSide]] = [
        ("micro sequence", c.micro),
        ("direct ask", c.direct),
    ]
    rows = "".join(
        f"<tr><td>{_e(label)}: {_funnel_label(s.funnel_id, s.funnel_version)}</td>"
        f"<td>{_e(format_count(s.entries))}</td><td>{_e(format_count(s.conversions))}</td>"
        f"<td>{_e(format_rate(s.conversion_rate))}</td>"
        f"<td>{_e(format_interval(s.ci_low, s.ci_high))}</td>"
        f"<td>{_e(format_money(s.spend, currency))}</td>"
        f"<td>{_e(format_money(s.cost_per_conversion, currency))}</td></tr>"
        for label, s in sides
    )
    if c.is_significant is None:
        css = ""
    else:
        css = " significant" if c.is_significant else " inconclusive"
    significance = {True: "significant (p < 0.05)", False: "not significant", None: "-"}[
        c.is_significant
    ]
    stats = [
        ("relative lift", format_signed_rate(c.relative_lift)),
        ("absolute lift", format_points(c.absolute_lift)),
        ("z", format_number(round(c.z_score, 2)) if c.z_score is not None else "-"),
        ("p-value", format_p_value(c.p_value)),
        ("", significance),
    ]
    stat_text = " · ".join(f"{k} {v}".strip() for k, v in stats)
    final = (
        ""
        if c.is_final
        else '<p class="muted">Some cohorts are not final yet (their conversion window is still '
        "open): the figures can still move.</p>"
    )
    return f"""
<div class="comparison-pair">
<p class="verdict{css}">{_e(c.verdict or "No verdict.")}</p>
{comparison_chart(sides)}
<table class="comparison"><thead><tr><th>side</th><th>entries</th><th>conversions</th>
<th>conversion rate</th><th>95% interval (Wilson)</th><th>spend</th><th>cost per conversion</th>
</tr></thead><tbody>{rows}</tbody></table>
<p>{_e(stat_text)}</p>{final}
</div>"""


def comparison_section(comparisons: list[SequenceComparison], currency: str | None) -> str:
    if not comparisons:
        return ""
    blocks = "".join(_comparison_block(c, currency) for c in comparisons)
    return f"""
<section id="sequence-comparison"><h2>Micro-commitment sequence vs direct ask</h2>
<p class="notice filtered-note">This comparison covers every campaign: the filter does not
narrow it.</p>
<p class="muted">Every cohort, every campaign. Entries are journeys started; conversion rate is
conversions / entries; the interval is the Wilson score 95% interval; the p-value is the
two-sided pooled two-proportion z-test.</p>{blocks}</section>"""


# --- campaign performance ------------------------------------------------------------------------


def _campaign_body(c: CampaignRow, names: dict[Scope, str | None], currency: str | None) -> str:
    """One <tbody> per campaign: the ad numbers span the rows of the funnels it feeds. Money
    carries its currency unless the header does (one currency for every campaign)."""
    money = None if currency else c.currency
    scope = (c.platform, c.campaign_id)
    funnels = c.funnels or [None]
    span = f' rowspan="{len(funnels)}"' if len(funnels) > 1 else ""
    ads = (
        f"<td{span}>{campaign_cell(scope, names)}</td>"
        f"<td{span}>{_e(format_count(c.impressions))}</td>"
        f"<td{span}>{_e(format_count(c.clicks))}</td><td{span}>{_e(format_rate(c.ctr))}</td>"
        f"<td{span}>{_e(format_money(c.spend, money))}</td>"
        f"<td{span}>{_e(format_money(c.cpc, money))}</td>"
        f"<td{span}>{_e(format_number(c.platform_conversions))}</td>"
    )
    rows = []
    for i, f in enumerate(funnels):
        if f is None:
            cells = '<td class="text" colspan="5"><small>no journeys in any funnel</small></td>'
        else:
            cells = (
                f'<td class="text">{_e(f.funnel_id)}</td><td>{_e(format_count(f.journeys))}</td>'
                f"<td>{_e(format_count(f.conversions))}</td>"
                f"<td>{_e(format_rate(f.conversion_rate))}</td>"
                f"<td>{_e(format_money(f.cost_per_conversion, money))}</td>"
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
    unit = f" ({_e(currency)})" if currency else ""
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


# --- a funnel in one scope ---------------------------------------------------------------------


def _kpis(view: FunnelView, currency: str | None) -> str:
    h = view.headline
    tiles = [
        ("entries (journeys started)", format_count(h.entries)),
        ("conversions", format_count(h.conversions)),
        ("conversion per entry", format_rate(h.conversion_rate)),
        ("spend", format_money(h.spend, currency)),
        ("cost per conversion", format_money(h.cost_per_conversion, currency)),
    ]
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><span>{_e(k)}</span><strong>{_e(v)}</strong></div>' for k, v in tiles
        )
        + "</div>"
    )


def _findings(findings: list[Finding]) -> str:
    if not findings:
        return ""
    items = "".join(
        f"<li><strong>{_e(FINDING_TITLES.get(f.finding, f.finding))}</strong>"
        f"{_e(f.evidence or '')}</li>"
        for f in findings
    )
    return f'<h4>What stands out</h4><ul class="findings">{items}</ul>'


def _stage_table(stages: list[StageSummary]) -> str:
    rows = "".join(
        f"<tr><td>{_e(s.stage_order)}. {_e(s.stage_name)}</td>"
        f"<td>{_e(format_count(s.journeys_reached))}</td>"
        f"<td>{_e(format_rate(s.step_conversion_rate))}</td>"
        f"<td>{_e(format_rate(s.overall_conversion_rate))}</td>"
        f"<td>{_e(format_count(s.dropoff_count))}</td>"
        f"<td>{_e(format_duration(s.median_seconds_to_next_stage))}</td></tr>"
        for s in stages
    )
    return (
        '<table class="stages"><thead><tr><th>stage</th><th>journeys reached</th>'
        "<th>step conversion</th><th>overall conversion</th><th>drop-off</th>"
        f"<th>median time to next stage</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _weekly(weeks: list[WeekPoint]) -> str:
    if not weeks:
        return ""
    rows = "".join(
        f"<tr><td>{_e(w.iso_year)}-W{_e(f'{w.iso_week:02d}')}</td>"
        f"<td>{_e(w.week_start.isoformat())}</td>"
        f"<td>{_e(format_count(w.journeys_started))}</td>"
        f"<td>{_e(format_count(w.journeys_converted))}</td>"
        f"<td>{_e(format_rate(w.conversion_rate))}</td>"
        f"<td>{'yes' if w.is_final else 'not yet'}</td></tr>"
        for w in weeks
    )
    return f"""<h4>Weekly trend (ISO weeks)</h4>
<p class="muted">A week at either end of the range holds only its cohort days in the file.</p>
{weekly_chart(weeks)}
<table class="weekly"><thead><tr><th>week</th><th>from (Monday)</th><th>journeys started</th>
<th>converted</th><th>conversion per entry</th><th>final</th></tr></thead>
<tbody>{rows}</tbody></table>"""


def _momentum(points: list[MomentumPoint]) -> str:
    # At the last stage P(conversion | converted) is 1 by definition: left out. A curve needs
    # two steps at least (a direct ask has one).
    steps = points[:-1]
    if len(steps) < 2:
        return ""
    rows = "".join(
        f"<tr><td>{_e(p.stage_order)}. {_e(p.stage_name)}</td>"
        f"<td>{_e(format_count(p.journeys_reached))}</td>"
        f"<td>{_e(format_count(p.journeys_converted))}</td>"
        f"<td>{_e(format_rate(p.conversion_probability))}</td>"
        f"<td>{_e(format_ratio(p.lift_vs_previous_stage))}</td></tr>"
        for p in steps
    )
    return f"""
<div class="momentum-block"><h4>Momentum: P(conversion | stage reached)</h4>
{momentum_chart(steps)}
<table class="momentum"><thead><tr><th>stage</th><th>reached</th><th>converted</th>
<th>P(conversion)</th><th>lift vs prev.</th></tr></thead><tbody>{rows}</tbody></table>
<p class="muted">Each small yes should make the next likelier. The conversion stage is left out:
there the probability is 100% by definition.</p></div>"""


def _time(buckets: list[TimeBucket]) -> str:
    if not buckets:
        return ""
    total = buckets[0].scope_conversions
    half = next(
        (b for b in buckets if b.cumulative_share is not None and b.cumulative_share >= 0.5),
        None,
    )
    summary = f"{format_count(total)} conversions"
    if half is not None:
        summary += f"; half of them within the {half.bucket_label} bucket or sooner"
    return f"""
<div class="time-block"><h4>Time from entry (first stage) to conversion</h4>
{time_histogram(buckets)}
<p class="muted">{_e(summary)}.</p></div>"""


def _segments(segments: list[SegmentSummary], stages: list[StageSummary]) -> str:
    if not segments:
        return ""
    head = "".join(f"<th>{_e(s.stage_name)}</th>" for s in stages)
    rows = "".join(
        f"<tr><td>{_e(seg.intent_segment)}</td>"
        + "".join(f"<td>{_e(format_count(n))}</td>" for n in seg.reached)
        + f"<td>{_e(format_rate(seg.overall_conversion_rate))}</td></tr>"
        for seg in segments
    )
    return f"""<h4>By intent segment</h4>
<p class="muted">Intent at the journey's start, by default: early (first journey), mid (an
earlier journey), late (an earlier journey reached the late stages), or as set per campaign in
funnels.yml.</p>
{segment_chart(segments)}
<table class="segments"><thead><tr><th>segment</th>{head}<th>conversion per entry</th></tr>
</thead><tbody>{rows}</tbody></table>"""


def _view(
    funnel: FunnelReport, view: FunnelView, names: dict[Scope, str | None], currency: str | None
) -> str:
    platform, campaign_id = view.scope
    analysis = _momentum(view.momentum) + _time(view.time_to_convert)
    daily = f"<h4>Daily conversion per entry</h4>{daily_chart(view.daily)}" if view.daily else ""
    return f"""
<div class="scope" {scope_attributes(platform, campaign_id)}>
<h3 class="scope-title">{_e(campaign_label(view.scope, names))}
<small>· {_e(funnel.funnel_id)}</small></h3>
{_kpis(view, currency)}
{_findings(view.findings)}
{funnel_chart(view.stages)}
{_stage_table(view.stages)}
{daily}
{_weekly(view.weekly)}
{f'<div class="analysis">{analysis}</div>' if analysis else ""}
{_segments(view.segments, view.stages)}
</div>"""


def _undrawn(
    funnel: FunnelReport, scope: Scope, entries: int, names: dict[Scope, str | None]
) -> str:
    """A stand-in the filter shows for a campaign past the view limit."""
    drawn = sum(1 for s in funnel.views if s[1] != ALL)
    return (
        f'<div class="scope" {scope_attributes(*scope)}><p class="notice">'
        f"{_e(campaign_label(scope, names))} has {_e(format_count(entries))} journeys in "
        f"{_e(funnel.funnel_id)}: charts are drawn for the {_e(drawn)} campaigns with the most "
        "journeys only. Its figures are in the campaign table and the recommendations.</p></div>"
    )


def funnel_section(
    funnel: FunnelReport, names: dict[Scope, str | None], currency: str | None
) -> str:
    every = funnel.views[EVERY]
    others = [view for scope, view in funnel.views.items() if scope != EVERY]
    stand_ins = "".join(
        _undrawn(funnel, scope, entries, names) for scope, entries in funnel.undrawn.items()
    )
    breakdown = (
        f'<details class="breakdown"><summary>Per platform and campaign ({len(others)} '
        f"views)</summary>{''.join(_view(funnel, v, names, currency) for v in others)}"
        f"{stand_ins}</details>"
        if others
        else ""
    )
    return f"""
<section class="funnel-section" id="funnel-{_e(funnel.funnel_id)}">
<h2>Funnel {_funnel_label(funnel.funnel_id, funnel.funnel_version)}</h2>
<p class="notice no-scope" hidden>No journeys of this funnel for the selected platform or
campaign.</p>
{_view(funnel, every, names, currency)}
{breakdown}
</section>"""
