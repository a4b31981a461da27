"""Reading marts out of the transformation DuckDB file, shared by every target."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from pipelines.lib.duckdb_memory import DuckDBMemory
from pipelines.lib.publish.result import PublishError
from pipelines.lib.publish.spark_source import mount_spark_tables
from pipelines.lib.publish.spec import MartSpec, quote_ident, validate_identifier

SOURCE_ALIAS = "mf_source"


@dataclass(frozen=True)
class SourceColumn:
    name: str
    duckdb_type: str


def sql_string(value: str) -> str:
    """A single-quoted SQL string literal, for the few statements (ATTACH) that take no params."""
    return "'" + value.replace("'", "''") + "'"


def connect_memory(memory: DuckDBMemory | None = None) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB instance (within `memory`'s limit when given).

    Files are then ATTACHed to it instead of opened with ``duckdb.connect(path)``, which would
    reuse a cached instance of the same path in this process and could see a stale, swapped-out
    file.
    """
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")  # TIMESTAMPTZ values leave as UTC, whatever the host
    return memory.apply(con, "publish") if memory else con


def attach_source(
    con: duckdb.DuckDBPyConnection,
    source_db: Path,
    marts: Sequence[MartSpec] = (),
    alias: str = SOURCE_ALIAS,
) -> str:
    """Mount the marts' source as catalog `alias`; return its quoted name. The source is the
    transformation DuckDB file (attached read-only) or, from the Spark engine, the folder of
    its tables (`marts` are mounted as views over their Parquet files)."""
    if source_db.is_dir():
        mount_spark_tables(con, source_db, alias, marts)
    elif source_db.is_file():
        con.execute(f"ATTACH {sql_string(str(source_db))} AS {quote_ident(alias)} (READ_ONLY)")
    else:
        raise PublishError(f"source database {source_db} does not exist")
    return quote_ident(alias)


def table_columns(
    con: duckdb.DuckDBPyConnection, catalog: str, table: str
) -> list[SourceColumn] | None:
    """Columns of ``catalog.main.table`` in order, or None when the table does not exist."""
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE database_name = ? AND schema_name = 'main' AND table_name = ? "
        "ORDER BY column_index",
        [catalog, table],
    ).fetchall()
    return [SourceColumn(name, dtype) for name, dtype in rows] or None


def source_columns(con: duckdb.DuckDBPyConnection, spec: MartSpec) -> list[SourceColumn]:
    """Check the mart exists in the source with its key columns and, unless it is published
    as a whole table, a DATE partition column."""
    columns = table_columns(con, SOURCE_ALIAS, spec.table)
    if columns is None:
        raise PublishError(f"source table main.{spec.table} does not exist")
    by_name = {c.name: c for c in columns}
    for column in columns:
        validate_identifier(column.name, f"column of {spec.table!r}")
    partition = by_name.get(spec.partition_column) if spec.partition_column else None
    if not spec.is_whole_table and (partition is None or partition.duckdb_type != "DATE"):
        found = partition.duckdb_type if partition else "missing"
        raise PublishError(
            f"partition column {spec.table}.{spec.partition_column} must be a DATE ({found})"
        )
    missing = [c for c in spec.primary_key if c not in by_name]
    if missing:
        raise PublishError(f"primary key columns of {spec.table} not in the source: {missing}")
    return columns


def source_ref(spec: MartSpec) -> str:
    return f"{quote_ident(SOURCE_ALIAS)}.main.{spec.quoted_table}"


def partition_filter(spec: MartSpec, partitions: Sequence[date] | None) -> tuple[str, list[date]]:
    """A WHERE clause selecting the given days (everything when None or for a whole-table
    mart), with its parameters."""
    if partitions is None or spec.is_whole_table:
        return "", []
    if not partitions:
        return "WHERE false", []
    marks = ", ".join("?" for _ in partitions)
    return f"WHERE {spec.quoted_partition} IN ({marks})", list(partitions)


def normalize_partitions(partitions: Sequence[date] | None) -> list[date] | None:
    """Sorted distinct days; datetimes are rejected because their date part is ambiguous."""
    if partitions is None:
        return None
    days: set[date] = set()
    for value in partitions:
        if not isinstance(value, date) or hasattr(value, "hour"):
            raise ValueError(f"partitions must be datetime.date values, got {value!r}")
        days.add(value)
    return sorted(days)


def check_source_rows(
    con: duckdb.DuckDBPyConnection, spec: MartSpec, partitions: Sequence[date] | None
) -> None:
    """Refuse rows without a day or that repeat a primary key: targets would disagree on them."""
    nulls = (
        None
        if spec.is_whole_table
        else con.execute(
            f"SELECT count(*) FROM {source_ref(spec)} WHERE {spec.quoted_partition} IS NULL"
        ).fetchone()
    )
    if nulls and nulls[0]:
        raise PublishError(
            f"source table main.{spec.table} has {nulls[0]} rows with a NULL "
            f"{spec.partition_column}; every row must belong to a day"
        )
    where, params = partition_filter(spec, partitions)
    row = con.execute(
        f"SELECT {spec.quoted_key}, count(*) AS n FROM {source_ref(spec)} {where} "
        f"GROUP BY ALL HAVING count(*) > 1 LIMIT 1",
        params,
    ).fetchone()
    if row is not None:
        key = dict(zip(spec.primary_key, row[:-1], strict=True))
        raise PublishError(
            f"source table main.{spec.table} repeats primary key {key} ({row[-1]} rows)"
        )


def source_days(
    con: duckdb.DuckDBPyConnection, spec: MartSpec, partitions: Sequence[date] | None
) -> list[date]:
    """Days that have rows in the source (limited to ``partitions`` when given); none for a
    whole-table mart."""
    if spec.is_whole_table:
        return []
    where, params = partition_filter(spec, partitions)
    rows = con.execute(
        f"SELECT DISTINCT {spec.quoted_partition} FROM {source_ref(spec)} {where} ORDER BY 1",
        params,
    ).fetchall()
    return [r[0] for r in rows if r[0] is not None]


def select_sql(spec: MartSpec, columns: Sequence[SourceColumn], where: str) -> str:
    """SELECT of the mart's columns in source order, sorted by key so outputs are reproducible."""
    cols = ", ".join(quote_ident(c.name) for c in columns)
    return f"SELECT {cols} FROM {source_ref(spec)} {where} ORDER BY {spec.quoted_key}"
