"""Every export the landing zone accepts: where its files are and which adapter reads them.

Two kinds, each onto one canonical table:
- ad sources -> `ad_performance`: a platform's native report export, its API response, or the
  warehouse tables a managed connector (Fivetran) lands. Every file is read; rows carry their
  own day. When two sources deliver the same platform account's day, the source earlier in
  AD_SOURCES wins and the other's rows for that day are quarantined (never summed twice).
- site sources -> `events`: one file set per export day, named with the day.

Adapters are imported when used, so a source costs nothing until its folder has files.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import duckdb

from ..landing_files import all_files, day_files, ga4_files_for_day
from .result import IngestResult

CSV = (".csv",)
JSON = (".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class AdSource:
    """One ad export format: `<landing>/<folder>/**/*<suffix>[.gz]`, read by `module.function`."""

    name: str  # the adapter's SOURCE: quarantine `source`, delivery manifest key
    platform: str
    folder: str
    suffixes: tuple[str, ...]
    module: str
    function: str
    describes: str

    def files(self, landing_dir: Path) -> list[Path]:
        return all_files(landing_dir, self.folder, self.suffixes)

    def load(
        self,
        con: duckdb.DuckDBPyConnection,
        files: list[Path],
        dates: list[date] | None,
        loaded_at: datetime,
    ) -> IngestResult:
        loader = _adapter(self.module, self.function)
        return cast(IngestResult, loader(con, files, dates, loaded_at))


@dataclass(frozen=True)
class SiteSource:
    """One tracker's export: the day's files under `<landing>/<folder>/`, read by the adapter."""

    name: str
    folder: str
    suffixes: tuple[str, ...]
    module: str
    function: str
    describes: str

    def files_for_day(self, landing_dir: Path, day: date) -> list[Path]:
        if self.name == "ga4":  # GA4 keeps BigQuery's own `events_YYYYMMDD` naming
            return ga4_files_for_day(landing_dir, day)
        return day_files(landing_dir, self.folder, day, self.suffixes)

    def load_day(
        self,
        con: duckdb.DuckDBPyConnection,
        files: list[Path],
        day: date,
        timezone: str,
        loaded_at: datetime,
    ) -> IngestResult:
        loader = _adapter(self.module, self.function)
        return cast(IngestResult, loader(con, files, day, timezone, loaded_at))


def _adapter(module: str, function: str) -> Callable[..., Any]:
    return cast(Callable[..., Any], getattr(importlib.import_module(module), function))


_INGEST = "pipelines.lib.ingest"

# In precedence order: for one platform account and day, the first source with rows wins.
AD_SOURCES: tuple[AdSource, ...] = (
    AdSource(
        "google_ads", "google_ads", "google_ads", CSV, f"{_INGEST}.google_ads",
        "load_google_ads", "Google Ads reports: API (GAQL) results or the UI download, CSV",
    ),
    AdSource(
        "meta_ads", "meta_ads", "meta_ads", CSV, f"{_INGEST}.meta_ads", "load_meta_ads",
        "Meta Ads Manager exports, CSV",
    ),
    AdSource(
        "meta_ads_api", "meta_ads", "meta_ads", JSON, f"{_INGEST}.meta_insights",
        "load_meta_insights", "Meta Marketing API insights responses, JSON / NDJSON",
    ),
    AdSource(
        "tiktok_ads", "tiktok_ads", "tiktok_ads", CSV, f"{_INGEST}.tiktok_ads",
        "load_tiktok_ads", "TikTok Ads Manager / reporting API reports, daily or hourly, CSV",
    ),
    AdSource(
        "linkedin_ads", "linkedin_ads", "linkedin_ads", CSV, f"{_INGEST}.linkedin_ads",
        "load_linkedin_ads", "LinkedIn Campaign Manager exports, CSV",
    ),
    AdSource(
        "microsoft_ads", "microsoft_ads", "microsoft_ads", CSV, f"{_INGEST}.microsoft_ads",
        "load_microsoft_ads", "Microsoft Advertising reports, CSV",
    ),
    *(
        AdSource(
            f"{connector}_connector", platform, f"connectors/{connector}",
            (".csv", ".parquet"), f"{_INGEST}.connector_{connector}",
            f"load_{connector}_connector",
            f"Fivetran {connector} connector tables, CSV or Parquet",
        )
        for connector, platform in (
            ("google_ads", "google_ads"),
            ("facebook_ads", "meta_ads"),
            ("tiktok_ads", "tiktok_ads"),
            ("linkedin_ads", "linkedin_ads"),
            ("microsoft_ads", "microsoft_ads"),
        )
    ),
)  # fmt: skip

SITE_SOURCES: tuple[SiteSource, ...] = (
    SiteSource(
        "ga4", "ga4", (".json", ".jsonl", ".ndjson", ".parquet"), f"{_INGEST}.ga4",
        "load_ga4_day", "GA4 BigQuery export, events_YYYYMMDD NDJSON or Parquet",
    ),
    SiteSource(
        "segment", "segment", (".csv", ".json", ".jsonl", ".ndjson", ".parquet"),
        f"{_INGEST}.segment", "load_segment_day",
        "Segment warehouse tables tracks / pages / identifies, CSV, NDJSON or Parquet",
    ),
    SiteSource(
        "snowplow", "snowplow", (".tsv", ".csv", ".parquet"), f"{_INGEST}.snowplow",
        "load_snowplow_day", "Snowplow enriched events (TSV) or atomic.events (CSV, Parquet)",
    ),
    SiteSource(
        "generic_events", "events", (".csv", ".json", ".jsonl", ".ndjson", ".parquet"),
        f"{_INGEST}.generic_events", "load_generic_events_day",
        "microfunnel's generic event format, CSV or NDJSON",
    ),
)  # fmt: skip


def site_source(name: str) -> SiteSource:
    """The registered tracker called `name` (ga4, segment, snowplow, generic_events)."""
    for source in SITE_SOURCES:
        if source.name == name:
            return source
    raise KeyError(f"no site source {name!r}; known: {', '.join(s.name for s in SITE_SOURCES)}")
