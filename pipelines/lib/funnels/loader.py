"""Read and validate a funnel file (format: docs/funnels.md section 1).

Validation collects every problem in the file and raises one FunnelConfigError listing them
all, each line naming the file, the funnel (id, or index when the id is unusable) and the
field path, so one edit-run cycle fixes a whole file.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from pipelines.lib.funnels.model import (
    ATTRIBUTION_MODELS,
    BOOLEAN_FIELDS,
    DEFAULT_ATTRIBUTION,
    DEFAULT_WINDOW,
    EVENT_FIELDS,
    FUNNEL_KINDS,
    FUNNEL_MODES,
    ID_PATTERN,
    INTENT_SEGMENTS,
    LIST_OPS,
    NULL_OPS,
    NUMERIC_FIELDS,
    NUMERIC_OPS,
    OPERATORS,
    PARAM_KEY_PATTERN,
    PARAM_PREFIX,
    SCALAR_OPS,
    TEXT_OPS,
    Attribution,
    EventMatcher,
    Exclusion,
    Filter,
    Funnel,
    FunnelSet,
    Intent,
    Stage,
    scalar_text,
)

DURATION_PATTERN = re.compile(r"^([0-9]+)([dhm])$")
DURATION_UNITS = {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}
# Every night rebuilds the cohorts a window keeps open, so a window is capped at a year.
MAX_DURATION = timedelta(days=365)
MAX_VERSION = 2**31 - 1  # stored as a 32-bit integer in every output table
TOP_KEYS = ("funnels",)
FUNNEL_KEYS = (
    "id",
    "version",
    "label",
    "kind",
    "primary",
    "mode",
    "window",
    "campaigns",
    "attribution",
    "stages",
    "exclusions",
    "intent",
)
STAGE_KEYS = ("name", "events", "where", "optional", "max_gap")
EVENT_KEYS = ("name", "where")
FILTER_KEYS = ("field", "op", "value")
EXCLUSION_KEYS = ("name", "events", "where", "between")
ATTRIBUTION_KEYS = ("stage",)
INTENT_KEYS = ("mid_from_stage", "late_from_stage", "campaigns")


class FunnelConfigError(ValueError):
    """A funnel file is unreadable or invalid. `problems` holds one line per problem."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = [f"{source}: {p}" for p in self.problems]
        if len(lines) > 1:
            lines.insert(0, f"{source}: {len(lines)} problems in funnel file:")
        super().__init__("\n".join(lines))


# --- YAML ------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            first = seen.setdefault(key, key_node.start_mark.line)
        except TypeError:  # unhashable key: the constructor below reports it
            continue
        if first != key_node.start_mark.line:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first given on line {first + 1})",
                key_node.start_mark,
            )
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(text: str, source: str) -> Any:
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = exc.problem or exc.context or "invalid YAML"
        context = exc.context_mark
        if exc.context and exc.problem and context is not None:
            # e.g. an unclosed bracket: say where the construct began, not only where it broke
            detail += f" ({exc.context} on line {context.line + 1}, column {context.column + 1})"
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise FunnelConfigError(source, [f"{where}YAML syntax error: {detail}"]) from None
    except yaml.YAMLError as exc:
        raise FunnelConfigError(source, [f"YAML syntax error: {exc}"]) from None


# --- validation helpers ----------------------------------------------------------------------


