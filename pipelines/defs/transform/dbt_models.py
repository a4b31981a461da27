"""The dbt project as daily-partitioned assets; a partition range runs as one dbt build."""

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.shared import (
    DUCKDB_POOL,
    MicrofunnelResource,
    daily_partitions,
    dbt_project,
    partition_dates,
)
from pipelines.defs.transform.translator import MicrofunnelDbtTranslator
from pipelines.lib.dbt_vars import dbt_build_args, dbt_vars
from pipelines.lib.rebuild_window import rebuild_start
from pipelines.lib.settings import ENV_WAREHOUSE_DIR


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


def build_dbt_models() -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=MicrofunnelDbtTranslator(),
        partitions_def=daily_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def microfunnel_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, microfunnel: MicrofunnelResource
    ) -> Iterator[Any]:
        settings = microfunnel.settings()
        start = rebuild_start(settings, partition_dates(context)[0])
        context.log.info(f"Rebuilding cohorts from {start} (partition range minus window)")
        args = dbt_build_args(dbt_vars(start, settings.late_data_days))
        # dbt reads its paths from the same variable the resource was configured from; the
        # subprocess inherits os.environ, which is restored once dbt has finished.
        with _environment(ENV_WAREHOUSE_DIR, str(settings.warehouse_dir)):
            yield from dbt.cli(args, context=context).stream()

    return microfunnel_dbt_models


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_models()])
