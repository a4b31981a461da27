"""Backfill days ingested at once, each on its own DuckDB cursor."""

from __future__ import annotations

import threading
import time

import duckdb
import pytest

from pipelines.lib.ingest.parallel_days import load_days_in_parallel


def per_day_temp_table(cursor: duckdb.DuckDBPyConnection, day: int) -> tuple[int, int, str]:
    """A day's work with the same temp table name and session variable as every other day."""
    cursor.execute(f"set variable day = {day}")
    cursor.execute("create temp table rows_of_the_day as select range as n from range(?)", [day])
    time.sleep(0.05)  # overlap with the other days
    count = cursor.execute("select count(*) from rows_of_the_day").fetchone()[0]
    seen = cursor.execute("select getvariable('day')").fetchone()[0]
    cursor.execute("drop table rows_of_the_day")
    return count, seen, threading.current_thread().name


def test_days_run_at_once_each_with_its_own_temp_tables_and_variables() -> None:
    with duckdb.connect() as con:
        results = load_days_in_parallel(con, list(range(1, 9)), per_day_temp_table, workers=3)
    assert [(count, seen) for count, seen, _ in results] == [(d, d) for d in range(1, 9)]
    threads = {name for *_, name in results}
    assert len(threads) == 3 and all(name.startswith("ingest-day") for name in threads)


def test_one_worker_runs_the_days_in_order_on_the_connection_itself() -> None:
    with duckdb.connect() as con:
        results = load_days_in_parallel(con, [3, 1, 2], per_day_temp_table, workers=1)
    assert [count for count, *_ in results] == [3, 1, 2]
    assert {name for *_, name in results} == {threading.current_thread().name}


def test_the_first_failing_day_is_raised_and_days_not_started_are_not_loaded() -> None:
    started: list[int] = []

    def load(cursor: duckdb.DuckDBPyConnection, day: int) -> int:
        started.append(day)
        if day == 2:
            raise ValueError("day 2 is broken")
        time.sleep(0.2)
        return day

    with duckdb.connect() as con, pytest.raises(ValueError, match="day 2 is broken"):
        load_days_in_parallel(con, list(range(1, 20)), load, workers=2)
    assert len(started) < 19


def test_the_worker_setting_is_checked_and_carried_into_a_run(tmp_path) -> None:
    from pipelines.defs.shared import MicrofunnelResource
    from pipelines.lib.settings import ENV_INGEST_WORKERS, Settings, SettingsError

    home = {"MICROFUNNEL_HOME": str(tmp_path)}
    assert Settings.from_env(home).ingest_workers == 2
    settings = Settings.from_env({**home, ENV_INGEST_WORKERS: "4"})
    assert MicrofunnelResource.from_settings(settings).settings().ingest_workers == 4
    for bad in ("0", "two", "17"):
        with pytest.raises(SettingsError, match=f"{ENV_INGEST_WORKERS}='{bad}' must be"):
            Settings.from_env({**home, ENV_INGEST_WORKERS: bad})
