"""Inline SVG charts along a funnel's stages: reach per stage, the momentum curve, time to
convert and reach per intent segment, plus the micro-vs-direct comparison bars. Each chart has
an accessible name and every bar or point its own <title> with the exact figures."""

from __future__ import annotations

from pipelines.lib.funnel_report.model import (
    ComparisonSide,
    MomentumPoint,
    SegmentSummary,
    StageSummary,
    TimeBucket,
)
from pipelines.lib.funnel_report.svg_axes import (
    BAR_COLOR,
    INK_COLOR,
    LINE_COLOR,
    MUTED_COLOR,
    SEGMENT_COLORS,
    count_tick,
    esc,
    nice_ticks,
    percent_tick,
    svg_open,
    x_axis,
    x_grid,
    y_axis,
)
from pipelines.lib.funnel_report.text_formats import format_count, format_interval, format_rate


def funnel_chart(stages: list[StageSummary], width: int = 880) -> str:
    """Horizontal bars, one per stage, on a journeys axis; labels carry the rates."""
    if not stages:
        return ""
    row_h, left, text_w, top_pad, bottom = 44, 150, 330, 8, 44
    right = width - text_w
    plot_bottom = top_pad + row_h * len(stages)
    height = plot_bottom + bottom
    ticks = nice_ticks(max(s.journeys_reached for s in stages))

    def x_of(value: float) -> float:
        return left + (right - left) * value / ticks[-1]

    parts = [
        svg_open("funnel", width, height, "Journeys reaching each stage"),
        x_grid(ticks, x_of, top_pad, plot_bottom, count_tick),
    ]
    for i, stage in enumerate(stages):
        y = top_pad + i * row_h
        bar_w = max(1.5, x_of(stage.journeys_reached) - left)
        detail = f"{format_rate(stage.overall_conversion_rate)} of entries" + (
            f" · {format_rate(stage.step_conversion_rate)} go on · "
            f"{format_count(stage.dropoff_count)} stop here"
            if stage.step_conversion_rate is not None
            else ""
        )
        tooltip = f"{stage.stage_name}: {format_count(stage.journeys_reached)} journeys; {detail}"
        parts.append(
            f"<g><title>{esc(tooltip)}</title>"
            f'<text x="{left - 10}" y="{y + 26}" text-anchor="end" class="label">'
            f"{esc(stage.stage_order)}. {esc(stage.stage_name)}</text>"
            f'<rect x="{left}" y="{y + 8}" width="{bar_w:.1f}" height="{row_h - 16}" rx="2" '
            f'fill="{BAR_COLOR}"/>'
            f'<text x="{right + 12}" y="{y + 20}" class="value">'
            f"{esc(format_count(stage.journeys_reached))} journeys</text>"
            f'<text x="{right + 12}" y="{y + 35}" class="note">{esc(detail)}</text></g>'
        )
    parts.append(
        x_axis(left, right, plot_bottom, "journeys reached (over the date range)", height - 6)
    )
    parts.append("</svg>")
    return "".join(parts)


