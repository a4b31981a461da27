"""The `microfunnel` subcommands. Pipeline work goes through Dagster: every run shows in the UI."""

from __future__ import annotations

import argparse
import os
import time
import webbrowser
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.cli.console import Console
from pipelines.cli.errors import EXIT_FAILED, UserError
from pipelines.cli.preflight import check_run_settings
from pipelines.lib.dagster_home import write_instance_config
from pipelines.lib.settings import (
    DEMO_PSEUDONYMIZATION_KEY,
    ENV_DAGSTER_HOME,
    ENV_END_DATE,
    ENV_PSEUDONYMIZATION_KEY,
    ENV_START_DATE,
    REPO_ROOT,
    Settings,
)

if TYPE_CHECKING:  # the generator is imported when a command needs it
    from pipelines.lib.generator import GenerationSummary

DEMO_START = date(2024, 3, 1)
DEMO_END = date(2024, 3, 14)


def ensure_dagster_home() -> Path:
    """Runs are recorded in DAGSTER_HOME (default .dagster_home in the repository)."""
    home = Path(os.environ.get(ENV_DAGSTER_HOME) or REPO_ROOT / ".dagster_home")
    write_instance_config(home)
    return home


def use_demo_key_if_unset(settings: Settings, console: Console | None = None) -> Settings:
    """Sample-data flows: the public demo key unless the user set a key of their own."""
    if settings.pseudonymization_key:
        return settings
    (console or Console()).say(
        f"{ENV_PSEUDONYMIZATION_KEY} is not set: using the public demo key for the sample data "
        "(not a secret; set your own key for real exports)"
    )
    return replace(settings, pseudonymization_key=DEMO_PSEUDONYMIZATION_KEY)


def use_demo_partitions_if_unset(
    settings: Settings, environ: Mapping[str, str] = os.environ
) -> Settings:
    """The demo's daily partitions are its two weeks, so the UI shows them all filled."""
    return replace(
        settings,
        start_date=settings.start_date if environ.get(ENV_START_DATE) else DEMO_START,
        end_date=settings.end_date if environ.get(ENV_END_DATE) else DEMO_END,
    )


def _is_demo_landing(settings: Settings) -> bool:
    return settings.landing_dir == Settings.from_env({}).landing_dir


# --- generate ----------------------------------------------------------------------------------


