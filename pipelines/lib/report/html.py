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
    FunnelSummary,
    ReportData,
    load_report_data,
)
from pipelines.lib.report.svg import funnel_chart, trend_line
from pipelines.lib.report.text import (
    format_count,
    format_duration,
    format_money,
    format_number,
    format_rate,
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
svg text.rates{fill:#556}small{color:#667}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _campaign_label(platform: str | None, campaign_id: str | None, name: str | None) -> str:
    if campaign_id is None:
        return f"{_e(platform or 'organic')} · (no campaign)"
    label = _e(name) if name else _e(campaign_id)
    return f"{label}<br><small>{_e(platform)} · {_e(campaign_id)}</small>"


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
    return f"""
<section class="funnel-section" id="funnel-{_e(funnel.funnel_id)}">
<h2>Funnel {_e(funnel.funnel_id)}</h2>
{funnel_chart(stages)}
<table class="stages"><thead><tr><th>stage</th><th>journeys reached</th><th>step conversion</th>
<th>overall conversion</th><th>drop-off</th><th>median time to next stage</th></tr></thead>
<tbody>{stage_rows}</tbody></table>
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
    body = "".join(_funnel_section(f) for f in data.funnels)
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
