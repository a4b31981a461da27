"""Inline SVG charts with axes, tick labels, values and dates (no JavaScript, no external
assets). Each chart is an ``<svg role="img">`` with an accessible name (``aria-label`` and a
``<title>``); every bar or point carries its own ``<title>`` with the exact figures. All text is
escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from html import escape

from pipelines.lib.funnel_report.model import (
    ComparisonSide,
    DayPoint,
    MomentumPoint,
    SegmentSummary,
    StageSummary,
    TimeBucket,
    WeekPoint,
)
from pipelines.lib.funnel_report.text_formats import format_count, format_interval, format_rate

BAR_COLOR = "#2f6db5"
OPEN_COLOR = "#9dbbe0"  # cohorts whose window is still open
LINE_COLOR = "#c2571a"
MUTED_COLOR = "#9aa5b8"
GRID_COLOR = "#e6e9ef"
AXIS_COLOR = "#8a93a3"
INK_COLOR = "#1d2430"
SEGMENT_COLORS = {"early": "#7fa7d9", "mid": "#2f6db5", "late": "#173b66"}


def _e(value: object) -> str:
    return escape(str(value))


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """0 and round steps (1, 2, 2.5 or 5 x 10^n) up to at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 12) for i in range(n + 1)]


def _percent_tick(value: float) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _count_tick(value: float) -> str:
    if value >= 1000 and value % 1000 == 0:
        return f"{value / 1000:,.0f}k"
    if value >= 1000:
        return f"{value / 1000:,.1f}k"
    return f"{value:,.0f}"


def day_label(day: date) -> str:
    """``1 Mar``: short, unambiguous in any locale."""
    return f"{day.day} {day.strftime('%b')}"


def _open(css_class: str, width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart {css_class}" role="img" aria-label="{_e(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>'
    )


def _y_axis(
    ticks: Sequence[float],
    y_of: Callable[[float], float],
    left: float,
    right: float,
    label: Callable[[float], str],
    title: str,
    plot_mid: float,
) -> str:
    """Horizontal grid lines with their tick labels, the axis line and a rotated title."""
    parts = []
    for tick in ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID_COLOR}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">'
            f"{_e(label(tick))}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{y_of(ticks[0]):.1f}" x2="{left}" y2="{y_of(ticks[-1]):.1f}" '
        f'stroke="{AXIS_COLOR}"/>'
        f'<text transform="translate(14 {plot_mid:.1f}) rotate(-90)" text-anchor="middle" '
        f'class="axis-title">{_e(title)}</text>'
    )
    return "".join(parts)


def _x_axis(left: float, right: float, y: float, title: str, title_y: float) -> str:
    return (
        f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{AXIS_COLOR}"/>'
        f'<text x="{(left + right) / 2:.1f}" y="{title_y:.1f}" text-anchor="middle" '
        f'class="axis-title">{_e(title)}</text>'
    )


def _x_grid(
    ticks: Sequence[float],
    x_of: Callable[[float], float],
    top: float,
    bottom: float,
    label: Callable[[float], str],
) -> str:
    """Vertical grid lines with tick labels under the plot."""
    return "".join(
        f'<line x1="{x_of(t):.1f}" y1="{top}" x2="{x_of(t):.1f}" y2="{bottom}" '
        f'stroke="{GRID_COLOR}"/><text x="{x_of(t):.1f}" y="{bottom + 16}" '
        f'text-anchor="middle" class="tick">{_e(label(t))}</text>'
        for t in ticks
    )


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
        _open("funnel", width, height, "Journeys reaching each stage"),
        _x_grid(ticks, x_of, top_pad, plot_bottom, _count_tick),
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
            f"<g><title>{_e(tooltip)}</title>"
            f'<text x="{left - 10}" y="{y + 26}" text-anchor="end" class="label">'
            f"{_e(stage.stage_order)}. {_e(stage.stage_name)}</text>"
            f'<rect x="{left}" y="{y + 8}" width="{bar_w:.1f}" height="{row_h - 16}" rx="2" '
            f'fill="{BAR_COLOR}"/>'
            f'<text x="{right + 12}" y="{y + 20}" class="value">'
            f"{_e(format_count(stage.journeys_reached))} journeys</text>"
            f'<text x="{right + 12}" y="{y + 35}" class="note">{_e(detail)}</text></g>'
        )
    parts.append(
        _x_axis(left, right, plot_bottom, "journeys reached (over the date range)", height - 6)
    )
    parts.append("</svg>")
    return "".join(parts)


def _label_every(n: int, most: int = 14) -> int:
    return max(1, math.ceil(n / most))


