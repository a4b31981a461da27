"""Funnel YAML -> validated -> tables dbt reads (stage definitions reach SQL as data)."""

import dagster as dg

from pipelines.defs.ingest.landing_exports import FUNNELS_FILE
from pipelines.defs.shared import LAKE_POOL, OWNERS, MicrofunnelResource
from pipelines.lib.funnels import load_funnels, write_funnel_tables
from pipelines.lib.funnels.versions import check_versions, write_history


def build_funnel_definitions(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="funnel_definitions",
        group_name="ingest",
        kinds={"yaml", "parquet"},
        owners=OWNERS,
        deps=[FUNNELS_FILE],
        # Partitioned like everything it feeds so a day's run carries the current definitions.
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=LAKE_POOL,
        description=(
            "Validates the funnel YAML and writes it as tables (funnels, stages, matchers, "
            "filters, campaigns, exclusions with their matchers and filters, intent campaigns; "
            "docs/funnels.md section 5) under <warehouse>/lake/funnel_config/ for dbt. Fails "
            "when a definition changed but kept its version (versions.json remembers each)."
        ),
    )
    def funnel_definitions(
        context: dg.AssetExecutionContext, microfunnel: MicrofunnelResource
    ) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        funnel_set = load_funnels(settings.funnels_file)
        config_dir = settings.lake_dir / "funnel_config"
        # A definition changed under the same version would mix two definitions' numbers.
        history = check_versions(funnel_set, config_dir)
        counts = write_funnel_tables(funnel_set, config_dir)
        write_history(history, config_dir)
        context.log.info(f"Funnels: {', '.join(f.id for f in funnel_set.funnels)}")
        return dg.MaterializeResult(
            metadata={
                "funnels_file": dg.MetadataValue.path(str(settings.funnels_file)),
                "funnels": ", ".join(f"{f.id} v{f.version}" for f in funnel_set.funnels),
                **{f"rows_{table}": count for table, count in counts.items()},
            }
        )

    return funnel_definitions


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_funnel_definitions(partitions)])
