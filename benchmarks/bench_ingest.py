"""Ingestion throughput, and what the gzip integrity check costs on a large compressed file.

Run: .venv/bin/python benchmarks/bench_ingest.py [lines] [repeat]

Lines are cycled from the GA4 fixture with unique bundle sequence ids, user ids and timestamps,
so each row is a full-size BigQuery export record (nested params, device, geo, traffic source)
and the file compresses about as well as a real export. It prints, for one export day:

- the NDJSON load (`load_ga4_day`), rows/s and MB/s;
- the same day as .json.gz: loaded with the integrity check (CRC-32 and length of every gzip
  member, zlib in a thread while DuckDB reads the file) and with the check switched off, so the
  difference is what the check costs;
- the check alone (`gzip_problem`) against DuckDB alone reading the file's lines.

Each figure is the best of `repeat` runs (default 3). Wall seconds and process CPU seconds (all
threads) are both shown: on a shared machine the CPU figure is the steadier one.
"""

from __future__ import annotations

import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipelines.lib.ingest import lines as lines_module  # noqa: E402
from pipelines.lib.ingest import load_ga4_day  # noqa: E402
from pipelines.lib.ingest.compression import checked_in_background, gzip_problem  # noqa: E402
from pipelines.lib.ingest.lines import append_lines, create_lines_table, create_rejects_table  # noqa: E402

FIXTURE = REPO / "tests" / "fixtures" / "ga4" / "events_20240105.json"
DAY_START_US = 1704412800000000  # 2024-01-05 00:00 UTC


def synthesize(path: Path, lines: int, seed: int = 7) -> None:
    """Fixture records with the values that differ between real events made random: ids,
    timestamps, session ids, engagement times and click ids in the landing URLs."""
    rng = random.Random(seed)
    records = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    token = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"
    with path.open("w") as handle:
        for n in range(lines):
            record = json.loads(json.dumps(records[n % len(records)]))
            record["event_bundle_sequence_id"] = str(n)
            record["user_pseudo_id"] = f"{rng.randrange(10**9, 10**10)}.{rng.randrange(10**9)}"
            record["event_timestamp"] = str(DAY_START_US + rng.randrange(86_400_000_000))
            for param in record.get("event_params") or []:
                value = param["value"]
                if param["key"] == "ga_session_id":
                    value["int_value"] = str(rng.randrange(1704412800, 1704499200))
                elif param["key"] == "engagement_time_msec":
                    value["int_value"] = str(rng.randrange(100, 60_000))
                elif param["key"] == "page_location":
                    gclid = "".join(rng.choices(token, k=40))
                    value["string_value"] += f"&gclid={gclid}"
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")


def compress(source: Path, target: Path) -> None:
    with source.open("rb") as raw, gzip.open(target, "wb", compresslevel=6) as packed:
        shutil.copyfileobj(raw, packed, 1 << 20)


def timed(action: Callable[[], object], repeat: int = 1) -> tuple[float, float, object]:
    """(wall seconds, process CPU seconds, result) of the fastest of `repeat` runs."""
    best: tuple[float, float, object] | None = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        run = (time.perf_counter() - wall, time.process_time() - cpu, result)
        best = run if best is None or run[0] < best[0] else best
    assert best is not None
    return best


def load(path: Path) -> object:
    with duckdb.connect() as con:
        return load_ga4_day(con, [path], date(2024, 1, 5), "UTC", datetime(2024, 1, 6))


def read_lines_only(path: Path) -> int:
    with duckdb.connect() as con:
        create_lines_table(con, "l")
        create_rejects_table(con, "r")
        return append_lines(con, "l", "r", path).lines


@contextmanager
def check_switched_off() -> Iterator[None]:
    """Every file read as if it were not gzip-verified (the baseline of the check's cost)."""
    original = checked_in_background

    def no_check(path: Path, gzipped: bool) -> AbstractContextManager[Future[str | None]]:
        return original(path, gzipped=False)

    with mock.patch.object(lines_module, "checked_in_background", no_check):
        yield


def report(label: str, wall: float, cpu: float, lines: int, megabytes: float) -> None:
    print(
        f"  {label:<34} {wall:7.2f} s wall {cpu:7.2f} s cpu  "
        f"{lines / wall:>10,.0f} rows/s {megabytes / wall:7.1f} MB/s"
    )


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 500_000
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "events_20240105.json"
        packed = Path(tmp) / "events_20240105.json.gz"
        synthesize(plain, lines)
        compress(plain, packed)
        size_mb, packed_mb = plain.stat().st_size / 1e6, packed.stat().st_size / 1e6
        with duckdb.connect() as con:
            threads = con.execute("select current_setting('threads')").fetchone()[0]
        print(
            f"{lines:,} lines, {size_mb:.0f} MB NDJSON, {packed_mb:.0f} MB gzip "
            f"({size_mb / packed_mb:.1f}x), duckdb threads={threads}, best of {repeat}"
        )

        wall, cpu, result = timed(lambda: load(plain), repeat)
        print(result.describe().splitlines()[0])  # type: ignore[attr-defined]
        report("load .json", wall, cpu, lines, size_mb)
        with_check = timed(lambda: load(packed), repeat)
        report("load .json.gz, integrity check", *with_check[:2], lines, size_mb)
        with check_switched_off():
            without = timed(lambda: load(packed), repeat)
        report("load .json.gz, no check", *without[:2], lines, size_mb)
        check = timed(lambda: gzip_problem(packed), repeat)
        report("gzip check alone", *check[:2], lines, size_mb)
        with check_switched_off():
            duckdb_read = timed(lambda: read_lines_only(packed), repeat)
        report("DuckDB reading the .gz lines alone", *duckdb_read[:2], lines, size_mb)
        print(
            f"integrity check: {check[0]:.2f} s alone ({packed_mb / check[0]:.0f} MB/s "
            f"compressed, {size_mb / check[0]:.0f} MB/s of data) = {check[0] / without[0]:.1%} "
            f"of the load; load with it {with_check[0]:.2f} s vs {without[0]:.2f} s without "
            f"({(with_check[0] / without[0] - 1):+.1%} wall, "
            f"{(with_check[1] / without[1] - 1):+.1%} cpu)"
        )


if __name__ == "__main__":
    main()
