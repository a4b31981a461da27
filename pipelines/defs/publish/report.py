"""The HTML funnel report, rewritten after each publish."""

import dagster as dg

from pipelines.defs.shared import DUCKDB_POOL, OWNERS, MicrofunnelResource
from pipelines.lib.funnel_report.page import write_report


def build_funnel_report(partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
    @dg.asset(
        name="funnel_report",
        group_name="publish",
        kinds={"html"},
        owners=OWNERS,
        deps=["reporting_duckdb"],
        partitions_def=partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        pool=DUCKDB_POOL,
        description=(
            "Self-contained HTML page (works offline) read from the reporting DuckDB: ranked "
            "recommendations, micro sequence vs direct ask, campaign performance per funnel, "
            "and per funnel the stage chart, daily and weekly trends, momentum, time to convert "
            "and intent segments, with a platform/campaign filter: "
            "<warehouse>/reporting/funnel_report.html."
        ),
    )
    def funnel_report(microfunnel: MicrofunnelResource) -> dg.MaterializeResult:
        settings = microfunnel.settings()
        out, data = write_report(settings.reporting_db_path, settings.report_path)
        first = next((r for r in data.recommendations if r.scope == "funnel"), None)
        metadata: dict[str, dg.RawMetadataValue] = {
            "path": dg.MetadataValue.path(str(out)),
            "bytes": out.stat().st_size,
            "cohort dates": f"{data.first_day} to {data.last_day}",
            "funnels": len(data.funnels),
            "campaigns": len(data.campaigns),
            "recommendations": len(data.recommendations),
        }
        if first is not None:
            metadata["fix first"] = f"{first.funnel_id}: {first.action}"
        return dg.MaterializeResult(metadata=metadata)

    return funnel_report


def defs(partitions: dg.PartitionsDefinition) -> dg.Definitions:
    return dg.Definitions(assets=[build_funnel_report(partitions)])