def daily_chart(points: list[DayPoint], width: int = 880, height: int = 270) -> str:
    """Conversion per entry by cohort day: a line on a percent axis, a date axis, the value at
    each labelled day; hollow points are cohorts whose window is still open."""
    known = [p for p in points if p.conversion_rate is not None]
    if not known:
        return '<p class="muted">No conversion data.</p>'
    left, right, top_pad, bottom = 64, width - 16, 26, 58
    plot_bottom = height - bottom
    ticks = nice_ticks(max(p.conversion_rate or 0.0 for p in known) * 1.15)
    step = (right - left) / max(1, len(points))

    def x_of(i: int) -> float:
        return left + step * (i + 0.5)

    def y_of(v: float) -> float:
        return plot_bottom - (plot_bottom - top_pad) * v / ticks[-1]

    title = (
        f"Daily conversion per entry, {points[0].day.isoformat()} to {points[-1].day.isoformat()}"
    )
    parts = [
        _open("daily", width, height, title),
        _y_axis(
            ticks, y_of, left, right, _percent_tick, "conversion per entry",
            (top_pad + plot_bottom) / 2,
        ),
    ]  # fmt: skip
    every = _label_every(len(points))
    coords = [
        (x_of(i), y_of(p.conversion_rate), p)
        for i, p in enumerate(points)
        if p.conversion_rate is not None
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in coords)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE_COLOR}" stroke-width="2"/>')
    for i, point in enumerate(points):
        x = x_of(i)
        labelled = i % every == 0 or i == len(points) - 1
        if labelled:
            parts.append(
                f'<line x1="{x:.1f}" y1="{plot_bottom}" x2="{x:.1f}" y2="{plot_bottom + 4}" '
                f'stroke="{AXIS_COLOR}"/><text x="{x:.1f}" y="{plot_bottom + 17}" '
                f'text-anchor="middle" class="tick">{_e(day_label(point.day))}</text>'
            )
        if point.conversion_rate is None:
            continue
        y = y_of(point.conversion_rate)
        tooltip = (
            f"{point.day.isoformat()}: {format_rate(point.conversion_rate)} "
            f"({format_count(point.journeys_converted)} of {format_count(point.journeys_started)}"
            " journeys)" + ("" if point.is_final else ", window still open")
        )
        fill = LINE_COLOR if point.is_final else "#fff"
        value = (
            f'<text x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle" class="value-sm">'
            f"{_e(format_rate(point.conversion_rate))}</text>"
            if labelled
            else ""
        )
        parts.append(
            f'<g><title>{_e(tooltip)}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" '
            f'fill="{fill}" stroke="{LINE_COLOR}" stroke-width="1.5"/>{value}</g>'
        )
    parts.append(
        _x_axis(left, right, plot_bottom, "cohort date (the day journeys started)", height - 22)
    )
    parts.append(
        f'<g class="legend"><circle cx="{left + 6}" cy="{height - 8}" r="3.5" '
        f'fill="{LINE_COLOR}"/><text x="{left + 14}" y="{height - 4}" class="note">final</text>'
        f'<circle cx="{left + 60}" cy="{height - 8}" r="3.5" fill="#fff" '
        f'stroke="{LINE_COLOR}" stroke-width="1.5"/><text x="{left + 68}" y="{height - 4}" '
        'class="note">window still open (can still rise)</text></g>'
    )
    parts.append("</svg>")
    return "".join(parts)


