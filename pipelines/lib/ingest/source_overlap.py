"""One platform account's day from one source: never the same spend from two exports.

An advertiser may land a platform twice (the native export and a connector's tables, or the
Ads Manager CSV and the API response). Summing both would double the spend, so for each
(platform, account, report day) the rows of the first source in precedence order are kept and
the other sources' rows for that day are quarantined, naming the source that won.
"""

from __future__ import annotations

import dataclasses

import duckdb

from ..schemas import QUARANTINE_COLUMNS, select_list
from .result import IngestResult
from .sql import temp_name

_ACCOUNT_KEY = "coalesce(account_id, account_name, '')"


def quarantine_overlapping_sources(
    con: duckdb.DuckDBPyConnection, results: list[IngestResult]
) -> list[IngestResult]:
    """`results` in precedence order (first wins); returns them with overlaps quarantined."""
    claimed = temp_name("claimed_account_days")
    con.execute(
        f"create temp table {claimed} "
        "(platform varchar, account_key varchar, report_date date, source varchar)"
    )
    resolved = []
    try:
        for result in results:
            resolved.append(_quarantine_claimed(con, result, claimed))
            con.execute(
                f"""
                insert into {claimed}
                select distinct platform, {_ACCOUNT_KEY}, report_date, ? from {result.table}
                """,
                [result.source],
            )
    finally:
        con.execute(f"drop table if exists {claimed}")
    return resolved


def _quarantine_claimed(
    con: duckdb.DuckDBPyConnection, result: IngestResult, claimed: str
) -> IngestResult:
    overlap = temp_name("overlapping_rows")
    con.execute(
        f"""
        create temp table {overlap} as
        select rows.*, claimed.source as winner
        from {result.table} as rows
        inner join {claimed} as claimed
            on rows.platform = claimed.platform
            and {_ACCOUNT_KEY.replace("account_", "rows.account_")} = claimed.account_key
            and rows.report_date = claimed.report_date
        """
    )
    try:
        moved = dict(
            con.execute(f"select source_file, count(*) from {overlap} group by 1").fetchall()
        )
        if not moved:
            return result
        con.execute(
            f"""
            insert into {result.quarantine_table}
            select {select_list(QUARANTINE_COLUMNS)}
            from (
                select
                    '{result.source}' as source, source_file, source_line,
                    'account ' || coalesce(account_id, account_name, '?') || ' on '
                        || platform || ', ' || report_date
                        || ': this day is also delivered by ' || winner
                        || ', which takes precedence (a day is never summed from two sources)'
                        as reason,
                    to_json(overlap_row)::varchar as raw_record,
                    report_date as partition_date,
                    loaded_at
                from {overlap} as overlap_row
            )
            """
        )
        con.execute(
            f"delete from {result.table} where (source_file, source_line) in "
            f"(select (source_file, source_line) from {overlap})"
        )
    finally:
        con.execute(f"drop table if exists {overlap}")
    files = tuple(
        dataclasses.replace(
            f,
            loaded=f.loaded - moved.get(f.source_file, 0),
            quarantined=f.quarantined + moved.get(f.source_file, 0),
        )
        for f in result.files
    )
    total = sum(moved.values())
    return dataclasses.replace(
        result,
        files=files,
        rows=result.rows - total,
        warnings=(
            *result.warnings,
            f"{total} row(s) quarantined: their account days are delivered by a source "
            "that takes precedence",
        ),
    )
