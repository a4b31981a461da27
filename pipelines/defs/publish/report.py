"""The HTML funnel report, rewritten after each publish."""

import dagster as dg

from pipelines.defs.shared import DUCKDB_POOL, OWNERS, MicrofunnelResource, daily_partitions
from pipelines.lib.report.html import write_funnel_report


def build_funnel_report() -> dg.AssetsDefinition:
    @dg.asset(
        name="funnel_report",
        group_name="publish",
        kinds={"html"},
        owners=OWNERS,
        deps=["reporting_duckdb"],
        partitions_def=daily_partitions(),
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
        description=(
            "Self-contained HTML page with funnel charts, per-campaign stage reach and cost per "
            "journey reached: <warehouse>/reporting/funnel_report.html."
        ),
    )
    def funnel_report(microfunnel: MicrofunnelResource) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        out = write_funnel_report(settings.reporting_db_path, settings.report_path)
        return dg.MaterializeResult(
            metadata={"path": dg.MetadataValue.path(str(out)), "bytes": out.stat().st_size}
        )

    return funnel_report


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[build_funnel_report()])
