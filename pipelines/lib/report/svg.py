"""Inline SVG charts (no JavaScript, no external assets): funnel bars, a trend line, the
sequence comparison with its intervals, the momentum curve and the time-to-convert bars."""

from __future__ import annotations

from html import escape

from pipelines.lib.report.data import (
    ComparisonSide,
    MomentumPoint,
    StageSummary,
    TimeBucket,
    TrendPoint,
)
from pipelines.lib.report.text import format_count, format_interval, format_rate

BAR_COLOR = "#3b6ea8"
LINE_COLOR = "#c2571a"
MUTED_COLOR = "#9aa5b8"
INK_COLOR = "#1d2430"


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


def comparison_chart(sides: list[tuple[str, ComparisonSide]], width: int = 620) -> str:
    """One bar per side at its conversion rate, with the Wilson 95% interval as a whisker."""
    row_h, label_w, text_w = 34, 150, 190
    area = width - label_w - text_w
    top = max((s.ci_high or s.conversion_rate or 0.0 for _, s in sides), default=0.0) or 1.0
    height = row_h * len(sides) + 8

    def x(v: float) -> float:
        return label_w + area * v / top

    parts = [
        f'<svg class="comparison" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for i, (label, side) in enumerate(sides):
        y = 4 + i * row_h
        rate = side.conversion_rate
        interval = format_interval(side.ci_low, side.ci_high)
        parts.append(
            f"<g><title>{escape(f'{label}: {format_rate(rate)} (95% interval {interval})')}"
            f'</title><text x="0" y="{y + 20}" class="stage">{escape(label)}</text>'
        )
        if rate is not None:
            parts.append(
                f'<rect x="{label_w}" y="{y + 6}" width="{max(1.0, x(rate) - label_w):.1f}" '
                f'height="{row_h - 14}" rx="2" fill="{BAR_COLOR if i == 0 else MUTED_COLOR}"/>'
            )
        if side.ci_low is not None and side.ci_high is not None:
            mid = y + row_h / 2 - 1
            x1, x2 = x(side.ci_low), x(side.ci_high)
            parts.append(
                f'<line x1="{x1:.1f}" y1="{mid:.1f}" x2="{x2:.1f}" y2="{mid:.1f}" '
                f'stroke="{INK_COLOR}" stroke-width="1.5"/>'
                f'<line x1="{x1:.1f}" y1="{mid - 6:.1f}" x2="{x1:.1f}" y2="{mid + 6:.1f}" '
                f'stroke="{INK_COLOR}" stroke-width="1.5"/>'
                f'<line x1="{x2:.1f}" y1="{mid - 6:.1f}" x2="{x2:.1f}" y2="{mid + 6:.1f}" '
                f'stroke="{INK_COLOR}" stroke-width="1.5"/>'
            )
        parts.append(
            f'<text x="{label_w + area + 10}" y="{y + 20}" class="count">'
            f'{escape(format_rate(rate))} <tspan class="rates">({escape(interval)})</tspan>'
            "</text></g>"
        )
    parts.append("</svg>")
    return "".join(parts)


def momentum_chart(points: list[MomentumPoint], width: int = 520, height: int = 190) -> str:
    """P(final conversion | stage reached) per stage, on a fixed 0-100% scale."""
    if not points:
        return ""
    # Wide side margins: the first and last stage names are centred on the end points.
    left, right, top_pad, bottom = 70, 50, 22, 30
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    step = plot_w / max(1, len(points) - 1) if len(points) > 1 else 0.0

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (i * step if len(points) > 1 else plot_w / 2)
        return x, top_pad + plot_h * (1 - v)

    parts = [
        f'<svg class="momentum" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in (0.0, 0.5, 1.0):
        _, ty = xy(0, tick)
        parts.append(
            f'<line x1="{left}" y1="{ty:.1f}" x2="{width - right}" y2="{ty:.1f}" '
            f'stroke="#e3e5ec"/><text x="{left - 6}" y="{ty + 4:.1f}" text-anchor="end" '
            f'class="rates">{tick * 100:.0f}%</text>'
        )
    known = [(xy(i, p.conversion_probability), p) for i, p in enumerate(points)
             if p.conversion_probability is not None]  # fmt: skip
    if len(known) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for (x, y), _ in known)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE_COLOR}" stroke-width="2"/>'
        )
    for (x, y), point in known:
        tooltip = (
            f"{point.stage_name}: {format_rate(point.conversion_probability)} of "
            f"{format_count(point.journeys_reached)} journeys reaching it converted"
        )
        parts.append(
            f"<g><title>{escape(tooltip)}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{LINE_COLOR}"/>'
            f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" class="count">'
            f"{escape(format_rate(point.conversion_probability))}</text></g>"
        )
    for i, point in enumerate(points):
        x, _ = xy(i, 0.0)
        parts.append(
            f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle" class="stage">'
            f"{escape(point.stage_name)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def time_histogram(buckets: list[TimeBucket], width: int = 520, height: int = 190) -> str:
    """Share of conversions per time-to-convert bucket, as vertical bars."""
    if not buckets:
        return ""
    pad, top_pad, bottom = 6, 22, 40
    slot = (width - 2 * pad) / len(buckets)
    plot_h = height - top_pad - bottom
    top = max((b.share_of_conversions or 0.0 for b in buckets), default=0.0) or 1.0
    parts = [
        f'<svg class="time-to-convert" role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<line x1="{pad}" y1="{top_pad + plot_h}" x2="{width - pad}" y2="{top_pad + plot_h}" '
        'stroke="#ccc"/>',
    ]
    for i, bucket in enumerate(buckets):
        share = bucket.share_of_conversions or 0.0
        bar_h = plot_h * share / top
        x = pad + i * slot
        centre = x + slot / 2
        # Two lines ("15-60" over "min"): nine labels side by side do not fit on one line.
        value, _, unit = bucket.bucket_label.rpartition(" ")
        label = (
            f'<tspan x="{centre:.1f}">{escape(value)}</tspan>'
            f'<tspan x="{centre:.1f}" dy="14">{escape(unit)}</tspan>'
            if value
            else escape(unit)
        )
        tooltip = (
            f"{bucket.bucket_label}: {format_count(bucket.conversions)} conversions "
            f"({format_rate(bucket.share_of_conversions)}; "
            f"{format_rate(bucket.cumulative_share)} within this bucket or sooner)"
        )
        parts.append(
            f"<g><title>{escape(tooltip)}</title>"
            f'<rect x="{x + 4:.1f}" y="{top_pad + plot_h - bar_h:.1f}" width="{slot - 8:.1f}" '
            f'height="{bar_h:.1f}" rx="2" fill="{BAR_COLOR}"/>'
            f'<text x="{centre:.1f}" y="{top_pad + plot_h - bar_h - 5:.1f}" '
            f'text-anchor="middle" class="count">{escape(format_rate(share))}</text>'
            f'<text x="{centre:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'class="stage">{label}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
