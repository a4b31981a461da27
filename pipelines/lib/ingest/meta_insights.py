"""Meta (Facebook) Marketing API insights responses -> canonical `ad_performance` rows.

Input: what `GET /act_<id>/insights?level=ad&time_increment=1&fields=account_id,account_name,
account_currency,campaign_id,campaign_name,adset_id,adset_name,ad_id,ad_name,date_start,
date_stop,impressions,inline_link_clicks,spend,actions,action_values` returns, saved as files
under `<landing>/meta_ads/`: one response page per `.json` file (`{"data": [...], "paging":
{...}}`, pretty-printed or not), or pages / single rows one per line in `.jsonl` / `.ndjson`
files; each optionally `.gz`. Other suffixes in the folder (CSV exports) are not this adapter's.

`source_line` is the physical line for line-wise files and, for a one-document `.json` page,
the 1-based index of the row in its `data` (meta_insights_read.py). The field mapping and row
rules are in meta_insights_rows.py, the conversion rule in meta_actions.py.

The insights edge gives no account timezone and no landing URL (those live on the ad account
and the ad creative), so `account_timezone`, `final_url`, `tracking_url_template` and the UTMs
are NULL. The same ad and day twice in one file is quarantined as a duplicate; across files the
last file in sorted path order wins (a re-pull restates the day). Accounts keep one currency:
rows in another currency than their account's majority are quarantined
(google_ads_currency.py, shared rule).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS, select_list
from .drift import SchemaDrift
from .errors import IngestError, duckdb_errors_redacted
from .google_ads_currency import quarantine_mixed_currencies
from .lines import LinesRead, append_lines, create_lines_table, create_rejects_table
from .meta_insights_read import json_kind, split_records
from .meta_insights_rows import (
    ROW_DDL,
    add_rows,
    check_required_columns,
    extra_columns,
    parse_records,
    quarantine_duplicates,
)
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import literal, temp_name
from .timeutil import naive_utc

SOURCE = "meta_ads_api"
PLATFORM = "meta_ads"

__all__ = ["PLATFORM", "SOURCE", "load_meta_insights"]


def load_meta_insights(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest Meta insights response files into two temp tables named in the result.

    `dates` keeps only those report dates (None: all); rows of other dates are out of scope and
    not counted as landed. A multi-day row is in scope when its span touches `dates`; rows
    without a readable date are always kept (and quarantined). Raises IngestError for a file
    of another type or a response that lacks a required field in every row.
    """
    paths = sorted(Path(p) for p in files)
    kinds = {str(p): json_kind(p) for p in paths}
    lines = temp_name("meta_lines")
    rejects = temp_name("meta_rejects")
    records = temp_name("meta_records")
    parsed = temp_name("meta_parsed")
    rows = temp_name("meta_rows")
    table = temp_name("meta_performance")
    quarantine = temp_name("meta_quarantine")
    create_lines_table(con, lines)
    create_rejects_table(con, rejects)
    con.execute(f"create temp table {rows} ({ROW_DDL})")
    reads: list[LinesRead] = []
    try:
        with duckdb_errors_redacted(f"{SOURCE} insights"):
            for path in paths:
                if not path.exists():
                    raise IngestError(f"{path}: file not found")
                reads.append(append_lines(con, lines, rejects, path))
            split_records(con, lines, rejects, records, kinds)
            parse_records(con, records, parsed)
            check_required_columns(con, parsed)
            extra = extra_columns(con, parsed)
            add_rows(con, records, parsed, rows)
            _add_unreadable(con, rejects, rows)
            quarantine_duplicates(con, rows)
            warnings = quarantine_mixed_currencies(con, rows)
            _scope(con, rows, dates)
            landed = count_by_file(con, rows, paths)
            _final(con, rows, table, paths, naive_utc(loaded_at))
            _quarantine(con, rows, quarantine, naive_utc(loaded_at))
            loaded = count_by_file(con, rows, paths, only_good=True)
            rejected = count_by_file(con, quarantine, paths)
            low, high = date_span(con, table, "report_date")
            out = con.execute(f"select count(*) from {table}").fetchone()
    finally:
        for name in (lines, rejects, records, parsed, rows):
            con.execute(f"drop table if exists {name}")
    return IngestResult(
        source=SOURCE,
        table=table,
        quarantine_table=quarantine,
        files=tuple(
            FileCounts(str(p), landed[str(p)], loaded[str(p)], rejected[str(p)]) for p in paths
        ),
        rows=int(out[0]) if out else 0,
        min_date=low,
        max_date=high,
        notes=(
            "clicks are inline_link_clicks; conversions count each event once "
            "(omni_ > aggregate > offsite_conversion.fb_pixel_ alias); the same ad-day twice "
            "in a file is quarantined; the last file wins across files",
        ),
        drift=SchemaDrift(extra_columns=extra),
        unreadable_files=tuple(
            (str(r.path), r.whole_file_reason) for r in reads if r.whole_file_reason
        ),
        warnings=tuple(warnings),
    )


def _add_unreadable(con: duckdb.DuckDBPyConnection, rejects: str, rows: str) -> None:
    """Lines that could not be decoded, and files quarantined whole, become rejected rows."""
    con.execute(
        f"""
        insert into {rows} (source_file, source_line, raw_record, reason)
        select source_file, source_line, raw_record, reason from {rejects}
        """
    )


def _scope(con: duckdb.DuckDBPyConnection, rows: str, dates: list[date] | None) -> None:
    """Drop rows whose day (or multi-day span) lies outside the requested dates."""
    if dates is None:
        return
    con.execute(
        f"""
        delete from {rows}
        where date_start is not null and date_stop is not null
            and len(list_filter({_date_list(dates)}, d -> d between date_start and date_stop)) = 0
        """
    )


def _date_list(dates: list[date]) -> str:
    """A DATE[] literal (an empty list typed, so the lambda binds)."""
    return "[" + ", ".join(literal(d) for d in dates) + "]::date[]"


def _final(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    table: str,
    paths: list[Path],
    loaded_at: datetime,
) -> None:
    con.execute(
        f"""
        create temp table {table} as
        with ranked as (
            select * exclude (raw_record, reason),
                row_number() over (
                    partition by account_id, ad_id, report_date
                    order by list_position({literal([str(p) for p in paths])}, source_file) desc
                ) as pick
            from {rows}
            where reason is null
        )
        select {select_list(AD_PERFORMANCE_COLUMNS)}
        from (
            select '{PLATFORM}' as platform, *,
                null as account_timezone, null as final_url, null as tracking_url_template,
                null as utm_source, null as utm_medium, null as utm_campaign,
                null as utm_content, null as utm_term, null as utm_id,
                {literal(loaded_at)} as loaded_at
            from ranked
            where pick = 1
        )
        order by report_date, account_id, campaign_id, ad_group_id, ad_id
        """
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection, rows: str, quarantine: str, loaded_at: datetime
) -> None:
    con.execute(
        f"""
        create temp table {quarantine} as
        select {select_list(QUARANTINE_COLUMNS)}
        from (
            select '{SOURCE}' as source, source_file, source_line, reason, raw_record,
                report_date as partition_date, {literal(loaded_at)} as loaded_at, item
            from {rows}
            where reason is not null
        )
        order by source_file, source_line, item
        """
    )
