"""DuckDB against Spark on the same small lake: the same backfill and nightly run on each
engine, their wall and dbt seconds, and whether every mart came out equal.

Run: .venv/bin/python benchmarks/bench_spark.py [--events-per-day N] [--days D] [--keep DIR]
     (needs `make install-spark`: dbt-spark, pyspark and Java)

Generates D + 1 days of sample exports (GA4 with Segment and Snowplow for part of the visitors,
the five ad platforms) once, then in one MICROFUNNEL_HOME (one lake) runs, on DuckDB and then
on Spark (MICROFUNNEL_ENGINE), a backfill of the first D days and the nightly job for the last
day, each a Dagster run in a fresh worker process. Prints per run and engine the wall seconds
and the dbt step's seconds with the Spark / DuckDB ratio, then compares every mart of the two
builds row for row (pipelines/lib/publish/compare.py). Spark runs in local mode
(MICROFUNNEL_SPARK_MASTER, default local[2]); its JVM start and per-statement planning are a
fixed cost that a small lake does not amortize.
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
ENGINES = ("duckdb", "spark")
DBT_STEP = "microfunnel_dbt_models"


def timed_run(engine: str, first: date, last: date) -> tuple[float, float]:
    """(wall seconds, dbt step seconds) of one Dagster run on `engine`."""
    os.environ["MICROFUNNEL_ENGINE"] = engine
    result = run_worker(first, last)
    log = read_run_log(result["run_id"])
    if not result["success"]:
        raise SystemExit(f"{engine} run {first}..{last} failed: {log.failures}")
    return result["wall"], log.seconds.get(DBT_STEP, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-day", type=int, default=3000)
    parser.add_argument("--days", type=int, default=7, help="days in the backfill")
    parser.add_argument("--keep", type=Path, help="use this MICROFUNNEL_HOME and keep it")
    args = parser.parse_args()

    from pipelines.cli.preflight import spark_problems
    from pipelines.lib.generator import generate_exports

    if problems := spark_problems():
        raise SystemExit("Spark is not installed: " + "; ".join(problems))
    home = args.keep or Path(tempfile.mkdtemp(prefix="mf_bench_spark_"))
    night = FIRST_DAY + timedelta(days=args.days)
    try:
        configure_env(home, FIRST_DAY)
        print(
            f"Generating {FIRST_DAY} .. {night} at {args.events_per_day:,} events/day ...",
            flush=True,
        )
        generate_exports(
            home / "landing",
            FIRST_DAY,
            night,
            events_per_day=args.events_per_day,
            trackers=TRACKERS,
        )
        figures: dict[tuple[str, str], tuple[float, float]] = {}
        for engine in ENGINES:
            print(f"{engine}: backfill {FIRST_DAY} .. {night - timedelta(days=1)} ...", flush=True)
            figures["backfill", engine] = timed_run(engine, FIRST_DAY, night - timedelta(days=1))
            print(f"{engine}: nightly {night} ...", flush=True)
            figures["nightly", engine] = timed_run(engine, night, night)
        report(figures, args.days)
    finally:
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)


def report(figures: dict[tuple[str, str], tuple[float, float]], days: int) -> None:
    from pipelines.lib.dbt_project import dbt_project
    from pipelines.lib.publish.compare import compare_marts
    from pipelines.lib.publish.marts import published_marts
    from pipelines.lib.settings import Settings

    print()
    rows = [
        ("run", "DuckDB wall s", "Spark wall s", "ratio", "DuckDB dbt s", "Spark dbt s", "ratio")
    ]
    for run in ("backfill", "nightly"):
        (duck_wall, duck_dbt), (spark_wall, spark_dbt) = (figures[run, e] for e in ENGINES)
        label = f"{run} ({days} days)" if run == "backfill" else run
        rows.append(
            (
                label,
                f"{duck_wall:.1f}",
                f"{spark_wall:.1f}",
                f"{spark_wall / duck_wall:.1f}x",
                f"{duck_dbt:.1f}",
                f"{spark_dbt:.1f}",
                f"{spark_dbt / duck_dbt:.1f}x" if duck_dbt else "-",
            )
        )
    print_table(rows)
    settings = Settings.from_env()
    comparisons = compare_marts(
        settings.duckdb_path, settings.spark_marts_dir, published_marts(dbt_project().manifest_path)
    )
    equal = [c for c in comparisons if c.equal]
    rows_compared = sum(c.left_rows for c in comparisons)
    print()
    print(f"marts equal: {len(equal)}/{len(comparisons)} ({rows_compared:,} rows compared)")
    for comparison in comparisons:
        if not comparison.equal:
            print("  " + comparison.describe())
    lake_mb = sum(p.stat().st_size for p in settings.lake_dir.rglob("*.parquet")) / 1e6
    print(f"lake: {lake_mb:.1f} MB")


if __name__ == "__main__":
    main()
