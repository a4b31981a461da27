"""Collecting funnel-file problems: one line each, naming the funnel and the field path."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from pipelines.lib.funnels.model import ID_PATTERN


class FunnelConfigError(ValueError):
    """A funnel file is unreadable or invalid. `problems` holds one line per problem."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{source}: {p}" for p in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{source}: {len(lines)} problems in funnel file:")
        super().__init__("\n".join(lines))


class Problems:
    """Collects problems as 'funnel <id>: <path>: <message>'."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, path: str, message: str) -> None:
        parts = [part for part in (where, path, message) if part]
        self.items.append(": ".join(parts))


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} (not a finite number)"
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
    }.get(type(value), type(value).__name__)


def check_keys(
    raw: Mapping[Any, Any], allowed: tuple[str, ...], where: str, path: str, p: Problems
) -> None:
    prefix = f"{path}." if path else ""
    for key in raw:
        if key in allowed:
            continue
        hint = difflib.get_close_matches(str(key), allowed, n=1)
        did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
        p.add(
            where,
            f"{prefix}{key}",
            f"unknown key '{key}' ({did_you_mean}allowed: {', '.join(allowed)})",
        )


def check_id(value: Any, where: str, path: str, what: str, p: Problems) -> str | None:
    if not isinstance(value, str):
        p.add(where, path, f"{what} must be a string, got {type_name(value)}")
        return None
    if not ID_PATTERN.match(value):
        p.add(
            where,
            path,
            f"invalid {what} {value!r} (lowercase letter first, then lowercase letters, digits "
            "or '_', at most 63 characters)",
        )
        return None
    return value
