"""GA4 BigQuery export (nested schema) -> canonical `events` rows plus quarantine.

Every format is first turned into (source_file, source_line, line) rows holding one JSON object
per event: NDJSON lines as they are, Parquet rows via `to_json`. One SQL mapping then serves
both, so a Parquet and a JSON delivery of the same event produce the same row and event_id.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from ..schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS, select_list
from .drift import ga4_drift, reject_missing_columns
from .errors import IngestError, duckdb_errors_redacted, redacted
from .ga4_types import param_types_sql, top_types_sql, type_problem_sql
from .lines import LinesRead, append_lines, create_lines_table, create_rejects_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import literal, quote_literal, temp_name, url_param, use_utc
from .timeutil import check_timezone, naive_utc

SOURCE = "ga4"
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
REQUIRED_FIELDS = ("event_name", "event_timestamp", "user_pseudo_id")
EARLIEST_EVENT = datetime(2000, 1, 1)
# Events may be stamped up to one calendar day after the export day (property timezone skew).
LATEST_DAYS_AFTER_EXPORT = 1

_MAX_US = 253402300799999999  # 9999-12-31 23:59:59.999999, make_timestamp's upper bound

# Params mapped to their own columns; everything else goes to `properties`.
MAPPED_PARAMS = (
    "ga_session_id",
    "page_location",
    "page_referrer",
    "engagement_time_msec",
    "value",
    "currency",
)
# Canonical utm column -> collected_traffic_source field (preferred) and URL parameter.
UTM_FIELDS = {
    "utm_source": ("manual_source", "utm_source"),
    "utm_medium": ("manual_medium", "utm_medium"),
    "utm_campaign": ("manual_campaign_name", "utm_campaign"),
    "utm_content": ("manual_content", "utm_content"),
    "utm_term": ("manual_term", "utm_term"),
    "utm_id": ("manual_campaign_id", "utm_id"),
}
# Click ids in priority order: collected_traffic_source first, then the landing URL.
TRAFFIC_SOURCE_CLICK_IDS = ("gclid", "dclid")
URL_CLICK_IDS = ("gclid", "gbraid", "wbraid", "dclid", "fbclid", "ttclid", "li_fat_id", "msclkid")

# Everything is read as text: BigQuery's JSON extract writes INT64 as strings, Parquet and
# hand-made files as numbers; from_json renders both as the same text, cast afterwards.
_PARAM_VALUE = {
    "string_value": "VARCHAR",
    "int_value": "VARCHAR",
    "float_value": "VARCHAR",
    "double_value": "VARCHAR",
}
_TRAFFIC_FIELDS = [f for f, _ in UTM_FIELDS.values()] + list(TRAFFIC_SOURCE_CLICK_IDS)
EVENT_STRUCTURE = {
    "event_name": "VARCHAR",
    "event_timestamp": "VARCHAR",
    "user_pseudo_id": "VARCHAR",
    "user_id": "VARCHAR",
    "event_bundle_sequence_id": "VARCHAR",
    "batch_event_index": "VARCHAR",
    "batch_ordering_id": "VARCHAR",
    "event_value_in_usd": "VARCHAR",
    "event_params": [{"key": "VARCHAR", "value": _PARAM_VALUE}],
    "collected_traffic_source": dict.fromkeys(_TRAFFIC_FIELDS, "VARCHAR"),
}


def load_ga4_day(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest one export day's files into two temp tables named in the result.

    `timezone` is the reporting timezone for `event_date`. Files are read in sorted path order.
    A line that cannot be read (not UTF-8, too long) is quarantined with its line number; a
    truncated or corrupt compressed file, or an unreadable Parquet file, is quarantined whole
    (one row without a line number, listed in `unreadable_files`).
    """
    check_timezone(timezone)
    use_utc(con)
    paths = sorted(Path(p) for p in files)
    lines = temp_name("ga4_lines")
    rejects = temp_name("ga4_rejects")
    parsed = temp_name("ga4_parsed")
    events = temp_name("ga4_events")
    quarantine = temp_name("ga4_quarantine")
    create_lines_table(con, lines)
    create_rejects_table(con, rejects)
    try:
        with duckdb_errors_redacted(f"{SOURCE} export {export_date}"):
            reads = [_append_file(con, lines, rejects, path) for path in paths]
            _parse(con, lines, parsed, export_date)
            _reject_non_ga4(con, lines, parsed)
            reject_missing_columns(con, lines, parsed, REQUIRED_FIELDS)
            drift = ga4_drift(con, lines, parsed, MAPPED_PARAMS)
            landed = _landed(con, parsed, rejects, paths)
            _map_events(con, parsed, events, export_date, timezone, naive_utc(loaded_at))
            _map_quarantine(
                con, lines, parsed, rejects, quarantine, export_date, naive_utc(loaded_at)
            )
    finally:
        for name in (lines, rejects, parsed):
            con.execute(f"drop table if exists {name}")
    return dataclasses.replace(
        _result(con, landed, events, quarantine),
        drift=drift,
        unreadable_files=tuple(
            (str(r.path), r.whole_file_reason) for r in reads if r.whole_file_reason
        ),
    )


