"""The marts dbt built on Spark, mounted as the publish source: one DuckDB view per mart over
its Parquet folder under <warehouse>/spark/tables/<schema>.db/<mart>/.

Spark stores a table partitioned by date as `<column>=YYYY-MM-DD/` folders and lists those
columns last, and writes timestamps as UTC instants; the views put the columns back in the
mart's documented order and read the values as the DuckDB build holds them (dates, timestamps
without time zone), so every target gets the same tables from either engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from pipelines.lib.publish.result import PublishError
from pipelines.lib.publish.spec import MartSpec, quote_ident

# Spark's folder for a null partition value (rows without a day: refused by the publish).
HIVE_NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"


def mount_spark_tables(
    con: duckdb.DuckDBPyConnection, tables_dir: Path, alias: str, marts: Sequence[MartSpec]
) -> None:
    """Create catalog `alias` in memory with a view per mart that Spark has written."""
    con.execute(f"ATTACH ':memory:' AS {quote_ident(alias)}")
    for spec in marts:
        table_dir = tables_dir / spec.table
        if not table_dir.is_dir():
            continue  # not built yet: the publish names it as missing
        if not any(table_dir.rglob("*.parquet")):
            # A date-partitioned table without rows has no files, so no schema to read.
            raise PublishError(
                f"Spark table {spec.table} has no rows: {table_dir} holds no Parquet files"
            )
        con.execute(
            f"CREATE VIEW {quote_ident(alias)}.main.{spec.quoted_table} AS "
            + _view_sql(con, table_dir, spec)
        )


def _partition_columns(table_dir: Path) -> list[str]:
    """Names of the `name=value` folder levels under a Spark table folder."""
    names: list[str] = []
    level = table_dir
    while True:
        folders = [p for p in level.iterdir() if p.is_dir() and "=" in p.name]
        if not folders:
            return names
        names.append(folders[0].name.split("=", 1)[0])
        level = folders[0]


def _view_sql(con: duckdb.DuckDBPyConnection, table_dir: Path, spec: MartSpec) -> str:
    partitions = _partition_columns(table_dir)
    # Partition values as text, cast below: DuckDB's guess would fail on Spark's null folder.
    hive_types = ", ".join(f"'{name}': 'VARCHAR'" for name in partitions)
    glob = str(table_dir / "**" / "*.parquet").replace("'", "''")
    scan = f"read_parquet('{glob}', hive_partitioning = {str(bool(partitions)).lower()}" + (
        f", hive_types = {{{hive_types}}})" if partitions else ")"
    )
    described = con.execute(f"DESCRIBE SELECT * FROM {scan}").fetchall()
    types = {name: dtype for name, dtype, *_ in described}
    order = [c for c in spec.columns if c in types] + [c for c in types if c not in spec.columns]
    if not order:
        raise PublishError(f"Spark table {table_dir} has no columns")
    columns = ", ".join(_read_as(name, types[name], partitions) for name in order)
    return f"SELECT {columns} FROM {scan}"


def _read_as(name: str, dtype: str, partitions: list[str]) -> str:
    column = quote_ident(name)
    if name in partitions:
        return f"try_cast(nullif({column}, '{HIVE_NULL_PARTITION}') AS DATE) AS {column}"
    if dtype == "TIMESTAMP WITH TIME ZONE":
        # Spark's instants, in UTC wall time (the publish connection's time zone is UTC).
        return f"CAST({column} AS TIMESTAMP) AS {column}"
    return column
