"""GA4 export files -> the canonical `events` table (and its quarantine), one day at a time."""

from collections.abc import Iterator

import dagster as dg
import duckdb

from pipelines.defs.ingest.ingest_asset import ingest_multi_asset, ingest_outcome
from pipelines.defs.ingest.ingest_metadata import log_result_warnings
from pipelines.defs.ingest.landing_exports import GA4_EXPORTS
from pipelines.defs.shared import MicrofunnelResource, partition_dates, run_started_at
from pipelines.lib.ingest import IngestResult, load_ga4_day, write_partition
from pipelines.lib.ingest.deliveries import (
    MANIFEST_TABLE,
    DeliveryPlan,
    empty_day_warning,
    plan_day,
    record_deliveries,
)
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.ingest.errors import duckdb_errors_redacted
from pipelines.lib.ingest.ga4 import SOURCE
from pipelines.lib.ingest.lake import PART_FILE, partition_dir
from pipelines.lib.landing_files import ga4_files_for_day
from pipelines.lib.privacy import protect_events

EVENTS = "events"
EVENTS_QUARANTINE = "events_quarantine"


def build_events_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @ingest_multi_asset(
        "ingest_ga4_events",
        partitions,
        EVENTS,
        EVENTS_QUARANTINE,
        kinds={"ga4"},
        landing=GA4_EXPORTS,
        description=(
            "Canonical site events (README: Canonical tables) from the GA4 BigQuery export, "
            "one Parquet partition per export day under <warehouse>/lake/events/. "
            "Every file read is recorded in <warehouse>/lake/landed_files/ with its "
            "SHA-256; a file with the same content as one already delivered is "
            "skipped as a duplicate (metadata duplicate_files). New event params "
            "(properties) and fields are reported (new_params, new_fields); a day "
            "with no file or no rows is written empty with a warning (empty_day)."
        ),
        quarantine_description=(
            "GA4 rows that could not be parsed or broke a hard rule (invalid JSON, "
            "undecodable or over-long lines, fields of the wrong JSON type, missing "
            "fields, impossible timestamps, repeated events), with the reason, file and "
            "line; a truncated or corrupt .gz (or unreadable Parquet) file as one row "
            "without a line. Landed = loaded + quarantined, per file."
        ),
    )
    def ingest_ga4_events(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        settings = microfunnel.settings()
        loaded_at = run_started_at()
        results: list[IngestResult] = []
        plans: list[DeliveryPlan] = []
        empty_days = []
        written = {}
        manifest_dir = settings.lake_dir / MANIFEST_TABLE
        with settings.duckdb_memory.apply(duckdb.connect(), "ingest-events") as con:
            for day in partition_dates(context):
                files = ga4_files_for_day(settings.landing_dir, day)
                plan = plan_day(con, manifest_dir, SOURCE, files, day)
                for warning in plan.warnings():
                    context.log.warning(warning)
                # Raw user ids live in the temp tables until protect_events: no DuckDB error
                # text (which quotes rows) may leave this block unredacted.
                with duckdb_errors_redacted(f"{SOURCE} {day}"):
                    result = load_ga4_day(con, plan.to_load, day, settings.timezone, loaded_at)
                    result = protect_events(
                        con, result, settings.pseudonymization_key, settings.erasure_list_path
                    )
                    result = quarantine_duplicate_events(con, result)
                    write_partition(con, result.table, settings.lake_dir / EVENTS, day)
                    write_partition(
                        con, result.quarantine_table, settings.lake_dir / EVENTS_QUARANTINE, day
                    )
                    result.drop(con)
                    # The manifest goes last: a crash before it leaves the day to be planned
                    # again.
                    record_deliveries(con, manifest_dir, plan, day, loaded_at)
                context.log.info(result.describe())
                log_result_warnings(context.log, [result])
                empty = empty_day_warning(
                    SOURCE, day, plan.to_load, result.landed, len(plan.duplicates)
                )
                if empty:
                    context.log.warning(empty)
                    empty_days.append(day)
                for warning in result.drift.warnings(f"{SOURCE} {day}"):
                    context.log.warning(warning)
                results.append(result)
                plans.append(plan)
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

    return ingest_ga4_events


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_events_asset(partitions)])
