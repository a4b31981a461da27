"""The same event delivered twice in one day's files: keep the first, quarantine the rest.

Duplicates across days are resolved in dbt (earliest export wins); inside one partition they
are moved to quarantine here, with the place of the copy that was kept, so the lake partition
has unique event ids and landed = loaded + quarantined still holds per file.
"""

from __future__ import annotations

import dataclasses

import duckdb

from ..schemas import QUARANTINE_COLUMNS, select_list
from .result import IngestResult
from .sql import temp_name


def quarantine_duplicate_events(
    con: duckdb.DuckDBPyConnection, result: IngestResult
) -> IngestResult:
    """Move repeated event_ids (after the first by file and line) into the quarantine table."""
    ranked = temp_name("events_ranked")
    con.execute(
        f"""
        create temp table {ranked} as
        select
            *,
            row_number() over w as copy_number,
            first_value(source_file || ':' || source_line) over w as kept_at
        from {result.table}
        window w as (partition by event_id order by source_file, source_line)
        """
    )
    try:
        duplicates = con.execute(f"select count(*) from {ranked} where copy_number > 1").fetchone()
        if not duplicates or duplicates[0] == 0:
            return result
        con.execute(
            f"""
            insert into {result.quarantine_table}
            select {select_list(QUARANTINE_COLUMNS)}
            from (
                select
                    source, source_file, source_line,
                    'duplicate event_id ' || event_id || ' (kept the copy at ' || kept_at || ')'
                        as reason,
                    to_json(ranked_row)::varchar as raw_record,
                    export_date as partition_date,
                    loaded_at
                from {ranked} as ranked_row
                where copy_number > 1
            )
            """
        )
        moved = dict(
            con.execute(
                f"select source_file, count(*) from {ranked} where copy_number > 1 group by 1"
            ).fetchall()
        )
        con.execute(
            f"delete from {result.table} where (source_file, source_line) in "
            f"(select (source_file, source_line) from {ranked} where copy_number > 1)"
        )
    finally:
        con.execute(f"drop table if exists {ranked}")
    # replace() keeps any subclass and its extra counts (e.g. rows of erased users).
    files = tuple(
        dataclasses.replace(
            f,
            loaded=f.loaded - moved.get(f.source_file, 0),
            quarantined=f.quarantined + moved.get(f.source_file, 0),
        )
        for f in result.files
    )
    notes = (*result.notes, f"{sum(moved.values())} duplicate event(s) quarantined")
    return dataclasses.replace(
        result, files=files, rows=result.rows - sum(moved.values()), notes=notes
    )
