"""A backfill's site-event ingest with one day at a time against several days at once.

Run: .venv/bin/python benchmarks/bench_backfill_ingest.py [--events-per-day N] [--days D]
     [--workers 1,2]

Generates D days of sample exports once (GA4, Segment and Snowplow visitors, five ad
platforms), then for each MICROFUNNEL_INGEST_WORKERS value runs the nightly job over the D days
as one Dagster run (a backfill) in its own MICROFUNNEL_HOME reading that landing zone, each in a
fresh worker process. Prints per value the `ingest_site_events` step's seconds and the run's
wall seconds, with their ratio against the first value, and checks that every value wrote the
same lake (row counts per day of events and quarantine).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_nightly import (  # noqa: E402 (the repository goes on the path first)
    TRACKERS,
    configure_env,
    print_table,
    read_run_log,
    run_worker,
)

FIRST_DAY = date(2024, 3, 1)
STEP = "ingest_site_events"


def lake_counts(warehouse: Path) -> list[tuple]:
    import duckdb

    with duckdb.connect() as con:
        return con.execute(
            f"""
            select 'events', date, count(*) from read_parquet(
                '{warehouse}/lake/events/*/*.parquet', hive_partitioning = true) group by all
            union all
            select 'quarantine', date, count(*) from read_parquet(
                '{warehouse}/lake/events_quarantine/*/*.parquet', hive_partitioning = true)
            group by all
            order by all
            """
        ).fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-day", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=4)
    parser.add_argument("--workers", default="1,2", help="values to compare, comma-separated")
    args = parser.parse_args()
    from pipelines.lib.generator import generate_exports

    workers = [int(w) for w in args.workers.split(",")]
    last = FIRST_DAY + timedelta(days=args.days - 1)
    root = Path(tempfile.mkdtemp(prefix="mf_bench_backfill_"))
    try:
        landing = root / "landing"
        print(f"Generating {FIRST_DAY} .. {last} at {args.events_per_day:,} events/day ...")
        generate_exports(
            landing, FIRST_DAY, last, events_per_day=args.events_per_day, trackers=TRACKERS
        )
        rows = [("workers", "ingest s", "ratio", "run wall s", "ratio")]
        first: tuple[float, float] | None = None
        lakes = []
        for count in workers:
            home = root / f"workers_{count}"
            configure_env(home, FIRST_DAY)
            os.environ["MICROFUNNEL_LANDING_DIR"] = str(landing)
            os.environ["MICROFUNNEL_INGEST_WORKERS"] = str(count)
            print(f"backfill with {count} worker(s) ...", flush=True)
            result = run_worker(FIRST_DAY, last)
            log = read_run_log(result["run_id"])
            if not result["success"]:
                raise SystemExit(f"run with {count} workers failed: {log.failures}")
            ingest, wall = log.seconds[STEP], result["wall"]
            first = first or (ingest, wall)
            rows.append(
                (
                    str(count),
                    f"{ingest:.1f}",
                    f"{ingest / first[0]:.2f}",
                    f"{wall:.1f}",
                    f"{wall / first[1]:.2f}",
                )
            )
            lakes.append(lake_counts(home / "warehouse"))
        print()
        print(f"{args.days} days x {args.events_per_day:,} events/day, {os.cpu_count()} cores")
        print_table(rows)
        same = all(lake == lakes[0] for lake in lakes)
        print(f"same lake rows per day and table for every value: {same}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
