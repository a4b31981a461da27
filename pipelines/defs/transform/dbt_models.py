"""The dbt project as daily-partitioned assets; a partition range runs as one dbt build."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from pipelines.defs.shared import DUCKDB_POOL, MicrofunnelResource, partition_dates
from pipelines.defs.transform.translator import MicrofunnelDbtTranslator
from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.dbt_vars import dbt_build_args, dbt_vars
from pipelines.lib.rebuild_window import rebuild_start

KEPT_RUNS = 10


def prune_run_folders(folder: Path, keep: int) -> None:
    """Delete all but the `keep` newest run folders (by modification time)."""
    if not folder.is_dir():
        return
    runs = sorted((p for p in folder.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[: max(len(runs) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)


def build_dbt_models(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    project = dbt_project()

    @dbt_assets(
        manifest=project.manifest_path,
        project=project,
        dagster_dbt_translator=MicrofunnelDbtTranslator(),
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
    )
    def microfunnel_dbt_models(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, microfunnel: MicrofunnelResource
    ) -> Iterator[Any]:
        settings = microfunnel.settings()
        start = rebuild_start(settings, partition_dates(context)[0])
        context.log.info(
            f"Rebuilding cohorts from {start} (partition range minus window) on {settings.engine}"
        )
        # dbt's paths come with its vars (profiles.yml and the lake sources read them).
        args = dbt_build_args(
            dbt_vars(
                start,
                settings.late_data_days,
                settings.warehouse_dir,
                settings.memory_limit,
                settings.reporting_currency,
            ),
            target=settings.engine,
        )
        # Artifacts and dbt.log per run under the warehouse (not in the repository); the CLI
        # names this log when a run fails. Older run folders are pruned.
        prune_run_folders(settings.runs_dir, keep=KEPT_RUNS - 1)
        target = settings.run_dir(context.run.run_id)
        yield from dbt.cli(args, context=context, target_path=target).stream()

    return microfunnel_dbt_models


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_dbt_models(partitions)])
