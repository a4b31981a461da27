"""One export day of a row-shaped site tracker -> canonical `events` rows plus quarantine.

The shared flow of the Segment and generic-event adapters (segment.py, generic_events.py):
files become JSON records (site_event_records.py), each group of files is typed and checked
with its `Mapping` (site_event_fields.py) and mapped to EVENTS_COLUMNS in SQL. Every row that
cannot load is quarantined with the reason, its file and physical line; landed = loaded +
quarantined per file. A required column absent from a whole file fails the ingest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ..schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS, select_list
from .click_ids import click_id_sql
from .drift import SchemaDrift
from .errors import IngestError, duckdb_errors_redacted
from .lines import create_rejects_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .site_event_fields import Mapping, derived_id_sql, event_at_sql, properties_sql, reason_sql
from .site_event_records import append_records, columns_by_file, create_records_table
from .sql import literal, temp_name, url_param, use_utc
from .timeutil import check_timezone, naive_utc

UTM_COLUMNS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")
_MAPPED = (
    "event_name",
    "anonymous_id",
    "user_id",
    "session_id",
    "page_url",
    "referrer",
    "engagement_time_ms",
    "value",
    "currency",
)


@dataclass(frozen=True)
class FileGroup:
    """Files read with one mapping (one Segment table, or the generic format)."""

    mapping: Mapping
    files: tuple[Path, ...]


def load_site_events(
    con: duckdb.DuckDBPyConnection,
    source: str,
    groups: list[FileGroup],
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest the groups' files into two temp tables named in the result."""
    check_timezone(timezone)
    use_utc(con)
    loaded_at = naive_utc(loaded_at)
    paths = sorted({p for g in groups for p in g.files})
    records, rejects = temp_name("site_records"), temp_name("site_rejects")
    events, quarantine = temp_name("site_events"), temp_name("site_quarantine")
    create_records_table(con, records)
    create_rejects_table(con, rejects)
    ddl = ", ".join(f"{name} {kind}" for name, kind in EVENTS_COLUMNS.items())
    con.execute(f"create temp table {events} ({ddl})")
    ddl = ", ".join(f"{name} {kind}" for name, kind in QUARANTINE_COLUMNS.items())
    con.execute(f"create temp table {quarantine} ({ddl})")
    try:
        with duckdb_errors_redacted(f"{source} export {export_date}"):
            reads = [append_records(con, records, rejects, path) for path in paths]
            columns = columns_by_file(con, records)
            for group in groups:
                _check_columns(group, columns)
            context = _Context(con, source, export_date, timezone, loaded_at)
            for group in groups:
                _map_group(context, records, group, events, quarantine)
            con.execute(
                f"""
                insert into {quarantine}
                select {select_list(QUARANTINE_COLUMNS)}
                from (
                    select {literal(source)} as source, source_file, source_line, reason,
                        raw_record, {literal(export_date)} as partition_date,
                        {literal(loaded_at)} as loaded_at
                    from {rejects}
                )
                """
            )
            landed_rows = count_by_file(con, records, paths)
            unreadable = count_by_file(con, rejects, paths)
            loaded = count_by_file(con, events, paths)
            rejected = count_by_file(con, quarantine, paths)
            low, high = date_span(con, events, "event_date")
    finally:
        for name in (records, rejects):
            con.execute(f"drop table if exists {name}")
    files = tuple(
        FileCounts(
            str(p), landed_rows[str(p)] + unreadable[str(p)], loaded[str(p)], rejected[str(p)]
        )
        for p in paths
    )
    return IngestResult(
        source=source,
        table=events,
        quarantine_table=quarantine,
        files=files,
        rows=sum(loaded.values()),
        min_date=low,
        max_date=high,
        drift=_drift(groups, columns),
        unreadable_files=tuple(
            (str(r.path), r.whole_file_reason) for r in reads if r.whole_file_reason
        ),
    )


@dataclass(frozen=True)
class _Context:
    con: duckdb.DuckDBPyConnection
    source: str
    export_date: date
    timezone: str
    loaded_at: datetime


