"""`microfunnel purge`: remove users on the erasure list from data already written.

Every lake partition of `events` and `events_quarantine` is read, filtered with the same rule
ingestion applies, and rewritten through `lake.write_partition` (write aside, rename: a reader
sees the old or the new day, never half) when it held rows of an erased user. Then rows of
those users are deleted from every table of the transformation DuckDB that has a user column.
Aggregates still count them until the next run rebuilds the open cohorts; `microfunnel run
--start <first day> --end <last day>` rebuilds every cohort, and the reporting DuckDB, Parquet
and PostgreSQL copies are republished by that run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from ..ingest.lake import PART_FILE, write_partition
from ..ingest.sql import temp_name
from .erasure import (
    ID_COLUMNS,
    create_erased_table,
    erased_events_predicate,
    erased_quarantine_predicate,
    read_erasure_list,
)
from .pseudonymize import pseudonymization_key, require_key

EVENTS_TABLE = "events"
QUARANTINE_TABLE = "events_quarantine"
_PARTITION_PREFIX = "date="


@dataclass
class PurgeReport:
    """Rows removed per lake table and per transformation-DuckDB table."""

    listed_ids: int = 0
    lake_rows: dict[str, int] = field(default_factory=dict)
    partitions_rewritten: dict[str, int] = field(default_factory=dict)
    mart_rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        lines = [f"erasure list: {self.listed_ids} id(s)"]
        for table, rows in self.lake_rows.items():
            parts = self.partitions_rewritten.get(table, 0)
            lines.append(f"  lake {table}: {rows} row(s) removed, {parts} partition(s) rewritten")
        for table, rows in self.mart_rows.items():
            lines.append(f"  transformation DuckDB {table}: {rows} row(s) deleted")
        return "\n".join(lines)


def purge_erased_users(
    lake_dir: Path, duckdb_path: Path, erasure_file: Path, key: str | None
) -> PurgeReport:
    """Remove every listed user from the lake and the transformation DuckDB."""
    require_key(key)
    raw_ids = read_erasure_list(erasure_file)
    report = PurgeReport(listed_ids=len(raw_ids))
    if not raw_ids:
        return report
    with duckdb.connect() as con:
        with pseudonymization_key(con, key):
            erased = create_erased_table(con, raw_ids)
        keys = _purge_table(con, lake_dir / EVENTS_TABLE, erased, report, quarantine=False)
        _purge_table(con, lake_dir / QUARANTINE_TABLE, erased, report, quarantine=True)
        hashed = [row[0] for row in con.execute(f"select h from {erased}").fetchall()]
    if duckdb_path.exists():
        report.mart_rows = delete_from_duckdb(duckdb_path, sorted(set(hashed) | keys))
    return report


def _partitions(table_dir: Path) -> list[tuple[date, Path]]:
    found = []
    for part in sorted(table_dir.glob(f"{_PARTITION_PREFIX}????-??-??")):
        file = part / PART_FILE
        if part.is_dir() and file.is_file():
            found.append((date.fromisoformat(part.name[len(_PARTITION_PREFIX) :]), file))
    return found


def _purge_table(
    con: duckdb.DuckDBPyConnection,
    table_dir: Path,
    erased: str,
    report: PurgeReport,
    *,
    quarantine: bool,
) -> set[str]:
    """Rewrite the partitions holding erased users; returns the user keys removed."""
    removed_rows = rewritten = 0
    keys: set[str] = set()
    for day, file in _partitions(table_dir):
        rows = temp_name("purge_rows")
        con.execute(f"create temp table {rows} as select * from read_parquet(?)", [str(file)])
        try:
            columns = [r[0] for r in con.execute(f"describe {rows}").fetchall()]
            predicate = (
                erased_quarantine_predicate(erased)
                if quarantine
                else erased_events_predicate(rows, erased, columns)
            )
            if not quarantine:
                keys |= _user_keys(con, rows, predicate, columns)
            hit = con.execute(f"select count(*) from {rows} as t where {predicate}").fetchone()
            if hit and hit[0]:
                con.execute(f"delete from {rows} as t where {predicate}")
                write_partition(con, rows, table_dir, day)
                removed_rows += int(hit[0])
                rewritten += 1
        finally:
            con.execute(f"drop table if exists {rows}")
    report.lake_rows[table_dir.name] = removed_rows
    report.partitions_rewritten[table_dir.name] = rewritten
    return keys


def _user_keys(
    con: duckdb.DuckDBPyConnection, rows: str, predicate: str, columns: list[str]
) -> set[str]:
    """Every (pseudonymized) id of the rows removed, to find them in the marts."""
    found: set[str] = set()
    for column in ID_COLUMNS:
        if column in columns:
            found |= {
                r[0]
                for r in con.execute(
                    f"select distinct t.{column} from {rows} as t "
                    f"where {predicate} and t.{column} is not null"
                ).fetchall()
            }
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def delete_from_duckdb(path: Path, user_ids: list[str]) -> dict[str, int]:
    """Delete rows whose user column holds one of `user_ids` from every base table."""
    deleted: dict[str, int] = {}
    with duckdb.connect(str(path)) as con:
        targets = con.execute(
            """
            select c.table_schema, c.table_name, list(c.column_name order by c.column_name)
            from information_schema.columns as c
            join information_schema.tables as t using (table_catalog, table_schema, table_name)
            where t.table_type = 'BASE TABLE' and list_contains(?, c.column_name)
            group by all
            order by all
            """,
            [list(ID_COLUMNS)],
        ).fetchall()
        con.execute("begin")
        for schema, table, columns in targets:
            name = f"{_quote(schema)}.{_quote(table)}"
            where = " or ".join(f"{_quote(c)} in (select unnest(?::varchar[]))" for c in columns)
            row = con.execute(
                f"delete from {name} where {where}", [user_ids] * len(columns)
            ).fetchone()
            deleted[f"{schema}.{table}"] = int(row[0]) if row else 0
        con.execute("commit")
    return deleted
