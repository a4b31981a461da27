"""Publish marts to the reporting DuckDB file by write-then-swap.

The current reporting file is copied to a temp file in the same folder, the given days (and
every whole-table mart, see ``MartSpec``) are replaced there in one transaction, the temp file
is checkpointed, closed and fsynced, and then ``os.replace`` swaps it over the target. Readers
that have the old file open keep reading the old inode (a complete old version); new connections
open the complete new version. There is never a moment where a reader can see half a day, and a
failure at any step leaves the target untouched.

Storage version: new files are created with ``STORAGE_VERSION 'v1.0.0'`` (DuckDB's default
compatibility level in 1.5, tagged ``v1.0.0+``), so DuckDB 1.0 and later (BI tools often embed an
older DuckDB) can read the file. An existing target written with a newer storage version is
migrated into a pinned file on the next publish.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb

from pipelines.lib.duckdb_memory import DuckDBMemory
from pipelines.lib.publish.files import (
    fsync_dir,
    fsync_file,
    remove_quietly,
    remove_stale_temp,
    target_lock,
)
from pipelines.lib.publish.result import MartPublishResult, PublishError, PublishResult
from pipelines.lib.publish.source import (
    SourceColumn,
    attach_source,
    check_source_rows,
    connect_memory,
    normalize_partitions,
    partition_filter,
    select_sql,
    source_columns,
    source_days,
    sql_string,
    table_columns,
)
from pipelines.lib.publish.spec import MartSpec, quote_ident

PINNED_STORAGE_VERSION = "v1.0.0"
TARGET_ALIAS = "mf_target"
PREVIOUS_ALIAS = "mf_previous"


def publish_duckdb(
    source_db: Path,
    marts: Sequence[MartSpec],
    target_db: Path,
    partitions: Sequence[date] | None,
    memory: DuckDBMemory | None = None,
) -> PublishResult:
    """Replace ``partitions`` (every day when None) of each mart in the reporting DuckDB file
    (within ``memory``'s limit when given)."""
    source_db, target_db = Path(source_db), Path(target_db)
    days = normalize_partitions(partitions)
    marts = _distinct(marts)
    target_db.parent.mkdir(parents=True, exist_ok=True)
    with target_lock(target_db):
        # A publisher killed before its swap leaves `.<name>.<token>.tmp[.wal]` / `.spill`.
        remove_stale_temp(
            target_db.parent,
            rf"\.{re.escape(target_db.name)}\.[0-9a-f]{{12}}\.(tmp|tmp\.wal|spill)",
        )
        if target_db.with_name(target_db.name + ".wal").exists():
            # A WAL means someone writes this file directly; swapping would orphan their log.
            raise PublishError(
                f"{target_db} has a write-ahead log: another process writes to it; "
                "the reporting file must only be written by the publisher"
            )
        token = uuid.uuid4().hex[:12]
        tmp = target_db.with_name(f".{target_db.name}.{token}.tmp")
        spill = target_db.with_name(f".{target_db.name}.{token}.spill")
        try:
            results = _build(source_db, marts, target_db, tmp, spill, days, memory)
            fsync_file(tmp)
            os.replace(tmp, target_db)
            fsync_dir(target_db.parent)
        finally:
            remove_quietly(tmp, tmp.with_name(tmp.name + ".wal"), spill)
    return PublishResult(kind="duckdb", target=str(target_db), marts=tuple(results))


def _distinct(marts: Sequence[MartSpec]) -> list[MartSpec]:
    seen: set[str] = set()
    for spec in marts:
        if spec.table in seen:
            raise ValueError(f"mart {spec.table!r} is listed twice")
        seen.add(spec.table)
    return list(marts)


def _build(
    source_db: Path,
    marts: list[MartSpec],
    target_db: Path,
    tmp: Path,
    spill: Path,
    days: list[date] | None,
    memory: DuckDBMemory | None,
) -> list[MartPublishResult]:
    con = connect_memory(memory)
    try:
        con.execute(f"SET temp_directory = {sql_string(str(spill))}")
        attach_source(con, source_db, marts)
        # Validate every mart before writing anything: fail fast with the clearest message.
        columns = {spec.table: source_columns(con, spec) for spec in marts}
        for spec in marts:
            check_source_rows(con, spec, days)
        _open_target(con, target_db, tmp)
        con.execute("BEGIN TRANSACTION")
        results = [_replace_mart(con, spec, columns[spec.table], days) for spec in marts]
        con.execute("COMMIT")
        con.execute(f"CHECKPOINT {TARGET_ALIAS}")
        con.execute(f"DETACH {TARGET_ALIAS}")
        return results
    except duckdb.Error as exc:
        raise PublishError(f"publish to {target_db} failed: {exc}") from exc
    finally:
        con.close()


def _open_target(con: duckdb.DuckDBPyConnection, target_db: Path, tmp: Path) -> None:
    """ATTACH the temp copy of the target (or a new pinned file) as ``mf_target``."""
    pinned = f"(STORAGE_VERSION {sql_string(PINNED_STORAGE_VERSION)})"
    if not target_db.is_file():
        con.execute(f"ATTACH {sql_string(str(tmp))} AS {TARGET_ALIAS} {pinned}")
        return
    shutil.copyfile(target_db, tmp)
    con.execute(f"ATTACH {sql_string(str(tmp))} AS {TARGET_ALIAS}")
    if storage_version(con, TARGET_ALIAS) == PINNED_STORAGE_VERSION + "+":
        return
    # The storage version of an existing file cannot be lowered: copy its tables into a new one.
    con.execute(f"DETACH {TARGET_ALIAS}")
    tmp.unlink()
    con.execute(f"ATTACH {sql_string(str(tmp))} AS {TARGET_ALIAS} {pinned}")
    con.execute(f"ATTACH {sql_string(str(target_db))} AS {PREVIOUS_ALIAS} (READ_ONLY)")
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = ? AND schema_name = 'main'",
        [PREVIOUS_ALIAS],
    ).fetchall()
    for (table,) in tables:
        name = quote_ident(table)
        con.execute(
            f"CREATE TABLE {TARGET_ALIAS}.main.{name} AS SELECT * FROM {PREVIOUS_ALIAS}.main.{name}"
        )
    con.execute(f"DETACH {PREVIOUS_ALIAS}")