def _check_columns(group: FileGroup, columns: dict[str, set[str]]) -> None:
    """A required column that no row of a file carries: a changed export, not bad rows."""
    mapping = group.mapping
    for path in group.files:
        seen = columns.get(str(path))
        if not seen:
            continue  # no readable rows: nothing to check
        missing = [name for name in mapping.required if name not in seen]
        if mapping.one_of and not seen.intersection(mapping.one_of):
            missing.append(" or ".join(mapping.one_of))
        if missing:
            raise IngestError(
                f"{path}: missing required column {', '.join(missing)} "
                f"(is this a {mapping.label} file?)"
            )


def _map_group(ctx: _Context, records: str, group: FileGroup, events: str, quarantine: str) -> None:
    mapping = group.mapping
    parsed = temp_name("site_parsed")
    con = ctx.con
    files = literal([str(p) for p in group.files])
    try:
        con.execute(
            f"""
            create temp table {parsed} as
            select *, coalesce(problem, {reason_sql(mapping, ctx.export_date)}) as reason
            from (
                select *, {event_at_sql(mapping)} as event_at
                from (
                    select *,
                        case when j is not null then from_json(j, {mapping.structure()}) end
                            as s,
                        case when j is not null then {mapping.types_sql("j")} end as t
                    from {records}
                    where list_contains({files}, source_file)
                )
            )
            """
        )
        con.execute(f"insert into {events} {_events_sql(ctx, mapping, parsed)}")
        con.execute(
            f"""
            insert into {quarantine}
            select {select_list(QUARANTINE_COLUMNS)}
            from (
                select {literal(ctx.source)} as source, source_file, source_line, reason,
                    coalesce(j, line) as raw_record,
                    {literal(ctx.export_date)} as partition_date,
                    {literal(ctx.loaded_at)} as loaded_at
                from {parsed}
                where reason is not null
            )
            """
        )
    finally:
        con.execute(f"drop table if exists {parsed}")


def _events_sql(ctx: _Context, mapping: Mapping, parsed: str) -> str:
    columns = ",\n".join(f"{mapping.columns.get(n, 'null')} as {n}" for n in _MAPPED)
    utm = ",\n".join(
        f"coalesce({mapping.utm.get(n, 'null')}, {url_param('page_url', n)}) as {n}"
        for n in UTM_COLUMNS
    )
    click_id, click_type = click_id_sql("page_url", mapping.click_fields)
    # The format's own id; a row without one gets an id derived from its content.
    event_id = f"coalesce({mapping.event_id or 'null'}, {derived_id_sql()})"
    return f"""
        select {select_list(EVENTS_COLUMNS)}
        from (
            select *, {event_id} as event_id
            from (
                select *,
                    {literal(ctx.source)} as source,
                    cast(timezone({literal(ctx.timezone)}, event_at::timestamptz) as date)
                        as event_date,
                    coalesce(user_id, anonymous_id) as user_key,
                    {utm},
                    {click_id} as click_id,
                    {click_type} as click_id_type,
                    {literal(ctx.export_date)} as export_date,
                    {literal(ctx.loaded_at)} as loaded_at
                from (
                    select source_file, source_line, s, event_at,
                        {columns},
                        {properties_sql(mapping, "j")} as properties
                    from {parsed}
                    where reason is null
                )
            )
        )
        order by source_file, source_line
        """


def _drift(groups: Iterable[FileGroup], columns: dict[str, set[str]]) -> SchemaDrift:
    """Fields that went to `properties`, and fields the format does not know (extra columns:
    kept in properties when the mapping copies unknown fields, else ignored)."""
    seen: set[str] = set()
    extra: set[str] = set()
    for group in groups:
        mapping = group.mapping
        names = set().union(*(columns.get(str(p), set()) for p in group.files))
        unknown = {n for n in names if not mapping.is_known(n)}
        extra |= unknown
        kept = names - mapping.not_properties
        seen |= kept if mapping.copy_unknown else kept - unknown
    return SchemaDrift(params_seen=tuple(sorted(seen)), extra_columns=tuple(sorted(extra)))