def _append_file(con: duckdb.DuckDBPyConnection, lines: str, rejects: str, path: Path) -> LinesRead:
    if not path.exists():
        raise IngestError(f"{path}: file not found")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in JSON_SUFFIXES:
        return append_lines(con, lines, rejects, path)
    if kind in PARQUET_SUFFIXES and not path.name.lower().endswith(".gz"):
        return _append_parquet(con, lines, rejects, path)
    raise IngestError(
        f"{path}: not a GA4 export file type (expected {', '.join(JSON_SUFFIXES)} "
        f"optionally .gz, or .parquet)"
    )


def _append_parquet(
    con: duckdb.DuckDBPyConnection, lines: str, rejects: str, path: Path
) -> LinesRead:
    """Parquet rows as JSON text, numbered from 1 in file order (the scan keeps order).

    A file DuckDB cannot read (truncated: no footer; corrupt pages) is quarantined whole.
    """
    if path.stat().st_size == 0:
        return LinesRead(path, 0)
    try:
        names = {
            row[0]
            for row in con.execute(
                "select column_name from (describe select * from read_parquet(?))", [str(path)]
            ).fetchall()
        }
        if "event_name" in names:
            inserted = con.execute(
                f"""
                insert into {lines}
                select ?, row_number() over (), to_json(p)::varchar
                from read_parquet(?) as p
                """,
                [str(path), str(path)],
            ).fetchone()
    except duckdb.Error as error:
        con.execute(f"delete from {lines} where source_file = ?", [str(path)])
        reason = (
            f"cannot read Parquet ({redacted(error)}); the file is quarantined whole "
            "(nothing loaded from it): re-deliver it"
        )
        con.execute(f"insert into {rejects} values (?, null, ?, null)", [str(path), reason])
        return LinesRead(path, 0, whole_file_reason=reason)
    if "event_name" not in names:
        raise IngestError(f"{path}: not a GA4 events export: no event_name column")
    return LinesRead(path, int(inserted[0]) if inserted else 0)


def _parse(con: duckdb.DuckDBPyConnection, lines: str, parsed: str, export_date: date) -> None:
    """Parse each non-blank line once; `reason` is NULL for rows that pass the hard rules."""
    epoch = datetime(1970, 1, 1)
    latest = datetime.combine(export_date, datetime.min.time()) + timedelta(
        days=1 + LATEST_DAYS_AFTER_EXPORT
    )
    lo_us = (EARLIEST_EVENT - epoch) // timedelta(microseconds=1)
    hi_us = (latest - epoch) // timedelta(microseconds=1)
    missing = ", ".join(
        f"case when nullif(j.{name}, '') is null then '{name}' end" for name in REQUIRED_FIELDS
    )
    structure = quote_literal(json.dumps(EVENT_STRUCTURE))
    wrong_type = type_problem_sql("top_types", "param_types", "j", _TRAFFIC_FIELDS)
    # One JSON parse per line for the mapping, one for the JSON types of the fields it reads
    # (json_valid is a cheap scan); `line` itself is not copied, quarantine joins it back for
    # the few bad rows.
    con.execute(
        f"""
        create temp table {parsed} as
        with valid as (
            select source_file, source_line, line,
                json_valid(line) as is_json,
                left(ltrim(line, ' ' || chr(9)), 1) = '{{' as is_object
            from {lines}
            where nullif(trim(line, ' ' || chr(9) || chr(13)), '') is not null
        ),
        typed as materialized (
            select source_file, source_line, is_json, is_object,
                case when is_json then from_json(line, {structure}) end as j,
                case when is_json and is_object
                    then {top_types_sql("line", _TRAFFIC_FIELDS)} end as top_types,
                case when is_json and is_object then {param_types_sql("line")} end as param_types
            from valid
        ),
        checked as (
            select *,
                nullif(concat_ws(', ', {missing}), '') as missing_fields,
                try_cast(trim(j.event_timestamp) as bigint) as ts_us,
                case when is_json and is_object then {wrong_type} end as wrong_type
            from typed
        )
        select source_file, source_line, j, ts_us,
            case
                when not is_json then 'invalid JSON (truncated or malformed line)'
                when not is_object then 'not a JSON object'
                when wrong_type is not null then 'wrong JSON type: ' || wrong_type
                when missing_fields is not null
                    then 'missing required field: ' || missing_fields
                when ts_us is null
                    then 'unparseable event_timestamp: ' || left(j.event_timestamp, 100)
                when ts_us < {lo_us}
                    then 'event_timestamp before 2000-01-01: ' || ts_us::varchar
                when ts_us >= {hi_us}
                    then 'event_timestamp ' || make_timestamp(least(ts_us, {_MAX_US}))::varchar
                        || ' is more than 1 day after export date {export_date.isoformat()}'
            end as reason
        from checked
        """
    )


