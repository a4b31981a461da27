"""The self-contained HTML funnel report: inline CSS and SVG, every value escaped.

Written to a temp file next to the output and renamed over it, so a browser or web server never
serves half a page.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pipelines.lib.report.data import (
    CampaignPerformance,
    ComparisonSide,
    Finding,
    FunnelSummary,
    MomentumPoint,
    ReportData,
    SequenceComparison,
    TimeBucket,
    load_report_data,
)
from pipelines.lib.report.svg import (
    comparison_chart,
    funnel_chart,
    momentum_chart,
    time_histogram,
    trend_line,
)
from pipelines.lib.report.text import (
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
    format_stage_table,
)

__all__ = ["format_stage_table", "render_report", "write_funnel_report"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#1d2430}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.4rem;border-bottom:1px solid #dde}
table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-variant-numeric:tabular-nums}
th,td{padding:.3rem .6rem;border-bottom:1px solid #eee;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f5f6fa}
.muted{color:#667}.facts td{text-align:left}.notice{background:#fff6db;padding:.5rem .8rem}
svg text{font:12px system-ui,sans-serif;fill:#1d2430}svg text.stage{font-weight:600}
svg text.rates,svg tspan.rates{fill:#556}small{color:#667}
.verdict{font-size:1.15rem;font-weight:600;margin:.6rem 0}
.verdict.inconclusive{color:#8a5a00}
.analysis{display:flex;flex-wrap:wrap;gap:0 2.5rem}.analysis>div{flex:1 1 480px}
table.comparison td,table.momentum td,table.momentum th{white-space:nowrap}
.findings li{margin:.25rem 0}.findings strong{margin-right:.3rem}
"""

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


def _campaign_label(platform: str | None, campaign_id: str | None, name: str | None) -> str:
    if campaign_id is None:
        return f"{_e(platform or 'organic')} · (no campaign)"
    label = _e(name) if name else _e(campaign_id)
    return f"{label}<br><small>{_e(platform)} · {_e(campaign_id)}</small>"


def _funnel_label(funnel_id: str, version: int | None) -> str:
    return (
        f"{_e(funnel_id)} <small>v{_e(version)}</small>" if version is not None else _e(funnel_id)
    )


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


def _comparison_section(comparisons: list[SequenceComparison], currency: str | None) -> str:
    if not comparisons:
        return ""
    blocks = "".join(_comparison_block(c, currency) for c in comparisons)
    return f"""
<section id="sequence-comparison"><h2>Micro-commitment sequence vs direct ask</h2>
<p class="muted">Every cohort, every campaign. Entries are journeys started; conversion rate is
conversions / entries; the interval is the Wilson score 95% interval; the p-value is the
two-sided pooled two-proportion z-test.</p>{blocks}</section>"""


def _findings_block(findings: list[Finding]) -> str:
    if not findings:
        return ""
    items = "".join(
        f"<li><strong>{_e(FINDING_TITLES.get(f.finding, f.finding))}</strong>"
        f"{_e(f.evidence or '')}</li>"
        for f in findings
    )
    return f"""
<h3>What stands out</h3>
<ul class="findings">{items}</ul>"""


def _momentum_block(points: list[MomentumPoint]) -> str:
    if not points:
        return ""
    rows = "".join(
        f"<tr><td>{_e(p.stage_order)}. {_e(p.stage_name)}</td>"
        f"<td>{_e(format_count(p.journeys_reached))}</td>"
        f"<td>{_e(format_count(p.journeys_converted))}</td>"
        f"<td>{_e(format_rate(p.conversion_probability))}</td>"
        f"<td>{_e(format_ratio(p.lift_vs_previous_stage))}</td></tr>"
        for p in points
    )
    return f"""
<div class="momentum-block"><h3>Momentum: P(conversion | stage reached)</h3>
{momentum_chart(points)}
<table class="momentum"><thead><tr><th>stage</th><th>reached</th><th>converted</th>
<th>P(conversion)</th><th>lift vs prev.</th></tr></thead><tbody>{rows}</tbody></table>
</div>"""


def _time_block(buckets: list[TimeBucket]) -> str:
    if not buckets:
        return ""
    total = sum(b.conversions for b in buckets)
    half = next(
        (b for b in buckets if b.cumulative_share is not None and b.cumulative_share >= 0.5),
        None,
    )
    summary = f"{format_count(total)} conversions"
    if half is not None:
        summary += f"; half of them within the {half.bucket_label} bucket or sooner"
    return f"""
<div class="time-block"><h3>Time from entry (first stage) to conversion</h3>
{time_histogram(buckets)}
<p class="muted">{_e(summary)}.</p></div>"""


