"""Meta insights records -> typed rows, each with the reason it is rejected (NULL when good).

Field mapping (Graph API `/act_<id>/insights`, `level=ad`, `time_increment=1`):
account_id (an `act_` prefix is dropped), account_name, campaign_id / _name, adset_id / _name
-> ad_group_id / _name, ad_id, date_start -> report_date, impressions, inline_link_clicks ->
clicks (link clicks: the ones that can land on the site; `clicks` counts every click on the ad,
likes and expands included, and is never used), spend (account currency, a decimal string),
account_currency -> currency, actions / action_values -> conversions / conversion_value
(meta_actions.py). Meta sends numbers as strings; JSON numbers are read the same way.

Required columns: a field in REQUIRED_COLUMNS that no row of a file has is a request that did
not ask for it (a changed export, not bad rows): the ingest fails naming file and field.
account_currency in particular: without it spend is an amount in an unknown currency and can be
neither summed nor compared, so no row is loaded from such a response.

Row rules, each a reason naming the field:
- a missing or empty id, date or account_currency; a value of the wrong JSON type;
- a date that is not YYYY-MM-DD; date_start <> date_stop (a multi-day row: the request lacked
  `time_increment=1`; it cannot be put on one day);
- a metric that is not a plain number (spend: a decimal; impressions, clicks: whole), or
  negative; a metric absent from a row is 0 (Meta leaves out zero metrics);
- an account_currency that is not a three-letter ISO code;
- a conversion action whose value is not a number;
- the same ad and day twice in one file: the later rows are quarantined as duplicates (one
  delivery holds each ad-day once; two copies are never summed).
"""

from __future__ import annotations

import json

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS
from .errors import IngestError
from .meta_actions import NUMBER_PATTERN, bad_values_sql, conversions_sql
from .meta_insights_read import json_kind_sql
from .sql import literal, quote_literal

# Canonical column <- insights field.
TEXT_FIELDS = {
    "account_id": "account_id",
    "account_name": "account_name",
    "campaign_id": "campaign_id",
    "campaign_name": "campaign_name",
    "ad_group_id": "adset_id",
    "ad_group_name": "adset_name",
    "ad_id": "ad_id",
    "currency": "account_currency",
}
DATE_FIELDS = ("date_start", "date_stop")
WHOLE_METRICS = {"impressions": "impressions", "clicks": "inline_link_clicks"}
ACTION_FIELDS = {"conversions": "actions", "conversion_value": "action_values"}
# Missing or empty in a row: the row is quarantined.
ROW_REQUIRED = (
    "account_id",
    "account_currency",
    "campaign_id",
    "adset_id",
    "ad_id",
    "date_start",
    "date_stop",
)
# Absent from every row of a file: the ingest fails.
REQUIRED_COLUMNS = (*ROW_REQUIRED, "impressions", "inline_link_clicks", "spend")
MAPPED_FIELDS = frozenset(
    (*TEXT_FIELDS.values(), *DATE_FIELDS, *WHOLE_METRICS.values(), "spend", *ACTION_FIELDS.values())
)
_HINTS = {
    "account_currency": (
        "spend is in the ad account's currency, so without account_currency it cannot be "
        "summed or compared; request fields=...,account_currency"
    ),
    "inline_link_clicks": (
        "clicks are link clicks (inline_link_clicks); the all-clicks `clicks` field is not "
        "used instead"
    ),
    "date_stop": "request time_increment=1 for daily rows",
}

_ACTION = {"action_type": "VARCHAR", "value": "VARCHAR"}
_STRUCTURE = {
    **{field: "VARCHAR" for field in [*TEXT_FIELDS.values(), *DATE_FIELDS]},
    **{field: "VARCHAR" for field in [*WHOLE_METRICS.values(), "spend"]},
    **{field: [_ACTION] for field in ACTION_FIELDS.values()},
}
_ROW_COLUMNS = (
    "account_id",
    "account_name",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "ad_id",
    "report_date",
    "impressions",
    "clicks",
    "spend",
    "currency",
    "conversions",
    "conversion_value",
)
ROW_DDL = ", ".join(
    [f"{name} {AD_PERFORMANCE_COLUMNS[name]}" for name in _ROW_COLUMNS]
    + [
        "date_start date",
        "date_stop date",
        "source_file varchar",
        "source_line bigint",
        "item bigint",
        "raw_record varchar",
        "reason varchar",
    ]
)


