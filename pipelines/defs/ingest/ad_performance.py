"""Google Ads reports -> the canonical `ad_performance` table (and its quarantine), per day."""

from collections.abc import Iterator

import dagster as dg
import duckdb

from pipelines.defs.ingest.ingest_asset import ingest_multi_asset, ingest_outcome
from pipelines.defs.ingest.ingest_metadata import log_result_warnings
from pipelines.defs.ingest.landing_exports import GOOGLE_ADS_REPORTS
from pipelines.defs.shared import MicrofunnelResource, partition_dates, run_started_at
from pipelines.lib.ingest import load_google_ads, write_partition
from pipelines.lib.ingest.deliveries import (
    MANIFEST_TABLE,
    empty_day_warning,
    plan_files,
    record_deliveries,
)
from pipelines.lib.ingest.google_ads import SOURCE
from pipelines.lib.ingest.lake import PART_FILE, partition_dir
from pipelines.lib.landing_files import google_ads_files

AD_PERFORMANCE = "ad_performance"
AD_PERFORMANCE_QUARANTINE = "ad_performance_quarantine"


def build_ad_performance_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @ingest_multi_asset(
        "ingest_google_ads",
        partitions,
        AD_PERFORMANCE,
        AD_PERFORMANCE_QUARANTINE,
        kinds={"googleads"},
        landing=GOOGLE_ADS_REPORTS,
        description=(
            "Canonical ad performance (README: Canonical tables): one row per platform, "
            "account, campaign, ad group, ad and day, partitioned by report day under "
            "<warehouse>/lake/ad_performance/. A restated day: the last file wins. "
            "Files read are recorded in <warehouse>/lake/landed_files/ (each run day); "
            "a file with the same content as another report is skipped as a duplicate "
            "(metadata duplicate_files). Report columns the pipeline does not read "
            "are ignored and listed (extra_columns); a day without rows is written "
            "empty with a warning (empty_day)."
        ),
        quarantine_description=(
            "Report rows that cannot be read right (unparseable or ambiguous numbers and "
            "dates, ragged or repeated lines, negative metrics, a currency other than the "
            "account's), with reason, file and line; a truncated or corrupt .gz report as "
            "one row. Rows without a readable date are kept in the run's last day."
        ),
    )
    def ingest_google_ads(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        settings = microfunnel.settings()
        days = partition_dates(context)
        files = google_ads_files(settings.landing_dir)
        loaded_at = run_started_at()
        manifest_dir = settings.lake_dir / MANIFEST_TABLE
        written = {}
        empty_days = []
        with settings.duckdb_memory.apply(duckdb.connect(), "ingest-ads") as con:
            plan = plan_files(con, manifest_dir, SOURCE, files)
            for warning in plan.warnings():
                context.log.warning(warning)
            result = load_google_ads(con, plan.to_load, days, loaded_at)
            context.log.info(result.describe())
            log_result_warnings(context.log, [result])
            if result.drift.extra_columns:
                context.log.info(
                    f"Google Ads report columns ignored: {', '.join(result.drift.extra_columns)}"
                )
            for day in days:
                day_rows = f"select * from {result.table} where report_date = date '{day}'"
                count = write_partition(con, day_rows, settings.lake_dir / AD_PERFORMANCE, day)
                empty = empty_day_warning(SOURCE, day, plan.to_load, count, len(plan.duplicates))
                if empty:
                    context.log.warning(empty)
                    empty_days.append(day)
                written[day] = partition_dir(settings.lake_dir / AD_PERFORMANCE, day) / PART_FILE
                undated = "or partition_date is null" if day == days[-1] else ""
                day_rejects = (
                    f"select * from {result.quarantine_table} "
                    f"where partition_date = date '{day}' {undated}"
                )
                write_partition(
                    con, day_rejects, settings.lake_dir / AD_PERFORMANCE_QUARANTINE, day
                )
                record_deliveries(con, manifest_dir, plan.for_day(day), day, loaded_at)
            result.drop(con)

        yield from ingest_outcome(
            context,
            settings,
            AD_PERFORMANCE,
            AD_PERFORMANCE_QUARANTINE,
            results=[result],
            plans=[plan],
            empty_days=empty_days,
            written=written,
        )

    return ingest_google_ads


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_ad_performance_asset(partitions)])
