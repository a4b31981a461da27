"""Publish marts as Hive-partitioned Parquet: ``<table>/<partition_col>=YYYY-MM-DD/part-0.parquet``.

Each day is written into a staging folder inside ``target_dir`` (same file system) and then
renamed into place, so readers see a whole day or the previous whole day:

- a new day: the staged folder is renamed to ``<col>=<day>`` (appears complete);
- an existing day: the staged ``part-0.parquet`` is renamed over the old file (an atomic file
  replace, with no moment where the day is missing);
- a day without rows: its folder is renamed away, then deleted.

Following the Hive convention, the partition column lives in the folder name, not inside the
files: read with ``read_parquet('<table>/*/*.parquet', hive_partitioning = true)`` (DuckDB, Spark,
Trino, pandas/pyarrow datasets all do this). Atomicity is per day; a publish of many days is a
sequence of atomic day swaps.

A whole-table mart (``MartSpec`` without a partition column) is one file,
``<table>/part-0.parquet``, written aside and renamed over the previous one on every publish
(an empty mart still gets a file with its columns, so readers never miss the table).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

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
    select_sql,
    source_columns,
    source_days,
)
from pipelines.lib.publish.spec import MartSpec

PART_FILE = "part-0.parquet"


def publish_parquet(
    source_db: Path,
    marts: Sequence[MartSpec],
    target_dir: Path,
    partitions: Sequence[date] | None,
    memory: DuckDBMemory | None = None,
) -> PublishResult:
    """Replace ``partitions`` (every day when None) of each mart under ``target_dir`` (within
    ``memory``'s limit when given)."""
    source_db, target_dir = Path(source_db), Path(target_dir)
    days = normalize_partitions(partitions)
    if len({m.table for m in marts}) != len(marts):
        raise ValueError("a mart is listed twice")
    target_dir.mkdir(parents=True, exist_ok=True)
    staging = target_dir / f".staging-{uuid.uuid4().hex[:12]}"
    with target_lock(target_dir / "_parquet"):
        # A publisher killed mid-way leaves its `.staging-<token>` folder: remove it.
        remove_stale_temp(target_dir, r"\.staging-[0-9a-f]{12}")
        con = connect_memory(memory)
        try:
            attach_source(con, source_db, marts)
            columns = {spec.table: source_columns(con, spec) for spec in marts}
            for spec in marts:
                check_source_rows(con, spec, days)
            staging.mkdir()
            results = [
                _publish_mart(con, spec, columns[spec.table], target_dir, staging, days)
                for spec in marts
            ]
        except duckdb.Error as exc:
            raise PublishError(f"publish to {target_dir} failed: {exc}") from exc
        finally:
            con.close()
            remove_quietly(staging)
    return PublishResult(kind="parquet", target=str(target_dir), marts=tuple(results))


def partition_dir(table_dir: Path, spec: MartSpec, day: date) -> Path:
    return table_dir / f"{spec.partition_column}={day.isoformat()}"


def _existing_days(table_dir: Path, spec: MartSpec) -> dict[date, Path]:
    prefix = f"{spec.partition_column}="
    found: dict[date, Path] = {}
    if table_dir.is_dir():
        for child in table_dir.iterdir():
            if child.is_dir() and child.name.startswith(prefix):
                try:
                    found[date.fromisoformat(child.name[len(prefix) :])] = child
                except ValueError:
                    continue  # not ours: leave foreign folders alone
    return found


def _schema_changed(existing: dict[date, Path], schema: pa.Schema) -> bool:
    """True when files already published have another schema than the source has now."""
    for folder in existing.values():
        part = folder / PART_FILE
        if part.is_file():
            return not pq.read_schema(part).equals(schema, check_metadata=False)
    return False


def _publish_mart(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    columns: list[SourceColumn],
    target_dir: Path,
    staging: Path,
    days: list[date] | None,
) -> MartPublishResult:
    table_dir = target_dir / spec.table
    table_dir.mkdir(parents=True, exist_ok=True)
    if spec.is_whole_table:
        return _publish_whole(con, spec, columns, table_dir, staging)
    data_columns = [c for c in columns if c.name != spec.partition_column]
    day_sql = select_sql(spec, data_columns, f"WHERE {spec.quoted_partition} = ?")
    schema = con.execute(select_sql(spec, data_columns, "WHERE false")).to_arrow_table().schema
    existing = _existing_days(table_dir, spec)
    full = days is None or _schema_changed(existing, schema)
    # A full publish also removes days that no longer exist in the source.
    todo = sorted(set(existing) | set(source_days(con, spec, None))) if full else list(days or [])
    rows = 0
    for day in todo:
        table = con.execute(day_sql, [day]).to_arrow_table()
        rows += table.num_rows
        _swap_day(table, partition_dir(table_dir, spec, day), staging)
    fsync_dir(table_dir)
    return MartPublishResult(
        table=spec.table, rows_written=rows, partitions_replaced=tuple(todo), full_refresh=full
    )


def _publish_whole(
    con: duckdb.DuckDBPyConnection,
    spec: MartSpec,
    columns: list[SourceColumn],
    table_dir: Path,
    staging: Path,
) -> MartPublishResult:
    """Replace the mart's single file in one rename."""
    table = con.execute(select_sql(spec, columns, "")).to_arrow_table()
    staged_file = staging / f"whole-{uuid.uuid4().hex[:12]}.parquet"
    pq.write_table(table, staged_file)
    fsync_file(staged_file)
    os.replace(staged_file, table_dir / PART_FILE)
    # Other Parquet files or day folders (an earlier layout) would be read with the table.
    for other in table_dir.iterdir():
        if other.name != PART_FILE and (other.suffix == ".parquet" or "=" in other.name):
            remove_quietly(other)
    fsync_dir(table_dir)
    return MartPublishResult(
        table=spec.table, rows_written=table.num_rows, partitions_replaced=(), full_refresh=True
    )


def _swap_day(table: pa.Table, final: Path, staging: Path) -> None:
    """Make ``final`` hold exactly ``table`` (or vanish when it is empty) in one rename."""
    token = uuid.uuid4().hex[:12]
    if table.num_rows == 0:
        if final.exists():
            gone = staging / f"gone-{token}"
            os.rename(final, gone)
            remove_quietly(gone)
        return
    staged = staging / f"day-{token}"
    staged.mkdir()
    staged_file = staged / PART_FILE
    pq.write_table(table, staged_file)
    fsync_file(staged_file)
    if final.is_dir():
        os.replace(staged_file, final / PART_FILE)
        # Anything else in the day folder would be read as part of the day: drop it.
        for other in final.iterdir():
            if other.name != PART_FILE:
                remove_quietly(other)
        remove_quietly(staged)
    else:
        os.rename(staged, final)
