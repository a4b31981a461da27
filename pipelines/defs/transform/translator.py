"""How dbt nodes appear in Dagster. Groups and owners come from the models' `meta.dagster`
(per folder in dbt_project.yml); what is special here: the lake sources are the ingestion assets
that write them, so lineage reads exports -> ingest -> dbt."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# dbt source -> the Dagster asset that writes it.
SOURCE_ASSET_KEYS = {
    ("lake", "events"): dg.AssetKey("events"),
    ("lake", "ad_performance"): dg.AssetKey("ad_performance"),
    ("exchange_rates", "rates"): dg.AssetKey("exchange_rates"),
}
# Every funnel_config table is written by the one funnel_definitions asset.
FUNNEL_CONFIG_SOURCE = "funnel_config"
FUNNEL_DEFINITIONS = dg.AssetKey("funnel_definitions")


class MicrofunnelDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_duplicate_source_asset_keys=True
            )
        )

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source = dbt_resource_props["source_name"]
            if source == FUNNEL_CONFIG_SOURCE:
                return FUNNEL_DEFINITIONS
            key = SOURCE_ASSET_KEYS.get((source, dbt_resource_props["name"]))
            if key is not None:
                return key
        return super().get_asset_key(dbt_resource_props)
