"""`microfunnel` command line. Pipeline work goes through Dagster so every run shows in the UI."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import webbrowser
from datetime import date
from pathlib import Path

from pipelines.lib.settings import (
    ENV_LANDING_DIR,
    ENV_PSEUDONYMIZATION_KEY,
    REPO_ROOT,
    Settings,
)

DEMO_START = date(2024, 3, 1)
DEMO_END = date(2024, 3, 14)
# Public, for sample data only: real exports need a secret key of their own.
DEMO_PSEUDONYMIZATION_KEY = "microfunnel-demo-key-not-a-secret"


def _ensure_dagster_home() -> Path:
    """Runs are recorded in DAGSTER_HOME (default .dagster_home in the repository)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(
            "# Written by microfunnel: one writer at a time per DuckDB pool.\n"
            "concurrency:\n  pools:\n    default_limit: 1\n"
            "telemetry:\n  enabled: false\n"
        )
    return home


def _export_absolute_paths(settings: Settings) -> None:
    """dbt and the code location read the same variables: hand them absolute paths."""
    os.environ[ENV_LANDING_DIR] = str(settings.landing_dir)
    os.environ["MICROFUNNEL_WAREHOUSE_DIR"] = str(settings.warehouse_dir)
    os.environ["MICROFUNNEL_FUNNELS_FILE"] = str(settings.funnels_file)


def use_demo_key_if_unset() -> bool:
    """Sample-data flows: set the public demo key unless the user set a key; True if set."""
    if os.environ.get(ENV_PSEUDONYMIZATION_KEY):
        return False
    os.environ[ENV_PSEUDONYMIZATION_KEY] = DEMO_PSEUDONYMIZATION_KEY
    print(
        f"{ENV_PSEUDONYMIZATION_KEY} is not set: using the public demo key for the sample data "
        "(not a secret; set your own key for real exports)"
    )
    return True


def cmd_generate(args: argparse.Namespace) -> int:
    from pipelines.lib.generator import generate_exports

    settings = Settings.from_env()
    landing = Path(args.landing_dir) if args.landing_dir else settings.landing_dir
    summary = generate_exports(
        landing,
        args.start,
        args.end,
        events_per_day=args.events_per_day,
        seed=args.seed,
        gzip=args.gzip,
    )
    print(f"Wrote sample exports to {landing}")
    print(summary)
    if not os.environ.get(ENV_PSEUDONYMIZATION_KEY):
        print(
            f"Note: `microfunnel run` needs {ENV_PSEUDONYMIZATION_KEY}; `microfunnel demo` "
            "uses a public demo key when it is unset."
        )
    return 0


def run_range(start: date, end: date) -> bool:
    """Materialize the nightly job over [start, end] as one Dagster run."""
    from pipelines.runner import run_nightly_job

    _ensure_dagster_home()
    settings = Settings.from_env()
    _export_absolute_paths(settings)
    return run_nightly_job(start, end)


def _print_outputs(settings: Settings) -> None:
    from pipelines.lib.report.html import format_stage_table
    from pipelines.lib.reporting_queries import comparison_verdicts, stage_totals

    reporting_db = settings.reporting_dir / "reporting.duckdb"
    for funnel_id, rows in stage_totals(reporting_db).items():
        print(f"\nFunnel {funnel_id} (all cohorts, all campaigns)")
        print(format_stage_table(rows))
    verdicts = comparison_verdicts(reporting_db)
    if verdicts:
        print("\nMicro-commitment sequence vs direct ask (all cohorts):")
        for line in verdicts:
            print(f"  {line}")
    print("\nOutputs:")
    print(f"  lake (canonical Parquet):   {settings.lake_dir}")
    print(f"  transformation DuckDB:      {settings.duckdb_path}")
    print(f"  reporting DuckDB:           {reporting_db}")
    print(f"  reporting Parquet:          {settings.reporting_dir / 'parquet'}")
    print(f"  HTML report:                {settings.reporting_dir / 'funnel_report.html'}")
    print(f"  Dagster runs (make ui):     {os.environ.get('DAGSTER_HOME')}")