def _reject_non_ga4(con: duckdb.DuckDBPyConnection, lines: str, parsed: str) -> None:
    """A file with rows but no `event_name` anywhere is some other export: fail loudly."""
    suspects = con.execute(
        f"""
        select source_file, count(*)
        from {parsed}
        group by source_file
        having count(*) filter (where j.event_name is not null) = 0
        """
    ).fetchall()
    for source_file, n in suspects:
        row = con.execute(
            f"""
            select count(*) from {lines}
            where source_file = ? and contains(line, '"event_name"')
            """,
            [source_file],
        ).fetchone()
        if not row or row[0] == 0:
            raise IngestError(
                f"{source_file}: not a GA4 events export: none of its {n} row(s) has an "
                f"event_name field"
            )


def _param(key: str) -> str:
    """SQL for the value record of event param `key` (a code constant); NULL when absent."""
    return f"list_filter(j.event_params, lambda p: p.key = '{key}')[1].value"


def _text(value_sql: str) -> str:
    return (
        f"coalesce({value_sql}.string_value, {value_sql}.int_value, "
        f"{value_sql}.double_value, {value_sql}.float_value)"
    )


def _number(value_sql: str) -> str:
    return (
        f"try_cast(coalesce({value_sql}.double_value, {value_sql}.float_value, "
        f"{value_sql}.int_value, {value_sql}.string_value) as double)"
    )


def _id_text(sql: str) -> str:
    """Integers as canonical text ('007' and 7 alike), other values unchanged."""
    return f"coalesce(try_cast(try_cast({sql} as hugeint) as varchar), {sql})"


_PROPERTY_JSON = """
    case
        when p.value.string_value is not null then to_json(p.value.string_value)::varchar
        when try_cast(p.value.int_value as hugeint) is not null
            then try_cast(p.value.int_value as hugeint)::varchar
        when try_cast(coalesce(p.value.double_value, p.value.float_value) as double) is not null
            then to_json(try_cast(coalesce(p.value.double_value, p.value.float_value) as double))
                ::varchar
        else 'null'
    end"""


