"""Deliver the marts to the reporting warehouses after each run, atomically: a day at a time,
or whole for marts without a day column."""

from collections.abc import Iterator
from datetime import date, timedelta

import dagster as dg
import duckdb

from pipelines.defs.shared import (
    DUCKDB_POOL,
    OWNERS,
    MicrofunnelResource,
    daily_partitions,
    partition_dates,
)
from pipelines.lib.publish import (
    MartSpec,
    PublishResult,
    publish_duckdb,
    publish_parquet,
    publish_postgres,
    redact_url,
)
from pipelines.lib.rebuild_window import rebuild_start
from pipelines.lib.settings import Settings

MARTS = (
    MartSpec("fct_funnel_journeys", "cohort_date", ("journey_id",)),
    MartSpec("fct_funnel_journey_stages", "cohort_date", ("journey_id", "stage_order")),
    MartSpec(
        "agg_funnel_stages_daily",
        "cohort_date",
        ("funnel_id", "funnel_version", "cohort_date", "platform", "campaign_id", "stage_order"),
    ),
    MartSpec("agg_campaign_performance", "report_date", ("report_date", "platform", "campaign_id")),
    MartSpec(
        "agg_intent_segments",
        "cohort_date",
        (
            "funnel_id",
            "funnel_version",
            "cohort_date",
            "platform",
            "campaign_id",
            "intent_segment",
            "stage_order",
        ),
    ),
    # Marts without a day column (weeks, every cohort at once): replaced whole on each publish.
    MartSpec(
        "agg_funnel_trends",
        None,
        (
            "funnel_id",
            "funnel_version",
            "cohort_grain",
            "cohort_start",
            "platform",
            "campaign_id",
        ),
    ),
    MartSpec(
        "agg_time_to_convert",
        None,
        ("funnel_id", "funnel_version", "platform", "campaign_id", "bucket_order"),
    ),
    MartSpec(
        "agg_momentum_curve",
        None,
        ("funnel_id", "funnel_version", "platform", "campaign_id", "stage_order"),
    ),
    # cohort_date is null on the rows over every cohort (cohort_grain 'all').
    MartSpec(
        "agg_sequence_comparison",
        None,
        (
            "micro_funnel_id",
            "micro_funnel_version",
            "direct_funnel_id",
            "direct_funnel_version",
            "cohort_grain",
            "cohort_date",
        ),
    ),
    MartSpec(
        "agg_funnel_diagnostics",
        None,
        ("funnel_id", "funnel_version", "platform", "campaign_id", "finding"),
    ),
    MartSpec(
        "agg_funnel_recommendations",
        None,
        ("funnel_id", "funnel_version", "platform", "campaign_id", "recommendation"),
    ),
)
MART_KEYS = [dg.AssetKey(mart.table) for mart in MARTS]
POSTGRES_SCHEMA = "microfunnel"


def republished_days(settings: Settings, context: dg.AssetExecutionContext) -> list[date]:
    """Every day dbt may have rebuilt: from the rebuild start to the newest mart day."""
    first = rebuild_start(settings, partition_dates(context)[0])
    last = partition_dates(context)[-1]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        for mart in MARTS:
            if mart.is_whole_table:
                continue
            row = con.execute(
                f"select max({mart.quoted_partition}) from {mart.quoted_table}"
            ).fetchone()
            if row and row[0] and row[0] > last:
                last = row[0]
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _asset_kwargs(description: str, kinds: set[str]) -> dict[str, object]:
    return {
        "group_name": "publish",
        "kinds": kinds,
        "owners": OWNERS,
        "deps": MART_KEYS,
        "partitions_def": daily_partitions(),
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "pool": DUCKDB_POOL,
        "description": description,
    }


def _metadata(result: PublishResult, days: list[date], target: str) -> dict[str, object]:
    return {
        **result.to_metadata(),
        "target": target,
        "days_replaced": f"{days[0]} .. {days[-1]}" if days else "none",
    }


def build_publish_assets() -> list[dg.AssetsDefinition]:
    @dg.asset(
        name="reporting_duckdb",
        **_asset_kwargs(
            "The marts in <warehouse>/reporting/reporting.duckdb for BI tools: rebuilt as a "
            "copy and swapped in, so open readers keep a complete old version.",
            {"duckdb"},
        ),
    )
    def reporting_duckdb(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        days = republished_days(settings, context)
        target = settings.reporting_db_path
        result = publish_duckdb(settings.duckdb_path, MARTS, target, days)
        return dg.MaterializeResult(metadata=_metadata(result, days, str(target)))

    @dg.asset(
        name="reporting_parquet",
        **_asset_kwargs(
            "The marts as Parquet under <warehouse>/reporting/parquet/<mart>/<date column>=YYYY-"
            "MM-DD/ (marts without a day column: <mart>/part-0.parquet); each day or file is "
            "written aside and renamed into place.",
            {"parquet"},
        ),
    )
    def reporting_parquet(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        days = republished_days(settings, context)
        target = settings.reporting_parquet_dir
        result = publish_parquet(settings.duckdb_path, MARTS, target, days)
        return dg.MaterializeResult(metadata=_metadata(result, days, str(target)))

    @dg.asset(
        name="reporting_postgres",
        output_required=False,
        **_asset_kwargs(
            "The marts in PostgreSQL schema `microfunnel` when MICROFUNNEL_POSTGRES_URL is set: "
            "each publish deletes and copies the rebuilt days (marts without a day column: every "
            "row) in one transaction.",
            {"postgres"},
        ),
    )
    def reporting_postgres(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> Iterator[dg.MaterializeResult]:
        settings = microfunnel.settings()
        if not settings.postgres_url:
            context.log.info("MICROFUNNEL_POSTGRES_URL is not set: PostgreSQL publish skipped")
            return
        days = republished_days(settings, context)
        result = publish_postgres(
            settings.duckdb_path, MARTS, settings.postgres_url, POSTGRES_SCHEMA, days
        )
        target = f"{redact_url(settings.postgres_url)} schema {POSTGRES_SCHEMA}"
        # A MaterializeResult stores nothing through an IO manager, so ranges work too.
        yield dg.MaterializeResult(metadata=_metadata(result, days, target))

    return [reporting_duckdb, reporting_parquet, reporting_postgres]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=build_publish_assets())
