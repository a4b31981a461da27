"""Nightly job throughput: events/second end to end and per step, for one daily partition.

Run: .venv/bin/python benchmarks/bench_nightly.py [--events-per-day N] [--days D] [--keep DIR]
     [--history-events-per-day N] [--memory-limit SIZE] [--trackers T]

Generates D + 1 days of sample exports (N site events per day, GA4 by default; ad reports of all
five platforms, one account in EUR with its exchange rates; --trackers splits visitors across
Segment, Snowplow and the generic format too) into a temporary MICROFUNNEL_HOME,
runs the nightly job once for the first day (history: the lake, dbt and the warehouses exist
before the measured run), then runs it for the last D days as one Dagster run and reports:

- wall seconds and events/second of that run (events = rows in the GA4 export files of the
  measured days, late and duplicate rows included: what ingestion reads);
- seconds and events/second per step, from STEP_START / STEP_SUCCESS in the run's event log;
- peak RSS of the process that ran the job (its VmHWM, which starts afresh at exec) and of its
  largest child, dbt (ru_maxrss, an upper bound: Linux keeps ru_maxrss across exec, so a child
  counts the size the job process had when it forked);
- DuckDB's raw read rate of the same GA4 NDJSON, as a ceiling for the ingest step.

Each Dagster run executes in its own worker process (this script with --_worker), so the peak
memory figures belong to that run alone: generation and the history run are not in them.
Generation is timed separately and is not part of the pipeline figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FIRST_DAY = date(2024, 1, 1)
# Visitor shares per site tracker of the benchmarks that mix trackers (as --trackers takes them).
TRACKERS: dict[str, float | None] = {"ga4": None, "segment": 0.2, "snowplow": 0.1}
STEPS = [  # (step key, label) in execution order
    ("ingest_site_events", "ingest site events"),
    ("ingest_ad_reports", "ingest ad reports"),
    ("funnel_definitions", "funnel definitions"),
    ("exchange_rates", "exchange rates"),
    ("microfunnel_dbt_models", "dbt build"),
    ("reporting_duckdb", "publish duckdb"),
    ("reporting_parquet", "publish parquet"),
    ("reporting_postgres", "publish postgres"),
    ("funnel_report", "report"),
]
DAGSTER_YAML = (  # as pipelines/cli.py `_ensure_dagster_home` writes it
    "# Written by microfunnel: one writer at a time per DuckDB pool.\n"
    "concurrency:\n  pools:\n    default_limit: 1\n"
    "telemetry:\n  enabled: false\n"
)


def configure_env(home: Path, start: date) -> None:
    """Before any definitions load: partitions and the resource read these at load time."""
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(dagster_home)
    os.environ["MICROFUNNEL_HOME"] = str(home)
    os.environ["MICROFUNNEL_LANDING_DIR"] = str(home / "landing")
    os.environ["MICROFUNNEL_WAREHOUSE_DIR"] = str(home / "warehouse")
    os.environ["MICROFUNNEL_START_DATE"] = start.isoformat()
    os.environ.pop("MICROFUNNEL_POSTGRES_URL", None)
    # Sample data only: a throwaway key unless the caller set one (ingestion requires a key).
    os.environ.setdefault("MICROFUNNEL_PSEUDONYMIZATION_KEY", secrets.token_hex(32))


def max_rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def own_peak_rss_mb() -> float:
    """This process's own peak RSS since exec (ru_maxrss would include its parent's at fork)."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024


# --- worker: one Dagster run in a fresh process ------------------------------------------


def worker(start: date, end: date, baseline: list[str]) -> None:
    """Run the nightly job for [start, end]; print one JSON line with the figures."""
    import dagster as dg

    from pipelines.lib.dbt_project import prepare_dbt_project
    from pipelines.lib.settings import Settings
    from pipelines.runner import run_nightly_job

    prepare_dbt_project()
    instance = dg.DagsterInstance.get()
    started = time.perf_counter()
    outcome = run_nightly_job(Settings.from_env(), start, end, instance)
    wall = time.perf_counter() - started
    out = {
        "success": outcome.success,
        "wall": wall,
        # ru_maxrss only grows: read now, before the baseline read below.
        "rss_self_mb": own_peak_rss_mb(),
        "rss_children_mb": max_rss_mb(resource.RUSAGE_CHILDREN),
    }
    out["run_id"] = outcome.run_id
    if baseline:
        out["baseline"] = raw_read(baseline)
    print("BENCH_RESULT " + json.dumps(out), flush=True)


