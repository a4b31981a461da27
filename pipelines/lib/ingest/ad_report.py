"""Any declared ad report format (ad_report_format.Format) -> `ad_performance` rows + quarantine.

The one loader behind every ad platform adapter. Files are read as raw numbered lines (lines.py),
the header found and the shape decided (ad_report_format.py), the lines split and typed in SQL
(ad_report_rows.py), so every rejected row carries its physical line number.

Within a file, rows with the same key that differ (a report segmented by device, network or
hour) are summed; an exact repeat of a line is quarantined instead. Across files the last file
in sorted path order wins (a restatement). A truncated or corrupt .gz file is quarantined whole.
An account's rows in another currency than the account's are quarantined
(google_ads_currency.py: the rule holds for every platform, an ad account has one currency).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS, select_list
from .ad_report_format import Format, find_layout
from .ad_report_rows import ROW_DDL, add_report_rows
from .drift import SchemaDrift
from .errors import IngestError, duckdb_errors_redacted
from .google_ads_currency import quarantine_mixed_currencies
from .lines import (
    LinesRead,
    append_lines,
    create_lines_table,
    create_rejects_table,
    leading_bytes,
)
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import temp_name, url_param
from .timeutil import naive_utc

UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")
SUMMING_NOTE = (
    "same-key rows that differ are summed within a file (segments); exact repeated "
    "lines are quarantined; the last file wins across files"
)


def load_ad_report(
    con: duckdb.DuckDBPyConnection,
    fmt: Format,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest report CSVs (optionally .gz) of `fmt` into two temp tables named in the result.

    `dates` keeps only those report dates (None: all); rows of other dates are out of scope and
    not counted as landed. Rows whose date cannot be parsed are quarantined with no partition.
    """
    paths = sorted(Path(p) for p in files)
    lines = temp_name("ad_lines")
    rejects = temp_name("ad_rejects")
    rows = temp_name("ad_rows")
    table = temp_name(f"{fmt.source}_performance")
    quarantine = temp_name(f"{fmt.source}_quarantine")
    create_lines_table(con, lines)
    create_rejects_table(con, rejects)
    con.execute(f"create temp table {rows} ({ROW_DDL})")
    extra_columns: set[str] = set()
    notes: list[str] = []
    reads: list[LinesRead] = []
    try:
        with duckdb_errors_redacted(f"{fmt.source} reports"):
            for path in paths:
                if not path.exists():
                    raise IngestError(f"{path}: file not found")
                reads.append(append_lines(con, lines, rejects, path, encoding=_encoding(path)))
                layout = find_layout(con, lines, path, fmt)
                if layout is not None:
                    extra_columns.update(layout.extra_columns)
                    note = add_report_rows(con, lines, rows, path, layout, fmt).note()
                    notes += [note] if note else []
            _add_unreadable(con, rejects, rows)
            warnings = quarantine_mixed_currencies(con, rows)
            _scope(con, rows, dates)
            landed = count_by_file(con, rows, paths)
            _final(con, fmt.source, rows, table, paths, naive_utc(loaded_at))
            _quarantine(con, fmt.source, rows, quarantine, naive_utc(loaded_at))
            loaded = count_by_file(con, rows, paths, only_good=True)
            rejected = count_by_file(con, quarantine, paths)
            low, high = date_span(con, table, "report_date")
            out = con.execute(f"select count(*) from {table}").fetchone()
    finally:
        for name in (lines, rejects, rows):
            con.execute(f"drop table if exists {name}")
    return IngestResult(
        source=fmt.source,
        table=table,
        quarantine_table=quarantine,
        files=tuple(
            FileCounts(str(p), landed[str(p)], loaded[str(p)], rejected[str(p)]) for p in paths
        ),
        rows=int(out[0]) if out else 0,
        min_date=low,
        max_date=high,
        notes=(SUMMING_NOTE, *notes),
        drift=SchemaDrift(extra_columns=tuple(sorted(extra_columns))),
        unreadable_files=tuple(
            (str(r.path), r.whole_file_reason) for r in reads if r.whole_file_reason
        ),
        warnings=tuple(warnings),
    )


def _encoding(path: Path) -> str:
    """UI 'Excel' downloads are UTF-16 with a BOM; everything else is UTF-8."""
    return "utf-16" if leading_bytes(path, 2) in (b"\xff\xfe", b"\xfe\xff") else "utf-8"


def _add_unreadable(con: duckdb.DuckDBPyConnection, rejects: str, rows: str) -> None:
    """Lines that could not be decoded, and files quarantined whole, become rejected rows."""
    con.execute(
        f"""
        insert into {rows} (source_file, source_line, raw_record, reason)
        select source_file, source_line, raw_record, reason from {rejects}
        """
    )


def _scope(con: duckdb.DuckDBPyConnection, rows: str, dates: list[date] | None) -> None:
    """Drop rows dated outside the requested dates (kept when the date itself is bad)."""
    if dates is None:
        return
    con.execute(
        f"delete from {rows} where report_date is not null and not list_contains(?, report_date)",
        [list(dates)],
    )


def _final(
    con: duckdb.DuckDBPyConnection,
    source: str,
    rows: str,
    table: str,
    paths: list[Path],
    loaded_at: datetime,
) -> None:
    key = "account_key, campaign_id, ad_group_id, ad_id, report_date"
    firsts = ", ".join(
        f"arg_min({name}, source_line) as {name}"
        for name in (
            "account_id",
            "account_name",
            "campaign_name",
            "ad_group_name",
            "currency",
            "account_timezone",
            "final_url",
            "tracking_url_template",
        )
    )
    sums = ", ".join(
        f"sum({name}) as {name}"
        for name in ("impressions", "clicks", "spend", "conversions", "conversion_value")
    )
    utm = ", ".join(f"{url_param('final_url', p)} as {p}" for p in UTM_PARAMS)
    con.execute(
        f"""
        create temp table {table} as
        with good as (
            select *, coalesce(account_id, account_name, '') as account_key,
                list_position($files, source_file) as file_rank
            from {rows}
            where reason is null
        ),
        per_file as (
            select {key}, file_rank, source_file, min(source_line) as source_line,
                {firsts}, {sums}
            from good
            group by {key}, file_rank, source_file
        ),
        latest as (
            select *, row_number() over (partition by {key} order by file_rank desc) as pick
            from per_file
        )
        select {select_list(AD_PERFORMANCE_COLUMNS)}
        from (
            select $platform as platform, *, {utm}, $loaded_at as loaded_at
            from latest
            where pick = 1
        )
        order by report_date, account_id, campaign_id, ad_group_id, ad_id
        """,
        {"files": [str(p) for p in paths], "loaded_at": loaded_at, "platform": source},
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection,
    source: str,
    rows: str,
    quarantine: str,
    loaded_at: datetime,
) -> None:
    con.execute(
        f"""
        create temp table {quarantine} as
        select {select_list(QUARANTINE_COLUMNS)}
        from (
            select $source as source, source_file, source_line, reason, raw_record,
                report_date as partition_date, $loaded_at as loaded_at
            from {rows}
            where reason is not null
        )
        order by source_file, source_line
        """,
        {"loaded_at": loaded_at, "source": source},
    )
