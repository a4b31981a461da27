"""Several export days of a backfill ingested at once, each on its own DuckDB cursor.

A cursor is a connection to the same in-memory database: it shares the memory limit and the
spill folder, but has its own temp tables, session variables (the pseudonymization key) and
time zone, so days never see each other's rows. DuckDB releases the GIL while it works, so
threads run days in parallel; each day's own queries are parallel inside DuckDB too, which is
why a few workers are enough.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import duckdb

Item = TypeVar("Item")
Result = TypeVar("Result")


def load_days_in_parallel(
    con: duckdb.DuckDBPyConnection,
    items: Sequence[Item],
    load: Callable[[duckdb.DuckDBPyConnection, Item], Result],
    workers: int,
) -> list[Result]:
    """`load(cursor, item)` for every item, at most `workers` at a time; results in item order.

    The first failure (in item order) is raised once the days already started have finished,
    so none is left half-written; days not started yet are not loaded.
    """

    def on_own_cursor(item: Item) -> Result:
        with con.cursor() as cursor:
            return load(cursor, item)

    if workers <= 1 or len(items) <= 1:
        return [load(con, item) for item in items]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest-day") as pool:
        futures = [pool.submit(on_own_cursor, item) for item in items]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()  # days not started yet stay for the next run, as they would
            raise
