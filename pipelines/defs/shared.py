"""Building blocks the defs modules share: the settings resource, partitions, pools."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from pipelines.lib.dbt_var_defaults import default_late_data_days
from pipelines.lib.settings import (
    DEFAULT_INGEST_WORKERS,
    DEFAULT_REPORTING_CURRENCY,
    DEMO_PSEUDONYMIZATION_KEY,
    ENGINES,
    ENV_POSTGRES_URL,
    ENV_PSEUDONYMIZATION_KEY,
    QUALITY_ENGINES,
    Settings,
    default_memory_limit,
)

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
    # None: dbt_project.yml's default (microfunnel__late_data_days).
    late_data_days: int | None = None
    postgres_url: str | None = None
    # A secret: set from dg.EnvVar, so the UI shows the variable's name, never the key.
    pseudonymization_key: str | None = None
    erasure_file: str | None = None
    memory_limit: str | None = None
    reporting_currency: str = DEFAULT_REPORTING_CURRENCY
    quality_engine: str = QUALITY_ENGINES[0]
    engine: str = ENGINES[0]
    ingest_workers: int = DEFAULT_INGEST_WORKERS

    @classmethod
    def from_settings(cls, settings: Settings) -> MicrofunnelResource:
        """The resource for `settings`; secrets stay environment variables the UI names only."""
        return cls(
            landing_dir=str(settings.landing_dir),
            warehouse_dir=str(settings.warehouse_dir),
            funnels_file=str(settings.funnels_file),
            timezone=settings.timezone,
            start_date=settings.start_date.isoformat(),
            end_date=settings.end_date.isoformat() if settings.end_date else None,
            late_data_days=settings.late_data_days,
            # Read from the environment at run time, never shown in the UI.
            postgres_url=_secret(ENV_POSTGRES_URL, settings.postgres_url),
            # Without a key ingestion fails with a message naming the variable.
            pseudonymization_key=_secret(ENV_PSEUDONYMIZATION_KEY, settings.pseudonymization_key),
            erasure_file=str(settings.erasure_list_path),
            memory_limit=settings.memory_limit,
            reporting_currency=settings.reporting_currency,
            quality_engine=settings.quality_engine,
            engine=settings.engine,
            ingest_workers=settings.ingest_workers,
        )

    def settings(self) -> Settings:
        return Settings(
            landing_dir=Path(self.landing_dir),
            warehouse_dir=Path(self.warehouse_dir),
            funnels_file=Path(self.funnels_file),
            timezone=self.timezone,
            start_date=date.fromisoformat(self.start_date),
            end_date=date.fromisoformat(self.end_date) if self.end_date else None,
            late_data_days=(
                default_late_data_days() if self.late_data_days is None else self.late_data_days
            ),
            postgres_url=self.postgres_url,
            pseudonymization_key=self.pseudonymization_key,
            erasure_file=Path(self.erasure_file) if self.erasure_file else None,
            memory_limit=self.memory_limit or default_memory_limit(),
            reporting_currency=self.reporting_currency,
            quality_engine=self.quality_engine,
            engine=self.engine,
            ingest_workers=self.ingest_workers,
        )


def daily_partitions(settings: Settings) -> dg.DailyPartitionsDefinition:
    """Export days in the reporting timezone.

    With MICROFUNNEL_END_DATE set (the demo sets it to its last day) the partitions stop there,
    so the UI's partition view covers the days that have data; unset, a new day opens each night.
    """
    end = settings.end_date + timedelta(days=1) if settings.end_date else None
    return dg.DailyPartitionsDefinition(
        start_date=settings.start_date.isoformat(),
        end_date=end.isoformat() if end else None,
        timezone=settings.timezone,
    )


def _secret(name: str, value: str | None) -> str | None:
    """A secret as its variable's name (resolved at run time); the public demo key, which the
    CLI may have set without the variable, as itself."""
    if not value:
        return None
    if value == DEMO_PSEUDONYMIZATION_KEY:
        return value
    return dg.EnvVar(name)


def partition_dates(context: dg.AssetExecutionContext) -> list[date]:
    """Every day of the partition range this run covers (one day, or a backfill range)."""
    window = context.partition_time_window
    first = window.start.date()
    last = (window.end - timedelta(seconds=1)).date()
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def run_started_at() -> datetime:
    """loaded_at for lineage columns: naive UTC, second precision."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
