"""How dbt nodes appear in Dagster: lake sources map onto the ingestion assets."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from pipelines.defs.shared import OWNERS

# dbt source -> the Dagster asset that writes it, so lineage reads exports -> ingest -> dbt.
SOURCE_ASSET_KEYS = {
    ("lake", "events"): dg.AssetKey("events"),
    ("lake", "ad_performance"): dg.AssetKey("ad_performance"),
}
FUNNEL_CONFIG_SOURCE = "funnel_config"


class MicrofunnelDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True, enable_duplicate_source_asset_keys=True
            )
        )

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            if props["source_name"] == FUNNEL_CONFIG_SOURCE:
                return spec.replace_attributes(key=dg.AssetKey("funnel_definitions"))
            key = SOURCE_ASSET_KEYS.get((props["source_name"], props["name"]))
            return spec.replace_attributes(key=key) if key else spec
        layer = props["fqn"][1] if len(props["fqn"]) > 2 else "dbt"
        return spec.replace_attributes(group_name=layer, owners=OWNERS).merge_attributes(
            kinds={"duckdb"}
        )