def parse_records(con: duckdb.DuckDBPyConnection, records: str, parsed: str) -> None:
    """Parse each object record once: its keys, its fields as raw JSON, its typed fields.

    Later steps read these columns instead of re-parsing the record per field.
    """
    raw = quote_literal(json.dumps(dict.fromkeys(_STRUCTURE, "JSON")))
    typed = quote_literal(json.dumps(_STRUCTURE))
    con.execute(
        f"""
        create temp table {parsed} as
        select source_file, source_line, item, raw_record,
            json_keys(record) as keys,
            from_json(record, {raw}) as raw,
            from_json(record, {typed}) as j
        from {records}
        where reason is null
        """
    )


def _has(field: str) -> str:
    """SQL: the row has the key (a JSON null counts: the field was asked for)."""
    return f"list_contains(keys, {literal(field)})"


def check_required_columns(con: duckdb.DuckDBPyConnection, parsed: str) -> None:
    """Fail when a required field is absent from every insights row of a file."""
    present = ", ".join(f"count(*) filter (where {_has(name)})" for name in REQUIRED_COLUMNS)
    counts = con.execute(
        f"""
        select source_file, count(*), {present}
        from {parsed}
        group by source_file
        order by source_file
        """
    ).fetchall()
    for source_file, rows, *with_key in counts:
        for name, n in zip(REQUIRED_COLUMNS, with_key, strict=True):
            if n == 0:
                hint = f": {_HINTS[name]}" if name in _HINTS else ""
                raise IngestError(
                    f"{source_file}: missing required column {name}: none of its {rows} "
                    f"insights row(s) has the field {name}{hint}"
                )


def extra_columns(con: duckdb.DuckDBPyConnection, parsed: str) -> tuple[str, ...]:
    """Row fields the mapping ignores (ad_name, clicks, reach, ...), sorted.

    Distinct key lists first (the rows of a pull share one or two shapes), unioned in Python.
    """
    key_lists = con.execute(f"select distinct keys from {parsed}").fetchall()
    found = {name for (keys,) in key_lists for name in keys or ()}
    return tuple(sorted(found - MAPPED_FIELDS))


def _text(field: str) -> str:
    return f"nullif(trim(j.{field}), '')"


def _wrong_type(field: str, expected: str) -> str:
    """SQL: a reason when the field holds another JSON type than `expected` ('scalar'|'list')."""
    kind = f"json_type(raw.{field})"
    if expected == "list":
        bad = f"{kind} not in ('ARRAY', 'NULL')"
        label = literal(f"wrong JSON type: {field} is not a list but ")
    else:
        bad = f"{kind} in ('OBJECT', 'ARRAY')"
        label = literal(f"wrong JSON type: {field} is ")
    return f"case when {bad} then {label} || {json_kind_sql(kind)} end"


def _number(field: str, whole: bool) -> tuple[str, str]:
    """SQL (value, problem) of a metric: absent is 0; not a plain number or negative: a reason."""
    raw = _text(field)
    pattern = "-?[0-9]+" if whole else NUMBER_PATTERN
    dtype = "bigint" if whole else "double"
    value = (
        f"case when {raw} is null then 0 "
        f"when regexp_full_match({raw}, '{pattern}') then try_cast({raw} as {dtype}) end"
    )
    problem = (
        f"case when {raw} is null then null "
        f"when starts_with({raw}, '-') and regexp_full_match({raw}, '{pattern}') "
        f"then {literal(f'negative {field}: ')} || {raw} "
        f"when not regexp_full_match({raw}, '{pattern}') or try_cast({raw} as {dtype}) is null "
        f"then {literal(f'non-numeric {field}: ')} || left({raw}, 40) end"
    )
    return value, problem


