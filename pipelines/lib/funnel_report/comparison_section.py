"""The report's micro-commitment sequence vs direct ask section, from agg_sequence_comparison.
Every value passes through ``esc`` (escaped)."""

from __future__ import annotations

from pipelines.lib.funnel_report.html_labels import (
    esc,
    funnel_label,
)
from pipelines.lib.funnel_report.model import (
    ComparisonSide,
    SequenceComparison,
)
from pipelines.lib.funnel_report.stage_charts import (
    comparison_chart,
)
from pipelines.lib.funnel_report.text_formats import (
    format_count,
    format_interval,
    format_money,
    format_number,
    format_p_value,
    format_points,
    format_rate,
    format_signed_rate,
)


def _comparison_block(c: SequenceComparison, currency: str | None) -> str:
    sides: list[tuple[str, ComparisonSide]] = [
        ("micro sequence", c.micro),
        ("direct ask", c.direct),
    ]
    rows = "".join(
        f"<tr><td>{esc(label)}: {funnel_label(s.funnel_id, s.funnel_version)}</td>"
        f"<td>{esc(format_count(s.entries))}</td><td>{esc(format_count(s.conversions))}</td>"
        f"<td>{esc(format_rate(s.conversion_rate))}</td>"
        f"<td>{esc(format_interval(s.ci_low, s.ci_high))}</td>"
        f"<td>{esc(format_money(s.spend, currency))}</td>"
        f"<td>{esc(format_money(s.cost_per_conversion, currency))}</td></tr>"
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
<p class="verdict{css}">{esc(c.verdict or "No verdict.")}</p>
{comparison_chart(sides)}
<table class="comparison"><thead><tr><th>side</th><th>entries</th><th>conversions</th>
<th>conversion rate</th><th>95% interval (Wilson)</th><th>spend</th><th>cost per conversion</th>
</tr></thead><tbody>{rows}</tbody></table>
<p>{esc(stat_text)}</p>{final}
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
