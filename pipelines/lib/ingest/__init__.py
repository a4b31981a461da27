"""Ingestion adapters: platform export files -> canonical rows in DuckDB temp tables.

Plain Python + DuckDB (no Dagster); the Dagster assets call these and write the lake.
"""

from __future__ import annotations

from .errors import IngestError
from .ga4 import load_ga4_day
from .google_ads import load_google_ads
from .lake import read_partitions_sql, write_partition
from .result import FileCounts, IngestResult

__all__ = [
    "FileCounts",
    "IngestError",
    "IngestResult",
    "load_ga4_day",
    "load_google_ads",
    "read_partitions_sql",
    "write_partition",
]
