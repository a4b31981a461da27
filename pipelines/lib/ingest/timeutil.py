"""Timezone and timestamp normalisation shared by the adapters."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def check_timezone(name: str) -> None:
    """Fail early on a bad reporting timezone rather than deep inside a query."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown reporting timezone: {name!r}") from exc


def naive_utc(moment: datetime) -> datetime:
    """Canonical timestamps are naive UTC; aware inputs are converted, naive ones trusted."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)
