"""Building blocks the defs modules share: the settings resource, partitions, pools, dbt."""

from __future__ import annotations

import functools
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from pipelines.lib.settings import DBT_PROJECT_DIR, Settings

# One writer at a time for the transformation and reporting DuckDB files.
DUCKDB_POOL = "microfunnel_duckdb"
# Ingestion writes Parquet partitions with atomic renames; one pool keeps two runs of the same
# day from racing each other.
LAKE_POOL = "microfunnel_lake"
OWNERS = ["team:analytics-engineering"]


class MicrofunnelResource(dg.ConfigurableResource):
    """Where the landing zone, lake and warehouses are, and how days are cut."""

    landing_dir: str
    warehouse_dir: str
    funnels_file: str
    timezone: str = "UTC"
    start_date: str = "2024-01-01"
    end_date: str | None = None
    late_data_days: int = 3
    postgres_url: str | None = None
    # A secret: set from dg.EnvVar, so the UI shows the variable's name, never the key.
    pseudonymization_key: str | None = None
    erasure_file: str | None = None

    def settings(self) -> Settings:
        return Settings(
            landing_dir=Path(self.landing_dir),
            warehouse_dir=Path(self.warehouse_dir),
            funnels_file=Path(self.funnels_file),
            timezone=self.timezone,
            start_date=date.fromisoformat(self.start_date),
            end_date=date.fromisoformat(self.end_date) if self.end_date else None,
            late_data_days=self.late_data_days,
            postgres_url=self.postgres_url,
            pseudonymization_key=self.pseudonymization_key,
            erasure_file=Path(self.erasure_file) if self.erasure_file else None,
        )


@functools.cache
def daily_partitions() -> dg.DailyPartitionsDefinition:
    """Export days in the reporting timezone. Read once per code-location load.

    With MICROFUNNEL_END_DATE set (the demo sets it to its last day) the partitions stop there,
    so the UI's partition view covers the days that have data; unset, a new day opens each night.
    """
    settings = Settings.from_env()
    end = settings.end_date + timedelta(days=1) if settings.end_date else None
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(),
        end_date=end.isoformat() if end else None,
        timezone=settings.timezone,
    )


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every day of the partition range this run covers (one day, or a backfill range)."""
    window = context.partition_time_window
    first = window.start.date()
    last = (window.end - timedelta(seconds=1)).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def run_started_at() -> datetime:
    """loaded_at for lineage columns: naive UTC, second precision."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    sources = [DBT_PROJECT_DIR / "dbt_project.yml"]
    for folder in ("models", "macros", "tests", "seeds"):
        sources += DBT_PROJECT_DIR.glob(f"{folder}/**/*")
    return any(path.stat().st_mtime > built for path in sources if path.is_file())


@functools.cache
def dbt_project() -> DbtProject:
    """The dbt project with a current manifest (parsed once per load when models changed)."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    if _manifest_is_stale(project):
        # dbt parse writes target/manifest.json, which the asset definitions are built from.
        subprocess.run(
            [_dbt_executable(), "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
            cwd=DBT_PROJECT_DIR,
            check=True,
        )
    return project


def dbt_resource() -> DbtCliResource:
    # dbt through `microfunnel-dbt`, which dies with the run that started it (see dbt_child).
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=str(Path(sys.executable).with_name("microfunnel-dbt")),
    )


def _dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))
