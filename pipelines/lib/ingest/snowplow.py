"""Snowplow site events -> canonical `events` rows plus quarantine, one export day at a time.

Two real shapes (snowplow_read.py): the enriched event TSV that Snowplow Enrich writes
(`.tsv[.gz]`, no header, 131 fields) and the warehouse table `atomic.events` exported with a
header (`.csv[.gz]`) or as `.parquet`. Both become the same `fields` table, so one SQL mapping
(snowplow_map.py, where the mapping rules are listed) serves every shape: the same event gives
the same row from a TSV and from a warehouse export.

Landing layout: `<landing>/snowplow/` (any depth), the export day as YYYYMMDD or YYYY-MM-DD in
the file name (`landing_files.day_files(landing, SNOWPLOW_DIR, day, SNOWPLOW_SUFFIXES)`).
Repeated event_ids are left to the caller (duplicates.quarantine_duplicate_events), as for GA4.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .drift import SchemaDrift
from .errors import duckdb_errors_redacted
from .lines import create_lines_table, create_rejects_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .snowplow_fields import SHREDDED_PREFIXES
from .snowplow_map import SOURCE, create_checked, map_events, map_quarantine
from .snowplow_read import FIELDS_DDL, FileRead, add_file
from .sql import temp_name, use_utc
from .timeutil import check_timezone, naive_utc

__all__ = ["SNOWPLOW_DIR", "SNOWPLOW_SUFFIXES", "SOURCE", "load_snowplow_day"]

SNOWPLOW_DIR = "snowplow"
SNOWPLOW_SUFFIXES = (".tsv", ".csv", ".parquet")


def load_snowplow_day(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest one export day's Snowplow files into two temp tables named in the result.

    `timezone` is the reporting timezone for `event_date`. Files are read in sorted path order.
    A line that cannot be decoded is quarantined with its line number; a truncated or corrupt
    .gz file, or an unreadable Parquet file, is quarantined whole (one row without a line
    number, listed in `unreadable_files`). A CSV or Parquet file without a required column
    (snowplow_fields.REQUIRED_COLUMNS) raises IngestError naming the file and column.
    """
    check_timezone(timezone)
    use_utc(con)
    paths = sorted(Path(p) for p in files)
    lines = temp_name("snowplow_lines")
    rejects = temp_name("snowplow_rejects")
    fields = temp_name("snowplow_fields")
    checked = temp_name("snowplow_checked")
    events = temp_name("snowplow_events")
    quarantine = temp_name("snowplow_quarantine")
    create_lines_table(con, lines)
    create_rejects_table(con, rejects)
    con.execute(f"create temp table {fields} ({FIELDS_DDL})")
    try:
        with duckdb_errors_redacted(f"{SOURCE} export {export_date}"):
            reads = [add_file(con, lines, rejects, fields, path) for path in paths]
            create_checked(con, fields, checked, export_date)
            landed = _landed(con, fields, rejects, paths)
            map_events(con, checked, events, export_date, timezone, naive_utc(loaded_at))
            map_quarantine(
                con, lines, checked, rejects, quarantine, export_date, naive_utc(loaded_at)
            )
            result = _result(con, landed, events, quarantine, reads)
    except BaseException:
        for name in (events, quarantine):
            con.execute(f"drop table if exists {name}")
        raise
    finally:
        for name in (lines, rejects, fields, checked):
            con.execute(f"drop table if exists {name}")
    return result


def _landed(
    con: duckdb.DuckDBPyConnection, fields: str, rejects: str, paths: list[Path]
) -> dict[str, int]:
    """Records per file (header and blank lines excluded) plus lines or files unreadable."""
    records = count_by_file(con, fields, paths)
    rejected = count_by_file(con, rejects, paths)
    return {name: records[name] + rejected[name] for name in records}


def _result(
    con: duckdb.DuckDBPyConnection,
    landed: dict[str, int],
    events: str,
    quarantine: str,
    reads: list[FileRead],
) -> IngestResult:
    paths = [Path(name) for name in landed]
    loaded = count_by_file(con, events, paths)
    rejected = count_by_file(con, quarantine, paths)
    low, high = date_span(con, events, "event_date")
    extra = sorted({c for r in reads for c in r.extra_columns})
    warnings = [w for r in reads for w in r.warnings]
    unknown = [c for c in extra if not c.startswith(SHREDDED_PREFIXES)]
    if unknown:
        warnings.append(f"{SOURCE}: unknown column(s) ignored: {', '.join(unknown)}")
    return IngestResult(
        source=SOURCE,
        table=events,
        quarantine_table=quarantine,
        files=tuple(
            FileCounts(name, landed[name], loaded[name], rejected[name]) for name in landed
        ),
        rows=sum(loaded.values()),
        min_date=low,
        max_date=high,
        notes=(
            "event_name: se_action for structured events, else Snowplow's event_name; "
            "event_at: derived_tstamp else collector_tstamp; each page_ping counts one "
            "heartbeat of engaged time",
        ),
        drift=SchemaDrift(extra_columns=tuple(extra)),
        unreadable_files=tuple(
            (str(r.read.path), r.read.whole_file_reason) for r in reads if r.read.whole_file_reason
        ),
        warnings=tuple(warnings),
    )