def storage_version(con: duckdb.DuckDBPyConnection, alias: str) -> str | None:
    """The storage version tag DuckDB reports for an attached file, e.g. ``v1.0.0+``."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = ?", [alias]
    ).fetchone()
    return row[0] if row else None


def _replace_mart(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    columns: list[SourceColumn],
    days: list[date] | None,
) -> MartPublishResult:
    target = f"{TARGET_ALIAS}.main.{spec.quoted_table}"
    existing = table_columns(con, TARGET_ALIAS, spec.table)
    if days is None or existing != columns or spec.is_whole_table:
        # First publish, full publish, a changed schema or a mart without days: the source
        # holds the whole mart, so rebuilding the table keeps every day on one schema.
        con.execute(f"CREATE OR REPLACE TABLE {target} AS {select_sql(spec, columns, '')}")
        count = con.execute(f"SELECT count(*) FROM {target}").fetchone()
        return MartPublishResult(
            table=spec.table,
            rows_written=int(count[0]) if count else 0,
            partitions_replaced=tuple(source_days(con, spec, None)),
            full_refresh=True,
        )
    where, params = partition_filter(spec, days)
    con.execute(f"DELETE FROM {target} {where}", params)
    inserted = con.execute(f"INSERT INTO {target} {select_sql(spec, columns, where)}", params)
    row = inserted.fetchone()
    return MartPublishResult(
        table=spec.table,
        rows_written=int(row[0]) if row else 0,
        partitions_replaced=tuple(days),
        full_refresh=False,
    )
