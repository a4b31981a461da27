"""Privacy at ingest: keyed pseudonyms for user ids and IPs, and the erasure list.

`protect_events` is the one call ingestion makes, right after loading a day: after it, the
temp tables hold no raw user id and no row of an erased user, so neither can reach the lake.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ..ingest.result import IngestResult
from .erasure import (
    ErasedFileCounts,
    create_erased_table,
    erase_from_result,
    erased_rows,
    read_erasure_list,
)
from .pseudonymize import (
    PseudonymizationKeyError,
    pseudonym_sql,
    pseudonymization_key,
    pseudonymize_result,
    require_key,
)


def protect_events(
    con: duckdb.DuckDBPyConnection,
    result: IngestResult,
    key: str | None,
    erasure_file: Path,
) -> IngestResult:
    """Pseudonymize ids in both tables of `result`, then drop rows of erased users.

    Fails (PseudonymizationKeyError, naming MICROFUNNEL_PSEUDONYMIZATION_KEY) without a key.
    """
    require_key(key)
    protected = pseudonymize_result(con, result, key)
    raw_ids = read_erasure_list(erasure_file)
    if not raw_ids:
        return protected
    with pseudonymization_key(con, key):
        erased = create_erased_table(con, raw_ids)
    try:
        return erase_from_result(con, protected, erased)
    finally:
        con.execute(f"drop table if exists {erased}")


__all__ = [
    "ErasedFileCounts",
    "PseudonymizationKeyError",
    "erased_rows",
    "protect_events",
    "pseudonym_sql",
    "pseudonymization_key",
    "read_erasure_list",
    "require_key",
]
