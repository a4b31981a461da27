"""Typing and checking the fields of site-event records (site_event_records.py) in SQL.

A `Mapping` says which fields a format has, of which kind, which are required and which SQL
gives each canonical column. Each record's JSON object is parsed once into a struct of text
values (`s`) plus the JSON type of every field (`t`), so a value of the wrong type is
quarantined with the field named, never coerced: an object where text is expected, text that is
not a number where a number is, a fraction where a whole number is.

The event time follows the GA4 rule (ga4_parse.py): not before 2000-01-01 and at most one
calendar day after the export day. Text times are ISO 8601 (`2024-01-05T10:00:00Z`, an offset,
or naive = UTC; a date alone is not a time); where the format allows it an integer is epoch
milliseconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .ga4_parse import EARLIEST_EVENT, LATEST_DAYS_AFTER_EXPORT
from .sql import literal, quote_literal

TEXT = "text"
TIMESTAMP = "timestamp"
NUMBER = "number"
INTEGER = "integer"

_JSON_INTEGERS = ("BIGINT", "UBIGINT")
# JSON types allowed per kind besides null / absent, and how the reason names the kind.
_ALLOWED = {
    TEXT: (("VARCHAR", *_JSON_INTEGERS), "a string"),
    TIMESTAMP: (("VARCHAR", *_JSON_INTEGERS), "an ISO 8601 time"),
    NUMBER: (("VARCHAR", "DOUBLE", *_JSON_INTEGERS), "a number"),
    INTEGER: (("VARCHAR", "DOUBLE", *_JSON_INTEGERS), "a whole number"),
}
# At least yyyy-mm-dd and hh:mm; the rest (seconds, fraction, Z or offset) DuckDB's cast reads.
_ISO_TIME = "^\\d{4}-\\d{2}-\\d{2}[T ]\\d{2}:\\d{2}"
# Epoch milliseconds: up to 13 digits (until the year 2286), so the microseconds fit.
_EPOCH_MS = "^[0-9]{1,13}$"


@dataclass(frozen=True)
class Mapping:
    """How one record shape becomes canonical events.

    `fields`: input field -> kind. `columns`: canonical column -> SQL over `s` (the record's
    fields as text) for event_name, anonymous_id, user_id, session_id, page_url, referrer,
    engagement_time_ms, value, currency; `utm`: utm column -> SQL of the tracker's own campaign
    field (the page URL's query is the fallback); `click_fields`: (SQL, type SQL) tried before
    the URL; `event_id`: SQL, or None to derive it from the event's content. `not_properties`:
    fields never copied to `properties` (mapped ones, bookkeeping, personal data).
    """

    label: str
    fields: dict[str, str]
    timestamp_field: str
    required: tuple[str, ...]
    one_of: tuple[str, ...]
    columns: dict[str, str]
    utm: dict[str, str]
    click_fields: list[tuple[str, str]]
    event_id: str | None
    not_properties: frozenset[str]
    epoch_ms: bool = False
    copy_unknown: bool = True  # unknown fields into properties (else only known ones)
    known: frozenset[str] = field(default_factory=frozenset)
    known_prefixes: tuple[str, ...] = ()
    # (SQL condition over s, SQL reason) for format rules beyond the field types.
    checks: tuple[tuple[str, str], ...] = ()

    def is_known(self, name: str) -> bool:
        return name in self.fields or name in self.known or name.startswith(self.known_prefixes)

    def structure(self) -> str:
        """from_json structure: every field as text (numbers and objects render as text)."""
        return quote_literal(json.dumps(dict.fromkeys(self.fields, "VARCHAR")))

    def types_sql(self, json_sql: str) -> str:
        paths = ", ".join(quote_literal(_path(name)) for name in self.fields)
        return f"json_type({json_sql}, [{paths}])"


def _path(name: str) -> str:
    return "$." + json.dumps(name)


def _type_of(mapping: Mapping, name: str) -> str:
    return f"t[{list(mapping.fields).index(name) + 1}]"


def text(name: str) -> str:
    """SQL for a field's trimmed text, NULL when empty (a code-constant field name)."""
    return f"nullif(trim(s.{json.dumps(name)}), '')"


def event_at_sql(mapping: Mapping) -> str:
    """SQL for the event time as naive UTC (NULL when it cannot be read)."""
    value = text(mapping.timestamp_field)
    epoch = (
        f"when regexp_matches({value}, '{_EPOCH_MS}') then make_timestamp({value}::bigint * 1000) "
        if mapping.epoch_ms
        else ""
    )
    return (
        f"case {epoch}when regexp_matches({value}, '{_ISO_TIME}') "
        f"then timezone('UTC', try_cast({value} as timestamptz)) end"
    )


def _type_problems(mapping: Mapping) -> list[str]:
    out = []
    for name, kind in mapping.fields.items():
        allowed, expected = _ALLOWED[kind]
        listed = ", ".join(f"'{a}'" for a in allowed)
        label = quote_literal(name)
        type_sql = _type_of(mapping, name)
        out.append(
            f"case when coalesce({type_sql}, 'NULL') not in ({listed}, 'NULL') "
            f"then 'wrong type: ' || {label} || ' is ' || {type_sql} || "
            f"' (expected {expected})' end"
        )
        if kind in (NUMBER, INTEGER):
            value = text(name)
            number = f"try_cast({value} as double)"
            out.append(
                f"case when {value} is not null and {number} is null "
                f"then 'wrong type: ' || {label} || ' is not a number: ' || left({value}, 100) end"
            )
        if kind == INTEGER:
            out.append(
                f"case when {number} <> floor({number}) then 'wrong type: ' || {label} || "
                f"' is not a whole number: ' || left({value}, 100) end"
            )
    return out


def reason_sql(mapping: Mapping, export_date: date) -> str:
    """SQL for why a parsed record cannot load (NULL when it can); needs s, t and event_at."""
    latest = datetime.combine(export_date, datetime.min.time()) + timedelta(
        days=1 + LATEST_DAYS_AFTER_EXPORT
    )
    missing = [f"case when {text(n)} is null then {quote_literal(n)} end" for n in mapping.required]
    if mapping.one_of:
        names = " or ".join(mapping.one_of)
        present = " or ".join(f"{text(n)} is not null" for n in mapping.one_of)
        missing.append(f"case when not ({present}) then {quote_literal(names)} end")
    checks = "".join(f"case when {when} then {why} end, " for when, why in mapping.checks)
    ts = mapping.timestamp_field
    raw_ts = f"left({text(ts)}, 100)"
    return f"""
        coalesce(
            {", ".join(_type_problems(mapping))},
            {checks}
            'missing required field: ' || nullif(concat_ws(', ', {", ".join(missing)}), ''),
            case
                when event_at is null then 'unparseable {ts}: ' || {raw_ts}
                when event_at < {literal(EARLIEST_EVENT)}
                    then '{ts} before {EARLIEST_EVENT.date()}: ' || {raw_ts}
                when event_at >= {literal(latest)}
                    then '{ts} ' || event_at::varchar || ' is more than '
                        || '{LATEST_DAYS_AFTER_EXPORT} day after export date {export_date}'
            end
        )"""


def properties_sql(mapping: Mapping, json_sql: str) -> str:
    """The record's other non-null fields as a JSON object, keys sorted (stable text)."""
    skipped = ", ".join(quote_literal(n) for n in sorted(mapping.not_properties)) or "''"
    keep = f"e.key not in ({skipped}) and coalesce(json_type(e.value), 'NULL') <> 'NULL'"
    if not mapping.copy_unknown:
        known = ", ".join(quote_literal(n) for n in sorted({*mapping.fields, *mapping.known}))
        prefixes = (
            " or ".join(f"starts_with(e.key, {quote_literal(p)})" for p in mapping.known_prefixes)
            or "false"
        )
        keep += f" and (e.key in ({known}) or {prefixes})"
    entries = f"map_entries(json_transform({json_sql}, '\"MAP(VARCHAR, JSON)\"'))"
    return f"to_json(map_from_entries(list_sort(list_filter({entries}, e -> {keep}))))::varchar"


def derived_id_sql() -> str:
    """An event id from the event's content, for formats without one: the same event delivered
    twice gives the same id (so the day's duplicate check catches it)."""
    parts = " || '|' || ".join(
        f"coalesce({sql}, '')"
        for sql in (
            "event_name",
            "epoch_us(event_at)::varchar",
            "anonymous_id",
            "user_id",
            "session_id",
            "page_url",
            "value::varchar",
            "currency",
            "properties",
        )
    )
    return f"md5({parts})"
