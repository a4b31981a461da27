"""Ingestion throughput: rows/second for a synthetic 500k-line GA4 NDJSON export day.

Run: .venv/bin/python benchmarks/bench_ingest.py [lines]
Lines are cycled from the GA4 fixture with unique bundle sequence ids, so each row is a full-size
BigQuery export record (nested params, device, geo, traffic source).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.lib.ingest import load_ga4_day  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "ga4" / "events_20240105.json"


def synthesize(path: Path, lines: int) -> None:
    records = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    with path.open("w") as handle:
        for n in range(lines):
            record = records[n % len(records)]
            record["event_bundle_sequence_id"] = str(n)
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events_20240105.json"
        synthesize(path, lines)
        size_mb = path.stat().st_size / 1e6
        con = duckdb.connect()
        started = time.perf_counter()
        result = load_ga4_day(con, [path], date(2024, 1, 5), "UTC", datetime(2024, 1, 6))
        elapsed = time.perf_counter() - started
        threads = con.execute("select current_setting('threads')").fetchone()[0]
        print(result.describe())
        print(
            f"{lines} lines, {size_mb:.0f} MB in {elapsed:.2f}s: {lines / elapsed:,.0f} rows/s, "
            f"{size_mb / elapsed:.1f} MB/s (duckdb threads={threads})"
        )


if __name__ == "__main__":
    main()
