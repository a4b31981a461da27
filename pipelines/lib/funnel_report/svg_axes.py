"""What every inline SVG chart of the report shares: colours, round tick values, the opening
<svg> tag with its accessible name, and the axes with their grid lines and labels. All text
is escaped."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import date
from html import escape

BAR_COLOR = "#2f6db5"
OPEN_COLOR = "#9dbbe0"  # cohorts whose window is still open
LINE_COLOR = "#c2571a"
MUTED_COLOR = "#9aa5b8"
GRID_COLOR = "#e6e9ef"
AXIS_COLOR = "#8a93a3"
INK_COLOR = "#1d2430"
SEGMENT_COLORS = {"early": "#7fa7d9", "mid": "#2f6db5", "late": "#173b66"}


def esc(value: object) -> str:
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


def percent_tick(value: float) -> str:
    text = f"{value * 100:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def count_tick(value: float) -> str:
    if value >= 1000 and value % 1000 == 0:
        return f"{value / 1000:,.0f}k"
    if value >= 1000:
        return f"{value / 1000:,.1f}k"
    return f"{value:,.0f}"


def day_label(day: date) -> str:
    """``1 Mar``: short, unambiguous in any locale."""
    return f"{day.day} {day.strftime('%b')}"


def svg_open(css_class: str, width: int, height: int, title: str) -> str:
    return (
        f'<svg class="chart {css_class}" role="img" aria-label="{esc(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{esc(title)}</title>'
    )


def y_axis(
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
            f"{esc(label(tick))}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{y_of(ticks[0]):.1f}" x2="{left}" y2="{y_of(ticks[-1]):.1f}" '
        f'stroke="{AXIS_COLOR}"/>'
        f'<text transform="translate(14 {plot_mid:.1f}) rotate(-90)" text-anchor="middle" '
        f'class="axis-title">{esc(title)}</text>'
    )
    return "".join(parts)


def x_axis(left: float, right: float, y: float, title: str, title_y: float) -> str:
    return (
        f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{AXIS_COLOR}"/>'
        f'<text x="{(left + right) / 2:.1f}" y="{title_y:.1f}" text-anchor="middle" '
        f'class="axis-title">{esc(title)}</text>'
    )


def x_grid(
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
        f'text-anchor="middle" class="tick">{esc(label(t))}</text>'
        for t in ticks
    )
