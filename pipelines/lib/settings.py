"""Runtime settings, read from environment variables when asked for (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

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
ENV_LATE_DATA_DAYS = "MICROFUNNEL_LATE_DATA_DAYS"
ENV_POSTGRES_URL = "MICROFUNNEL_POSTGRES_URL"
ENV_PSEUDONYMIZATION_KEY = "MICROFUNNEL_PSEUDONYMIZATION_KEY"
ENV_ERASURE_FILE = "MICROFUNNEL_ERASURE_FILE"
ERASURE_FILE_NAME = "erasure_list.txt"


@dataclass(frozen=True)
class Settings:
    """Where things live and how days are cut. Every field has a documented default."""

    landing_dir: Path
    warehouse_dir: Path
    funnels_file: Path
    timezone: str = "UTC"
    start_date: date = date(2024, 1, 1)
    late_data_days: int = 3
    # Secrets: never in repr (logs, tracebacks, the Dagster UI).
    postgres_url: str | None = field(default=None, repr=False)
    pseudonymization_key: str | None = field(default=None, repr=False)
    erasure_file: Path | None = None

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
        return self.warehouse_dir / "microfunnel.duckdb"

    @property
    def reporting_dir(self) -> Path:
        """What BI tools read: a reporting DuckDB file, Parquet marts and the HTML report."""
        return self.warehouse_dir / "reporting"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get(ENV_HOME, REPO_ROOT / "data")).expanduser().resolve()
        return cls(
            landing_dir=Path(env.get(ENV_LANDING_DIR, home / "landing")).expanduser().resolve(),
            warehouse_dir=Path(env.get(ENV_WAREHOUSE_DIR, home / "warehouse"))
            .expanduser()
            .resolve(),
            funnels_file=Path(env.get(ENV_FUNNELS_FILE, DEFAULT_FUNNELS_FILE))
            .expanduser()
            .resolve(),
            timezone=env.get(ENV_TIMEZONE, "UTC"),
            start_date=date.fromisoformat(env.get(ENV_START_DATE, "2024-01-01")),
            late_data_days=int(env.get(ENV_LATE_DATA_DAYS, "3")),
            postgres_url=env.get(ENV_POSTGRES_URL) or None,
            pseudonymization_key=env.get(ENV_PSEUDONYMIZATION_KEY) or None,
            erasure_file=(
                Path(env[ENV_ERASURE_FILE]).expanduser().resolve()
                if env.get(ENV_ERASURE_FILE)
                else None
            ),
        )
