"""The `microfunnel` subcommands. Pipeline work goes through Dagster: every run shows in the UI."""

from __future__ import annotations

import argparse
import os
import time
import webbrowser
from datetime import date
from pathlib import Path

from pipelines.cli.console import Console
from pipelines.cli.errors import EXIT_FAILED, UserError
from pipelines.cli.preflight import check_run_settings
from pipelines.lib.dagster_home import write_instance_config
from pipelines.lib.settings import (
    ENV_END_DATE,
    ENV_LANDING_DIR,
    ENV_PSEUDONYMIZATION_KEY,
    ENV_START_DATE,
    ENV_WAREHOUSE_DIR,
    REPO_ROOT,
    Settings,
)

DEMO_START = date(2024, 3, 1)
DEMO_END = date(2024, 3, 14)
# Public, for sample data only: real exports need a secret key of their own.
DEMO_PSEUDONYMIZATION_KEY = "microfunnel-demo-key-not-a-secret"


def ensure_dagster_home() -> Path:
    """Runs are recorded in DAGSTER_HOME (default .dagster_home in the repository)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home")))
    write_instance_config(home)
    return home


def export_absolute_paths(settings: Settings) -> None:
    """This process's Dagster code and its dbt child read the same variables: make them
    absolute, so a relative path means the same folder to both."""
    os.environ[ENV_LANDING_DIR] = str(settings.landing_dir)
    os.environ[ENV_WAREHOUSE_DIR] = str(settings.warehouse_dir)
    os.environ["MICROFUNNEL_FUNNELS_FILE"] = str(settings.funnels_file)


def use_demo_key_if_unset(console: Console | None = None) -> bool:
    """Sample-data flows: set the public demo key unless the user set a key; True if set."""
    if os.environ.get(ENV_PSEUDONYMIZATION_KEY):
        return False
    os.environ[ENV_PSEUDONYMIZATION_KEY] = DEMO_PSEUDONYMIZATION_KEY
    (console or Console()).say(
        f"{ENV_PSEUDONYMIZATION_KEY} is not set: using the public demo key for the sample data "
        "(not a secret; set your own key for real exports)"
    )
    return True


def use_demo_partitions_if_unset() -> None:
    """The demo's daily partitions are its two weeks, so the UI shows them all filled."""
    os.environ.setdefault(ENV_START_DATE, DEMO_START.isoformat())
    os.environ.setdefault(ENV_END_DATE, DEMO_END.isoformat())


def _is_demo_landing(settings: Settings) -> bool:
    return settings.landing_dir == Settings.from_env({}).landing_dir


# --- generate ----------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace, console: Console) -> int:
    from pipelines.lib.generator import generate_exports

    if args.end < args.start:
        raise UserError(f"--end {args.end} is before --start {args.start} (both are included)")
    if args.events_per_day < 1:
        raise UserError(f"--events-per-day must be at least 1, got {args.events_per_day}")
    settings = Settings.from_env()
    landing = Path(args.landing_dir).resolve() if args.landing_dir else settings.landing_dir
    began = time.monotonic()
    summary = generate_exports(
        landing,
        args.start,
        args.end,
        events_per_day=args.events_per_day,
        seed=args.seed,
        gzip=args.gzip,
    )
    console.say(f"Wrote sample exports for {args.start} .. {args.end} to {landing}")
    console.say(
        f"  {sum(summary.events_per_day.values()):,} GA4 events in {len(summary.events_per_day)} "
        f"export days, {summary.ad_rows:,} Google Ads rows, {len(summary.campaigns)} campaigns "
        f"({time.monotonic() - began:.1f} s)"
    )
    if not os.environ.get(ENV_PSEUDONYMIZATION_KEY):
        console.say(
            f"Note: `microfunnel run` needs {ENV_PSEUDONYMIZATION_KEY}; `microfunnel demo` "
            "uses a public demo key when it is unset."
        )
    return 0


# --- run / demo ---------------------------------------------------------------------------------