def cmd_run(args: argparse.Namespace) -> int:
    if args.end < args.start:
        print("--end must not be before --start", file=sys.stderr)
        return 2
    ok = run_range(args.start, args.end)
    if ok:
        _print_outputs(Settings.from_env())
    return 0 if ok else 1


def cmd_demo(args: argparse.Namespace) -> int:
    use_demo_key_if_unset()
    settings = Settings.from_env()
    from pipelines.lib.generator import generate_exports

    print(f"Generating {DEMO_START}..{DEMO_END} sample exports into {settings.landing_dir}")
    generate_exports(
        settings.landing_dir, DEMO_START, DEMO_END, events_per_day=args.events_per_day, seed=7
    )
    print("Running the nightly job over the range through Dagster ...")
    ok = run_range(DEMO_START, DEMO_END)
    if ok:
        _print_outputs(settings)
    return 0 if ok else 1


def cmd_purge(args: argparse.Namespace) -> int:
    from pipelines.lib.privacy import PseudonymizationKeyError
    from pipelines.lib.privacy.purge import purge_erased_users

    settings = Settings.from_env()
    erasure_file = settings.erasure_list_path
    if not erasure_file.exists():
        print(f"No erasure list at {erasure_file}: nothing to purge.", file=sys.stderr)
        return 1
    try:
        report = purge_erased_users(
            settings.lake_dir, settings.duckdb_path, erasure_file, settings.pseudonymization_key
        )
    except PseudonymizationKeyError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"Purged the users listed in {erasure_file}")
    print(report.describe())
    print(
        "Aggregates still count them until the next run rebuilds the open cohorts; "
        "`microfunnel run --start <first day> --end <last day>` rebuilds every cohort and "
        "republishes the reporting outputs."
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    report = Settings.from_env().reporting_dir / "funnel_report.html"
    if not report.exists():
        print(f"No report yet at {report}: run `microfunnel run` first.", file=sys.stderr)
        return 1
    print(report)
    if args.open:
        webbrowser.open(report.as_uri())
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    _ensure_dagster_home()
    settings = Settings.from_env()
    if settings.landing_dir == Settings.from_env({}).landing_dir:
        # The UI on the demo's data: runs launched there hash ids with the demo's key.
        use_demo_key_if_unset()
    _export_absolute_paths(settings)
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-w", str(REPO_ROOT / "workspace.yaml"), "-p", str(args.port)]
    return subprocess.call(command, cwd=REPO_ROOT)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microfunnel", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    generate = sub.add_parser("generate", help="write realistic sample exports")
    generate.add_argument("--start", type=date.fromisoformat, required=True)
    generate.add_argument("--end", type=date.fromisoformat, required=True)
    generate.add_argument("--events-per-day", type=int, default=20_000)
    generate.add_argument("--seed", type=int, default=7)
    generate.add_argument("--gzip", action="store_true")
    generate.add_argument("--landing-dir", help="default: MICROFUNNEL_LANDING_DIR")
    generate.set_defaults(func=cmd_generate)

    run = sub.add_parser("run", help="run the pipeline over a date range (one Dagster run)")
    run.add_argument("--start", type=date.fromisoformat, required=True)
    run.add_argument("--end", type=date.fromisoformat, required=True)
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser("demo", help="generate two weeks of exports and run everything")
    demo.add_argument("--events-per-day", type=int, default=20_000)
    demo.set_defaults(func=cmd_demo)

    purge = sub.add_parser(
        "purge",
        help="remove users on the erasure list (MICROFUNNEL_ERASURE_FILE) from the lake and marts",
    )
    purge.set_defaults(func=cmd_purge)

    report = sub.add_parser("report", help="print (and --open) the HTML report's path")
    report.add_argument("--open", action="store_true")
    report.set_defaults(func=cmd_report)

    ui = sub.add_parser("ui", help="open the Dagster UI on the same run history")
    ui.add_argument("--port", type=int, default=3000)
    ui.set_defaults(func=cmd_ui)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
