"""Every ad platform's exports -> the canonical `ad_performance` table (and its quarantine)."""

from collections.abc import Iterator

import dagster as dg
import duckdb

from pipelines.defs.ingest.ingest_asset import ingest_multi_asset, ingest_outcome
from pipelines.defs.ingest.ingest_metadata import log_result_warnings
from pipelines.defs.ingest.landing_exports import AD_LANDING_SPECS
from pipelines.defs.shared import MicrofunnelResource, partition_dates, run_started_at
from pipelines.lib.ingest import IngestResult, write_partition
from pipelines.lib.ingest.deliveries import (
    MANIFEST_TABLE,
    DeliveryPlan,
    empty_day_warning,
    plan_files,
    record_deliveries,
)
from pipelines.lib.ingest.lake import PART_FILE, partition_dir
from pipelines.lib.ingest.source_overlap import quarantine_overlapping_sources
from pipelines.lib.ingest.sources import AD_SOURCES
from pipelines.lib.ingest.sql import temp_name
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS

AD_PERFORMANCE = "ad_performance"
AD_PERFORMANCE_QUARANTINE = "ad_performance_quarantine"


def _union(tables: list[str]) -> str:
    return " union all by name ".join(f"select * from {t}" for t in tables)


def build_ad_performance_asset(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @ingest_multi_asset(
        "ingest_ad_reports",
        partitions,
        AD_PERFORMANCE,
        AD_PERFORMANCE_QUARANTINE,
        kinds={"googleads", "meta", "csv"},
        landing=AD_LANDING_SPECS,
        description=(
            "Canonical ad performance (README: Canonical tables) from every ad platform's "
            "exports (native reports, API responses, connector tables): one row per platform, "
            "account, campaign, ad group, ad and day, partitioned by report day under "
            "<warehouse>/lake/ad_performance/. A restated day: the last file of a source wins; "
            "an account day delivered by two sources comes from the first in precedence order "
            "(README: Landing zone). Files read are recorded in <warehouse>/lake/landed_files/ "
            "(each run day); a file with the same content as another is skipped as a "
            "duplicate (metadata duplicate_files). Columns the pipeline does not read are "
            "ignored and listed (extra_columns); a day without rows is written empty with a "
            "warning (empty_day)."
        ),
        quarantine_description=(
            "Report rows that cannot be read right (unparseable or ambiguous numbers and "
            "dates, ragged or repeated lines, negative metrics, a currency other than the "
            "account's, an account day another source delivers), with reason, file and line; "
            "a truncated or corrupt .gz report as one row. Rows without a readable date are "
            "kept in the run's last day."
        ),
    )
    def ingest_ad_reports(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        settings = microfunnel.settings()
        days = partition_dates(context)
        loaded_at = run_started_at()
        manifest_dir = settings.lake_dir / MANIFEST_TABLE
        results: list[IngestResult] = []
        plans: list[DeliveryPlan] = []
        written = {}
        empty_days = []
        with settings.duckdb_memory.apply(duckdb.connect(), "ingest-ads") as con:
            for source in AD_SOURCES:
                files = source.files(settings.landing_dir)
                if not files:
                    continue
                plan = plan_files(con, manifest_dir, source.name, files)
                for warning in plan.warnings():
                    context.log.warning(warning)
                result = source.load(con, plan.to_load, days, loaded_at)
                if result.drift.extra_columns:
                    context.log.info(
                        f"{source.name} columns ignored: {', '.join(result.drift.extra_columns)}"
                    )
                results.append(result)
                plans.append(plan)
            results = quarantine_overlapping_sources(con, results)
            for result in results:
                context.log.info(result.describe())
            log_result_warnings(context.log, results)
            if results:
                rows = _union([r.table for r in results])
                rejects = _union([r.quarantine_table for r in results])
            else:
                rows, rejects = _empty_tables(con)
            for day in days:
                day_rows = f"select * from ({rows}) where report_date = date '{day}'"
                count = write_partition(con, day_rows, settings.lake_dir / AD_PERFORMANCE, day)
                to_load = [f for plan in plans for f in plan.to_load]
                skipped = sum(len(plan.duplicates) for plan in plans)
                empty = empty_day_warning("ad reports", day, to_load, count, skipped)
                if empty:
                    context.log.warning(empty)
                    empty_days.append(day)
                written[day] = partition_dir(settings.lake_dir / AD_PERFORMANCE, day) / PART_FILE
                undated = "or partition_date is null" if day == days[-1] else ""
                day_rejects = (
                    f"select * from ({rejects}) where partition_date = date '{day}' {undated}"
                )
                write_partition(
                    con, day_rejects, settings.lake_dir / AD_PERFORMANCE_QUARANTINE, day
                )
                for plan in plans:
                    record_deliveries(con, manifest_dir, plan.for_day(day), day, loaded_at)
            for result in results:
                result.drop(con)

        yield from ingest_outcome(
            context,
            settings,
            AD_PERFORMANCE,
            AD_PERFORMANCE_QUARANTINE,
            results=results,
            plans=plans,
            empty_days=empty_days,
            written=written,
        )

    return ingest_ad_reports


def _empty_tables(con: duckdb.DuckDBPyConnection) -> tuple[str, str]:
    """Typed empty relations for a run with no ad file at all (its days are still written)."""
    names = []
    for prefix, columns in (
        ("ads_empty", AD_PERFORMANCE_COLUMNS),
        ("ads_rejects_empty", QUARANTINE_COLUMNS),
    ):
        name = temp_name(prefix)
        typed = ", ".join(f"{column} {dtype}" for column, dtype in columns.items())
        con.execute(f"create temp table {name} ({typed})")
        names.append(f"select * from {name}")
    return names[0], names[1]


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_ad_performance_asset(partitions)])
