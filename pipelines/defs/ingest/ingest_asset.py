"""What every ingestion multi-asset shares: its two specs (table + quarantine), its partitioning
and checks, and the results it yields once the day range is written."""

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from pipelines.defs.ingest.delivery_metadata import delivery_metadata
from pipelines.defs.ingest.ingest_metadata import ingest_metadata
from pipelines.defs.ingest.lake_checks import check_specs, run_checks
from pipelines.defs.shared import LAKE_POOL, OWNERS
from pipelines.lib.ingest import IngestResult
from pipelines.lib.ingest.deliveries import DeliveryPlan
from pipelines.lib.settings import Settings


def ingest_multi_asset(
    name: str,
    partitions: dg.PartitionsDefinition,
    table: str,
    quarantine: str,
    *,
    kinds: set[str],
    landing: list[dg.AssetSpec],
    description: str,
    quarantine_description: str,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """`dg.multi_asset` of an ingestion asset: the table and its quarantine, with checks."""

    def spec(key: str, spec_kinds: set[str], spec_description: str) -> dg.AssetSpec:
        return dg.AssetSpec(
            key,
            kinds=spec_kinds,
            description=spec_description,
            group_name="ingest",
            owners=OWNERS,
            deps=landing,
        )

    return dg.multi_asset(
        name=name,
        specs=[
            spec(table, {*kinds, "parquet"}, description),
            spec(quarantine, {"parquet"}, quarantine_description),
        ],
        check_specs=check_specs(table),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=LAKE_POOL,
    )


def ingest_outcome(
    context: dg.AssetExecutionContext,
    settings: Settings,
    table: str,
    quarantine: str,
    *,
    results: list[IngestResult],
    plans: list[DeliveryPlan],
    empty_days: list[date],
    written: dict[date, Path],
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Both materializations with their reconciliation metadata, then the checks."""
    yield dg.MaterializeResult(
        asset_key=table,
        metadata={
            **ingest_metadata(results, "loaded"),
            **delivery_metadata(plans, results, empty_days),
        },
    )
    yield dg.MaterializeResult(
        asset_key=quarantine, metadata=ingest_metadata(results, "quarantined")
    )
    yield from run_checks(table, written, results, context=context, settings=settings)
