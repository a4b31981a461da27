"""JSON types of the GA4 fields the mapping reads: a wrong type is quarantined, never coerced.

DuckDB's `from_json` is lenient: `event_params` given as a string or an object becomes NULL,
a param `value` given as a string becomes an empty record, and an object given where text is
expected becomes its JSON text. Each would load a row with values silently lost or garbled, so
the JSON type of every field the mapping reads is checked against the types of the BigQuery
export (INT64 as a JSON string or number, FLOAT64 as a number or numeric string, JSON null
always allowed) and the first field of a row with a wrong type is named in its reason.

Cost: one extra parse of each line for the top-level fields and one of each event param
(`top_types_sql`, `param_types_sql`, computed once per line by the caller), plus a cheap
boolean test per param; the reason naming the param is only built for rows that fail it.
"""

from __future__ import annotations

from typing import NamedTuple


class JsonType(NamedTuple):
    """The JSON types (as DuckDB's json_type names them) a field may have besides null."""

    allowed: tuple[str, ...]
    expected: str  # for the reason: "expected <this>"


STRING = JsonType(("VARCHAR",), "a string")
# INT64: a JSON string (BigQuery's JSON extract) or a number (Parquet, hand-made files).
INTEGER = JsonType(("VARCHAR", "UBIGINT", "BIGINT"), "an integer")
NUMBER = JsonType(("VARCHAR", "UBIGINT", "BIGINT", "DOUBLE"), "a number")  # FLOAT64
# Ids are strings; a JSON integer is a lossless id, a DOUBLE (1785412345.17044) has lost digits.
ID = JsonType(("VARCHAR", "UBIGINT", "BIGINT"), "a string")
OBJECT = JsonType(("OBJECT",), "an object")
ARRAY = JsonType(("ARRAY",), "an array of key/value records")

# Top-level field -> its JSON type.
TOP_LEVEL: dict[str, JsonType] = {
    "event_name": STRING,
    "event_timestamp": INTEGER,
    "user_pseudo_id": ID,
    "user_id": ID,
    "event_bundle_sequence_id": INTEGER,
    "batch_event_index": INTEGER,
    "batch_ordering_id": INTEGER,
    "event_value_in_usd": NUMBER,
    "event_params": ARRAY,
    "collected_traffic_source": OBJECT,
}
TRAFFIC_SOURCE = "collected_traffic_source"

# Within one event_params element ('' is the element itself).
PARAM_FIELDS: dict[str, JsonType] = {
    "": OBJECT,
    "key": STRING,
    "value": OBJECT,
    "value.string_value": STRING,
    "value.int_value": INTEGER,
    "value.float_value": NUMBER,
    "value.double_value": NUMBER,
}
_REQUIRED_IN_PARAM = ("", "key")  # a param without a key cannot be read at all
# String values that must hold a number: field -> the type they must cast to.
_NUMERIC_TEXT = {"int_value": "hugeint", "float_value": "double", "double_value": "double"}


def top_level_paths(traffic_fields: list[str]) -> dict[str, JsonType]:
    """Every checked top-level path with its allowed types, in `top_types_sql` order."""
    return {**TOP_LEVEL, **{f"{TRAFFIC_SOURCE}.{name}": STRING for name in traffic_fields}}


def top_types_sql(line_sql: str, traffic_fields: list[str]) -> str:
    """SQL: the JSON types of the top-level paths as one list (one parse of the line)."""
    paths = ", ".join(f"'$.{path}'" for path in top_level_paths(traffic_fields))
    return f"json_type({line_sql}, [{paths}])"


def param_types_sql(line_sql: str) -> str:
    """SQL: per event_params element, the JSON types of PARAM_FIELDS (a list of lists)."""
    paths = ", ".join("'$'" if not p else f"'$.{p}'" for p in PARAM_FIELDS)
    return (
        f"list_transform(json_extract({line_sql}, '$.event_params[*]'), "
        f"e -> json_type(e, [{paths}]))"
    )


