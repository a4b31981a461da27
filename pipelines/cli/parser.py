"""Arguments and help text of `microfunnel` and its subcommands."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Callable
from datetime import date
from importlib.metadata import PackageNotFoundError, version

from pipelines.cli import commands
from pipelines.lib.settings import ENGINES

DATES = (
    "Dates are YYYY-MM-DD export days in the reporting timezone (MICROFUNNEL_TIMEZONE); "
    "--end is included."
)
DEBUG = "show the full traceback when something fails"
RUN_SETTINGS = """\
settings (environment variables; README "Settings" lists every one):
  MICROFUNNEL_LANDING_DIR           where exports are dropped      (default: data/landing)
  MICROFUNNEL_WAREHOUSE_DIR         lake, DuckDB files, reports    (default: data/warehouse)
  MICROFUNNEL_PSEUDONYMIZATION_KEY  secret key for user-id hashing (required to ingest)
  MICROFUNNEL_TIMEZONE              reporting timezone             (default: UTC)
  MICROFUNNEL_START_DATE            first daily partition          (default: 2024-01-01)
  MICROFUNNEL_FUNNELS_FILE          funnel definitions             (default: funnels/funnels.yml)
  MICROFUNNEL_POSTGRES_URL          also publish to PostgreSQL     (default: unset)
  MICROFUNNEL_ENGINE                duckdb or spark (or --engine)  (default: duckdb)
  DAGSTER_HOME                      run history for the UI         (default: .dagster_home)"""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (expected YYYY-MM-DD)") from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return value


AD_PLATFORMS = ("google_ads", "meta_ads", "tiktok_ads", "linkedin_ads", "microsoft_ads")
TRACKERS = ("ga4", "segment", "snowplow", "generic")


def _platforms(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in AD_PLATFORMS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected a comma-separated list of {', '.join(AD_PLATFORMS)}"
        )
    return list(dict.fromkeys(names))


def _trackers(text: str) -> dict[str, float | None]:
    """`ga4,segment:0.2` -> {"ga4": None, "segment": 0.2} (None: the share the others leave)."""
    out: dict[str, float | None] = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, _, share = item.partition(":")
        if name not in TRACKERS or name in out:
            raise argparse.ArgumentTypeError(
                f"{item!r}: expected tracker[:share] with a tracker of {', '.join(TRACKERS)}, "
                "each once"
            )
        try:
            value = float(share) if share else None
        except ValueError:
            value = -1.0
        if value is not None and not 0.0 <= value <= 1.0:
            raise argparse.ArgumentTypeError(f"{item!r}: the share must be a number in [0, 1]")
        out[name] = value
    if not out:
        raise argparse.ArgumentTypeError("expected at least one tracker, e.g. ga4")
    return out


def _version() -> str:
    try:
        return version("microfunnel")
    except PackageNotFoundError:  # running from a checkout that was not installed
        return "unknown"


def _command(
    sub: argparse._SubParsersAction,
    name: str,
    func: Callable,
    help_text: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    parser = sub.add_parser(
        name,
        help=help_text,
        description=textwrap.fill(description, 88),
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(func=func)
    # Also accepted after the command; SUPPRESS keeps `microfunnel --debug run` working.
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="microfunnel",
        description=textwrap.fill(
            "Where do people drop out of a micro-commitment sequence? Ingest ad-platform and "
            "site-event exports, build stage-by-stage funnel tables with dbt, publish them. "
            "Every run goes through Dagster and shows in its UI.",
            88,
        ),
        epilog=(
            "examples:\n"
            "  microfunnel demo\n"
            "  microfunnel run --start 2024-05-01 --end 2024-05-31\n"
            "  microfunnel report --open\n\n"
            "`microfunnel <command> --help` shows each command's options and settings."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"microfunnel {_version()}")
    parser.add_argument("--debug", action="store_true", help=DEBUG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="<command>")

    generate = _command(
        sub,
        "generate",
        commands.cmd_generate,
        "write realistic sample exports",
        "Write realistic site-event exports (GA4 BigQuery export files, optionally Segment, "
        "Snowplow or a generic event log for a share of the visitors) and the daily ad reports "
        "of an advertiser buying on Google, Meta, TikTok, LinkedIn and Microsoft into the "
        f"landing zone, one set per day. {DATES}",
        "examples:\n"
        "  microfunnel generate --start 2024-03-01 --end 2024-03-14\n"
        "  microfunnel generate --start 2024-03-01 --end 2024-03-01 --events-per-day 1000000 "
        "--gzip\n"
        "  microfunnel generate --start 2024-03-01 --end 2024-03-14 --ads google_ads\n"
        "  microfunnel generate --start 2024-03-01 --end 2024-03-14 --ads google_ads,meta_ads "
        "--meta-format api\n"
        "  microfunnel generate --start 2024-03-01 --end 2024-03-14 "
        "--trackers ga4,segment:0.2,snowplow:0.1\n\n"
        "settings: MICROFUNNEL_LANDING_DIR (default: data/landing), unless --landing-dir",
    )
    _date_range(generate, "first day to generate", "last day to generate (included)")
    generate.add_argument(
        "--events-per-day", type=_positive_int, default=20_000, metavar="N",
        help="site events simulated per day, every tracker together (default 20000)",
    )  # fmt: skip
    generate.add_argument("--seed", type=int, default=7, help="same seed, same files (default 7)")
    generate.add_argument("--gzip", action="store_true", help="write .json.gz GA4 files")
    generate.add_argument("--landing-dir", metavar="DIR", help="default: MICROFUNNEL_LANDING_DIR")
    generate.add_argument(
        "--ads", type=_platforms, default=list(AD_PLATFORMS), metavar="LIST",
        help=f"ad platforms the advertiser buys on, comma-separated (default: all: "
        f"{','.join(AD_PLATFORMS)})",
    )  # fmt: skip
    generate.add_argument(
        "--google-format", choices=("api", "ui"), default="api",
        help="Google Ads report: GAQL API columns or the UI download (default api)",
    )  # fmt: skip
    generate.add_argument(
        "--meta-format", choices=("csv", "api"), default="csv",
        help="Meta report: Ads Manager CSV export or Insights API JSON (default csv)",
    )  # fmt: skip
    generate.add_argument(
        "--trackers", type=_trackers, default={"ga4": 1.0}, metavar="LIST",
        help="site trackers as name[:share of visitors], comma-separated; one without a share "
        f"gets the rest (default: ga4). Names: {','.join(TRACKERS)}",
    )  # fmt: skip

    run = _command(
        sub,
        "run",
        commands.cmd_run,
        "run the pipeline over a date range (one Dagster run)",
        "Ingest the exports of every day in the range, check them, rebuild the funnel tables "
        "with dbt (plus the open cohorts before the range) and publish the marts and the HTML "
        f"report, as one Dagster run. {DATES} The settings are checked before anything starts.",
        "examples:\n"
        "  microfunnel run --start 2024-05-01 --end 2024-05-31   # a backfill of May\n"
        "  microfunnel run --start 2024-06-02 --end 2024-06-02   # one night\n"
        "  microfunnel run --start 2024-06-02 --end 2024-06-02 --engine spark\n\n" + RUN_SETTINGS,
    )
    _date_range(run, "first export day", "last export day (included)")
    _engine(run)
    _verbose(run)

    demo = _command(
        sub,
        "demo",
        commands.cmd_demo,
        "generate two weeks of sample exports and run everything",
        f"Generate sample exports for {commands.DEMO_START} .. {commands.DEMO_END} into the "
        "landing zone, run the pipeline over them and print the funnels. Uses a public demo "
        "pseudonymization key when MICROFUNNEL_PSEUDONYMIZATION_KEY is unset.",
        "example:\n  microfunnel demo --events-per-day 5000\n\n" + RUN_SETTINGS,
    )
    demo.add_argument("--events-per-day", type=_positive_int, default=20_000, metavar="N")
    _verbose(demo)

    _command(
        sub,
        "purge",
        commands.cmd_purge,
        "remove users on the erasure list from the lake and marts",
        "Remove every user listed in the erasure list (MICROFUNNEL_ERASURE_FILE, default "
        "<warehouse>/erasure_list.txt) from the lake and the transformation DuckDB. Run it "
        "when no pipeline run is active.",
        "example:\n  microfunnel purge && microfunnel run --start 2024-01-01 --end 2024-06-30",
    )

    report = _command(
        sub,
        "report",
        commands.cmd_report,
        "print (and --open) the HTML report's path",
        "Print the path of the HTML funnel report written by the last run.",
        "example:\n  microfunnel report --open",
    )
    report.add_argument("--open", action="store_true", help="open it in the default browser")

    ui = _command(
        sub,
        "ui",
        commands.cmd_ui,
        "open the Dagster UI on the same run history",
        "Start the Dagster UI (dg dev) on the run history in DAGSTER_HOME. Ctrl-C stops it and "
        "every process it started. The nightly schedule starts switched off: turn it on in the "
        "UI (Automation) when this is a deployment.",
        "example:\n  microfunnel ui --port 3000",
    )
    ui.add_argument("--port", type=int, default=3000, help="default 3000")
    ui.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    return parser


def _date_range(parser: argparse.ArgumentParser, first: str, last: str) -> None:
    parser.add_argument("--start", type=_date, required=True, metavar="YYYY-MM-DD", help=first)
    parser.add_argument("--end", type=_date, required=True, metavar="YYYY-MM-DD", help=last)


def _engine(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        help="what dbt builds the funnel tables on (default: MICROFUNNEL_ENGINE, else duckdb); "
        "spark needs `make install-spark` (README: Spark)",
    )


def _verbose(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbose",
        action="store_true",
        help="print every Dagster and dbt log line (default: progress and a summary)",
    )
