"""Validate lake partitions (Parquet files) against a suite. Dagster asset checks call this."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from pipelines.lib.quality.outcome import SuiteOutcome
from pipelines.lib.quality.validate import validate_frame
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, EVENTS_COLUMNS
from pipelines.lib.settings import EXPECTATIONS_DIR

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
) -> SuiteOutcome:
    """Read every Parquet file of one partition into one frame and validate it."""
    return validate_frame(
        suite_name, read_parquet_frame(suite_name, parquet_paths), expectations_dir=expectations_dir
    )


def read_parquet_frame(suite_name: str, parquet_paths: list[Path]) -> pd.DataFrame:
    """One pandas frame of the files, or an empty canonical frame when there are none."""
    if not parquet_paths:
        return _empty_frame(CANONICAL_COLUMNS.get(suite_name, {}))
    # DuckDB's own conversion (nullable Int64, datetime64, str), not Arrow-backed dtypes: GX
    # fingerprints every batch with pandas hashing, which is ~3x slower on Arrow arrays.
    with duckdb.connect() as con:
        # No union_by_name: one partition is one writer's output, and silently null-filling a
        # column missing from one file would hide exactly the drift the suite looks for.
        return con.read_parquet([str(Path(p)) for p in parquet_paths]).df()


def _empty_frame(columns: dict[str, str]) -> pd.DataFrame:
    if not columns:
        return pd.DataFrame()
    projection = ", ".join(f"cast(null as {dtype}) as {name}" for name, dtype in columns.items())
    with duckdb.connect() as con:
        return con.sql(f"select {projection} limit 0").df()
