"""Lake partitions: atomic replace, no temp leftovers, typed reads with or without data."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import read_partitions_sql, write_partition
from pipelines.lib.schemas import EVENTS_COLUMNS

DAY = date(2024, 1, 5)


def entries(table_dir: Path) -> list[str]:
    return sorted(p.name for p in table_dir.iterdir())


def test_write_partition_returns_the_row_count_and_writes_one_file(con, tmp_path):
    con.execute("create temp table t as select range as n from range(7)")
    table_dir = tmp_path / "lake" / "things"
    assert write_partition(con, "t", table_dir, DAY) == 7
    assert entries(table_dir) == ["date=2024-01-05"]
    assert entries(table_dir / "date=2024-01-05") == ["part-0.parquet"]


def test_write_partition_accepts_a_select(con, tmp_path):
    count = write_partition(con, "select 1 as n union all select 2", tmp_path / "things", DAY)
    assert count == 2


def test_rewriting_a_partition_replaces_it_atomically(con, tmp_path):
    table_dir = tmp_path / "things"
    write_partition(con, "select range as n from range(5)", table_dir, DAY)
    write_partition(con, "select 100 as n", table_dir, date(2024, 1, 6))
    assert write_partition(con, "select 42 as n", table_dir, DAY) == 1
    # Only final partition folders remain: no temp or retired copies.
    assert entries(table_dir) == ["date=2024-01-05", "date=2024-01-06"]
    got = con.execute(
        f"select date, n from {read_partitions_sql(table_dir, {'n': 'BIGINT'})} order by date"
    ).fetchall()
    assert got == [(DAY, 42), (date(2024, 1, 6), 100)]


def test_zero_rows_replace_an_old_partition(con, tmp_path):
    table_dir = tmp_path / "things"
    write_partition(con, "select 1 as n", table_dir, DAY)
    assert write_partition(con, "select 1 as n where false", table_dir, DAY) == 0
    sql = read_partitions_sql(table_dir, {"n": "INTEGER"})
    assert con.execute(f"select count(*) from {sql}").fetchone() == (0,)


def test_failed_write_keeps_the_old_partition_and_leaves_no_temp(con, tmp_path):
    table_dir = tmp_path / "things"
    write_partition(con, "select 1 as n", table_dir, DAY)
    with pytest.raises(duckdb.Error):
        write_partition(con, "select no_such_column from range(1)", table_dir, DAY)
    assert entries(table_dir) == ["date=2024-01-05"]
    sql = read_partitions_sql(table_dir, {"n": "INTEGER"})
    assert con.execute(f"select n from {sql}").fetchall() == [(1,)]


def test_temp_folders_are_invisible_to_readers(con, tmp_path):
    table_dir = tmp_path / "things"
    write_partition(con, "select 1 as n", table_dir, DAY)
    stray = table_dir / "date=2024-01-05.tmp-deadbeef"
    stray.mkdir()
    con.execute(f"copy (select 99 as n) to '{stray / 'part-0.parquet'}' (format parquet)")
    sql = read_partitions_sql(table_dir)
    assert con.execute(f"select n from {sql}").fetchall() == [(1,)]


def test_read_partitions_sql_is_an_empty_typed_relation_when_none_exist(con, tmp_path):
    sql = read_partitions_sql(tmp_path / "events")
    described = con.execute(f"describe select * from {sql}").fetchall()
    assert [(r[0], r[1]) for r in described] == [*EVENTS_COLUMNS.items(), ("date", "DATE")]
    assert con.execute(f"select count(*) from {sql}").fetchone() == (0,)


def test_unknown_table_without_partitions_needs_columns(tmp_path):
    with pytest.raises(ValueError, match="columns"):
        read_partitions_sql(tmp_path / "mystery")


def test_canonical_rows_round_trip_through_the_lake(con, tmp_path):
    from datetime import datetime

    from pipelines.lib.ingest import load_ga4_day

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "ga4" / "events_20240105.json"
    result = load_ga4_day(con, [fixture], DAY, "UTC", datetime(2024, 1, 6))
    table_dir = tmp_path / "events"
    assert write_partition(con, result.table, table_dir, DAY) == result.rows
    sql = read_partitions_sql(table_dir)
    described = con.execute(f"describe select * from {sql}").fetchall()
    assert [(r[0], r[1]) for r in described] == [*EVENTS_COLUMNS.items(), ("date", "DATE")]


def test_days_of_one_table_written_at_once_all_land_and_leave_nothing_behind(tmp_path):
    """A backfill writes several days of a table from parallel threads: one write's clean-up
    must not take another's folder in flight for a killed writer's leftover."""
    from pipelines.lib.ingest.parallel_days import load_days_in_parallel

    table = tmp_path / "events"
    days = [date(2024, 3, d) for d in range(1, 13)]

    def write(cursor: duckdb.DuckDBPyConnection, day: date) -> int:
        # Twice: the second write retires the first (both folder kinds are in flight).
        write_partition(cursor, f"select range as n from range({day.day * 1000})", table, day)
        return write_partition(cursor, f"select range as n from range({day.day})", table, day)

    with duckdb.connect() as con:
        counts = load_days_in_parallel(con, days, write, workers=4)
        total = con.execute(f"select count(*) from {read_partitions_sql(table)}").fetchone()
    assert counts == [day.day for day in days]
    assert total == (sum(day.day for day in days),)
    assert sorted(p.name for p in table.iterdir()) == [f"date={day}" for day in days]
