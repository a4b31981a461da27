"""The self-contained HTML funnel report: one file with inline CSS, SVG charts and a small
filter script; no external resource, so it works offline. Every value is escaped.

Written to a temp file next to the output and renamed over it, so a browser or web server never
serves half a page.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from pipelines.lib.funnel_report.campaign_section import performance_section
from pipelines.lib.funnel_report.comparison_section import comparison_section
from pipelines.lib.funnel_report.funnel_section import funnel_section
from pipelines.lib.funnel_report.html_labels import campaign_label
from pipelines.lib.funnel_report.model import ALL, ReportData
from pipelines.lib.funnel_report.page_assets import SCRIPT, STYLE
from pipelines.lib.funnel_report.read_marts import load_report_data
from pipelines.lib.funnel_report.recommendations_section import recommendations_section
from pipelines.lib.funnel_report.text_formats import format_stage_table

__all__ = ["format_stage_table", "render_report", "write_funnel_report", "write_report"]


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _filter_bar(data: ReportData) -> str:
    """Platform and campaign choices; hidden until the script shows it (no JS: no filter)."""
    if not data.campaign_names:
        return ""
    platforms = "".join(
        f'<option value="{i + 1}" data-platform="{_e(p)}">{_e(p)}</option>'
        for i, p in enumerate(data.platforms)
    )
    campaigns = "".join(
        f'<option value="{i + 1}" data-platform="{_e(p)}" data-campaign="{_e(c)}">'
        + (
            f"{_e(p)} (no campaign)"
            if c == "(none)"
            else f"{_e(campaign_label((p, c), data.campaign_names))} ({_e(p)})"
        )
        + "</option>"
        # By platform, then by the name a marketer knows the campaign by.
        for i, (p, c) in enumerate(
            sorted(
                data.campaign_names,
                key=lambda s: (s[0], campaign_label(s, data.campaign_names).casefold(), s[1]),
            )
        )
    )
    return f"""
<form id="filter" class="filter" hidden>
<label>Platform <select id="filter-platform"><option value="0" data-platform="{ALL}">
All platforms</option>{platforms}</select></label>
<label>Campaign <select id="filter-campaign"><option value="0" data-platform="{ALL}"
data-campaign="{ALL}">All campaigns</option>{campaigns}</select></label>
<button type="button" id="filter-reset">Show everything</button>
<span id="filter-status" role="status" aria-live="polite"></span>
</form>"""


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
        ("generated", generated_at.strftime("%Y-%m-%d %H:%M UTC")),
        ("source", str(data.source)),
    ]
    fact_items = "".join(f"<div><dt>{_e(k)}</dt><dd>{_e(v)}</dd></div>" for k, v in facts)
    notices = "".join(f'<p class="notice">{_e(n)}</p>' for n in data.notices)
    toc = [
        ("recommendations", "Fix this first", bool(data.recommendations)),
        ("sequence-comparison", "Micro sequence vs direct ask", bool(data.comparisons)),
        ("campaign-performance", "Campaign performance", bool(data.campaigns)),
    ] + [(f"funnel-{f.funnel_id}", f"Funnel {f.funnel_id}", True) for f in data.funnels]
    toc_items = "".join(
        f'<li><a href="#{_e(anchor)}">{_e(label)}</a></li>' for anchor, label, shown in toc if shown
    )
    body = (
        recommendations_section(data.recommendations, data.campaign_names, data.currency)
        + comparison_section(data.comparisons, data.currency)
        + performance_section(data.campaigns, data.campaign_names, data.currency)
        + "".join(funnel_section(f, data.campaign_names, data.currency) for f in data.funnels)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>microfunnel report: {_e(span)}</title>
<style>{STYLE}</style>
</head>
<body>
<header class="top"><div class="wrap">
<h1>Micro-commitment funnel report</h1>
<p class="muted">Journeys by cohort date (the day a journey started), over {_e(span)}.</p>
<dl class="facts">{fact_items}</dl>
{notices}{_filter_bar(data)}
<nav aria-label="sections"><ul>{toc_items}</ul></nav>
</div></header>
<main class="wrap">{body}</main>
<footer class="wrap"><p class="muted">Every figure is read from the published marts: counts summed
over the cohort dates in the file and rates computed from those sums (never averaged across
days); medians are exact over the journeys. Funnels show their newest definition only.</p>
</footer>
<script>{SCRIPT}</script>
</body>
</html>
"""


def write_funnel_report(reporting_db: Path, out_path: Path) -> Path:
    """Render the report from the reporting DuckDB file and write it atomically to ``out_path``."""
    return write_report(reporting_db, out_path)[0]


def write_report(reporting_db: Path, out_path: Path) -> tuple[Path, ReportData]:
    """As write_funnel_report, also returning what the page shows (for run metadata)."""
    out_path = Path(out_path)
    data = load_report_data(Path(reporting_db))
    page = render_report(data)
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
    return out_path, data