def raw_read(files: list[str]) -> dict[str, float]:
    """DuckDB reading the same NDJSON: lines only, and parsed JSON with an inferred schema."""
    import duckdb

    con = duckdb.connect()
    file_list = "[" + ", ".join(f"'{f}'" for f in files) + "]"
    figures: dict[str, float] = {
        "threads": con.execute("select current_setting('threads')").fetchone()[0]
    }
    queries = {
        "read_csv lines": (
            f"select count(*) from read_csv({file_list}, columns={{'line': 'VARCHAR'}}, "
            "delim='', quote='', escape='', header=false, max_line_size=100000000)"
        ),
        "read_json_auto": (
            f"select count(*) from read_json_auto({file_list}, format='newline_delimited')"
        ),
    }
    for name, sql in queries.items():
        started = time.perf_counter()
        rows = con.execute(sql).fetchone()[0]
        figures[name] = time.perf_counter() - started
        figures[name + " rows"] = rows
    return figures


# --- driver ----------------------------------------------------------------------------


def run_worker(start: date, end: date, baseline: list[Path] | None = None) -> dict:
    cmd = [sys.executable, __file__, "--_worker", start.isoformat(), end.isoformat()]
    cmd += [str(p) for p in baseline or []]
    proc = subprocess.run(cmd, cwd=REPO, env=os.environ.copy(), capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            return json.loads(line.removeprefix("BENCH_RESULT "))
    sys.stderr.write(proc.stdout[-5000:] + proc.stderr[-20000:])
    raise SystemExit(f"worker for {start}..{end} exited {proc.returncode} without a result")


@dataclass
class RunLog:
    """What the event log says about one run: step seconds and where time goes inside steps."""

    seconds: dict[str, float] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    span: float = 0.0  # RUN_START to the last event
    ingest_load: float | None = None  # ingest GA4: step start to its first materialization
    ingest_checks: float | None = None  # ingest GA4: last materialization to last check result
    dbt_nodes: dict[str, float] = field(default_factory=dict)  # dbt node -> execution seconds


def read_run_log(run_id: str) -> RunLog:
    import dagster as dg

    kinds = dg.DagsterEventType
    log = RunLog()
    starts: dict[str, float] = {}
    marks: dict[str, list[tuple[str, float]]] = {}
    run_start = first = last = None
    for entry in dg.DagsterInstance.get().all_logs(run_id):
        first = entry.timestamp if first is None else first
        last = entry.timestamp
        event = entry.dagster_event
        if event is None:
            continue
        key, kind = event.step_key, event.event_type
        if kind == kinds.RUN_START:
            run_start = entry.timestamp
        elif kind == kinds.STEP_START:
            starts[key] = entry.timestamp
        elif kind == kinds.STEP_SKIPPED:
            log.failures.setdefault(key, "skipped")
        elif kind in (kinds.STEP_SUCCESS, kinds.STEP_FAILURE):
            log.seconds[key] = entry.timestamp - starts.get(key, entry.timestamp)
            if kind == kinds.STEP_FAILURE:
                error = event.step_failure_data.error
                log.failures[key] = error.to_string() if error else "failed"
        elif kind in (kinds.ASSET_MATERIALIZATION, kinds.ASSET_CHECK_EVALUATION):
            marks.setdefault(key, []).append((kind.value, entry.timestamp))
            if key == "microfunnel_dbt_models":
                if kind == kinds.ASSET_MATERIALIZATION:
                    name = event.asset_key.to_user_string()
                    metadata = event.event_specific_data.materialization.metadata
                else:
                    data = event.event_specific_data
                    name = f"test {data.asset_key.to_user_string()}:{data.check_name}"
                    metadata = data.metadata
                duration = metadata.get("Execution Duration")
                if duration is not None:
                    log.dbt_nodes[name] = float(getattr(duration, "value", duration))
    log.span = (last or 0.0) - (run_start or first or 0.0)
    ingest = marks.get("ingest_site_events", [])
    mats = [t for kind, t in ingest if kind == kinds.ASSET_MATERIALIZATION.value]
    checks = [t for kind, t in ingest if kind == kinds.ASSET_CHECK_EVALUATION.value]
    if mats and "ingest_site_events" in starts:
        log.ingest_load = mats[0] - starts["ingest_site_events"]
        if checks:
            log.ingest_checks = max(checks) - max(mats)
    return log


def rate(events: int, seconds: float) -> str:
    return f"{events / seconds:,.0f}" if seconds > 0 else "-"


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        print("  " + "  ".join(cells))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def print_breakdown(log: RunLog, top: int = 6) -> None:
    """Inside the two big steps: GA4 load vs its GX checks, and dbt's slowest nodes."""
    if log.ingest_load is not None:
        print()
        print("Ingest GA4, from its event log")
        rows = [("phase", "seconds")]
        rows.append(("read, parse, dedupe, write lake", f"{log.ingest_load:.2f}"))
        if log.ingest_checks is not None:
            rows.append(("GX suites and quarantine check", f"{log.ingest_checks:.2f}"))
        print_table(rows)
    if log.dbt_nodes:
        models = {k: v for k, v in log.dbt_nodes.items() if not k.startswith("test ")}
        tests = {k: v for k, v in log.dbt_nodes.items() if k.startswith("test ")}
        print()
        print(
            f"dbt: {len(models)} models {sum(models.values()):.1f}s, {len(tests)} tests "
            f"{sum(tests.values()):.1f}s (node execution times; dbt runs nodes in parallel)"
        )
        slowest = sorted(log.dbt_nodes.items(), key=lambda kv: -kv[1])[:top]
        print_table([("slowest dbt nodes", "seconds")] + [(k, f"{v:.2f}") for k, v in slowest])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-day", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=1, help="days in the measured run")
    parser.add_argument("--keep", type=Path, help="use this MICROFUNNEL_HOME and keep it")
    parser.add_argument(
        "--trackers",
        default="ga4",
        help="site trackers as name[:share], as `microfunnel generate --trackers` (default ga4)",
    )
    parser.add_argument(
        "--memory-limit", help="MICROFUNNEL_MEMORY_LIMIT for the runs (e.g. 1GB; default: unset)"
    )
    parser.add_argument(
        "--history-events-per-day",
        type=int,
        help="events of the history day (default: --events-per-day); a small history day "
        "makes a 10M-event measured day affordable",
    )
    args = parser.parse_args()
    if args.days < 1:
        parser.error("--days must be at least 1")

    first = FIRST_DAY
    measured_start = first + timedelta(days=1)
    last = measured_start + timedelta(days=args.days - 1)
    if args.keep:
        home = args.keep.resolve()
        if home.exists() and any(home.iterdir()):
            parser.error(f"--keep {home}: the folder must be empty or absent")
        home.mkdir(parents=True, exist_ok=True)
        cleanup = None
    else:
        home = Path(tempfile.mkdtemp(prefix="bench_nightly_"))
        cleanup = home
    try:
        configure_env(home, first)
        if args.memory_limit:
            os.environ["MICROFUNNEL_MEMORY_LIMIT"] = args.memory_limit
        print(f"MICROFUNNEL_MEMORY_LIMIT {os.environ.get('MICROFUNNEL_MEMORY_LIMIT', 'default')}")
        from pipelines.cli.parser import _trackers

        history_events = args.history_events_per_day or args.events_per_day
        bench(
            args.events_per_day,
            first,
            measured_start,
            last,
            home,
            _trackers(args.trackers),
            history_events,
        )
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)


