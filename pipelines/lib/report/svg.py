"""Inline SVG charts (no JavaScript, no external assets): funnel bars and a trend line."""

from __future__ import annotations

from html import escape

from pipelines.lib.report.data import StageSummary, TrendPoint
from pipelines.lib.report.text import format_count, format_rate

BAR_COLOR = "#3b6ea8"
LINE_COLOR = "#c2571a"


def funnel_chart(stages: list[StageSummary], width: int = 860) -> str:
    """Horizontal bars, one per stage, sized by journeys reached; labels carry the rates."""
    row_h, label_w, text_w = 46, 150, 320
    bar_area = width - label_w - text_w
    top = max((s.journeys_reached for s in stages), default=0) or 1
    height = row_h * len(stages) + 8
    parts = [
        f'<svg class="funnel" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, stage in enumerate(stages):
        y = 4 + i * row_h
        bar_w = max(2.0, bar_area * stage.journeys_reached / top)
        x = label_w + (bar_area - bar_w) / 2  # centred bars read as a funnel
        detail = (
            f"overall {format_rate(stage.overall_conversion_rate)} · "
            f"step {format_rate(stage.step_conversion_rate)} · "
            f"drop-off {format_count(stage.dropoff_count)}"
        )
        tooltip = f"{stage.stage_name}: {format_count(stage.journeys_reached)} journeys; {detail}"
        parts.append(
            f"<g><title>{escape(tooltip)}</title>"
            f'<text x="0" y="{y + 24}" class="stage">{escape(f"{stage.stage_order}. ")}'
            f"{escape(stage.stage_name)}</text>"
            f'<rect x="{x:.1f}" y="{y + 6}" width="{bar_w:.1f}" height="{row_h - 14}" rx="3" '
            f'fill="{BAR_COLOR}"/>'
            f'<text x="{label_w + bar_area + 10}" y="{y + 18}" class="count">'
            f"{escape(format_count(stage.journeys_reached))} journeys</text>"
            f'<text x="{label_w + bar_area + 10}" y="{y + 34}" class="rates">'
            f"{escape(detail)}</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def trend_line(points: list[TrendPoint], width: int = 320, height: int = 70) -> str:
    """Daily overall conversion; hollow dots mark cohorts that are not final yet."""
    values = [p.overall_conversion_rate for p in points]
    known = [v for v in values if v is not None]
    if not known:
        return '<p class="muted">No conversion data.</p>'
    pad = 8
    top = max(known) * 1.1 or 1.0
    step = (width - 2 * pad) / max(1, len(points) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return pad + i * step, height - pad - (height - 2 * pad) * v / top

    coords = [
        (xy(i, v), p) for i, (v, p) in enumerate(zip(values, points, strict=True)) if v is not None
    ]
    parts = [
        f'<svg class="trend" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        'stroke="#ccc"/>',
    ]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for (x, y), _ in coords)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE_COLOR}" stroke-width="2"/>'
        )
    for (x, y), point in coords:
        fill = LINE_COLOR if point.is_final else "#fff"
        label = f"{point.day.isoformat()}: {format_rate(point.overall_conversion_rate)}"
        if not point.is_final:
            label += " (not final)"
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{fill}" stroke="{LINE_COLOR}">'
            f"<title>{escape(label)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)