def comparison_chart(sides: list[tuple[str, ComparisonSide]], width: int = 660) -> str:
    """One bar per side at its conversion rate, with the Wilson 95% interval as a whisker."""
    row_h, left, text_w, top_pad, bottom = 36, 150, 200, 6, 40
    right = width - text_w
    top = max((s.ci_high or s.conversion_rate or 0.0 for _, s in sides), default=0.0)
    ticks = nice_ticks(top)
    plot_bottom = top_pad + row_h * len(sides)
    height = plot_bottom + bottom

    def x_of(v: float) -> float:
        return left + (right - left) * v / ticks[-1]

    parts = [
        svg_open("comparison", width, height, "Conversion per hook with 95% intervals"),
        x_grid(ticks, x_of, top_pad, plot_bottom, percent_tick),
    ]
    for i, (label, side) in enumerate(sides):
        y = top_pad + i * row_h
        rate = side.conversion_rate
        interval = format_interval(side.ci_low, side.ci_high)
        parts.append(
            f"<g><title>{esc(f'{label}: {format_rate(rate)} (95% interval {interval})')}"
            f'</title><text x="{left - 10}" y="{y + 22}" text-anchor="end" class="label">'
            f"{esc(label)}</text>"
        )
        if rate is not None:
            parts.append(
                f'<rect x="{left}" y="{y + 8}" width="{max(1.0, x_of(rate) - left):.1f}" '
                f'height="{row_h - 16}" rx="2" fill="{BAR_COLOR if i == 0 else MUTED_COLOR}"/>'
            )
        if side.ci_low is not None and side.ci_high is not None:
            mid = y + row_h / 2
            x1, x2 = x_of(side.ci_low), x_of(side.ci_high)
            parts.append(
                f'<path d="M{x1:.1f} {mid - 6:.1f}V{mid + 6:.1f}M{x1:.1f} {mid:.1f}H{x2:.1f}'
                f'M{x2:.1f} {mid - 6:.1f}V{mid + 6:.1f}" stroke="{INK_COLOR}" '
                'stroke-width="1.5" fill="none"/>'
            )
        parts.append(
            f'<text x="{right + 12}" y="{y + 22}" class="value">{esc(format_rate(rate))} '
            f'<tspan class="note">({esc(interval)})</tspan></text></g>'
        )
    parts.append(x_axis(left, right, plot_bottom, "conversions per hook (entry)", height - 6))
    parts.append("</svg>")
    return "".join(parts)


def momentum_chart(points: list[MomentumPoint], width: int = 560, height: int = 260) -> str:
    """P(final conversion | stage reached) per stage before the last (where it is 1)."""
    known = [p for p in points if p.conversion_probability is not None]
    if not known:
        return ""
    left, right, top_pad, bottom = 64, width - 40, 26, 56
    plot_bottom = height - bottom
    ticks = nice_ticks(max(p.conversion_probability or 0.0 for p in known) * 1.1)
    inset = 36  # keeps the end points and their labels off the axes
    step = (right - left - 2 * inset) / max(1, len(points) - 1)

    def x_of(i: int) -> float:
        return left + inset + (step * i if len(points) > 1 else (right - left) / 2 - inset)

    def y_of(v: float) -> float:
        return plot_bottom - (plot_bottom - top_pad) * v / ticks[-1]

    parts = [
        svg_open("momentum", width, height, "Chance of converting once a stage is reached"),
        y_axis(
            ticks, y_of, left, right, percent_tick, "P(conversion)", (top_pad + plot_bottom) / 2
        ),
    ]
    coords = [
        (x_of(i), y_of(p.conversion_probability), p)
        for i, p in enumerate(points)
        if p.conversion_probability is not None
    ]
    if len(coords) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{LINE_COLOR}" stroke-width="2"/>'
        )
    for x, y, point in coords:
        tooltip = (
            f"{point.stage_name}: {format_rate(point.conversion_probability)} of "
            f"{format_count(point.journeys_reached)} journeys reaching it converted"
        )
        parts.append(
            f'<g><title>{esc(tooltip)}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="4" '
            f'fill="{LINE_COLOR}"/><text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" '
            f'class="value">{esc(format_rate(point.conversion_probability))}</text></g>'
        )
    for i, point in enumerate(points):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{plot_bottom + 17}" text-anchor="middle" class="tick">'
            f"{esc(point.stage_name)}</text>"
        )
    parts.append(x_axis(left, right, plot_bottom, "stage reached", height - 10))
    parts.append("</svg>")
    return "".join(parts)


