"""Validate lake partitions (Parquet files) against a suite. Dagster asset checks call this.

The default engine runs the suite inside DuckDB over the files (`sql_suite.py`): no pandas copy
of the day and no GX start-up. `engine="gx"` reads the files into one pandas frame and hands it
to GX (`validate.py`), the reference the DuckDB rules are tested against.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.duckdb_memory import DuckDBMemory
from pipelines.lib.ingest.sql import quote_literal
from pipelines.lib.quality.outcome import SuiteOutcome
from pipelines.lib.quality.sql_suite import validate_relation
from pipelines.lib.quality.validate import validate_frame
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, EVENTS_COLUMNS
from pipelines.lib.settings import EXPECTATIONS_DIR, QUALITY_ENGINES

# Canonical shapes for suites named after a canonical table: an empty partition (no files)
# then validates as zero rows of the right columns, a warning rather than a missing-column error.
CANONICAL_COLUMNS: dict[str, dict[str, str]] = {
    "events": EVENTS_COLUMNS,
    "ad_performance": AD_PERFORMANCE_COLUMNS,
}


def check_partition_parquet(
    suite_name: str,
    parquet_paths: list[Path],
    *,
    expectations_dir: Path = EXPECTATIONS_DIR,
    engine: str = QUALITY_ENGINES[0],
    memory: DuckDBMemory | None = None,
) -> SuiteOutcome:
    """Validate every Parquet file of one partition as one table (`memory` bounds DuckDB)."""
    if engine == "gx":
        frame = read_parquet_frame(suite_name, parquet_paths)
        return validate_frame(suite_name, frame, expectations_dir=expectations_dir)
    if engine != "duckdb":
        raise ValueError(f"unknown quality engine {engine!r} (one of {QUALITY_ENGINES})")
    with duckdb.connect() as con:
        if memory is not None:
            memory.apply(con, "quality")
        relation = _parquet_relation(suite_name, parquet_paths)
        return validate_relation(suite_name, con, relation, expectations_dir=expectations_dir)


def _parquet_relation(suite_name: str, parquet_paths: list[Path]) -> str:
    if not parquet_paths:
        return f"({_empty_select(CANONICAL_COLUMNS.get(suite_name, {}))})"
    files = ", ".join(quote_literal(str(Path(p))) for p in parquet_paths)
    # No union_by_name: one partition is one writer's output, and silently null-filling a
    # column missing from one file would hide exactly the drift the suite looks for.
    return f"read_parquet([{files}])"


def read_parquet_frame(suite_name: str, parquet_paths: list[Path]) -> pd.DataFrame:
    """One pandas frame of the files, or an empty canonical frame when there are none."""
    with duckdb.connect() as con:
        if not parquet_paths:
            columns = CANONICAL_COLUMNS.get(suite_name, {})
            return con.sql(_empty_select(columns)).df() if columns else pd.DataFrame()
        # DuckDB's own conversion (nullable Int64, datetime64, str), not Arrow-backed dtypes: GX
        # fingerprints every batch with pandas hashing, which is ~3x slower on Arrow arrays.
        return con.sql(f"select * from {_parquet_relation(suite_name, parquet_paths)}").df()


def _empty_select(columns: dict[str, str]) -> str:
    if not columns:
        return "select null as no_columns limit 0"
    projection = ", ".join(f"cast(null as {dtype}) as {name}" for name, dtype in columns.items())
    return f"select {projection} limit 0"
