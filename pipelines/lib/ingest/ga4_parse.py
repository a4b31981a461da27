"""Reading GA4 export files into lines, and parsing each line once against the hard rules
(valid JSON object, required fields, JSON types, a plausible event_timestamp)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from .errors import IngestError, redacted
from .ga4_columns import TRAFFIC_SOURCE_CLICK_IDS, UTM_FIELDS
from .ga4_types import param_types_sql, top_types_sql, type_problem_sql
from .lines import LinesRead, append_lines
from .sql import quote_literal

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
REQUIRED_FIELDS = ("event_name", "event_timestamp", "user_pseudo_id")
EARLIEST_EVENT = datetime(2000, 1, 1)
# Events may be stamped up to one calendar day after the export day (property timezone skew).
LATEST_DAYS_AFTER_EXPORT = 1

_MAX_US = 253402300799999999  # 9999-12-31 23:59:59.999999, make_timestamp's upper bound

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


def append_file(con: duckdb.DuckDBPyConnection, lines: str, rejects: str, path: Path) -> LinesRead:
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


def parse_lines(con: duckdb.DuckDBPyConnection, lines: str, parsed: str, export_date: date) -> None:
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


def reject_non_ga4(con: duckdb.DuckDBPyConnection, lines: str, parsed: str) -> None:
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