def _funnel_section(funnel: FunnelSummary) -> str:
    stages = funnel.stages
    head = "".join(f"<th>{_e(s.stage_name)}</th>" for s in stages)
    rows = []
    for c in funnel.campaigns:
        cells = []
        for s in stages:
            reached = c.reached.get(s.stage_order, 0)
            cost = c.spend / reached if c.spend is not None and reached else None
            cells.append(
                f"<td>{_e(format_count(reached))}<br>"
                f"<small>{_e(format_money(cost, c.currency))}</small></td>"
            )
        rows.append(
            f"<tr><td>{_campaign_label(c.platform, c.campaign_id, c.campaign_name)}</td>"
            f"<td>{_e(format_money(c.spend, c.currency))}</td>{''.join(cells)}</tr>"
        )
    stage_rows = "".join(
        f"<tr><td>{_e(s.stage_order)}. {_e(s.stage_name)}</td>"
        f"<td>{_e(format_count(s.journeys_reached))}</td>"
        f"<td>{_e(format_rate(s.step_conversion_rate))}</td>"
        f"<td>{_e(format_rate(s.overall_conversion_rate))}</td>"
        f"<td>{_e(format_count(s.dropoff_count))}</td>"
        f"<td>{_e(format_duration(s.median_seconds_to_next_stage))}</td></tr>"
        for s in stages
    )
    analysis = _momentum_block(funnel.momentum) + _time_block(funnel.time_to_convert)
    if analysis:
        analysis = f'<div class="analysis">{analysis}</div>'
    return f"""
<section class="funnel-section" id="funnel-{_e(funnel.funnel_id)}">
<h2>Funnel {_funnel_label(funnel.funnel_id, funnel.funnel_version)}</h2>
{_findings_block(funnel.findings)}
{funnel_chart(stages)}
<table class="stages"><thead><tr><th>stage</th><th>journeys reached</th><th>step conversion</th>
<th>overall conversion</th><th>drop-off</th><th>median time to next stage</th></tr></thead>
<tbody>{stage_rows}</tbody></table>
{analysis}
<h3>Daily overall conversion</h3>
{trend_line(funnel.trend)}
<p class="muted">Hollow points are cohorts that are not final yet (window still open).</p>
<h3>Reach and cost per journey reached, by campaign</h3>
<table class="campaigns"><thead><tr><th>campaign</th><th>spend</th>{head}</tr></thead>
<tbody>{"".join(rows)}</tbody></table>
</section>"""


def _performance_section(campaigns: list[CampaignPerformance]) -> str:
    if not campaigns:
        return ""
    rows = "".join(
        f"<tr><td>{_campaign_label(c.platform, c.campaign_id, c.campaign_name)}</td>"
        f"<td>{_e(format_count(c.impressions))}</td><td>{_e(format_count(c.clicks))}</td>"
        f"<td>{_e(format_rate(c.ctr))}</td><td>{_e(format_money(c.spend, c.currency))}</td>"
        f"<td>{_e(format_money(c.cpc, c.currency))}</td><td>{_e(format_count(c.journeys))}</td>"
        f"<td>{_e(format_count(c.conversions))}</td>"
        f"<td>{_e(format_money(c.cost_per_conversion, c.currency))}</td>"
        f"<td>{_e(format_number(c.platform_conversions))}</td>"
        f"<td>{_e(format_count(c.first_party_conversions))}</td></tr>"
        for c in campaigns
    )
    return f"""
<section id="campaign-performance"><h2>Campaign performance</h2>
<table><thead><tr><th>campaign</th><th>impressions</th><th>clicks</th><th>CTR</th><th>spend</th>
<th>CPC</th><th>journeys</th><th>conversions</th><th>cost per conversion</th>
<th>platform-reported conversions</th><th>first-party conversions</th></tr></thead>
<tbody>{rows}</tbody></table></section>"""


def render_report(data: ReportData, generated_at: datetime | None = None) -> str:
    """The whole page as a string."""
    generated_at = generated_at or datetime.now(UTC)
    if data.first_day is not None:
        span = (
            f"{data.first_day.isoformat()} to {data.last_day.isoformat() if data.last_day else ''}"
        )
    else:
        span = "no data"
    facts = [
        ("cohort dates", span),
        ("funnels", str(len(data.funnels))),
        ("campaigns", str(len(data.campaigns))),
        ("cohort days not final yet", str(data.open_cohort_days)),
        ("generated", generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("source", str(data.source)),
    ]
    fact_rows = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts)
    notices = "".join(f'<p class="notice">{_e(n)}</p>' for n in data.notices)
    toc = "".join(
        f'<li><a href="#funnel-{_e(f.funnel_id)}">{_e(f.funnel_id)}</a></li>' for f in data.funnels
    )
    if data.comparisons:
        toc = (
            '<li><a href="#sequence-comparison">Micro-commitment sequence vs direct ask</a></li>'
            + toc
        )
    body = _comparison_section(data.comparisons, data.currency) + "".join(
        _funnel_section(f) for f in data.funnels
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>microfunnel report: {_e(span)}</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>Micro-commitment funnel report</h1>
<p class="muted">Journeys by cohort date (the day a journey started), over {_e(span)}.</p>
<table class="facts">{fact_rows}</table>
{notices}
<nav><ul>{toc}</ul></nav></header>
<main>{body}{_performance_section(data.campaigns)}</main>
<footer><p class="muted">Rates are computed from journey counts summed over the range. Median time
to next stage over the range is the median of daily medians weighted by journeys advanced.</p>
</footer>
</body>
</html>
"""


def write_funnel_report(reporting_db: Path, out_path: Path) -> Path:
    """Render the report from the reporting DuckDB file and write it atomically to ``out_path``."""
    out_path = Path(out_path)
    page = render_report(load_report_data(Path(reporting_db)))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(f".{out_path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            handle.write(page)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, out_path)
    finally:
        tmp.unlink(missing_ok=True)
    return out_path