def bench(
    events_per_day: int,
    first: date,
    measured_start: date,
    last: date,
    home: Path,
    trackers: dict[str, float | None],
    history_events: int,
) -> None:
    from pipelines.lib.generator import ga4_path, generate_exports

    landing = home / "landing"
    print(f"MICROFUNNEL_HOME {home}")
    started = time.perf_counter()
    if history_events != events_per_day:
        print(f"generating {history_events:,} events for the history day {first} ...", flush=True)
        generate_exports(landing, first, first, events_per_day=history_events, trackers=trackers)
        first_measured = measured_start
    else:
        first_measured = first
    print(
        f"generating {events_per_day:,} events/day for {first_measured} .. {last} ...", flush=True
    )
    summary = generate_exports(
        landing, first_measured, last, events_per_day=events_per_day, trackers=trackers
    )
    gen_seconds = time.perf_counter() - started
    print(f"  landing zone files per source: {summary.files_per_source}")
    print(f"  ad rows per platform: {summary.ad_rows_per_platform}")
    if summary.site_events_per_tracker:
        print(f"  site events outside GA4: {summary.site_events_per_tracker}")
    measured_days = [
        measured_start + timedelta(days=n) for n in range((last - measured_start).days + 1)
    ]
    events = sum(summary.events_per_day.get(day, 0) for day in measured_days)
    ga4_files = [ga4_path(landing, day, gzip=False) for day in measured_days]
    size_mb = sum(p.stat().st_size for p in ga4_files) / 1e6
    print(f"  generated in {gen_seconds:.1f}s (not part of the pipeline figures)")

    print(f"history run for {first} ...", flush=True)
    history = run_worker(first, first)
    print(f"  {'ok' if history['success'] else 'FAILED'} in {history['wall']:.1f}s")
    if history["success"]:
        print(f"measured run for {measured_start} .. {last} ...", flush=True)
        result = run_worker(measured_start, last, ga4_files)
    else:
        result = history
        print("history run failed; reporting it instead of a measured run")

    log = read_run_log(result["run_id"])
    seconds, failures, wall = log.seconds, log.failures, result["wall"]
    print()
    print(
        f"Nightly job, partition {measured_start}"
        + (f" .. {last}" if last != measured_start else "")
        + f": {events:,} GA4 events ({size_mb:,.0f} MB NDJSON), run {result['run_id']}"
    )
    rows = [("step", "seconds", "share", "events/s")]
    known = {key for key, _ in STEPS}
    ordered = [(key, label) for key, label in STEPS if key in seconds or key in failures]
    ordered += [(key, key) for key in seconds if key not in known]
    for key, label in ordered:
        if key in failures and key not in seconds:
            rows.append((label, failures[key], "", ""))
            continue
        s = seconds[key]
        status = " FAILED" if key in failures else ""
        rows.append((label + status, f"{s:.2f}", f"{s / wall:.0%}", rate(events, s)))
    between = max(log.span - sum(seconds.values()), 0.0)
    setup = max(wall - log.span, 0.0)
    rows.append(("between steps (Dagster)", f"{between:.2f}", f"{between / wall:.0%}", ""))
    rows.append(("load definitions, run setup", f"{setup:.2f}", f"{setup / wall:.0%}", ""))
    rows.append(("end to end (wall)", f"{wall:.2f}", "100%", rate(events, wall)))
    print_table(rows)
    print_breakdown(log)

    print()
    print_table(
        [
            ("peak memory", "MB"),
            ("job process (VmHWM)", f"{result['rss_self_mb']:,.0f}"),
            ("largest child, dbt (ru_maxrss, upper bound)", f"{result['rss_children_mb']:,.0f}"),
        ]
    )

    baseline = result.get("baseline")
    ingest = seconds.get("ingest_site_events")
    if baseline:
        print()
        print(f"Baseline: DuckDB raw read of the same NDJSON (threads={baseline['threads']})")
        rows = [("read", "seconds", "events/s", "MB/s", "ingest GA4 / read")]
        for name in ("read_csv lines", "read_json_auto"):
            s = baseline[name]
            ratio = f"{ingest / s:.1f}x slower" if ingest else "-"
            rows.append((name, f"{s:.2f}", rate(events, s), f"{size_mb / s:,.0f}", ratio))
        if ingest:
            rows.append(
                (
                    "ingest GA4 step",
                    f"{ingest:.2f}",
                    rate(events, ingest),
                    f"{size_mb / ingest:,.0f}",
                    "",
                )
            )
        print_table(rows)

    print()
    total = sum(summary.events_per_day.values())
    print(
        f"Generation (separate, not in the run): {total:,} events over "
        f"{len(summary.events_per_day)} days in {gen_seconds:.1f}s, "
        f"{rate(total, gen_seconds)} events/s"
    )
    if failures:
        print()
        for key, message in failures.items():
            print(f"step {key} did not succeed:\n{message}")
    if not result["success"]:
        raise SystemExit(1)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--_worker":
        worker(date.fromisoformat(sys.argv[2]), date.fromisoformat(sys.argv[3]), sys.argv[4:])
    else:
        main()
