"""Identity stitching stays exact when a nightly run rebuilds only its window.

`int_identity_links_daily` is rebuilt from the rebuild window's events only, read from the lake
folders that can hold them (partition pruning); a link first seen before the window must
survive, a late event inside the window must still win when it is the earliest, and the result
must equal a full rebuild over the whole lake.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from harness.dbt_sql import DBT_PROJECT_DIR
from pipelines.lib.ingest.lake import partition_dir
from pipelines.lib.schemas import EVENTS_COLUMNS

pytestmark = pytest.mark.slow
MODELS = "stg_lake__events int_identity_links_daily int_identity_map"


def _event(n: int, anonymous_id: str, user_id: str | None, at: datetime, export: date) -> dict:
    return {
        "event_id": f"ev-{n}",
        "source": "ga4",
        "event_name": "page_view",
        "event_at": at,
        "event_date": at.date(),
        "user_key": user_id or anonymous_id,
        "anonymous_id": anonymous_id,
        "user_id": user_id,
        "export_date": export,
        "source_file": f"events_{export:%Y%m%d}.json",
        "source_line": n,
        "loaded_at": datetime(2024, 4, 1),
    }


def _write_day(lake: Path, export: date, events: list[dict[str, Any]]) -> None:
    folder = partition_dir(lake / "events", export)
    folder.mkdir(parents=True)
    with duckdb.connect() as con:
        columns = ", ".join(f"{name} {dtype}" for name, dtype in EVENTS_COLUMNS.items())
        con.execute(f"create table t ({columns})")
        for event in events:
            names = ", ".join(event)
            con.execute(
                f"insert into t ({names}) values ({', '.join('?' for _ in event)})",
                list(event.values()),
            )
        con.execute(f"copy t to '{folder / 'part-0.parquet'}' (format parquet)")


def _dbt(work: Path, reprocess_from: str | None, *extra: str) -> None:
    variables = {
        "microfunnel__warehouse_dir": str(work),
        "microfunnel__reprocess_from": reprocess_from,
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--select",
            *MODELS.split(),
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(work / "target"),
            "--log-path",
            str(work / "logs"),
            "--vars",
            json.dumps(variables),
            *extra,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def _identity_map(work: Path) -> set[tuple[str, str, str]]:
    with duckdb.connect(str(work / "microfunnel.duckdb"), read_only=True) as con:
        return set(
            con.execute("select source, anonymous_id, user_id from int_identity_map").fetchall()
        )


def test_a_windowed_rebuild_keeps_old_links_and_equals_a_full_rebuild(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    _write_day(
        lake,
        date(2024, 3, 1),
        [
            _event(1, "anon-a", "user-1", datetime(2024, 3, 1, 10), date(2024, 3, 1)),
            _event(2, "anon-a", None, datetime(2024, 3, 1, 11), date(2024, 3, 1)),
        ],
    )
    _write_day(
        lake,
        date(2024, 3, 20),
        [
            _event(3, "anon-a", "user-2", datetime(2024, 3, 20, 9), date(2024, 3, 20)),
            _event(4, "anon-b", "user-3", datetime(2024, 3, 20, 9), date(2024, 3, 20)),
            _event(5, "anon-c", None, datetime(2024, 3, 20, 9), date(2024, 3, 20)),
        ],
    )
    _dbt(tmp_path, None)
    assert _identity_map(tmp_path) == {("ga4", "anon-a", "user-1"), ("ga4", "anon-b", "user-3")}

    # A later export with a late event for anon-b, earlier than its known link, and a new link.
    _write_day(
        lake,
        date(2024, 3, 21),
        [
            _event(6, "anon-b", "user-4", datetime(2024, 3, 15, 8), date(2024, 3, 21)),
            _event(7, "anon-c", "user-5", datetime(2024, 3, 21, 8), date(2024, 3, 21)),
        ],
    )
    _dbt(tmp_path, "2024-03-10")  # the nightly's window: 2024-03-01 is before it
    windowed = _identity_map(tmp_path)
    assert windowed == {
        ("ga4", "anon-a", "user-1"),  # kept from before the window
        ("ga4", "anon-b", "user-4"),  # the late event is the earliest link
        ("ga4", "anon-c", "user-5"),
    }
    # Partition pruning: the window's query reads the folders from 2024-03-08 on, 2 of 3.
    assert "Scanning Files: 2/3" in _scan_profile(tmp_path, "int_identity_links_daily")

    _dbt(tmp_path, None, "--full-refresh")
    assert _identity_map(tmp_path) == windowed


def _scan_profile(work: Path, model: str) -> str:
    """DuckDB's EXPLAIN ANALYZE of the model's compiled SELECT, as the last run compiled it."""
    compiled = next((work / "target" / "compiled").rglob(f"{model}.sql")).read_text()
    with duckdb.connect(str(work / "microfunnel.duckdb"), read_only=True) as con:
        plan = con.execute(f"explain analyze {compiled}").fetchall()
    return " ".join(" ".join(str(cell) for cell in row) for row in plan).replace("│", " ")
