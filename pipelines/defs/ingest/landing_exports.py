"""The export files in the landing zone: external assets, the first boxes of the lineage graph."""

import dagster as dg

from pipelines.defs.shared import OWNERS

GA4_EXPORTS = dg.AssetSpec(
    key="ga4_export_files",
    group_name="landing",
    kinds={"ga4", "json"},
    owners=OWNERS,
    description=(
        "GA4 BigQuery export files dropped in <landing>/ga4/: events_YYYYMMDD*.json[.gz] "
        "(newline-delimited JSON as BigQuery extracts it) or .parquet, one file set per day."
    ),
)

GOOGLE_ADS_REPORTS = dg.AssetSpec(
    key="google_ads_report_files",
    group_name="landing",
    kinds={"googleads", "csv"},
    owners=OWNERS,
    description=(
        "Google Ads daily performance reports dropped in <landing>/google_ads/*.csv[.gz]: API "
        "(GAQL) results or the UI download."
    ),
)

FUNNELS_FILE = dg.AssetSpec(
    key="funnels_file",
    group_name="landing",
    kinds={"yaml"},
    owners=OWNERS,
    description=(
        "The funnel definitions YAML (MICROFUNNEL_FUNNELS_FILE, default funnels/funnels.yml)."
    ),
)


def defs() -> dg.Definitions:
    return dg.Definitions(assets=[GA4_EXPORTS, GOOGLE_ADS_REPORTS, FUNNELS_FILE])
