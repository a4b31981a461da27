"""Nightly cost against history: the same nightly day after H1 and after H2 days of history.

Run: .venv/bin/python benchmarks/bench_history.py [--events-per-day N] [--history 7,30]

Generates max(H) + 1 days of sample exports once (GA4 and the five ad platforms), then for each
history length H, in its own MICROFUNNEL_HOME and DAGSTER_HOME reading that one landing zone:

1. a history run over the H days before the measured day (one Dagster run, single-run backfill);
2. the measured run: the nightly job for the last day alone, in a fresh worker process.

It prints, per H, the measured run's wall seconds, its steps and dbt's slowest nodes, and the
ratio of each against the shortest history. A nightly whose cost does not grow with history
gives ratios near 1.0 once every history is longer than the rebuild window (the longest funnel
window plus the late-data allowance plus one day: 11 days with the demo funnels); below that,
a shorter history also means fewer days in the window.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_nightly import (  # noqa: E402 (the repository goes on the path first)
    STEPS,
    configure_env,
    print_table,
    read_run_log,
    run_worker,
)

LAST_DAY = date(2024, 2, 15)


def measure(home: Path, landing: Path, history_days: int) -> dict:
    """History run then the measured run, in `home`; returns the measured run's figures."""
    first = LAST_DAY - timedelta(days=history_days)
    configure_env(home, first)
    os.environ["MICROFUNNEL_LANDING_DIR"] = str(landing)
    print(f"history {history_days} days: {first} .. {LAST_DAY - timedelta(days=1)} ...", flush=True)
    history = run_worker(first, LAST_DAY - timedelta(days=1))
    if not history["success"]:
        failures = read_run_log(history["run_id"]).failures
        raise SystemExit(f"history run for {history_days} days failed: {failures}")
    print(f"  history run {history['wall']:.1f}s; measured run for {LAST_DAY} ...", flush=True)
    result = run_worker(LAST_DAY, LAST_DAY)
    log = read_run_log(result["run_id"])
    if not result["success"]:
        raise SystemExit(f"measured run after {history_days} days failed: {log.failures}")
    lake_mb = sum(p.stat().st_size for p in (home / "warehouse" / "lake").rglob("*.parquet")) / 1e6
    print(f"  measured run {result['wall']:.1f}s (lake {lake_mb:,.0f} MB)", flush=True)
    return {"wall": result["wall"], "steps": log.seconds, "nodes": log.dbt_nodes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-day", type=int, default=200_000)
    parser.add_argument("--history", default="7,30", help="history lengths in days, e.g. 7,15,30")
    parser.add_argument("--keep", type=Path, help="work in this (empty or new) folder and keep it")
    args = parser.parse_args()
    lengths = sorted({int(h) for h in args.history.split(",")})
    if lengths[0] < 1:
        parser.error("--history: every length must be at least 1 day")
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench_history_"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        run(work, args.events_per_day, lengths)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, events_per_day: int, lengths: list[int]) -> None:
    from pipelines.lib.generator import generate_exports

    landing = work / "landing"
    first = LAST_DAY - timedelta(days=lengths[-1])
    print(f"generating {events_per_day:,} events/day for {first} .. {LAST_DAY} ...", flush=True)
    started = time.perf_counter()
    generate_exports(landing, first, LAST_DAY, events_per_day=events_per_day)
    print(f"  generated in {time.perf_counter() - started:.1f}s (not in the figures)")
    results = {h: measure(work / f"history_{h}", landing, h) for h in lengths}

    print()
    print(f"Nightly for {LAST_DAY} at {events_per_day:,} events/day, by days of history")
    header = ("", *(f"{h} days" for h in lengths), *(f"{h}/{lengths[0]}" for h in lengths[1:]))
    rows = [header, figures_row("end to end (wall)", results, lengths, lambda r: r["wall"])]
    for key, label in STEPS:
        if all(key in results[h]["steps"] for h in lengths):
            rows.append(figures_row(label, results, lengths, lambda r, k=key: r["steps"][k]))
    print_table(rows)

    slowest = sorted(results[lengths[-1]]["nodes"].items(), key=lambda kv: -kv[1])[:10]
    rows = [("dbt nodes, slowest at the longest history", *header[1:])]
    for name, _ in slowest:
        if all(name in results[h]["nodes"] for h in lengths):
            rows.append(figures_row(name, results, lengths, lambda r, n=name: r["nodes"][n]))
    print()
    print_table(rows)


def figures_row(label: str, results: dict, lengths: list[int], pick) -> tuple[str, ...]:
    values = [pick(results[h]) for h in lengths]
    ratios = [f"{v / values[0]:.2f}" if values[0] else "-" for v in values[1:]]
    return (label, *(f"{v:.2f}" for v in values), *ratios)


if __name__ == "__main__":
    main()