def add_rows(con: duckdb.DuckDBPyConnection, records: str, parsed: str, rows: str) -> None:
    """Append every record to `rows` (created with ROW_DDL), typed, with its reason.

    `parsed` holds the object records parsed (parse_records); `records` the rejected ones.
    """
    values = {
        name: _text(field)
        if name != "account_id"
        else f"regexp_replace({_text(field)}, '^act_', '')"
        for name, field in TEXT_FIELDS.items()
    }
    problems = [f"case when {_text(f)} is null then 'missing {f}' end" for f in ROW_REQUIRED]
    problems += [_wrong_type(f, "scalar") for f in _STRUCTURE if f not in ACTION_FIELDS.values()]
    problems += [_wrong_type(f, "list") for f in ACTION_FIELDS.values()]
    for field in DATE_FIELDS:
        problems.append(
            f"case when {_text(field)} is not null and {field}_d is null "
            f"then {literal(f'unparseable {field}: ')} || left({_text(field)}, 40) end"
        )
    problems.append(
        "case when date_start_d <> date_stop_d then 'multi-day row ' || date_start_d::varchar "
        "|| ' .. ' || date_stop_d::varchar || ': not a daily row (request time_increment=1); "
        "it cannot be put on one day' end"
    )
    for name, field in WHOLE_METRICS.items():
        values[name], problem = _number(field, whole=True)
        problems.append(problem)
    values["spend"], problem = _number("spend", whole=False)
    problems.append(problem)
    problems.append(
        f"case when {_text('account_currency')} is not null and "
        f"not regexp_full_match({_text('account_currency')}, '[A-Z]{{3}}') "
        f"then 'invalid account_currency: ' || left({_text('account_currency')}, 40) end"
    )
    for name, field in ACTION_FIELDS.items():
        values[name] = conversions_sql(f"coalesce(j.{field}, [])", _has(field), f"file_has_{field}")
        problems.append(bad_values_sql(f"coalesce(j.{field}, [])", field))
    file_has = ", ".join(
        f"bool_or({_has(f)}) over (partition by source_file) as file_has_{f}"
        for f in ACTION_FIELDS.values()
    )
    selected = ", ".join(
        f"{values[name]} as {name}" if name in values else name for name in _ROW_COLUMNS
    )
    dates = ", ".join(
        f"cast(try_strptime({_text(f)}, '%Y-%m-%d') as date) as {f}_d" for f in DATE_FIELDS
    )
    con.execute(
        f"""
        insert into {rows}
        with dated as (
            select *, {file_has}, {dates} from {parsed}
        ),
        typed as (
            select *, case when date_start_d = date_stop_d then date_start_d end as report_date
            from dated
        )
        select {selected}, date_start_d, date_stop_d, source_file, source_line, item,
            raw_record, nullif(concat_ws('; ', {", ".join(problems)}), '') as reason
        from typed
        """
    )
    con.execute(
        f"""
        insert into {rows} (source_file, source_line, item, raw_record, reason)
        select source_file, source_line, item, raw_record, reason
        from {records}
        where reason is not null
        """
    )


def quarantine_duplicates(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """Later copies of an ad-day within one file are quarantined, naming the first copy."""
    con.execute(
        f"""
        update {rows} as r
        set reason = concat_ws('; ', r.reason, 'duplicate of the row at source_line '
            || d.first_line || ': ad ' || r.ad_id || ' on ' || r.report_date::varchar
            || ' twice in one delivery (not summed)')
        from (
            select source_file, source_line, item,
                first_value(source_line) over w as first_line,
                row_number() over w as copy
            from {rows}
            where ad_id is not null and report_date is not null
            window w as (
                partition by source_file, account_id, ad_id, report_date
                order by source_line, item
            )
        ) as d
        where d.copy > 1 and r.source_file = d.source_file
            and r.source_line = d.source_line and r.item = d.item
        """
    )
