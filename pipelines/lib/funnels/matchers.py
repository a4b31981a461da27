"""Event matchers of stages and exclusions: `events` entries and their `where` filters."""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

from pipelines.lib.funnels.model import (
    BOOLEAN_FIELDS,
    EVENT_FIELDS,
    LIST_OPS,
    NULL_OPS,
    NUMERIC_FIELDS,
    NUMERIC_OPS,
    OPERATORS,
    PARAM_KEY_PATTERN,
    PARAM_PREFIX,
    SCALAR_OPS,
    TEXT_OPS,
    EventMatcher,
    Filter,
    scalar_text,
)
from pipelines.lib.funnels.problems import Problems, check_id, check_keys, type_name

FILTER_KEYS = ("field", "op", "value")
EVENT_KEYS = ("name", "where")


def is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def is_number(value: Any) -> TypeGuard[int | float]:
    """A finite int or float that DuckDB's DOUBLE can hold (10**400 would not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def parse_filter(raw: Any, where: str, path: str, p: Problems) -> Filter | None:
    if not isinstance(raw, Mapping):
        p.add(where, path, f"a filter must be a mapping {{field, op, value}}, got {type_name(raw)}")
        return None
    before = len(p.items)
    check_keys(raw, FILTER_KEYS, where, path, p)

    field = raw.get("field")
    field_ok = False
    if "field" not in raw:
        p.add(where, f"{path}.field", "missing required key 'field'")
    elif not isinstance(field, str):
        p.add(where, f"{path}.field", f"field must be a string, got {type_name(field)}")
    elif field.startswith(PARAM_PREFIX):
        key = field[len(PARAM_PREFIX) :]
        if PARAM_KEY_PATTERN.match(key):
            field_ok = True
        else:
            p.add(
                where,
                f"{path}.field",
                f"invalid parameter key {key!r} in {field!r} (letters, digits and '_', not "
                "starting with a digit, at most 100 characters)",
            )
    elif field in EVENT_FIELDS:
        field_ok = True
    else:
        hint = difflib.get_close_matches(field, EVENT_FIELDS, n=1)
        did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
        p.add(
            where,
            f"{path}.field",
            f"unknown field {field!r} ({did_you_mean}expected one of {', '.join(EVENT_FIELDS)}, "
            "or param.<key> for an event parameter)",
        )

    op = raw.get("op")
    if "op" not in raw:
        p.add(where, f"{path}.op", "missing required key 'op'")
        return None
    if op not in OPERATORS:
        hint = difflib.get_close_matches(str(op), OPERATORS, n=1)
        did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
        p.add(
            where,
            f"{path}.op",
            f"unknown operator {op!r} ({did_you_mean}expected one of {', '.join(OPERATORS)})",
        )
        return None

    is_param = field_ok and isinstance(field, str) and field.startswith(PARAM_PREFIX)
    if field_ok and not is_param:
        if op in NUMERIC_OPS and field not in NUMERIC_FIELDS:
            p.add(
                where,
                f"{path}.op",
                f"operator '{op}' compares numbers; {field!r} is not numeric (numeric fields: "
                f"{', '.join(sorted(NUMERIC_FIELDS))}, or param.<key>)",
            )
        if op in TEXT_OPS and (field in NUMERIC_FIELDS or field in BOOLEAN_FIELDS):
            p.add(where, f"{path}.op", f"operator '{op}' needs a text field, {field!r} is not")

    value = raw.get("value")
    vpath = f"{path}.value"
    has_value = "value" in raw
    result: dict[str, Any] = {}
    if op in NULL_OPS:
        if has_value:
            p.add(where, vpath, f"operator '{op}' takes no value")
    elif not has_value:
        p.add(where, vpath, f"operator '{op}' needs a value")
    elif op in SCALAR_OPS:
        if value is None:
            p.add(where, vpath, "value must not be null (use op: is_null / not_null)")
        elif not is_scalar(value):
            p.add(where, vpath, f"operator '{op}' needs a single value, got {type_name(value)}")
        else:
            result["value_text"] = scalar_text(value)
            if is_number(value):
                # eq 10 should match a value of 10.0: compare numbers when given a number.
                result["value_number"] = float(value)
    elif op in LIST_OPS:
        if not isinstance(value, list) or not value:
            p.add(where, vpath, f"operator '{op}' needs a non-empty list, got {type_name(value)}")
        elif not all(is_scalar(v) for v in value):
            p.add(where, vpath, f"operator '{op}' needs a list of strings, numbers or booleans")
        else:
            result["value_list"] = tuple(scalar_text(v) for v in value)
    elif op in NUMERIC_OPS:
        if not is_number(value):
            got = (
                "an integer too large for a number"
                if isinstance(value, int) and not isinstance(value, bool)
                else type_name(value)
            )
            p.add(where, vpath, f"operator '{op}' needs a number, got {got}")
        else:
            result["value_number"] = float(value)
    elif op in TEXT_OPS:
        if not isinstance(value, str) or not value:
            p.add(where, vpath, f"operator '{op}' needs a non-empty string, got {type_name(value)}")
        else:
            result["value_text"] = value

    if len(p.items) != before or not isinstance(field, str):
        return None
    return Filter(field=field, op=op, **result)


def parse_where(raw: Any, where: str, path: str, p: Problems) -> tuple[Filter, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(where, path, f"where must be a list of filters, got {type_name(raw)}")
        return None
    parsed = [parse_filter(item, where, f"{path}[{i}]", p) for i, item in enumerate(raw)]
    filters = tuple(f for f in parsed if f is not None)
    return filters if len(filters) == len(parsed) else None


def parse_event(raw: Any, where: str, path: str, p: Problems) -> EventMatcher | None:
    if isinstance(raw, str):
        if not raw.strip():
            p.add(where, path, "event name must not be empty")
            return None
        return EventMatcher(name=raw)
    if not isinstance(raw, Mapping):
        p.add(
            where,
            path,
            f"an event entry must be an event name or {{name, where}}, got {type_name(raw)}",
        )
        return None
    before = len(p.items)
    check_keys(raw, EVENT_KEYS, where, path, p)
    name = raw.get("name")
    if "name" not in raw:
        p.add(where, f"{path}.name", "missing required key 'name'")
    elif not isinstance(name, str) or not name.strip():
        p.add(where, f"{path}.name", "event name must be a non-empty string")
    filters = parse_where(raw.get("where"), where, f"{path}.where", p)
    if len(p.items) != before or filters is None or not isinstance(name, str):
        return None
    return EventMatcher(name=name, where=filters)


def parse_named_matchers(
    raw: Mapping[str, Any], what: str, where: str, path: str, p: Problems
) -> tuple[str | None, tuple[EventMatcher, ...] | None, tuple[Filter, ...] | None]:
    """The `name`, `events` and `where` a stage and an exclusion share."""
    name = None
    if "name" not in raw:
        p.add(where, f"{path}.name", "missing required key 'name'")
    else:
        name = check_id(raw["name"], where, f"{path}.name", f"{what} name", p)
    events = parse_events(raw, where, path, p)
    filters = parse_where(raw.get("where"), where, f"{path}.where", p)
    return name, events, filters


def parse_events(
    raw: Mapping[Any, Any], where: str, path: str, p: Problems
) -> tuple[EventMatcher, ...] | None:
    """The `events` list of a stage or an exclusion; None when an entry had a problem."""
    raw_events = raw.get("events")
    if "events" not in raw:
        p.add(where, f"{path}.events", "missing required key 'events'")
        return ()
    if not isinstance(raw_events, list) or not raw_events:
        p.add(
            where,
            f"{path}.events",
            f"events must be a non-empty list of event names or {{name, where}} entries, got "
            f"{type_name(raw_events) if raw_events != [] else 'an empty list'}",
        )
        return ()
    parsed = [parse_event(e, where, f"{path}.events[{i}]", p) for i, e in enumerate(raw_events)]
    events = tuple(e for e in parsed if e is not None)
    return events if len(events) == len(parsed) else None