def run_range(start: date, end: date, console: Console, *, verbose: bool = False) -> bool:
    """Check the settings, then materialize the nightly job over [start, end] as one run."""
    from pipelines.runner import RunObserver, run_nightly_job

    settings = Settings.from_env()
    check_run_settings(settings, start, end)
    ensure_dagster_home()
    export_absolute_paths(settings)
    days = (end - start).days + 1
    console.say(
        f"Running the nightly job for {start} .. {end} ({days} day{'s' * (days > 1)}) "
        "as one Dagster run"
    )
    began = time.monotonic()
    observer = RunObserver(console.progress, console.message, verbose=verbose)
    outcome = run_nightly_job(start, end, observer=observer)
    console.finish_run(outcome.progress)
    if outcome:
        console.say(f"Run {outcome.run_id[:8]} succeeded in {time.monotonic() - began:.0f} s")
        return True
    for failure in outcome.failures:
        console.error(f"{failure.phase} step {failure.step} failed: {failure.message}")
    dbt_log = settings.runs_dir / outcome.run_id / "dbt.log"
    if dbt_log.exists():
        console.say(f"  dbt log: {dbt_log}")
    console.say(
        f"  Every event of run {outcome.run_id[:8]}: `microfunnel ui` (Runs), or rerun with "
        "--verbose"
    )
    return False


def print_outputs(settings: Settings, console: Console) -> None:
    from pipelines.lib.funnel_report.cli_summary import comparison_verdicts, stage_totals
    from pipelines.lib.funnel_report.text_formats import format_stage_table

    reporting_db = settings.reporting_db_path
    for funnel_id, rows in stage_totals(reporting_db).items():
        console.say(f"\nFunnel {funnel_id} (all cohorts, all campaigns)")
        console.say(format_stage_table(rows))
    verdicts = comparison_verdicts(reporting_db)
    if verdicts:
        console.say("\nMicro-commitment sequence vs direct ask (all cohorts):")
        for line in verdicts:
            console.say(f"  {line}")
    console.say("\nOutputs:")
    console.say(f"  lake (canonical Parquet):   {settings.lake_dir}")
    console.say(f"  transformation DuckDB:      {settings.duckdb_path}")
    console.say(f"  reporting DuckDB:           {reporting_db}")
    console.say(f"  reporting Parquet:          {settings.reporting_parquet_dir}")
    console.say(f"  HTML report:                {settings.report_path}")
    console.say(f"  Dagster runs (make ui):     {os.environ.get('DAGSTER_HOME')}")


def cmd_run(args: argparse.Namespace, console: Console) -> int:
    if not run_range(args.start, args.end, console, verbose=args.verbose):
        return EXIT_FAILED
    print_outputs(Settings.from_env(), console)
    return 0


def cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from pipelines.lib.generator import generate_exports

    use_demo_key_if_unset(console)
    use_demo_partitions_if_unset()
    settings = Settings.from_env()
    began = time.monotonic()
    console.say(
        f"Generating sample exports for {DEMO_START} .. {DEMO_END} "
        f"({args.events_per_day:,} events/day) into {settings.landing_dir}"
    )
    generate_exports(
        settings.landing_dir, DEMO_START, DEMO_END, events_per_day=args.events_per_day, seed=7
    )
    console.say(f"  done in {time.monotonic() - began:.1f} s")
    if not run_range(DEMO_START, DEMO_END, console, verbose=args.verbose):
        return EXIT_FAILED
    print_outputs(settings, console)
    return 0


# --- purge / report / ui ------------------------------------------------------------------------


def cmd_purge(args: argparse.Namespace, console: Console) -> int:
    from pipelines.lib.privacy.purge import purge_erased_users

    settings = Settings.from_env()
    erasure_file = settings.erasure_list_path
    if not erasure_file.exists():
        raise UserError(f"no erasure list at {erasure_file}: nothing to purge")
    report = purge_erased_users(
        settings.lake_dir, settings.duckdb_path, erasure_file, settings.pseudonymization_key
    )
    console.say(f"Purged the users listed in {erasure_file}")
    console.say(report.describe())
    console.say(
        "Aggregates still count them until the next run rebuilds the open cohorts; "
        "`microfunnel run --start <first day> --end <last day>` rebuilds every cohort and "
        "republishes the reporting outputs."
    )
    return 0


def cmd_report(args: argparse.Namespace, console: Console) -> int:
    report = Settings.from_env().report_path
    if not report.exists():
        raise UserError(f"no report yet at {report}: run `microfunnel run` first")
    console.say(str(report))
    if args.open:
        webbrowser.open(report.as_uri())
    return 0


def cmd_ui(args: argparse.Namespace, console: Console) -> int:
    from pipelines.cli.ui import serve_ui

    ensure_dagster_home()
    settings = Settings.from_env()
    if _is_demo_landing(settings):
        # The UI on the demo's data: runs launched there hash ids with the demo's key, and
        # the partitions are the demo's days.
        use_demo_key_if_unset(console)
        use_demo_partitions_if_unset()
    export_absolute_paths(Settings.from_env())
    console.say(
        f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it and everything it started)"
    )
    return serve_ui(args.port, args.host)