def type_problem_sql(
    top_types: str, param_types: str, parsed: str, traffic_fields: list[str]
) -> str:
    """SQL: NULL when every read field has an allowed type, else `<field> is <TYPE> (expected
    ...)` for the first wrong one. `top_types`/`param_types` are the columns computed with the
    functions above, `parsed` the line's `from_json` struct (for numbers written as strings).
    """
    checks = [
        _wrong(f"{top_types}[{index}]", f"'{path}'", allowed, required=False)
        for index, (path, allowed) in enumerate(top_level_paths(traffic_fields).items(), 1)
    ]
    usd = list(TOP_LEVEL).index("event_value_in_usd") + 1
    checks.append(
        f"case when {top_types}[{usd}] = 'VARCHAR' and "
        f"try_cast({parsed}.event_value_in_usd as double) is null "
        "then 'event_value_in_usd is a string that is not a number' end"
    )
    checks.append(
        f"case when {_params_ok(param_types, parsed)} then null "
        f"else {_param_problem(param_types, parsed)} end"
    )
    return f"coalesce({', '.join(checks)})"


def _allowed(type_sql: str, json_type: JsonType, *, required: bool) -> str:
    listed = ", ".join(f"'{t}'" for t in (*json_type.allowed, *(() if required else ("NULL",))))
    return f"coalesce({type_sql}, 'NULL') in ({listed})"


def _params_ok(param_types: str, parsed: str) -> str:
    """SQL: true when every param has allowed types (a plain boolean per param: cheap)."""
    types = " and ".join(
        _allowed(f"e[{index}]", json_type, required=field in _REQUIRED_IN_PARAM)
        for index, (field, json_type) in enumerate(PARAM_FIELDS.items(), start=1)
    )
    numeric = " and ".join(
        f"(p.value.{field} is null or try_cast(p.value.{field} as {cast_to}) is not null)"
        for field, cast_to in _NUMERIC_TEXT.items()
    )
    return (
        f"coalesce(list_bool_and(list_transform({param_types}, e -> {types})), true) and "
        f"coalesce(list_bool_and(list_transform({parsed}.event_params, p -> {numeric})), true)"
    )


def _wrong(type_sql: str, name_sql: str, json_type: JsonType, *, required: bool) -> str:
    """`<name> is <type> (expected ...)` when the type is not allowed. A missing field (SQL
    NULL) and JSON null pass unless `required`."""
    listed = ", ".join(f"'{t}'" for t in json_type.allowed)
    expected = f"' (expected {json_type.expected})'"
    if required:
        return (
            f"case when coalesce({type_sql}, 'NULL') not in ({listed}) "
            f"then {name_sql} || ' is ' || coalesce({type_sql}, 'missing') || {expected} end"
        )
    return (
        f"case when {type_sql} not in ({listed}, 'NULL') "
        f"then {name_sql} || ' is ' || {type_sql} || {expected} end"
    )


def _param_problem(param_types: str, parsed: str) -> str:
    """The first event_params element with a wrong type, named `event_params[i].<field>`."""
    checks = []
    for index, (field, allowed) in enumerate(PARAM_FIELDS.items(), start=1):
        name = "'event_params[' || (i - 1) || ']" + (f".{field}'" if field else "'")
        checks.append(
            _wrong(
                f"{param_types}[i][{index}]", name, allowed, required=field in _REQUIRED_IN_PARAM
            )
        )
    for field, cast_to in _NUMERIC_TEXT.items():
        index = list(PARAM_FIELDS).index(f"value.{field}") + 1
        expected = "an integer" if cast_to == "hugeint" else "a number"
        checks.append(
            f"case when {param_types}[i][{index}] = 'VARCHAR' and "
            f"try_cast({parsed}.event_params[i].value.{field} as {cast_to}) is null "
            f"then 'event_params[' || (i - 1) || '].value.{field} is a string that is not "
            f"{expected}' end"
        )
    element = f"coalesce({', '.join(checks)})"
    return (
        f"list_filter(list_transform(range(1, len({param_types}) + 1), i -> {element}), "
        "r -> r is not null)[1]"
    )
