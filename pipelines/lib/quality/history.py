"""Every check result, kept: an append-only lake table to see when quality changed.

One Parquet file per run and asset, `<lake>/check_history/date=YYYY-MM-DD/<run_id>-<asset>.parquet`
(the date is the UTC day of the check), written aside and renamed into place, so readers never
see half a file and nothing is ever rewritten -- except by a retry of the same run and asset,
which replaces its own file with the newer verdict. Query it with `history_sql(lake_dir)`.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from pipelines.lib.ingest.lake import PARTITION_KEY, read_partitions_sql
from pipelines.lib.ingest.sql import quote_literal

HISTORY_TABLE = "check_history"
HISTORY_COLUMNS: dict[str, str] = {
    "asset": "VARCHAR",
    "check_name": "VARCHAR",
    "partition_start": "DATE",  # first and last partition day the result covers
    "partition_end": "DATE",
    "partition_count": "INTEGER",
    "passed": "BOOLEAN",
    "severity": "VARCHAR",  # ERROR (blocks downstream) or WARN
    "metrics": "VARCHAR",  # the key numbers, a JSON object as text
    "run_id": "VARCHAR",
    "checked_at": "TIMESTAMP",  # naive UTC
}
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_TMP = re.compile(r"^\.(?P<final>.+\.parquet)\.tmp-[0-9a-f]{32}$")
# A history write takes milliseconds; a temp file older than this was left by a killed writer.
STALE_TMP_SECONDS = 600


@dataclass(frozen=True)
class CheckRecord:
    asset: str
    check_name: str
    partition_dates: tuple[date, ...]
    passed: bool
    severity: str
    metrics: dict[str, Any] = field(default_factory=dict)


def history_dir(lake_dir: Path) -> Path:
    return Path(lake_dir) / HISTORY_TABLE


def history_file(lake_dir: Path, run_id: str, asset: str, checked_at: datetime) -> Path:
    name = f"{_SAFE.sub('_', run_id)}-{_SAFE.sub('_', asset)}.parquet"
    return history_dir(lake_dir) / f"{PARTITION_KEY}={checked_at.date().isoformat()}" / name


def append_history(
    lake_dir: Path,
    run_id: str,
    asset: str,
    records: Iterable[CheckRecord],
    *,
    checked_at: datetime | None = None,
) -> Path | None:
    """Write one run's results for one asset as a new Parquet file; returns its path (None
    when there is nothing to write)."""
    checked_at = checked_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if checked_at.tzinfo is not None:
        checked_at = checked_at.astimezone(UTC).replace(tzinfo=None)
    rows = [_row(record, run_id, checked_at) for record in records]
    if not rows:
        return None
    final = history_file(lake_dir, run_id, asset, checked_at)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(history_dir(lake_dir), keep_unless_named=final.name)
    # Not matching `*.parquet`, so readers never pick up a file being written.
    tmp = final.with_name(f".{final.name}.tmp-{uuid.uuid4().hex}")
    columns = ", ".join(f"{name} {dtype}" for name, dtype in HISTORY_COLUMNS.items())
    placeholders = ", ".join("?" for _ in HISTORY_COLUMNS)
    try:
        with duckdb.connect() as con:
            con.execute(f"create temp table history ({columns})")
            con.executemany(f"insert into history values ({placeholders})", rows)
            con.execute(
                f"copy history to {quote_literal(str(tmp))} (format parquet, compression zstd)"
            )
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    return final


def remove_stale_temp_files(directory: Path, *, keep_unless_named: str | None = None) -> list[Path]:
    """Delete temp files a killed writer left: those of the file about to be written, and any
    older than STALE_TMP_SECONDS (younger ones may belong to a concurrent writer)."""
    removed: list[Path] = []
    if not directory.is_dir():
        return removed
    now = time.time()
    for path in directory.glob(f"{PARTITION_KEY}=*/.*.tmp-*"):
        match = _TMP.match(path.name)
        if match is None:
            continue
        try:
            stale = now - path.stat().st_mtime > STALE_TMP_SECONDS
        except FileNotFoundError:
            continue
        if stale or match["final"] == keep_unless_named:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def history_sql(lake_dir: Path) -> str:
    """A FROM-able DuckDB expression over the whole history (typed and empty before the first
    write). The `date` column is the UTC day of the check."""
    return read_partitions_sql(history_dir(lake_dir), HISTORY_COLUMNS)


def _row(record: CheckRecord, run_id: str, checked_at: datetime) -> list[Any]:
    days = sorted(record.partition_dates)
    return [
        record.asset,
        record.check_name,
        days[0] if days else None,
        days[-1] if days else None,
        len(days),
        bool(record.passed),
        record.severity,
        json.dumps(_finite(record.metrics), sort_keys=True, default=_json_default, allow_nan=False),
        run_id,
        checked_at,
    ]


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)
