"""Deliver the marts to the reporting warehouses after each run, atomically: a day at a time,
or whole for marts without a day column."""

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg

from pipelines.defs.shared import (
    DUCKDB_POOL,
    OWNERS,
    MicrofunnelResource,
    partition_dates,
)
from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.publish import (
    MartSpec,
    PublishResult,
    publish_duckdb,
    publish_parquet,
    publish_postgres,
    redact_url,
)
from pipelines.lib.publish.marts import published_marts
from pipelines.lib.publish.source import attach_source, connect_memory, source_ref
from pipelines.lib.rebuild_window import rebuild_start
from pipelines.lib.settings import Settings

POSTGRES_SCHEMA = "microfunnel"


def republished_days(
    settings: Settings, context: dg.AssetExecutionContext, marts: Sequence[MartSpec]
) -> list[date]:
    """Every day dbt may have rebuilt: from the rebuild start to the newest mart day."""
    first = rebuild_start(settings, partition_dates(context)[0])
    last = partition_dates(context)[-1]
    with connect_memory(settings.duckdb_memory) as con:
        attach_source(con, settings.marts_source, marts)
        for mart in marts:
            if mart.is_whole_table:
                continue
            row = con.execute(
                f"select max({mart.quoted_partition}) from {source_ref(mart)}"
            ).fetchone()
            if row and row[0] and row[0] > last:
                last = row[0]
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _publish_asset(
    name: str,
    partitions: dg.PartitionsDefinition,
    marts: Sequence[MartSpec],
    description: str,
    kinds: set[str],
    *,
    output_required: bool = True,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """`dg.asset` of one reporting target: after every mart, one writer at a time."""
    return dg.asset(
        name=name,
        group_name="publish",
        kinds=kinds,
        owners=OWNERS,
        deps=[dg.AssetKey(mart.table) for mart in marts],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
        description=description,
        output_required=output_required,
    )


def _metadata(
    result: PublishResult, days: list[date], target: str
) -> "dict[str, dg.RawMetadataValue]":  # a name for type checkers only
    return {
        **result.to_metadata(),
        "target": target,
        "days_replaced": f"{days[0]} .. {days[-1]}" if days else "none",
    }


def build_publish_assets(
    partitions: dg.PartitionsDefinition, marts: Sequence[MartSpec]
) -> list[dg.AssetsDefinition]:
    @_publish_asset(
        "reporting_duckdb",
        partitions,
        marts,
        "The marts in <warehouse>/reporting/reporting.duckdb for BI tools: rebuilt as a "
        "copy and swapped in, so open readers keep a complete old version.",
        {"duckdb"},
    )
    def reporting_duckdb(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        days = republished_days(settings, context, marts)
        target = settings.reporting_db_path
        result = publish_duckdb(settings.marts_source, marts, target, days, settings.duckdb_memory)
        return dg.MaterializeResult(metadata=_metadata(result, days, str(target)))

    @_publish_asset(
        "reporting_parquet",
        partitions,
        marts,
        "The marts as Parquet under <warehouse>/reporting/parquet/<mart>/<date column>=YYYY-"
        "MM-DD/ (marts without a day column: <mart>/part-0.parquet); each day or file is "
        "written aside and renamed into place.",
        {"parquet"},
    )
    def reporting_parquet(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        days = republished_days(settings, context, marts)
        target = settings.reporting_parquet_dir
        result = publish_parquet(settings.marts_source, marts, target, days, settings.duckdb_memory)
        return dg.MaterializeResult(metadata=_metadata(result, days, str(target)))

    @_publish_asset(
        "reporting_postgres",
        partitions,
        marts,
        "The marts in PostgreSQL schema `microfunnel` when MICROFUNNEL_POSTGRES_URL is set: "
        "each publish deletes and copies the rebuilt days (marts without a day column: every "
        "row) in one transaction.",
        {"postgres"},
        output_required=False,
    )
    def reporting_postgres(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult]:
        settings = microfunnel.settings()
        if not settings.postgres_url:
            context.log.info("MICROFUNNEL_POSTGRES_URL is not set: PostgreSQL publish skipped")
            return
        days = republished_days(settings, context, marts)
        result = publish_postgres(
            settings.marts_source,
            marts,
            settings.postgres_url,
            POSTGRES_SCHEMA,
            days,
            memory=settings.duckdb_memory,
        )
        target = f"{redact_url(settings.postgres_url)} schema {POSTGRES_SCHEMA}"
        # A MaterializeResult stores nothing through an IO manager, so ranges work too.
        yield dg.MaterializeResult(metadata=_metadata(result, days, target))

    return [reporting_duckdb, reporting_parquet, reporting_postgres]


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    # The marts and their grains as their yml declares them (dbt manifest).
    marts = published_marts(dbt_project().manifest_path)
    return dg.Definitions(assets=build_publish_assets(partitions, marts))
