"""The export files in the landing zone: external assets, the first boxes of the lineage graph.

One box per landing folder, built from the source registry (pipelines/lib/ingest/sources.py),
so a new source shows up in the lineage as soon as it is registered.
"""

import dagster as dg

from pipelines.defs.shared import OWNERS
from pipelines.lib.ingest.sources import AD_SOURCES, SITE_SOURCES

# Keys kept from the first version (GA4 and Google Ads only) so lineage history stays attached.
_KEYS = {"ga4": "ga4_export_files", "google_ads": "google_ads_report_files"}


def _spec(folder: str, descriptions: list[str], kinds: set[str]) -> dg.AssetSpec:
    key = _KEYS.get(folder, folder.replace("/", "_") + "_files")
    return dg.AssetSpec(
        key=key,
        group_name="landing",
        kinds=kinds,
        owners=OWNERS,
        description=f"Files dropped in <landing>/{folder}/: " + "; ".join(descriptions) + ".",
    )


def _specs_by_folder(sources: tuple, kind: str) -> list[dg.AssetSpec]:
    folders: dict[str, list[str]] = {}
    for source in sources:
        folders.setdefault(source.folder, []).append(source.describes)
    return [_spec(folder, described, {kind}) for folder, described in folders.items()]


SITE_LANDING_SPECS = _specs_by_folder(SITE_SOURCES, "json")
AD_LANDING_SPECS = _specs_by_folder(AD_SOURCES, "csv")
GA4_EXPORTS = SITE_LANDING_SPECS[0]
GOOGLE_ADS_REPORTS = AD_LANDING_SPECS[0]

EXCHANGE_RATE_FILES = dg.AssetSpec(
    key="exchange_rate_files",
    group_name="landing",
    kinds={"csv"},
    owners=OWNERS,
    description=(
        "Exchange rates dropped in <landing>/exchange_rates/*.csv: date, base_currency, "
        "quote_currency, rate (README: Currencies and timezones)."
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
    return dg.Definitions(assets=[*SITE_LANDING_SPECS, *AD_LANDING_SPECS, FUNNELS_FILE])
