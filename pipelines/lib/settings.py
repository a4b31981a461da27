"""Runtime settings, read from environment variables when asked for (never at import)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pipelines.lib.dbt_var_defaults import default_late_data_days
from pipelines.lib.duckdb_memory import MEMORY_SIZE, DuckDBMemory

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
DEFAULT_FUNNELS_FILE = REPO_ROOT / "funnels" / "funnels.yml"

# Environment variable names: one place, documented in the README's settings table.
ENV_HOME = "MICROFUNNEL_HOME"
ENV_LANDING_DIR = "MICROFUNNEL_LANDING_DIR"
ENV_WAREHOUSE_DIR = "MICROFUNNEL_WAREHOUSE_DIR"
ENV_FUNNELS_FILE = "MICROFUNNEL_FUNNELS_FILE"
ENV_TIMEZONE = "MICROFUNNEL_TIMEZONE"
ENV_START_DATE = "MICROFUNNEL_START_DATE"
ENV_END_DATE = "MICROFUNNEL_END_DATE"
ENV_LATE_DATA_DAYS = "MICROFUNNEL_LATE_DATA_DAYS"
ENV_POSTGRES_URL = "MICROFUNNEL_POSTGRES_URL"
ENV_PSEUDONYMIZATION_KEY = "MICROFUNNEL_PSEUDONYMIZATION_KEY"
ENV_ERASURE_FILE = "MICROFUNNEL_ERASURE_FILE"
ENV_MEMORY_LIMIT = "MICROFUNNEL_MEMORY_LIMIT"
ENV_REPORTING_CURRENCY = "MICROFUNNEL_REPORTING_CURRENCY"
DEFAULT_REPORTING_CURRENCY = "USD"
ENV_QUALITY_ENGINE = "MICROFUNNEL_QUALITY_ENGINE"
# What runs the reviewed suites in expectations/: DuckDB over the Parquet files, or GX itself.
QUALITY_ENGINES = ("duckdb", "gx")
ENV_INGEST_WORKERS = "MICROFUNNEL_INGEST_WORKERS"
# Export days a backfill ingests at once (each day's queries are parallel inside DuckDB too).
DEFAULT_INGEST_WORKERS = 2
MAX_INGEST_WORKERS = 16
ENV_ENGINE = "MICROFUNNEL_ENGINE"
# What dbt builds the funnel tables on (its target in dbt_project/profiles.yml): the embedded
# DuckDB file, or Apache Spark (README "Spark") writing Parquet tables under <warehouse>/spark.
ENGINES = ("duckdb", "spark")
# The Spark target's schema (profiles.yml): its tables live in <warehouse>/spark/tables/<it>.db.
SPARK_SCHEMA = "microfunnel"
# Dagster's own: the instance folder (run history) the CLI and its UI record runs in.
ENV_DAGSTER_HOME = "DAGSTER_HOME"
ERASURE_FILE_NAME = "erasure_list.txt"
DEFAULT_START_DATE = date(2024, 1, 1)
MAX_LATE_DATA_DAYS = 365
# Public, for sample data only (`microfunnel demo`): real exports need a secret key of their own.
DEMO_PSEUDONYMIZATION_KEY = "microfunnel-demo-key-not-a-secret"
# Output file names under the warehouse: here only, read through the Settings properties.
TRANSFORM_DB_FILE = "microfunnel.duckdb"
REPORTING_DB_FILE = "reporting.duckdb"
REPORT_FILE = "funnel_report.html"
# Each DuckDB instance (the job's ingest and publish, dbt's child) may use this share of the
# machine's memory by default: DuckDB's own default, 80% each, could not hold for two at once.
DEFAULT_MEMORY_SHARE = 0.4


class SettingsError(ValueError):
    """An environment variable holds a value the pipeline cannot use; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Where things live and how days are cut. Every field has a documented default."""

    landing_dir: Path
    warehouse_dir: Path
    funnels_file: Path
    timezone: str = "UTC"
    start_date: date = DEFAULT_START_DATE
    # Last daily partition; None keeps the partitions open (a new one each day for the schedule).
    end_date: date | None = None
    # Default: dbt_project.yml's var microfunnel__late_data_days.
    late_data_days: int = field(default_factory=default_late_data_days)
    # Secrets: never in repr (logs, tracebacks, the Dagster UI).
    postgres_url: str | None = field(default=None, repr=False)
    pseudonymization_key: str | None = field(default=None, repr=False)
    erasure_file: Path | None = None
    # Buffer memory of each DuckDB instance; bigger intermediates spill to spill_dir.
    memory_limit: str = field(default_factory=lambda: default_memory_limit())
    # ISO 4217 code every platform's spend is converted to (README: Currencies and timezones).
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY
    # Runs the expectations/ suites on each written partition (README: Data quality).
    quality_engine: str = QUALITY_ENGINES[0]
    # The dbt target the funnel tables are built on (README: Spark).
    engine: str = ENGINES[0]
    ingest_workers: int = DEFAULT_INGEST_WORKERS

    @property
    def duckdb_memory(self) -> DuckDBMemory:
        """memory_limit for each DuckDB instance, spilling under `<warehouse>/spill`."""
        return DuckDBMemory(self.memory_limit, self.warehouse_dir / "spill")

    @property
    def erasure_list_path(self) -> Path:
        """User ids to forget, one per line (default `<warehouse>/erasure_list.txt`)."""
        return self.erasure_file or self.warehouse_dir / ERASURE_FILE_NAME

    @property
    def lake_dir(self) -> Path:
        """Canonical Parquet tables, one folder per table, one sub-folder per partition."""
        return self.warehouse_dir / "lake"

    @property
    def duckdb_path(self) -> Path:
        """The transformation database that dbt writes (single writer)."""
        return self.warehouse_dir / TRANSFORM_DB_FILE

    @property
    def spark_dir(self) -> Path:
        """The Spark target's tables (Parquet) and their metastore."""
        return self.warehouse_dir / "spark"

    @property
    def spark_marts_dir(self) -> Path:
        """One Parquet folder per table dbt built on Spark (where spark.sql.warehouse.dir puts
        the schema's tables)."""
        return self.spark_dir / "tables" / f"{SPARK_SCHEMA}.db"

    @property
    def marts_source(self) -> Path:
        """Where the publish reads the marts dbt built: the DuckDB file, or the Spark tables."""
        return self.spark_marts_dir if self.engine == "spark" else self.duckdb_path

    @property
    def reporting_dir(self) -> Path:
        """What BI tools read: a reporting DuckDB file, Parquet marts and the HTML report."""
        return self.warehouse_dir / "reporting"

    @property
    def reporting_db_path(self) -> Path:
        """The reporting DuckDB file BI tools open (replaced atomically on each publish)."""
        return self.reporting_dir / REPORTING_DB_FILE

    @property
    def reporting_parquet_dir(self) -> Path:
        """The marts as Parquet, one folder per mart (day-partitioned where the mart has days)."""
        return self.reporting_dir / "parquet"

    @property
    def report_path(self) -> Path:
        """The self-contained HTML funnel report."""
        return self.reporting_dir / REPORT_FILE

    @property
    def runs_dir(self) -> Path:
        """One folder per Dagster run id: dbt's artifacts and dbt.log, and the run's output.log
        (what a quiet command-line run did not print)."""
        return self.warehouse_dir / "runs"

    def run_dir(self, run_id: str) -> Path:
        """dbt's artifacts and log of one run (its target path)."""
        return self.runs_dir / run_id

    def run_output_log(self, run_id: str) -> Path:
        """What the steps of a quiet command-line run printed."""
        return self.run_dir(run_id) / "output.log"

    def dbt_log(self, run_id: str) -> Path:
        """dbt's own log of one run (dbt writes dbt.log into its log path, the run folder)."""
        return self.run_dir(run_id) / "dbt.log"

    def environ(self) -> dict[str, str]:
        """These settings as the MICROFUNNEL_* variables, for a child process (the UI's code
        servers) that reads its own settings: absolute paths, so both mean the same folders."""
        values = {
            ENV_LANDING_DIR: str(self.landing_dir),
            ENV_WAREHOUSE_DIR: str(self.warehouse_dir),
            ENV_FUNNELS_FILE: str(self.funnels_file),
            ENV_TIMEZONE: self.timezone,
            ENV_START_DATE: self.start_date.isoformat(),
            ENV_END_DATE: self.end_date.isoformat() if self.end_date else None,
            ENV_LATE_DATA_DAYS: str(self.late_data_days),
            ENV_POSTGRES_URL: self.postgres_url,
            ENV_PSEUDONYMIZATION_KEY: self.pseudonymization_key,
            ENV_ERASURE_FILE: str(self.erasure_file) if self.erasure_file else None,
            ENV_MEMORY_LIMIT: self.memory_limit,
            ENV_REPORTING_CURRENCY: self.reporting_currency,
            ENV_QUALITY_ENGINE: self.quality_engine,
            ENV_ENGINE: self.engine,
            ENV_INGEST_WORKERS: str(self.ingest_workers),
        }
        return {name: value for name, value in values.items() if value}

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from environment variables; a bad value raises SettingsError naming it."""
        env = os.environ if environ is None else environ
        home = _path(env, ENV_HOME, REPO_ROOT / "data")
        start_date = _date(env, ENV_START_DATE) or DEFAULT_START_DATE
        end_date = _date(env, ENV_END_DATE)
        if end_date is not None and end_date < start_date:
            raise SettingsError(
                f"{ENV_END_DATE}={end_date} is before {ENV_START_DATE}={start_date}"
            )
        return cls(
            landing_dir=_path(env, ENV_LANDING_DIR, home / "landing"),
            warehouse_dir=_path(env, ENV_WAREHOUSE_DIR, home / "warehouse"),
            funnels_file=_path(env, ENV_FUNNELS_FILE, DEFAULT_FUNNELS_FILE),
            timezone=env.get(ENV_TIMEZONE) or "UTC",
            start_date=start_date,
            end_date=end_date,
            late_data_days=_late_data_days(env),
            postgres_url=env.get(ENV_POSTGRES_URL) or None,
            pseudonymization_key=env.get(ENV_PSEUDONYMIZATION_KEY) or None,
            erasure_file=_optional_path(env, ENV_ERASURE_FILE),
            memory_limit=_memory_limit(env),
            reporting_currency=_currency(env),
            quality_engine=_choice(env, ENV_QUALITY_ENGINE, QUALITY_ENGINES),
            engine=_choice(env, ENV_ENGINE, ENGINES),
            ingest_workers=_ingest_workers(env),
        )


def _path(env: Mapping[str, str], name: str, default: Path) -> Path:
    return Path(env.get(name) or default).expanduser().resolve()


def _optional_path(env: Mapping[str, str], name: str) -> Path | None:
    raw = env.get(name)
    return Path(raw).expanduser().resolve() if raw else None


def _date(env: Mapping[str, str], name: str) -> date | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a date (expected YYYY-MM-DD)") from None


def _late_data_days(env: Mapping[str, str]) -> int:
    raw = env.get(ENV_LATE_DATA_DAYS)
    if not raw:
        return default_late_data_days()
    try:
        days = int(raw.strip())
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_LATE_DATA_DAYS:
        raise SettingsError(
            f"{ENV_LATE_DATA_DAYS}={raw!r} must be a whole number of days from 0 to "
            f"{MAX_LATE_DATA_DAYS}"
        )
    return days


def default_memory_limit() -> str:
    """DEFAULT_MEMORY_SHARE of the machine's physical memory, in DuckDB's spelling."""
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{int(physical * DEFAULT_MEMORY_SHARE) // 2**20}MiB"


def _memory_limit(env: Mapping[str, str]) -> str:
    raw = env.get(ENV_MEMORY_LIMIT)
    if not raw:
        return default_memory_limit()
    if not MEMORY_SIZE.fullmatch(raw):
        raise SettingsError(
            f"{ENV_MEMORY_LIMIT}={raw!r} is not a memory size (e.g. 4GB, 6GiB, 512MB)"
        )
    return raw.strip()


def _currency(env: Mapping[str, str]) -> str:
    raw = env.get(ENV_REPORTING_CURRENCY)
    if not raw:
        return DEFAULT_REPORTING_CURRENCY
    if not re.fullmatch(r"[A-Z]{3}", raw.strip()):
        raise SettingsError(
            f"{ENV_REPORTING_CURRENCY}={raw!r} is not an ISO 4217 currency code (e.g. USD, EUR)"
        )
    return raw.strip()


def _ingest_workers(env: Mapping[str, str]) -> int:
    raw = (env.get(ENV_INGEST_WORKERS) or "").strip()
    if not raw:
        return DEFAULT_INGEST_WORKERS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_INGEST_WORKERS:
        raise SettingsError(
            f"{ENV_INGEST_WORKERS}={raw!r} must be a whole number from 1 to {MAX_INGEST_WORKERS}"
        )
    return int(raw)


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (case-insensitive); unset means the first."""
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise SettingsError(f"{name}={env.get(name)!r} must be one of " + ", ".join(choices))
    return raw
