"""Inline SVG charts of conversion per cohort: the daily line and the weekly bars (ISO weeks);
hollow points and light bars are cohorts whose window is still open. Each chart has an
accessible name and every point or bar its own <title> with the exact figures."""

from __future__ import annotations

import math

from pipelines.lib.funnel_report.model import (
    DayPoint,
    WeekPoint,
)
from pipelines.lib.funnel_report.svg_axes import (
    AXIS_COLOR,
    BAR_COLOR,
    LINE_COLOR,
    OPEN_COLOR,
    day_label,
    esc,
    nice_ticks,
    percent_tick,
    svg_open,
    x_axis,
    y_axis,
)
from pipelines.lib.funnel_report.text_formats import format_count, format_rate


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
        svg_open("daily", width, height, title),
        y_axis(
            ticks, y_of, left, right, percent_tick, "conversion per entry",
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
                f'text-anchor="middle" class="tick">{esc(day_label(point.day))}</text>'
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
            f"{esc(format_rate(point.conversion_rate))}</text>"
            if labelled
            else ""
        )
        parts.append(
            f'<g><title>{esc(tooltip)}</title><circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" '
            f'fill="{fill}" stroke="{LINE_COLOR}" stroke-width="1.5"/>{value}</g>'
        )
    parts.append(
        x_axis(left, right, plot_bottom, "cohort date (the day journeys started)", height - 22)
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
        svg_open("weekly", width, height, "Weekly conversion per entry by ISO week of the cohort"),
        y_axis(
            ticks, y_of, left, right, percent_tick, "conversion per entry",
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
            f"{esc(format_rate(week.conversion_rate))}</text>"
            f'<text x="{centre:.1f}" y="{plot_bottom + 16}" text-anchor="middle" class="tick">'
            f"{esc(name)}</text>"
            f'<text x="{centre:.1f}" y="{plot_bottom + 30}" text-anchor="middle" class="note">'
            f"from {esc(day_label(week.week_start))}"
            f"{'' if week.is_final else ' · open'}</text>"
            if i % every == 0 or i == len(weeks) - 1
            else ""
        )
        parts.append(
            f"<g><title>{esc(tooltip)}</title>"
            f'<rect x="{centre - bar_w / 2:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
            f'height="{plot_bottom - y:.1f}" rx="2" fill="{fill}"/>{labels}</g>'
        )
    parts.append(x_axis(left, right, plot_bottom, "ISO week of the cohort date", height - 8))
    parts.append("</svg>")
    return "".join(parts)
