"""GA4 export files -> the canonical `events` table (and its quarantine), one day at a time."""


from collections.abc import Iterator

import dagster as dg
import duckdb

from pipelines.defs.ingest.ingest_metadata import ingest_metadata
from pipelines.defs.ingest.lake_checks import check_specs, run_checks
from pipelines.defs.ingest.landing import GA4_EXPORTS
from pipelines.defs.shared import (
    LAKE_POOL,
    OWNERS,
    MicrofunnelResource,
    daily_partitions,
    partition_dates,
    run_started_at,
)
from pipelines.lib.ingest import IngestResult, load_ga4_day, write_partition
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.ingest.lake import PART_FILE, partition_dir
from pipelines.lib.landing import ga4_files_for_day

EVENTS = "events"
EVENTS_QUARANTINE = "events_quarantine"


def build_events_asset() -> dg.AssetsDefinition:
    @dg.multi_asset(
        name="ingest_ga4_events",
        specs=[
            dg.AssetSpec(
                EVENTS,
                group_name="ingest",
                kinds={"ga4", "parquet"},
                owners=OWNERS,
                deps=[GA4_EXPORTS],
                description=(
                    "Canonical site events (DESIGN.md section 4) from the GA4 BigQuery export, "
                    "one Parquet partition per export day under <warehouse>/lake/events/."
                ),
            ),
            dg.AssetSpec(
                EVENTS_QUARANTINE,
                group_name="ingest",
                kinds={"parquet"},
                owners=OWNERS,
                deps=[GA4_EXPORTS],
                description=(
                    "GA4 rows that could not be parsed or broke a hard rule, with the reason, "
                    "file and line. Landed = loaded + quarantined, per file."
                ),
            ),
        ],
        check_specs=check_specs(EVENTS),
        partitions_def=daily_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=LAKE_POOL,
    )
    def ingest_ga4_events(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        settings = microfunnel.settings()
        loaded_at = run_started_at()
        results: list[IngestResult] = []
        written = {}
        with duckdb.connect() as con:
            for day in partition_dates(context):
                files = ga4_files_for_day(settings.landing_dir, day)
                if not files:
                    context.log.warning(f"{day}: no GA4 export file; writing an empty partition")
                result = load_ga4_day(con, files, day, settings.timezone, loaded_at)
                result = quarantine_duplicate_events(con, result)
                write_partition(con, result.table, settings.lake_dir / EVENTS, day)
                write_partition(
                    con, result.quarantine_table, settings.lake_dir / EVENTS_QUARANTINE, day
                )
                result.drop(con)
                context.log.info(result.describe())
                results.append(result)
                written[day] = partition_dir(settings.lake_dir / EVENTS, day) / PART_FILE

        yield dg.MaterializeResult(asset_key=EVENTS, metadata=ingest_metadata(results, "loaded"))
        yield dg.MaterializeResult(
            asset_key=EVENTS_QUARANTINE, metadata=ingest_metadata(results, "quarantined")
        )
        yield from run_checks(EVENTS, written, results, context=context, settings=settings)

    return ingest_ga4_events


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[build_events_asset()])
