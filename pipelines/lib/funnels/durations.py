"""Durations in funnel files: '7d', '36h', '30m' (windows and max_gap)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pipelines.lib.funnels.problems import type_name

DURATION_PATTERN = re.compile(r"^([0-9]+)([dhm])$")
DURATION_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
MAX_DURATION = timedelta(days=365)


def parse_duration(text: Any, what: str = "duration", example: str = "30m") -> timedelta:
    """'7d' -> 7 days, '36h' -> 36 hours, '30m' -> 30 minutes.

    Raises ValueError with a user-facing message; `what` names the key, `example` is the hint.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(
            f"{what} must be a string like {example} (Nd, Nh or Nm), got {type_name(text)}"
        )
    match = DURATION_PATTERN.match(text.strip())
    if not match:
        raise ValueError(f"invalid duration {text!r} (expected Nd, Nh or Nm, e.g. {example})")
    amount, unit = int(match.group(1)), match.group(2)
    if amount <= 0:
        raise ValueError(f"{what} must be greater than zero, got {text!r}")
    # Compared in the unit first: a huge amount would overflow timedelta.
    if amount > MAX_DURATION // DURATION_UNITS[unit]:
        raise ValueError(f"{what} {text!r} is too long: at most {MAX_DURATION.days}d")
    return amount * DURATION_UNITS[unit]


def parse_window(text: Any) -> timedelta:
    """A funnel window: '7d', '48h' or '90m'."""
    return parse_duration(text, "window", "7d")