def _map_events(
    con: duckdb.DuckDBPyConnection,
    parsed: str,
    events: str,
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> None:
    mapped = ", ".join(f"'{k}'" for k in MAPPED_PARAMS)
    utm = ",\n".join(
        f"coalesce(nullif(j.collected_traffic_source.{field}, ''), "
        f"{url_param('page_url', param)}) as {column}"
        for column, (field, param) in UTM_FIELDS.items()
    )
    url_ids = ",\n".join(f"{url_param('page_url', n)} as url_{n}" for n in URL_CLICK_IDS)
    click_sources = [
        (f"nullif(j.collected_traffic_source.{n}, '')", n) for n in TRAFFIC_SOURCE_CLICK_IDS
    ] + [(f"url_{n}", n) for n in URL_CLICK_IDS]
    click_id = "coalesce(" + ", ".join(sql for sql, _ in click_sources) + ")"
    click_type = (
        "case "
        + " ".join(f"when {sql} is not null then '{n}'" for sql, n in click_sources)
        + " end"
    )
    identity = " || '|' || ".join(
        f"coalesce({sql}, '')"
        for sql in (
            "j.user_pseudo_id",
            "ts_us::varchar",
            "j.event_name",
            "session_number",
            _id_text("j.event_bundle_sequence_id"),
            _id_text("j.batch_event_index"),
            _id_text("j.batch_ordering_id"),
        )
    )
    con.execute(
        f"""
        create temp table {events} as
        with base as (
            select source_file, source_line, j, ts_us,
                make_timestamp(ts_us) as event_at,
                {_id_text(_text(_param("ga_session_id")))} as session_number,
                nullif({_param("page_location")}.string_value, '') as page_url,
                nullif({_param("page_referrer")}.string_value, '') as referrer,
                {_number(_param("engagement_time_msec"))} as engagement_number,
                {_number(_param("value"))} as param_value,
                nullif({_param("currency")}.string_value, '') as param_currency,
                try_cast(j.event_value_in_usd as double) as value_in_usd
            from {parsed}
            where reason is null
        ),
        urls as (
            select *,
                {utm},
                {url_ids}
            from base
        )
        select {select_list(EVENTS_COLUMNS)}
        from (
            select
                md5({identity}) as event_id,
                '{SOURCE}' as source,
                j.event_name,
                event_at,
                cast(timezone({literal(timezone)}, event_at::timestamptz) as date) as event_date,
                coalesce(nullif(j.user_id, ''), j.user_pseudo_id) as user_key,
                j.user_pseudo_id as anonymous_id,
                nullif(j.user_id, '') as user_id,
                j.user_pseudo_id || '.' || session_number as session_id,
                page_url,
                referrer,
                utm_source, utm_medium, utm_campaign, utm_content, utm_term, utm_id,
                {click_id} as click_id,
                {click_type} as click_id_type,
                try_cast(round(engagement_number) as bigint) as engagement_time_ms,
                coalesce(param_value, value_in_usd) as value,
                coalesce(param_currency, case when param_value is null
                    and value_in_usd is not null then 'USD' end) as currency,
                '{{' || array_to_string(list_transform(
                    list_filter(j.event_params,
                        lambda p: p.key is not null and p.key not in ({mapped})),
                    lambda p: to_json(p.key)::varchar || ':' || {_PROPERTY_JSON}
                ), ',') || '}}' as properties,
                {literal(export_date)} as export_date,
                source_file,
                source_line,
                {literal(loaded_at)} as loaded_at
            from urls
        )
        """
    )


def _landed(
    con: duckdb.DuckDBPyConnection, parsed: str, rejects: str, paths: list[Path]
) -> dict[str, int]:
    """Data rows per file: parsed lines plus lines (or whole files) that could not be read."""
    parsed_counts = count_by_file(con, parsed, paths)
    rejected = count_by_file(con, rejects, paths)
    return {name: parsed_counts[name] + rejected[name] for name in parsed_counts}


def _map_quarantine(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    parsed: str,
    rejects: str,
    quarantine: str,
    export_date: date,
    loaded_at: datetime,
) -> None:
    con.execute(
        f"""
        create temp table {quarantine} as
        select {select_list(QUARANTINE_COLUMNS)}
        from (
            select '{SOURCE}' as source, *, {literal(export_date)} as partition_date,
                {literal(loaded_at)} as loaded_at
            from (
                select p.source_file, p.source_line, p.reason, l.line as raw_record
                from {parsed} as p
                join {lines} as l using (source_file, source_line)
                where p.reason is not null
                union all
                select source_file, source_line, reason, raw_record
                from {rejects}
            )
        )
        order by source_file, source_line nulls first
        """
    )


def _result(
    con: duckdb.DuckDBPyConnection, landed: dict[str, int], events: str, quarantine: str
) -> IngestResult:
    paths = [Path(name) for name in landed]
    loaded = count_by_file(con, events, paths)
    rejected = count_by_file(con, quarantine, paths)
    files = tuple(
        FileCounts(
            source_file=name,
            landed=landed[name],
            loaded=loaded[name],
            quarantined=rejected[name],
        )
        for name in landed
    )
    low, high = date_span(con, events, "event_date")
    return IngestResult(
        source=SOURCE,
        table=events,
        quarantine_table=quarantine,
        files=files,
        rows=sum(loaded.values()),
        min_date=low,
        max_date=high,
    )
