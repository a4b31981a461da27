"""Plain-text rendering: the stage table the CLI prints and shared number formats."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_COLUMNS: list[tuple[str, str, Callable[[Any], str], bool]] = [
    # (header, key, formatter, right-aligned)
    ("stage", "stage_name", str, False),
    ("journeys reached", "journeys_reached", lambda v: format_count(v), True),
    ("step conv.", "step_conversion_rate", lambda v: format_rate(v), True),
    ("overall conv.", "overall_conversion_rate", lambda v: format_rate(v), True),
    ("drop-off", "dropoff_count", lambda v: format_count(v), True),
    ("median to next", "median_seconds_to_next_stage", lambda v: format_duration(v), True),
]


def format_count(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def format_number(value: Any) -> str:
    """Counts that may be fractional (platform-modelled conversions keep their decimals)."""
    if value is None:
        return "-"
    number = float(value)
    return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"


def format_rate(value: Any) -> str:
    return "-" if value is None else f"{float(value) * 100:.1f}%"


def format_money(value: Any, currency: str | None = None) -> str:
    if value is None:
        return "-"
    text = f"{float(value):,.2f}"
    return f"{text} {currency}" if currency else text


def format_duration(seconds: Any) -> str:
    """Seconds as a short human duration: ``45s``, ``3m 05s``, ``2h 04m``, ``3d 02h``."""
    if seconds is None:
        return "-"
    total = round(float(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"


def _as_mapping(row: Any) -> Mapping[str, Any]:
    if isinstance(row, Mapping):
        return row
    if dataclasses.is_dataclass(row) and not isinstance(row, type):
        return dataclasses.asdict(row)
    if hasattr(row, "_asdict"):
        return row._asdict()
    raise TypeError(f"stage rows must be mappings or dataclasses, got {type(row).__name__}")


def format_stage_table(rows: Iterable[Any]) -> str:
    """An aligned text table: stage, journeys reached, step and overall conversion, drop-off and
    median time to the next stage. Rows are mappings (or dataclasses) with the mart's column
    names; missing values print as ``-``."""
    cells = [[header for header, *_ in _COLUMNS]]
    for row in rows:
        values = _as_mapping(row)
        cells.append([fmt(values.get(key)) for _, key, fmt, _ in _COLUMNS])
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    lines = []
    for n, line in enumerate(cells):
        parts = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, (_, _, _, right) in zip(line, widths, _COLUMNS, strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def format_platform_table(rows: Iterable[Any], currency: str) -> str:
    """Platforms side by side for one funnel: journeys reaching each stage, the overall
    conversion, spend (in the reporting currency) and cost per conversion. Rows are the
    platform rollup's stage rows (platform, stage_order, stage_name, journeys_reached, and the
    platform's entries / conversions / conversion_rate / spend / cost_per_conversion)."""
    by_platform: dict[str, dict[str, Any]] = {}
    stages: dict[int, str] = {}
    for row in rows:
        values = _as_mapping(row)
        stages[int(values["stage_order"])] = str(values["stage_name"])
        platform = by_platform.setdefault(str(values["platform"]), dict(values))
        platform[f"stage_{values['stage_order']}"] = values["journeys_reached"]
    order = sorted(stages)
    header = ["platform", *(stages[o] for o in order), "overall conv.", f"spend ({currency})",
              "cost / conv."]  # fmt: skip
    cells = [header]
    for name, values in sorted(by_platform.items()):
        cells.append(
            [name, *(format_count(values.get(f"stage_{o}")) for o in order),
             format_rate(values.get("conversion_rate")), format_money(values.get("spend")),
             format_money(values.get("cost_per_conversion"))]
        )  # fmt: skip
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]
    lines = []
    for n, line in enumerate(cells):
        parts = [line[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def format_signed_rate(value: Any) -> str:
    """A relative change as a signed percentage: ``+69.4%``, ``-12.0%``."""
    return "-" if value is None else f"{float(value) * 100:+.1f}%"


def format_points(value: Any) -> str:
    """A difference of two rates in percentage points: ``+3.0 pp``."""
    return "-" if value is None else f"{float(value) * 100:+.1f} pp"


def format_ratio(value: Any) -> str:
    """A multiplier such as a lift over the previous stage: ``1.46x``."""
    return "-" if value is None else f"{float(value):.2f}x"


def format_p_value(value: Any) -> str:
    if value is None:
        return "-"
    number = float(value)
    return "< 0.001" if number < 0.001 else f"{number:.3f}"


def format_interval(low: Any, high: Any) -> str:
    """A rate interval: ``7.0% to 7.7%``."""
    if low is None or high is None:
        return "-"
    return f"{format_rate(low)} to {format_rate(high)}"
