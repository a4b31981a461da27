"""The code location as a user browses it in the Dagster UI: assets, checks, job, schedule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from pipelines.definitions import build_definitions
from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.settings import DBT_PROJECT_DIR
from tests.pipeline_environment import PipelineEnvironment

JOB = "microfunnel_nightly"
SCHEDULE = "microfunnel_nightly_schedule"
INGEST_ASSETS = {
    "events",
    "events_quarantine",
    "ad_performance",
    "ad_performance_quarantine",
    "funnel_definitions",
    "exchange_rates",
}
PUBLISH_ASSETS = {"reporting_duckdb", "reporting_parquet", "reporting_postgres", "funnel_report"}
# One landing box per source folder (pipelines/lib/ingest/sources.py), plus rates and funnels.
SITE_LANDING = {"ga4_export_files", "segment_files", "snowplow_files", "events_files"}
AD_LANDING = {
    "google_ads_report_files",
    "meta_ads_files",
    "tiktok_ads_files",
    "linkedin_ads_files",
    "microsoft_ads_files",
    *(
        f"connectors_{c}_files"
        for c in ("google_ads", "facebook_ads", "tiktok_ads", "linkedin_ads", "microsoft_ads")
    ),
}
LANDING_SPECS = SITE_LANDING | AD_LANDING | {"exchange_rate_files", "funnels_file"}
DBT_MODELS = {path.stem for path in (DBT_PROJECT_DIR / "models").rglob("*.sql")}
INGEST_CHECKS = ("great_expectations_errors", "quarantine_share")


@pytest.fixture(scope="module")
def defs(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> Iterator[dg.Definitions]:
    home = tmp_path_factory.mktemp("definitions")
    with pipeline_environment(home, date(2024, 1, 1)) as settings:
        yield build_definitions(settings)


@pytest.fixture(scope="module")
def manifest(defs: dg.Definitions) -> dict:
    """The dbt manifest the definitions were built from (read right after loading them)."""
    return json.loads(Path(dbt_project().manifest_path).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def graph(defs: dg.Definitions):
    return defs.resolve_asset_graph()


def keys(graph) -> set[str]:
    return {key.to_user_string() for key in graph.get_all_asset_keys()}


def test_the_dbt_project_has_the_marts_the_pipeline_publishes() -> None:
    assert {
        "fct_funnel_journeys",
        "fct_funnel_journey_stages",
        "agg_funnel_stages_daily",
        "agg_campaign_performance",
        "int_events_enriched",
    } <= DBT_MODELS


def test_definitions_load_with_every_expected_asset(graph) -> None:
    expected = INGEST_ASSETS | PUBLISH_ASSETS | LANDING_SPECS | DBT_MODELS
    assert expected <= keys(graph), sorted(expected - keys(graph))


def test_no_asset_appears_that_nobody_declared(graph) -> None:
    expected = INGEST_ASSETS | PUBLISH_ASSETS | LANDING_SPECS | DBT_MODELS
    assert keys(graph) - expected == set()


def test_landing_exports_are_external_assets_upstream_of_ingestion(graph) -> None:
    for name in LANDING_SPECS:
        assert not graph.get(dg.AssetKey(name)).is_materializable, name
    for name in SITE_LANDING:
        assert dg.AssetKey(name) in graph.get(dg.AssetKey("events")).parent_keys, name
    for name in AD_LANDING:
        assert dg.AssetKey(name) in graph.get(dg.AssetKey("ad_performance")).parent_keys, name
    assert (
        dg.AssetKey("exchange_rate_files") in graph.get(dg.AssetKey("exchange_rates")).parent_keys
    )
    assert dg.AssetKey("funnels_file") in graph.get(dg.AssetKey("funnel_definitions")).parent_keys


def test_dbt_lake_sources_are_the_ingestion_assets(graph) -> None:
    assert (
        dg.AssetKey("exchange_rates")
        in graph.get(dg.AssetKey("stg_lake__exchange_rates")).parent_keys
    )
    assert dg.AssetKey("events") in graph.get(dg.AssetKey("stg_lake__events")).parent_keys
    assert (
        dg.AssetKey("ad_performance")
        in graph.get(dg.AssetKey("stg_lake__ad_performance")).parent_keys
    )


def test_every_asset_has_a_group_a_description_and_owners(graph) -> None:
    lacking = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        problems = [
            problem
            for problem, missing in (
                ("group", not node.group_name or node.group_name == "default"),
                ("description", not (node.description or "").strip()),
                ("owners", not node.owners),
            )
            if missing
        ]
        if problems:
            lacking[key.to_user_string()] = problems
    assert lacking == {}


def test_ingestion_assets_have_blocking_quality_checks(graph) -> None:
    for asset in ("events", "ad_performance"):
        for check in INGEST_CHECKS:
            key = dg.AssetCheckKey(dg.AssetKey(asset), check)
            assert key in graph.asset_check_keys, key
            assert graph.get_check_spec(key).blocking, f"{key} must block downstream assets"


def test_every_dbt_test_on_a_model_is_an_asset_check(graph, manifest: dict) -> None:
    expected = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test":
            continue
        attached = node.get("attached_node")
        if attached and attached.startswith("model."):
            model = manifest["nodes"][attached]["name"]
            expected.add(dg.AssetCheckKey(dg.AssetKey(model), node["name"]))
    assert len(expected) > 20
    assert expected <= set(graph.asset_check_keys), sorted(
        str(k) for k in expected - set(graph.asset_check_keys)
    )
    unique_journeys = dg.AssetCheckKey(
        dg.AssetKey("fct_funnel_journeys"), "unique_fct_funnel_journeys_journey_id"
    )
    assert unique_journeys in graph.asset_check_keys


def test_the_nightly_job_and_its_schedule_exist(defs: dg.Definitions, graph) -> None:
    job = defs.resolve_job_def(JOB)
    schedule = defs.resolve_schedule_def(SCHEDULE)
    assert schedule.job_name == JOB
    assert job.partitions_def is not None
    materializable = {key for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert materializable <= set(job.asset_layer.executable_asset_keys)


def test_partitions_honour_the_reporting_timezone_and_start_date(
    tmp_path: Path, pipeline_environment: PipelineEnvironment
) -> None:
    with pipeline_environment(tmp_path, date(2024, 2, 10), timezone="America/New_York") as settings:
        defs = build_definitions(settings)
    job = defs.resolve_job_def(JOB)
    partitions = job.partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.timezone == "America/New_York"
    assert partitions.start.date() == date(2024, 2, 10)
    assert defs.resolve_schedule_def(SCHEDULE).execution_timezone == "America/New_York"
    events = defs.resolve_assets_def("events")
    assert events.partitions_def == partitions


def test_partitions_default_to_utc(graph) -> None:
    partitions = graph.get(dg.AssetKey("events")).partitions_def
    assert isinstance(partitions, dg.DailyPartitionsDefinition)
    assert partitions.timezone == "UTC"
