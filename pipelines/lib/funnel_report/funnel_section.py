"""A funnel's section of the report: its every-campaign view and one view per platform and
campaign (headline figures, findings, stage chart and table, trends, momentum, time to convert,
intent segments). Every value passes through ``esc`` (escaped)."""

from __future__ import annotations

from pipelines.lib.funnel_report.cohort_charts import daily_chart, weekly_chart
from pipelines.lib.funnel_report.html_labels import (
    campaign_label,
    esc,
    funnel_label,
    scope_attributes,
)
from pipelines.lib.funnel_report.model import (
    ALL,
    EVERY,
    Finding,
    FunnelReport,
    FunnelView,
    MomentumPoint,
    Scope,
    SegmentSummary,
    StageSummary,
    TimeBucket,
    WeekPoint,
)
from pipelines.lib.funnel_report.stage_charts import (
    funnel_chart,
    momentum_chart,
    segment_chart,
    time_histogram,
)
from pipelines.lib.funnel_report.text_formats import (
    format_count,
    format_duration,
    format_money,
    format_rate,
    format_ratio,
)

# Diagnostic codes (agg_funnel_diagnostics.finding) as headings; unknown codes are shown as-is.
FINDING_TITLES = {
    "largest_dropoff": "Largest drop-off",
    "slowest_step": "Slowest step",
    "delay_without_filter": "Delay that filters nobody out",
    "asking_too_much_too_soon": "Asking too much too soon",
    "stalled_journeys": "Stalled journeys",
}


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
            f'<div class="kpi"><span>{esc(k)}</span><strong>{esc(v)}</strong></div>'
            for k, v in tiles
        )
        + "</div>"
    )


def _findings(findings: list[Finding]) -> str:
    if not findings:
        return ""
    items = "".join(
        f"<li><strong>{esc(FINDING_TITLES.get(f.finding, f.finding))}</strong>"
        f"{esc(f.evidence or '')}</li>"
        for f in findings
    )
    return f'<h4>What stands out</h4><ul class="findings">{items}</ul>'


def _stage_table(stages: list[StageSummary]) -> str:
    rows = "".join(
        f"<tr><td>{esc(s.stage_order)}. {esc(s.stage_name)}</td>"
        f"<td>{esc(format_count(s.journeys_reached))}</td>"
        f"<td>{esc(format_rate(s.step_conversion_rate))}</td>"
        f"<td>{esc(format_rate(s.overall_conversion_rate))}</td>"
        f"<td>{esc(format_count(s.dropoff_count))}</td>"
        f"<td>{esc(format_duration(s.median_seconds_to_next_stage))}</td></tr>"
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
        f"<tr><td>{esc(w.iso_year)}-W{esc(f'{w.iso_week:02d}')}</td>"
        f"<td>{esc(w.week_start.isoformat())}</td>"
        f"<td>{esc(format_count(w.journeys_started))}</td>"
        f"<td>{esc(format_count(w.journeys_converted))}</td>"
        f"<td>{esc(format_rate(w.conversion_rate))}</td>"
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
        f"<tr><td>{esc(p.stage_order)}. {esc(p.stage_name)}</td>"
        f"<td>{esc(format_count(p.journeys_reached))}</td>"
        f"<td>{esc(format_count(p.journeys_converted))}</td>"
        f"<td>{esc(format_rate(p.conversion_probability))}</td>"
        f"<td>{esc(format_ratio(p.lift_vs_previous_stage))}</td></tr>"
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
<p class="muted">{esc(summary)}.</p></div>"""


def _segments(segments: list[SegmentSummary], stages: list[StageSummary]) -> str:
    if not segments:
        return ""
    head = "".join(f"<th>{esc(s.stage_name)}</th>" for s in stages)
    rows = "".join(
        f"<tr><td>{esc(seg.intent_segment)}</td>"
        + "".join(f"<td>{esc(format_count(n))}</td>" for n in seg.reached)
        + f"<td>{esc(format_rate(seg.overall_conversion_rate))}</td></tr>"
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
<h3 class="scope-title">{esc(campaign_label(view.scope, names))}
<small>· {esc(funnel.funnel_id)}</small></h3>
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
        f"{esc(campaign_label(scope, names))} has {esc(format_count(entries))} journeys in "
        f"{esc(funnel.funnel_id)}: charts are drawn for the {esc(drawn)} campaigns with the most "
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
<section class="funnel-section" id="funnel-{esc(funnel.funnel_id)}">
<h2>Funnel {funnel_label(funnel.funnel_id, funnel.funnel_version)}</h2>
<p class="notice no-scope" hidden>No journeys of this funnel for the selected platform or
campaign.</p>
{_view(funnel, every, names, currency)}
{breakdown}
</section>"""
