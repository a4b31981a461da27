"""The lake: one folder per table, one `date=YYYY-MM-DD/part-0.parquet` folder per partition.

A partition is written into a temp folder next to its final place and swapped in with renames,
so a reader sees the old day or the new day, never half a day; a failed write leaves nothing.
Temp and retired folders do not match the `date=????-??-??` glob readers use.

A process killed mid-write can leave `date=...tmp-*` (a possibly partial new day) or
`date=...old-*` (the previous day, retired just before the swap) behind. The next write to the
same table removes them first, and puts a retired day back when its partition is missing (a kill
between the two renames). This is safe because writers of one table never overlap across
processes: ingest assets run in the one-writer lake pool and `microfunnel run` holds the
warehouse run lock. Within the process, a backfill writes several days of one table at once
(parallel_days.py): the folders of writes still in flight are registered, and the clean-up
leaves them alone.
"""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from datetime import date
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS, EVENTS_COLUMNS, QUARANTINE_COLUMNS
from .sql import quote_literal

PARTITION_KEY = "date"
PART_FILE = "part-0.parquet"
# Canonical lake tables by folder name, for typing an empty table.
KNOWN_TABLES: dict[str, dict[str, str]] = {
    "events": EVENTS_COLUMNS,
    "ad_performance": AD_PERFORMANCE_COLUMNS,
    "quarantine": QUARANTINE_COLUMNS,
}
_LEFTOVER = re.compile(
    rf"^(?P<final>{PARTITION_KEY}=\d{{4}}-\d{{2}}-\d{{2}})\.(?P<kind>tmp|old)-[0-9a-f]{{32}}$"
)
_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# Temp and retired folders of this process's writes in flight (not leftovers of a killed one).
_IN_FLIGHT: set[Path] = set()
_IN_FLIGHT_LOCK = threading.Lock()


def partition_dir(table_dir: Path, partition_date: date) -> Path:
    return table_dir / f"{PARTITION_KEY}={partition_date.isoformat()}"


def write_partition(
    con: duckdb.DuckDBPyConnection,
    relation_sql_or_table: str,
    table_dir: Path,
    partition_date: date,
) -> int:
    """Replace one partition with the rows of a table name or a SELECT; returns the row count.

    The relation comes from code (a temp table name or a query built from constants).
    """
    relation = relation_sql_or_table.strip()
    source = relation if _TABLE_NAME.match(relation) else f"({relation})"
    query = f"select * from {source}"
    table_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_leftovers(table_dir)
    final = partition_dir(table_dir, partition_date)
    tmp = final.with_name(f"{final.name}.tmp-{uuid.uuid4().hex}")
    retired = final.with_name(f"{final.name}.old-{uuid.uuid4().hex}")
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.update((tmp, retired))
    try:
        return _swap_in(con, query, final, tmp, retired)
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT.difference_update((tmp, retired))


def _swap_in(
    con: duckdb.DuckDBPyConnection, query: str, final: Path, tmp: Path, retired: Path
) -> int:
    """Write the rows into `tmp`, retire the old day, move the new one in."""
    tmp.mkdir()
    try:
        row = con.execute(
            f"copy ({query}) to {quote_literal(str(tmp / PART_FILE))} "
            "(format parquet, compression zstd)"
        ).fetchone()
        count = int(row[0]) if row else 0
        if final.exists():
            final.rename(retired)
        tmp.rename(final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if retired.exists() and not final.exists():
            retired.rename(final)  # put the old day back
        raise
    shutil.rmtree(retired, ignore_errors=True)
    return count


def remove_stale_leftovers(table_dir: Path) -> list[Path]:
    """Clean up after a killed writer of this table; returns the folders removed.

    A retired day (`.old-*`) whose partition folder is missing is renamed back into place, so
    a kill between "retire the old day" and "move the new day in" loses nothing; every other
    temp or retired folder is deleted. Only call while holding the table's writer slot.
    """
    removed: list[Path] = []
    if not table_dir.is_dir():
        return removed
    listed = [child for child in table_dir.iterdir() if _LEFTOVER.match(child.name)]
    with _IN_FLIGHT_LOCK:  # after listing: a write registers before it creates its folder
        listed = [child for child in listed if child not in _IN_FLIGHT]
    leftovers = sorted(
        (child for child in listed if child.exists()),
        key=lambda child: child.stat().st_mtime,
        reverse=True,  # the newest retired copy wins if a day was retired more than once
    )
    for child in leftovers:
        match = _LEFTOVER.match(child.name)
        assert match is not None
        final = table_dir / match["final"]
        if match["kind"] == "old" and not final.exists():
            child.rename(final)
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
    return removed


def read_partitions_sql(table_dir: Path, columns: dict[str, str] | None = None) -> str:
    """A FROM-able DuckDB expression over all partitions, with the `date` partition column.

    With no partition yet it is an empty relation typed from `columns`, or from the canonical
    schema named by the folder (events, ad_performance, quarantine).
    """
    if any(table_dir.glob(f"{PARTITION_KEY}=????-??-??/*.parquet")):
        pattern = quote_literal(str(table_dir / f"{PARTITION_KEY}=????-??-??" / "*.parquet"))
        return (
            f"read_parquet({pattern}, hive_partitioning = true, union_by_name = true, "
            f"hive_types = {{'{PARTITION_KEY}': 'DATE'}})"
        )
    schema = columns if columns is not None else KNOWN_TABLES.get(table_dir.name)
    if schema is None:
        raise ValueError(
            f"{table_dir}: no partitions yet and no column types known for table "
            f"{table_dir.name!r}; pass columns="
        )
    typed = ", ".join(f"cast(null as {dtype}) as {name}" for name, dtype in schema.items())
    return f"(select {typed}, cast(null as DATE) as {PARTITION_KEY} where false)"
