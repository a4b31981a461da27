"""GA4 BigQuery export (nested schema) -> canonical `events` rows plus quarantine.

Every format is first turned into (source_file, source_line, line) rows holding one JSON object
per event: NDJSON lines as they are, Parquet rows via `to_json`. One SQL mapping then serves
both, so a Parquet and a JSON delivery of the same event produce the same row and event_id.
"""

import dataclasses
from datetime import date, datetime
from pathlib import Path

import duckdb

from .drift import ga4_drift, reject_missing_columns
from .errors import duckdb_errors_redacted
from .ga4_columns import MAPPED_PARAMS, SOURCE, map_events, map_quarantine
from .ga4_parse import REQUIRED_FIELDS, append_file, parse_lines, reject_non_ga4
from .lines import create_lines_table, create_rejects_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import temp_name, use_utc
from .timeutil import check_timezone, naive_utc

__all__ = ["SOURCE", "load_ga4_day"]


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
            reads = [append_file(con, lines, rejects, path) for path in paths]
            parse_lines(con, lines, parsed, export_date)
            reject_non_ga4(con, lines, parsed)
            reject_missing_columns(con, lines, parsed, REQUIRED_FIELDS)
            drift = ga4_drift(con, lines, parsed, MAPPED_PARAMS)
            landed = _landed(con, parsed, rejects, paths)
            map_events(con, parsed, events, export_date, timezone, naive_utc(loaded_at))
            map_quarantine(
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


def _landed(
    con: duckdb.DuckDBPyConnection, parsed: str, rejects: str, paths: list[Path]
) -> dict[str, int]:
    """Data rows per file: parsed lines plus lines (or whole files) that could not be read."""
    parsed_counts = count_by_file(con, parsed, paths)
    rejected = count_by_file(con, rejects, paths)
    return {name: parsed_counts[name] + rejected[name] for name in parsed_counts}


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
