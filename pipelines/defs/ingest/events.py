"""Every site tracker's export -> the canonical `events` table (and its quarantine), per day."""

from collections.abc import Iterator
from datetime import date, datetime

import dagster as dg
import duckdb

from pipelines.defs.ingest.ingest_asset import ingest_multi_asset, ingest_outcome
from pipelines.defs.ingest.ingest_metadata import log_result_warnings
from pipelines.defs.ingest.landing_exports import SITE_LANDING_SPECS
from pipelines.defs.shared import MicrofunnelResource, partition_dates, run_started_at
from pipelines.lib.ingest import IngestResult, write_partition
from pipelines.lib.ingest.deliveries import (
    MANIFEST_TABLE,
    DeliveryPlan,
    empty_day_warning,
    plan_day,
    record_deliveries,
)
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.ingest.errors import duckdb_errors_redacted
from pipelines.lib.ingest.lake import PART_FILE, partition_dir
from pipelines.lib.ingest.parallel_days import load_days_in_parallel
from pipelines.lib.ingest.sources import SITE_SOURCES, SiteSource
from pipelines.lib.privacy import protect_events
from pipelines.lib.settings import Settings

EVENTS = "events"
EVENTS_QUARANTINE = "events_quarantine"
# The tracker whose (possibly empty) partition is written when no tracker has a file.
DEFAULT_TRACKER = SITE_SOURCES[0]


def build_events_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @ingest_multi_asset(
        "ingest_site_events",
        partitions,
        EVENTS,
        EVENTS_QUARANTINE,
        kinds={"ga4", "json"},
        landing=SITE_LANDING_SPECS,
        description=(
            "Canonical site events (README: Canonical tables) from every tracker's export "
            "(GA4 BigQuery export, Segment tables, Snowplow enriched events, the generic "
            "format), one Parquet partition per export day under <warehouse>/lake/events/. "
            "Every file read is recorded in <warehouse>/lake/landed_files/ with its "
            "SHA-256; a file with the same content as one already delivered is "
            "skipped as a duplicate (metadata duplicate_files). New event params "
            "(properties) and fields are reported (new_params, new_fields); a day "
            "with no file or no rows is written empty with a warning (empty_day)."
        ),
        quarantine_description=(
            "Site events that could not be parsed or broke a hard rule (invalid JSON or "
            "CSV, undecodable or over-long lines, fields of the wrong type, missing "
            "fields, impossible timestamps, repeated events), with the reason, file and "
            "line; a truncated or corrupt .gz (or unreadable Parquet) file as one row "
            "without a line. Landed = loaded + quarantined, per file."
        ),
    )
    def ingest_site_events(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        settings = microfunnel.settings()
        loaded_at = run_started_at()
        results: list[IngestResult] = []
        plans: list[DeliveryPlan] = []
        empty_days = []
        written = {}
        with settings.duckdb_memory.apply(duckdb.connect(), "ingest-events") as con:
            planned = _plan_days(con, settings, partition_dates(context))
            loaded = load_days_in_parallel(
                con,
                list(planned.items()),
                lambda cursor, item: _ingest_day(cursor, settings, *item, loaded_at),
                settings.ingest_workers,
            )
            # In day order, whichever thread finished first.
            for (day, day_plans), day_results in zip(planned.items(), loaded, strict=True):
                for plan in day_plans:
                    for warning in plan.warnings():
                        context.log.warning(warning)
                for result in day_results:
                    context.log.info(result.describe())
                    for warning in result.drift.warnings(f"{result.source} {day}"):
                        context.log.warning(warning)
                log_result_warnings(context.log, day_results)
                landed = sum(r.landed for r in day_results)
                to_load = [f for plan in day_plans for f in plan.to_load]
                skipped = sum(len(plan.duplicates) for plan in day_plans)
                empty = empty_day_warning("site events", day, to_load, landed, skipped)
                if empty:
                    context.log.warning(empty)
                    empty_days.append(day)
                results += day_results
                plans += day_plans
                written[day] = partition_dir(settings.lake_dir / EVENTS, day) / PART_FILE

        yield from ingest_outcome(
            context,
            settings,
            EVENTS,
            EVENTS_QUARANTINE,
            results=results,
            plans=plans,
            empty_days=empty_days,
            written=written,
        )

    return ingest_site_events


def _plan_days(
    con: duckdb.DuckDBPyConnection, settings: Settings, days: list[date]
) -> dict[date, list[DeliveryPlan]]:
    """Every day's deliveries per tracker, in day order, before any is loaded: each day's plan
    sees the files the run's earlier days will load, as a day-by-day run would."""
    manifest_dir = settings.lake_dir / MANIFEST_TABLE
    planned: dict[date, list[DeliveryPlan]] = {}
    for day in days:
        trackers = [
            (source, files)
            for source in SITE_SOURCES
            if (files := source.files_for_day(settings.landing_dir, day))
        ] or [(DEFAULT_TRACKER, [])]
        planned[day] = [
            plan_day(con, manifest_dir, source.name, files, day, planned)
            for source, files in trackers
        ]
    return planned


def _ingest_day(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    day: date,
    day_plans: list[DeliveryPlan],
    loaded_at: datetime,
) -> list[IngestResult]:
    """One day, every tracker: loaded, written as one lake partition, then recorded."""
    sources = {source.name: source for source in SITE_SOURCES}
    day_results = [
        _load(con, sources[plan.source], plan, day, settings, loaded_at) for plan in day_plans
    ]
    _write_day(con, settings, day, day_results)
    for plan in day_plans:
        # The manifest goes last: a crash before it leaves the day to be planned again.
        record_deliveries(con, settings.lake_dir / MANIFEST_TABLE, plan, day, loaded_at)
    return day_results


def _load(
    con: duckdb.DuckDBPyConnection,
    source: SiteSource,
    plan: DeliveryPlan,
    day: date,
    settings: Settings,
    loaded_at: datetime,
) -> IngestResult:
    """One tracker's day: parsed, pseudonymized and deduplicated, still in temp tables.

    Raw user ids live in the temp tables until protect_events: no DuckDB error text (which
    quotes rows) may leave this block unredacted.
    """
    with duckdb_errors_redacted(f"{source.name} {day}"):
        result = source.load_day(con, plan.to_load, day, settings.timezone, loaded_at)
        result = protect_events(
            con, result, settings.pseudonymization_key, settings.erasure_list_path
        )
        return quarantine_duplicate_events(con, result)


def _write_day(
    con: duckdb.DuckDBPyConnection, settings: Settings, day: date, results: list[IngestResult]
) -> None:
    """All trackers' events of the day as one partition (and their rejects as another)."""
    with duckdb_errors_redacted(f"site events {day}"):
        for table, folder in (("table", EVENTS), ("quarantine_table", EVENTS_QUARANTINE)):
            union = " union all by name ".join(
                f"select * from {getattr(r, table)}" for r in results
            )
            write_partition(con, union, settings.lake_dir / folder, day)
        for result in results:
            result.drop(con)


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_events_asset(partitions)])