def cmd_generate(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    from pipelines.lib.generator import generate_exports

    if args.end < args.start:
        raise UserError(f"--end {args.end} is before --start {args.start} (both are included)")
    if args.events_per_day < 1:
        raise UserError(f"--events-per-day must be at least 1, got {args.events_per_day}")
    landing = Path(args.landing_dir).resolve() if args.landing_dir else settings.landing_dir
    began = time.monotonic()
    try:
        summary = generate_exports(
            landing,
            args.start,
            args.end,
            events_per_day=args.events_per_day,
            seed=args.seed,
            gzip=args.gzip,
            ads=args.ads,
            ads_shape=args.google_format,
            meta_format=args.meta_format,
            trackers=args.trackers,
        )
    except ValueError as error:  # e.g. tracker shares that do not add up to 1
        raise UserError(str(error)) from error
    console.say(f"Wrote sample exports for {args.start} .. {args.end} to {landing}")
    describe_generation(summary, console)
    console.say(f"  ({time.monotonic() - began:.1f} s)")
    if not settings.pseudonymization_key:
        console.say(
            f"Note: `microfunnel run` needs {ENV_PSEUDONYMIZATION_KEY}; `microfunnel demo` "
            "uses a public demo key when it is unset."
        )
    return 0


def describe_generation(summary: GenerationSummary, console: Console) -> None:
    """One line per source: files written and what they hold."""
    if summary.events_per_day:
        console.say(
            f"  ga4: {summary.files_per_source.get('ga4', 0)} files, "
            f"{sum(summary.events_per_day.values()):,} events"
        )
    for tracker, events in summary.site_events_per_tracker.items():
        console.say(
            f"  {tracker}: {summary.files_per_source.get(tracker, 0)} files, {events:,} events"
        )
    for platform, rows in summary.ad_rows_per_platform.items():
        console.say(
            f"  {platform}: {summary.files_per_source.get(platform, 0)} files, {rows:,} ad rows "
            f"({summary.currencies[platform]})"
        )
    console.say(f"  {len(summary.campaigns)} campaigns")


# --- run / demo ---------------------------------------------------------------------------------


def run_range(
    settings: Settings, start: date, end: date, console: Console, *, verbose: bool = False
) -> bool:
    """Check the settings, then materialize the nightly job over [start, end] as one run."""
    import dagster as dg

    from pipelines.lib.dbt_project import prepare_dbt_project
    from pipelines.runner import RunObserver, run_nightly_job

    check_run_settings(settings, start, end)
    home = ensure_dagster_home()
    # The asset definitions are built from dbt's manifest: parse the models as they are now.
    prepare_dbt_project()
    days = (end - start).days + 1
    console.say(
        f"Running the nightly job for {start} .. {end} ({days} day{'s' * (days > 1)}) "
        "as one Dagster run"
    )
    began = time.monotonic()
    observer = RunObserver(console.progress, console.message, verbose=verbose)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        outcome = run_nightly_job(settings, start, end, instance=instance, observer=observer)
    console.finish_run(outcome.progress)
    if outcome:
        console.say(f"Run {outcome.run_id[:8]} succeeded in {time.monotonic() - began:.0f} s")
        return True
    for failure in outcome.failures:
        console.error(f"{failure.phase} step {failure.step} failed: {failure.message}")
    dbt_log = settings.dbt_log(outcome.run_id)
    if dbt_log.exists():
        console.say(f"  dbt log: {dbt_log}")
    console.say(
        f"  Every event of run {outcome.run_id[:8]}: `microfunnel ui` (Runs), or rerun with "
        "--verbose"
    )
    return False


def print_outputs(settings: Settings, console: Console) -> None:
    """Each funnel's stage table and the comparison verdicts, then where the outputs are."""
    from pipelines.lib.funnel_report.cli_summary import (
        comparison_verdicts,
        platform_stages,
        stage_totals,
    )
    from pipelines.lib.funnel_report.text_formats import format_platform_table, format_stage_table

    reporting_db = settings.reporting_db_path
    for funnel_id, rows in stage_totals(reporting_db).items():
        console.say(f"\nFunnel {funnel_id} (all cohorts, all campaigns)")
        console.say(format_stage_table(rows))
    for funnel_id, rows in platform_stages(reporting_db).items():
        console.say(f"\nFunnel {funnel_id} by ad platform (journeys reaching each stage)")
        console.say(format_platform_table(rows, settings.reporting_currency))
    verdicts = comparison_verdicts(reporting_db)
    if verdicts:
        console.say("\nMicro-commitment sequence vs direct ask (all cohorts):")
        for line in verdicts:
            console.say(f"  {line}")
    console.say("\nOutputs:")
    console.say(f"  lake (canonical Parquet):   {settings.lake_dir}")
    if settings.engine == "spark":
        console.say(f"  Spark tables (Parquet):     {settings.spark_marts_dir}")
    else:
        console.say(f"  transformation DuckDB:      {settings.duckdb_path}")
    console.say(f"  reporting DuckDB:           {reporting_db}")
    console.say(f"  reporting Parquet:          {settings.reporting_parquet_dir}")
    console.say(f"  HTML report:                {settings.report_path}")
    console.say(f"  Dagster runs (make ui):     {ensure_dagster_home()}")


def cmd_run(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    if args.engine:
        settings = replace(settings, engine=args.engine)
    if not run_range(settings, args.start, args.end, console, verbose=args.verbose):
        return EXIT_FAILED
    print_outputs(settings, console)
    return 0


def cmd_demo(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    from pipelines.lib.generator import generate_exports

    settings = use_demo_partitions_if_unset(use_demo_key_if_unset(settings, console))
    began = time.monotonic()
    console.say(
        f"Generating sample exports for {DEMO_START} .. {DEMO_END} "
        f"({args.events_per_day:,} events/day) into {settings.landing_dir}"
    )
    # The default mix: GA4 plus every ad platform's report, side by side in the report.
    summary = generate_exports(
        settings.landing_dir, DEMO_START, DEMO_END, events_per_day=args.events_per_day, seed=7
    )
    describe_generation(summary, console)
    console.say(f"  done in {time.monotonic() - began:.1f} s")
    if not run_range(settings, DEMO_START, DEMO_END, console, verbose=args.verbose):
        return EXIT_FAILED
    print_outputs(settings, console)
    return 0


# --- purge / report / ui ------------------------------------------------------------------------


def cmd_purge(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    from pipelines.lib.privacy.purge import purge_erased_users

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
    if settings.spark_dir.exists():
        # Spark's date partitions are only replaced where a rebuild has rows (README: Spark).
        console.say(
            f"The Spark engine's tables in {settings.spark_dir} still hold them: remove that "
            "folder, then run the whole range with --engine spark to rebuild them from the lake."
        )
    return 0


def cmd_report(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    report = settings.report_path
    if not report.exists():
        raise UserError(f"no report yet at {report}: run `microfunnel run` first")
    console.say(str(report))
    if args.open:
        webbrowser.open(report.as_uri())
    return 0


def cmd_ui(args: argparse.Namespace, console: Console, settings: Settings) -> int:
    from pipelines.cli.ui import serve_ui

    home = ensure_dagster_home()
    if _is_demo_landing(settings):
        # The UI on the demo's data: runs launched there hash ids with the demo's key, and
        # the partitions are the demo's days.
        settings = use_demo_partitions_if_unset(use_demo_key_if_unset(settings, console))
    console.say(
        f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it and everything it started)"
    )
    # The UI's processes read their settings from the environment this process gives them.
    child_env = {**os.environ, **settings.environ(), ENV_DAGSTER_HOME: str(home)}
    return serve_ui(args.port, args.host, child_env)