def weekly_chart(weeks: list[WeekPoint], width: int = 880, height: int = 250) -> str:
    """Conversion per entry by ISO week of the cohort, one bar per week with its value."""
    known = [w for w in weeks if w.conversion_rate is not None]
    if not known:
        return '<p class="muted">No conversion data.</p>'
    left, right, top_pad, bottom = 64, width - 16, 26, 62
    plot_bottom = height - bottom
    ticks = nice_ticks(max(w.conversion_rate or 0.0 for w in known) * 1.15)
    slot = (right - left) / len(weeks)
    bar_w = min(90.0, slot * 0.6)

    def y_of(v: float) -> float:
        return plot_bottom - (plot_bottom - top_pad) * v / ticks[-1]

    parts = [
        _open("weekly", width, height, "Weekly conversion per entry by ISO week of the cohort"),
        _y_axis(
            ticks, y_of, left, right, _percent_tick, "conversion per entry",
            (top_pad + plot_bottom) / 2,
        ),
    ]  # fmt: skip
    # Labels need some 70 px each: on a long range only every n-th week (and the last) has one.
    every = _label_every(len(weeks), most=max(1, int((right - left) // 70)))
    for i, week in enumerate(weeks):
        centre = left + slot * (i + 0.5)
        rate = week.conversion_rate or 0.0
        y = y_of(rate)
        name = f"{week.iso_year}-W{week.iso_week:02d}"
        tooltip = (
            f"{name} (from {week.week_start.isoformat()}): {format_rate(week.conversion_rate)} "
            f"({format_count(week.journeys_converted)} of {format_count(week.journeys_started)} "
            "journeys)" + ("" if week.is_final else ", not final yet")
        )
        fill = BAR_COLOR if week.is_final else OPEN_COLOR
        labels = (
            f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" class="value">'
            f"{_e(format_rate(week.conversion_rate))}</text>"
            f'<text x="{centre:.1f}" y="{plot_bottom + 16}" text-anchor="middle" class="tick">'
            f"{_e(name)}</text>"
            f'<text x="{centre:.1f}" y="{plot_bottom + 30}" text-anchor="middle" class="note">'
            f"from {_e(day_label(week.week_start))}"
            f"{'' if week.is_final else ' · open'}</text>"
            if i % every == 0 or i == len(weeks) - 1
            else ""
        )
        parts.append(
            f"<g><title>{_e(tooltip)}</title>"
            f'<rect x="{centre - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
            f'height="{plot_bottom - y:.1f}" rx="2" fill="{fill}"/>{labels}</g>'
        )
    parts.append(_x_axis(left, right, plot_bottom, "ISO week of the cohort date", height - 8))
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
        _open("comparison", width, height, "Conversion per hook with 95% intervals"),
        _x_grid(ticks, x_of, top_pad, plot_bottom, _percent_tick),
    ]
    for i, (label, side) in enumerate(sides):
        y = top_pad + i * row_h
        rate = side.conversion_rate
        interval = format_interval(side.ci_low, side.ci_high)
        parts.append(
            f"<g><title>{_e(f'{label}: {format_rate(rate)} (95% interval {interval})')}"
            f'</title><text x="{left - 10}" y="{y + 22}" text-anchor="end" class="label">'
            f"{_e(label)}</text>"
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
            f'<text x="{right + 12}" y="{y + 22}" class="value">{_e(format_rate(rate))} '
            f'<tspan class="note">({_e(interval)})</tspan></text></g>'
        )
    parts.append(_x_axis(left, right, plot_bottom, "conversions per hook (entry)", height - 6))
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
        _open("momentum", width, height, "Chance of converting once a stage is reached"),
        _y_axis(
            ticks, y_of, left, right, _percent_tick, "P(conversion)", (top_pad + plot_bottom) / 2
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
            f'<g><title>{_e(tooltip)}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="4" '
            f'fill="{LINE_COLOR}"/><text x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" '
            f'class="value">{_e(format_rate(point.conversion_probability))}</text></g>'
        )
    for i, point in enumerate(points):
        parts.append(
            f'<text x="{x_of(i):.1f}" y="{plot_bottom + 17}" text-anchor="middle" class="tick">'
            f"{_e(point.stage_name)}</text>"
        )
    parts.append(_x_axis(left, right, plot_bottom, "stage reached", height - 10))
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
        _open("time-to-convert", width, height, "Time from entry to conversion"),
        _y_axis(
            ticks, y_of, left, right, _percent_tick, "share of conversions",
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
            f'<tspan x="{centre:.1f}">{_e(value)}</tspan>'
            f'<tspan x="{centre:.1f}" dy="13">{_e(unit)}</tspan>'
            if value
            else _e(unit)
        )
        tooltip = (
            f"{bucket.bucket_label}: {format_count(bucket.conversions)} conversions "
            f"({format_rate(bucket.share_of_conversions)}; "
            f"{format_rate(bucket.cumulative_share)} within this bucket or sooner)"
        )
        parts.append(
            f"<g><title>{_e(tooltip)}</title>"
            f'<rect x="{x + 4:.1f}" y="{y:.1f}" width="{slot - 8:.1f}" '
            f'height="{plot_bottom - y:.1f}" rx="2" fill="{BAR_COLOR}"/>'
            f'<text x="{centre:.1f}" y="{y - 5:.1f}" text-anchor="middle" class="value-sm">'
            f"{_e(format_rate(share))}</text>"
            f'<text x="{centre:.1f}" y="{plot_bottom + 15}" text-anchor="middle" class="tick">'
            f"{label}</text></g>"
        )
    parts.append(
        _x_axis(left, right, plot_bottom, "time from entry (first stage) to conversion", height - 8)
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
        _open("segments", width, height, "Conversion per entry by intent segment"),
        _x_grid(ticks, x_of, top_pad, plot_bottom, _percent_tick),
    ]
    for i, segment in enumerate(segments):
        y = top_pad + i * row_h
        rate = segment.overall_conversion_rate
        entries = segment.reached[0] if segment.reached else 0
        text = f"{format_rate(rate)} of {format_count(entries)} entries"
        parts.append(
            f"<g><title>{_e(f'{segment.intent_segment} intent: {text}')}</title>"
            f'<text x="{left - 10}" y="{y + 21}" text-anchor="end" class="label">'
            f"{_e(segment.intent_segment)}</text>"
            f'<rect x="{left}" y="{y + 7}" width="{max(1.0, x_of(rate or 0.0) - left):.1f}" '
            f'height="{row_h - 14}" rx="2" '
            f'fill="{SEGMENT_COLORS.get(segment.intent_segment, BAR_COLOR)}"/>'
            f'<text x="{right + 12}" y="{y + 21}" class="value">{_e(text)}</text></g>'
        )
    parts.append(_x_axis(left, right, plot_bottom, "conversion per entry", height - 6))
    parts.append("</svg>")
    return "".join(parts)