def time_histogram(buckets: list[TimeBucket], width: int = 560, height: int = 260) -> str:
    """Share of conversions per time-to-convert bucket, as vertical bars with their values."""
    if not buckets:
        return ""
    left, right, top_pad, bottom = 64, width - 10, 26, 66
    plot_bottom = height - bottom
    ticks = nice_ticks(max(b.share_of_conversions or 0.0 for b in buckets) * 1.1)
    slot = (right - left) / len(buckets)

    def y_of(v: float) -> float:
        return plot_bottom - (plot_bottom - top_pad) * v / ticks[-1]

    parts = [
        svg_open("time-to-convert", width, height, "Time from entry to conversion"),
        y_axis(
            ticks, y_of, left, right, percent_tick, "share of conversions",
            (top_pad + plot_bottom) / 2,
        ),
    ]  # fmt: skip
    for i, bucket in enumerate(buckets):
        share = bucket.share_of_conversions or 0.0
        y = y_of(share)
        x = left + i * slot
        centre = x + slot / 2
        # Two lines ("15-60" over "min"): nine labels side by side do not fit on one line.
        value, _, unit = bucket.bucket_label.rpartition(" ")
        label = (
            f'<tspan x="{centre:.1f}">{esc(value)}</tspan>'
            f'<tspan x="{centre:.1f}" dy="13">{esc(unit)}</tspan>'
            if value
            else esc(unit)
        )
        tooltip = (
            f"{bucket.bucket_label}: {format_count(bucket.conversions)} conversions "
            f"({format_rate(bucket.share_of_conversions)}; "
            f"{format_rate(bucket.cumulative_share)} within this bucket or sooner)"
        )
        parts.append(
            f"<g><title>{esc(tooltip)}</title>"
            f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{slot - 8:.1f}" '
            f'height="{plot_bottom - y:.1f}" rx="2" fill="{BAR_COLOR}"/>'
            f'<text x="{centre:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="value-sm">'
            f"{esc(format_rate(share))}</text>"
            f'<text x="{centre:.1f}" y="{plot_bottom + 15}" text-anchor="middle" class="tick">'
            f"{label}</text></g>"
        )
    parts.append(
        x_axis(left, right, plot_bottom, "time from entry (first stage) to conversion", height - 8)
    )
    parts.append("</svg>")
    return "".join(parts)


def segment_chart(segments: list[SegmentSummary], width: int = 560) -> str:
    """Conversion per entry of each intent segment, as horizontal bars on a percent axis."""
    if not segments:
        return ""
    row_h, left, text_w, top_pad, bottom = 34, 70, 170, 6, 40
    right = width - text_w
    plot_bottom = top_pad + row_h * len(segments)
    height = plot_bottom + bottom
    ticks = nice_ticks(max(s.overall_conversion_rate or 0.0 for s in segments) or 0.01)

    def x_of(v: float) -> float:
        return left + (right - left) * v / ticks[-1]

    parts = [
        svg_open("segments", width, height, "Conversion per entry by intent segment"),
        x_grid(ticks, x_of, top_pad, plot_bottom, percent_tick),
    ]
    for i, segment in enumerate(segments):
        y = top_pad + i * row_h
        rate = segment.overall_conversion_rate
        entries = segment.reached[0] if segment.reached else 0
        text = f"{format_rate(rate)} of {format_count(entries)} entries"
        parts.append(
            f"<g><title>{esc(f'{segment.intent_segment} intent: {text}')}</title>"
            f'<text x="{left - 10}" y="{y + 21}" text-anchor="end" class="label">'
            f"{esc(segment.intent_segment)}</text>"
            f'<rect x="{left}" y="{y + 7}" width="{max(1.0, x_of(rate or 0.0) - left):.1f}" '
            f'height="{row_h - 14}" rx="2" '
            f'fill="{SEGMENT_COLORS.get(segment.intent_segment, BAR_COLOR)}"/>'
            f'<text x="{right + 12}" y="{y + 21}" class="value">{esc(text)}</text></g>'
        )
    parts.append(x_axis(left, right, plot_bottom, "conversion per entry", height - 6))
    parts.append("</svg>")
    return "".join(parts)