class _Problems:
    """Collects problems as 'funnel <id>: <path>: <message>'."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, path: str, message: str) -> None:
        parts = [part for part in (where, path, message) if part]
        self.items.append(": ".join(parts))


def _type_name(value: Any) -> str:
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


def _check_keys(
    raw: Mapping[Any, Any], allowed: tuple[str, ...], where: str, path: str, p: _Problems
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


def _check_id(value: Any, where: str, path: str, what: str, p: _Problems) -> str | None:
    if not isinstance(value, str):
        p.add(where, path, f"{what} must be a string, got {_type_name(value)}")
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


def parse_duration(text: Any, what: str = "duration", example: str = "30m") -> timedelta:
    """'7d' -> 7 days, '36h' -> 36 hours, '30m' -> 30 minutes.

    Raises ValueError with a user-facing message; `what` names the key, `example` is the hint.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise ValueError(
            f"{what} must be a string like {example} (Nd, Nh or Nm), got {_type_name(text)}"
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


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not (
        isinstance(value, float) and not math.isfinite(value)
    )


def _is_number(value: Any) -> bool:
    """A finite int or float that DuckDB's DOUBLE can hold (10**400 would not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


# --- filters, stages, funnels ----------------------------------------------------------------


def _parse_filter(raw: Any, where: str, path: str, p: _Problems) -> Filter | None:
    if not isinstance(raw, Mapping):
        p.add(
            where, path, f"a filter must be a mapping {{field, op, value}}, got {_type_name(raw)}"
        )
        return None
    before = len(p.items)
    _check_keys(raw, FILTER_KEYS, where, path, p)

    field = raw.get("field")
    field_ok = False
    if "field" not in raw:
        p.add(where, f"{path}.field", "missing required key 'field'")
    elif not isinstance(field, str):
        p.add(where, f"{path}.field", f"field must be a string, got {_type_name(field)}")
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

    is_param = field_ok and field.startswith(PARAM_PREFIX)
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
        elif not _is_scalar(value):
            p.add(where, vpath, f"operator '{op}' needs a single value, got {_type_name(value)}")
        else:
            result["value_text"] = scalar_text(value)
            if _is_number(value):
                # eq 10 should match a value of 10.0: compare numbers when given a number.
                result["value_number"] = float(value)
    elif op in LIST_OPS:
        if not isinstance(value, list) or not value:
            p.add(where, vpath, f"operator '{op}' needs a non-empty list, got {_type_name(value)}")
        elif not all(_is_scalar(v) for v in value):
            p.add(where, vpath, f"operator '{op}' needs a list of strings, numbers or booleans")
        else:
            result["value_list"] = tuple(scalar_text(v) for v in value)
    elif op in NUMERIC_OPS:
        if not _is_number(value):
            got = (
                "an integer too large for a number"
                if isinstance(value, int) and not isinstance(value, bool)
                else _type_name(value)
            )
            p.add(where, vpath, f"operator '{op}' needs a number, got {got}")
        else:
            result["value_number"] = float(value)
    elif op in TEXT_OPS:
        if not isinstance(value, str) or not value:
            p.add(
                where, vpath, f"operator '{op}' needs a non-empty string, got {_type_name(value)}"
            )
        else:
            result["value_text"] = value

    if len(p.items) != before:
        return None
    return Filter(field=field, op=op, **result)


def _parse_where(raw: Any, where: str, path: str, p: _Problems) -> tuple[Filter, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(where, path, f"where must be a list of filters, got {_type_name(raw)}")
        return None
    filters = [_parse_filter(item, where, f"{path}[{i}]", p) for i, item in enumerate(raw)]
    if any(f is None for f in filters):
        return None
    return tuple(filters)  # type: ignore[arg-type]


def _parse_event(raw: Any, where: str, path: str, p: _Problems) -> EventMatcher | None:
    if isinstance(raw, str):
        if not raw.strip():
            p.add(where, path, "event name must not be empty")
            return None
        return EventMatcher(name=raw)
    if not isinstance(raw, Mapping):
        p.add(
            where,
            path,
            f"an event entry must be an event name or {{name, where}}, got {_type_name(raw)}",
        )
        return None
    before = len(p.items)
    _check_keys(raw, EVENT_KEYS, where, path, p)
    name = raw.get("name")
    if "name" not in raw:
        p.add(where, f"{path}.name", "missing required key 'name'")
    elif not isinstance(name, str) or not name.strip():
        p.add(where, f"{path}.name", "event name must be a non-empty string")
    filters = _parse_where(raw.get("where"), where, f"{path}.where", p)
    if len(p.items) != before or filters is None:
        return None
    return EventMatcher(name=name, where=filters)


def _parse_named_matchers(
    raw: Mapping[str, Any], what: str, where: str, path: str, p: _Problems
) -> tuple[str | None, list[Any], tuple[Filter, ...] | None]:
    """The `name`, `events` and `where` a stage and an exclusion share."""
    name = None
    if "name" not in raw:
        p.add(where, f"{path}.name", "missing required key 'name'")
    else:
        name = _check_id(raw["name"], where, f"{path}.name", f"{what} name", p)
    events = _parse_events(raw, where, path, p)
    filters = _parse_where(raw.get("where"), where, f"{path}.where", p)
    return name, events, filters


def _parse_stage(raw: Any, order: int, where: str, path: str, p: _Problems) -> Stage | None:
    if not isinstance(raw, Mapping):
        p.add(where, path, f"a stage must be a mapping {{name, events}}, got {_type_name(raw)}")
        return None
    before = len(p.items)
    _check_keys(raw, STAGE_KEYS, where, path, p)
    name, events, filters = _parse_named_matchers(raw, "stage", where, path, p)

    optional = raw.get("optional", False)
    if not isinstance(optional, bool):
        p.add(where, f"{path}.optional", f"optional must be true or false, got {optional!r}")
    max_gap = None
    if raw.get("max_gap") is not None:
        try:
            max_gap = parse_duration(raw["max_gap"], "max_gap", "30m")
        except ValueError as exc:
            p.add(where, f"{path}.max_gap", str(exc))

    if len(p.items) != before or filters is None or name is None:
        return None
    return Stage(
        order=order,
        name=name,
        events=tuple(events),  # type: ignore[arg-type]
        where=filters,
        optional=optional,
        max_gap=max_gap,
    )


def _parse_campaigns(raw: Any, where: str, p: _Problems) -> tuple[str, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(
            where,
            "campaigns",
            f"campaigns must be a list of campaign ids or names, got {_type_name(raw)}",
        )
        return None
    campaigns: list[str] = []
    ok = True
    for i, item in enumerate(raw):
        # Numeric ids are common (Google Ads): accept them as their text form.
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str) or not item.strip():
            p.add(
                where,
                f"campaigns[{i}]",
                f"campaign must be a non-empty string, got {_type_name(item)}",
            )
            ok = False
        elif item not in campaigns:
            campaigns.append(item)
    return tuple(campaigns) if ok else None


def _parse_events(raw: Mapping[Any, Any], where: str, path: str, p: _Problems) -> list[Any]:
    """The `events` list of a stage or an exclusion (entries may be None after a problem)."""
    raw_events = raw.get("events")
    if "events" not in raw:
        p.add(where, f"{path}.events", "missing required key 'events'")
        return []
    if not isinstance(raw_events, list) or not raw_events:
        p.add(
            where,
            f"{path}.events",
            f"events must be a non-empty list of event names or {{name, where}} entries, got "
            f"{_type_name(raw_events) if raw_events != [] else 'an empty list'}",
        )
        return []
    return [_parse_event(e, where, f"{path}.events[{i}]", p) for i, e in enumerate(raw_events)]


def _stage_ref(
    value: Any, stage_names: Mapping[str, int], where: str, path: str, p: _Problems
) -> int | None:
    """The 1-based order of the stage named `value`, or None (problem reported)."""
    if not isinstance(value, str):
        p.add(where, path, f"expected a stage name, got {_type_name(value)}")
        return None
    if value not in stage_names:
        hint = difflib.get_close_matches(value, list(stage_names), n=1)
        did_you_mean = f"did you mean '{hint[0]}'? " if hint else ""
        p.add(
            where,
            path,
            f"unknown stage {value!r} ({did_you_mean}stages: {', '.join(stage_names)})",
        )
        return None
    return stage_names[value]


def _parse_exclusion(
    raw: Any, order: int, stage_names: Mapping[str, int], where: str, path: str, p: _Problems
) -> Exclusion | None:
    if not isinstance(raw, Mapping):
        p.add(
            where,
            path,
            f"an exclusion must be a mapping {{name, events, between}}, got {_type_name(raw)}",
        )
        return None
    before = len(p.items)
    _check_keys(raw, EXCLUSION_KEYS, where, path, p)
    name, events, filters = _parse_named_matchers(raw, "exclusion", where, path, p)

    bounds: list[int | None] = [None, None]
    between = raw.get("between")
    if "between" not in raw:
        p.add(where, f"{path}.between", "missing required key 'between' (two stage names)")
    elif not isinstance(between, list) or len(between) != 2:
        p.add(
            where,
            f"{path}.between",
            f"between must be a list of two stage names [from, to], got {_type_name(between)}"
            + (f" of {len(between)}" if isinstance(between, list) else ""),
        )
    else:
        bounds = [
            _stage_ref(value, stage_names, where, f"{path}.between[{i}]", p)
            for i, value in enumerate(between)
        ]
        if bounds[0] is not None and bounds[0] == bounds[1]:
            p.add(
                where,
                f"{path}.between",
                f"between needs two different stages, got {between[0]!r} twice",
            )
        elif bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
            p.add(
                where,
                f"{path}.between",
                f"the first stage must come before the second, got {between[0]!r} (stage "
                f"{bounds[0]}) then {between[1]!r} (stage {bounds[1]})",
            )

    if len(p.items) != before or name is None or filters is None:
        return None
    return Exclusion(
        order=order,
        name=name,
        events=tuple(events),
        from_stage=bounds[0],  # type: ignore[arg-type]
        to_stage=bounds[1],  # type: ignore[arg-type]
        where=filters,
    )


def _parse_exclusions(
    raw: Any, stage_names: Mapping[str, int], where: str, p: _Problems
) -> tuple[Exclusion, ...] | None:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(where, "exclusions", f"exclusions must be a list, got {_type_name(raw)}")
        return None
    before = len(p.items)
    exclusions = [
        _parse_exclusion(item, i + 1, stage_names, where, f"exclusions[{i}]", p)
        for i, item in enumerate(raw)
    ]
    seen: dict[str, int] = {}
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not ID_PATTERN.match(name):
            continue
        if name in seen:
            p.add(
                where,
                f"exclusions[{i}].name",
                f"duplicate exclusion name {name!r} (already used by exclusions[{seen[name]}])",
            )
        else:
            seen[name] = i
    if len(p.items) != before:
        return None
    return tuple(exclusions)  # type: ignore[arg-type]


def _parse_attribution(
    raw: Any, stage_names: Mapping[str, int], where: str, p: _Problems
) -> Attribution | None:
    expected = "expected first_touch, last_touch or {stage: <stage name>}"
    if raw is None:
        return Attribution(DEFAULT_ATTRIBUTION)
    if isinstance(raw, str):
        if raw in ATTRIBUTION_MODELS and raw != "stage":
            return Attribution(raw)
        p.add(where, "attribution", f"unknown attribution {raw!r} ({expected})")
        return None
    if not isinstance(raw, Mapping):
        p.add(where, "attribution", f"attribution must be a string or a mapping ({expected})")
        return None
    before = len(p.items)
    _check_keys(raw, ATTRIBUTION_KEYS, where, "attribution", p)
    if "stage" not in raw:
        p.add(where, "attribution.stage", f"missing required key 'stage' ({expected})")
        return None
    stage = _stage_ref(raw["stage"], stage_names, where, "attribution.stage", p)
    if len(p.items) != before or stage is None:
        return None
    return Attribution("stage", stage)


def _parse_intent(
    raw: Any, stage_names: Mapping[str, int], where: str, p: _Problems
) -> Intent | None:
    if raw is None:
        return Intent()
    if not isinstance(raw, Mapping):
        p.add(
            where,
            "intent",
            "intent must be a mapping {mid_from_stage, late_from_stage, campaigns}, got "
            f"{_type_name(raw)}",
        )
        return None
    before = len(p.items)
    _check_keys(raw, INTENT_KEYS, where, "intent", p)
    orders: dict[str, int | None] = {}
    for key in ("mid_from_stage", "late_from_stage"):
        orders[key] = None
        if raw.get(key) is not None:
            orders[key] = _stage_ref(raw[key], stage_names, where, f"intent.{key}", p)
    # Compare what will be used: an unset bound takes its default (mid: 1, late: max(N-1, 2)).
    stage_count = len(stage_names)
    mid = orders["mid_from_stage"] or 1
    late = orders["late_from_stage"] or max(stage_count - 1, 2)
    bad_ref = any(raw.get(k) is not None and orders[k] is None for k in orders)
    if not bad_ref and stage_count and mid > late:
        p.add(
            where,
            "intent.mid_from_stage",
            f"mid_from_stage (stage {mid}) must not come after late_from_stage (stage {late}"
            f"{'' if orders['late_from_stage'] else ', the default'})",
        )

    campaigns: list[tuple[str, str]] = []
    raw_campaigns = raw.get("campaigns")
    if raw_campaigns is not None and not isinstance(raw_campaigns, Mapping):
        p.add(
            where,
            "intent.campaigns",
            "intent.campaigns must be a mapping {segment: [campaigns]}, got "
            f"{_type_name(raw_campaigns)}",
        )
    elif raw_campaigns is not None:
        segment_of: dict[str, str] = {}
        for segment, items in raw_campaigns.items():
            path = f"intent.campaigns.{segment}"
            if segment not in INTENT_SEGMENTS:
                p.add(
                    where,
                    path,
                    f"unknown segment {segment!r} (expected one of {', '.join(INTENT_SEGMENTS)})",
                )
                continue
            if not isinstance(items, list):
                p.add(
                    where,
                    path,
                    f"expected a list of campaign ids or names, got {_type_name(items)}",
                )
                continue
            for i, item in enumerate(items):
                if isinstance(item, int) and not isinstance(item, bool):
                    item = str(item)
                if not isinstance(item, str) or not item.strip():
                    p.add(
                        where,
                        f"{path}[{i}]",
                        f"campaign must be a non-empty string, got {_type_name(item)}",
                    )
                elif item in segment_of:
                    if segment_of[item] != segment:
                        p.add(
                            where,
                            f"{path}[{i}]",
                            f"campaign {item!r} is already listed under {segment_of[item]!r} "
                            "(a campaign belongs to one segment)",
                        )
                else:
                    segment_of[item] = segment
                    campaigns.append((item, segment))
    if len(p.items) != before:
        return None
    return Intent(
        mid_from_stage=orders["mid_from_stage"],
        late_from_stage=orders["late_from_stage"],
        campaigns=tuple(campaigns),
    )


def _check_stage_rules(
    raw_stages: list[Any],
    stages: list[Stage | None],
    mode: Any,
    window: timedelta | None,
    window_text: Any,
    where: str,
    p: _Problems,
) -> None:
    """Rules that need the whole funnel: first/last stage, mode and window (section 1)."""
    last = len(raw_stages) - 1
    for i, raw in enumerate(raw_stages):
        if not isinstance(raw, Mapping):
            continue
        has_gap = raw.get("max_gap") is not None
        if raw.get("optional") is True and i in (0, last):
            which = "first" if i == 0 else "last"
            p.add(where, f"stages[{i}].optional", f"the {which} stage cannot be optional")
        if has_gap and i == 0:
            p.add(
                where,
                f"stages[{i}].max_gap",
                "max_gap is not allowed on the first stage (there is no previous stage)",
            )
        elif has_gap and mode == "any_order":
            p.add(
                where,
                f"stages[{i}].max_gap",
                "max_gap is not allowed in any_order funnels (there is no previous stage)",
            )
        stage = stages[i] if i < len(stages) else None
        if (
            i > 0
            and stage is not None
            and stage.max_gap is not None
            and window is not None
            and stage.max_gap > window
        ):
            p.add(
                where,
                f"stages[{i}].max_gap",
                f"max_gap {raw['max_gap']!r} exceeds the window {window_text!r}",
            )


def _funnel_label(raw: Any, index: int) -> str:
    fid = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(fid, str) and ID_PATTERN.match(fid):
        return f"funnel '{fid}'"
    return f"funnels[{index}]"


def _parse_funnel(raw: Any, index: int, p: _Problems) -> Funnel | None:
    where = _funnel_label(raw, index)
    if not isinstance(raw, Mapping):
        p.add(where, "", f"a funnel must be a mapping, got {_type_name(raw)}")
        return None
    before = len(p.items)
    _check_keys(raw, FUNNEL_KEYS, where, "", p)

    fid = None
    if "id" not in raw:
        p.add(where, "id", "missing required key 'id'")
    else:
        fid = _check_id(raw["id"], where, "id", "funnel id", p)

    version = raw.get("version", 1)
    is_integer = isinstance(version, int) and not isinstance(version, bool)
    if not is_integer or not 1 <= version <= MAX_VERSION:
        shown = version if is_integer else _type_name(version)
        p.add(
            where, "version", f"version must be an integer >= 1 and <= {MAX_VERSION}, got {shown}"
        )

    label = raw.get("label", fid)
    if "label" in raw and (not isinstance(label, str) or not label.strip()):
        p.add(where, "label", f"label must be a non-empty string, got {_type_name(label)}")

    kind = raw.get("kind")
    if "kind" not in raw:
        p.add(where, "kind", f"missing required key 'kind' (one of {', '.join(FUNNEL_KINDS)})")
    elif kind not in FUNNEL_KINDS:
        p.add(where, "kind", f"unknown kind {kind!r} (expected one of {', '.join(FUNNEL_KINDS)})")

    primary = raw.get("primary", False)
    if not isinstance(primary, bool):
        p.add(where, "primary", f"primary must be true or false, got {primary!r}")

    mode = raw.get("mode", FUNNEL_MODES[0])
    if mode not in FUNNEL_MODES:
        p.add(
            where,
            "mode",
            f"unsupported mode {mode!r} (available modes: {', '.join(FUNNEL_MODES)})",
        )

    window = None
    try:
        window = parse_window(raw.get("window", DEFAULT_WINDOW))
    except ValueError as exc:
        p.add(where, "window", str(exc))

    campaigns = _parse_campaigns(raw.get("campaigns"), where, p)

    stages: list[Stage | None] = []
    raw_stages = raw.get("stages")
    if "stages" not in raw:
        p.add(where, "stages", "missing required key 'stages'")
    elif not isinstance(raw_stages, list):
        p.add(where, "stages", f"stages must be a list, got {_type_name(raw_stages)}")
    else:
        if len(raw_stages) < 2:
            p.add(
                where,
                "stages",
                f"a funnel needs at least 2 stages, got {len(raw_stages)}",
            )
        stages = [
            _parse_stage(s, i + 1, where, f"stages[{i}]", p) for i, s in enumerate(raw_stages)
        ]
        seen: dict[str, int] = {}
        for i, stage in enumerate(stages):
            if stage is None:
                continue
            if stage.name in seen:
                p.add(
                    where,
                    f"stages[{i}].name",
                    f"duplicate stage name {stage.name!r} "
                    f"(already used by stages[{seen[stage.name]}])",
                )
            else:
                seen[stage.name] = i
        _check_stage_rules(
            raw_stages, stages, mode, window, raw.get("window", DEFAULT_WINDOW), where, p
        )

    # Stage references resolve against the names as written, so a stage with an unrelated
    # problem does not also make every reference to it an error.
    stage_names: dict[str, int] = {}
    if isinstance(raw_stages, list):
        for i, s in enumerate(raw_stages):
            name = s.get("name") if isinstance(s, Mapping) else None
            if isinstance(name, str):
                stage_names.setdefault(name, i + 1)
    attribution = _parse_attribution(raw.get("attribution"), stage_names, where, p)
    exclusions = _parse_exclusions(raw.get("exclusions"), stage_names, where, p)
    intent = _parse_intent(raw.get("intent"), stage_names, where, p)

    if len(p.items) != before:
        return None
    return Funnel(
        id=fid,  # type: ignore[arg-type]
        version=version,
        label=label,
        kind=kind,
        is_primary=primary,
        mode=mode,
        window=window,  # type: ignore[arg-type]
        stages=tuple(stages),  # type: ignore[arg-type]
        campaigns=campaigns,  # type: ignore[arg-type]
        attribution=attribution,  # type: ignore[arg-type]
        exclusions=exclusions,  # type: ignore[arg-type]
        intent=intent,  # type: ignore[arg-type]
    )


def _parse_document(doc: Any, p: _Problems) -> list[Funnel]:
    if not isinstance(doc, Mapping):
        got = "an empty file" if doc is None else _type_name(doc)
        p.add("", "funnels", f"expected a mapping with a top-level 'funnels' list, got {got}")
        return []
    _check_keys(doc, TOP_KEYS, "", "", p)
    raw_funnels = doc.get("funnels")
    if not isinstance(raw_funnels, list) or not raw_funnels:
        got = "nothing" if raw_funnels is None else _type_name(raw_funnels)
        if raw_funnels == []:
            got = "an empty list"
        p.add("", "funnels", f"expected a non-empty list of funnels, got {got}")
        return []

    funnels = [_parse_funnel(raw, i, p) for i, raw in enumerate(raw_funnels)]

    # Cross-funnel rules, checked on the raw ids/flags so they are reported even when the
    # funnel has other problems.
    seen_ids: dict[str, int] = {}
    primaries: list[str] = []
    for i, raw in enumerate(raw_funnels):
        if not isinstance(raw, Mapping):
            continue
        where = _funnel_label(raw, i)
        fid = raw.get("id")
        if isinstance(fid, str) and ID_PATTERN.match(fid):
            if fid in seen_ids:
                p.add(
                    where,
                    "id",
                    f"duplicate funnel id {fid!r} (already used by funnels[{seen_ids[fid]}])",
                )
            else:
                seen_ids[fid] = i
        if raw.get("primary") is True:
            if primaries:
                p.add(
                    where,
                    "primary",
                    f"only one funnel may be primary ({primaries[0]} is already primary)",
                )
            primaries.append(where)
    return [f for f in funnels if f is not None]


def parse_funnels(text: str, source: str = "<string>") -> FunnelSet:
    """Validate funnel YAML text. `source` names the file in error messages."""
    doc = _read_yaml(text, source)
    p = _Problems()
    funnels = _parse_document(doc, p)
    if p.items:
        raise FunnelConfigError(source, p.items)
    if not any(f.is_primary for f in funnels):
        # No funnel marked primary: the first one is.
        funnels[0] = replace(funnels[0], is_primary=True)
    return FunnelSet(funnels=tuple(funnels), source=source)


def load_funnels(path: Path) -> FunnelSet:
    """Read and validate a funnel file. Raises FunnelConfigError naming file, funnel and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FunnelConfigError(str(path), ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FunnelConfigError(str(path), [f"cannot read file: {exc}"]) from None
    return parse_funnels(text, source=str(path))
