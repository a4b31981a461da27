"""The analysis and totals marts after the real nightly job on generated exports: published to
every target, and equal to the Python reference (tests/reference/analysis_marts.py) row by row;
agg_campaign_totals equals the sums of agg_campaign_performance's rows.

One three-day range (Saturday to Monday, so cohorts span two ISO weeks) and a re-run of its last
day: the table marts are rebuilt whole and republished whole, so the re-run must give the same
rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import dagster as dg
import duckdb
import pytest

from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.funnels import load_funnels
from pipelines.lib.publish.marts import mart_grains
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job
from tests.journey_fixtures import (
    ANALYSIS_MART_GRAIN,
    PipelineEnvironment,
    Table,
    assert_mart_equals_reference,
    close,
    enriched_events,
    fct_journeys,
    generated_exports,
    read_table,
    reference_journeys,
    run_failures,
)
from tests.reference import analysis_marts as mr

pytestmark = pytest.mark.slow

START = date(2024, 3, 2)  # Saturday
END = date(2024, 3, 4)  # Monday: ISO week 10 starts
EVENTS_PER_DAY = 3000
SEED = 23
STAGE_TOTALS = "agg_funnel_stage_totals"
CAMPAIGN_TOTALS = "agg_campaign_totals"
MARTS = (*ANALYSIS_MART_GRAIN, STAGE_TOTALS, CAMPAIGN_TOTALS)
WHOLE_TABLE_MARTS = (
    "agg_funnel_trends",
    "agg_time_to_convert",
    "agg_momentum_curve",
    "agg_intent_segment_totals",
    STAGE_TOTALS,
    CAMPAIGN_TOTALS,
)
GRAINS = mart_grains(dbt_project().manifest_path)
# What the warehouse holds beside the marts: the totals' references read them.
INPUTS = ("int_ad_spend_daily", "agg_campaign_performance")


@dataclass(frozen=True)
class Run:
    succeeded: bool
    failures: str
    warehouse: dict[str, Table]  # the transformation DuckDB file
    reporting: dict[str, Table]  # the published reporting DuckDB file


@dataclass(frozen=True)
class Nightly:
    settings: Settings
    first: Run
    rerun: Run
    enriched_events: list[dict[str, Any]]
    journeys: Table
    as_of: date


def capture(settings: Settings, instance: dg.DagsterInstance, start: date, end: date) -> Run:
    succeeded = run_nightly_job(settings, start, end, instance=instance)
    if not succeeded:
        return Run(False, run_failures(instance), {}, {})
    reporting = settings.reporting_dir / "reporting.duckdb"
    return Run(
        True,
        "",
        {mart: read_table(settings.duckdb_path, mart) for mart in (*MARTS, *INPUTS)},
        {mart: read_table(reporting, mart) for mart in MARTS},
    )


@pytest.fixture(scope="module")
def nightly(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> Iterator[Nightly]:
    root = tmp_path_factory.mktemp("analysis_marts")
    with generated_exports(
        root, pipeline_environment, START, END, events_per_day=EVENTS_PER_DAY, seed=SEED
    ) as (settings, instance):
        first = capture(settings, instance, START, END)
        enriched: list[dict[str, Any]] = []
        journeys = Table((), [])
        as_of = START
        if first.succeeded:
            enriched, newest = enriched_events(settings)
            as_of = newest or START
            journeys = read_table(settings.duckdb_path, "fct_funnel_journeys")
        rerun = capture(settings, instance, END, END) if first.succeeded else first
        yield Nightly(settings, first, rerun, enriched, journeys, as_of)


def test_the_nightly_job_builds_and_publishes_every_analysis_mart(nightly: Nightly) -> None:
    assert nightly.first.succeeded, nightly.first.failures
    for mart in MARTS:
        assert nightly.first.warehouse[mart].rows, f"{mart} is empty"
        assert nightly.first.reporting[mart] == nightly.first.warehouse[mart], mart
    trends = nightly.first.warehouse["agg_funnel_trends"].dicts()
    weeks = {r["cohort_start"] for r in trends if r["cohort_grain"] == "week"}
    assert weeks == {date(2024, 2, 26), date(2024, 3, 4)}
    parquet = nightly.settings.reporting_dir / "parquet"
    for mart in WHOLE_TABLE_MARTS:
        files = sorted((parquet / mart).iterdir())
        assert [f.name for f in files] == ["part-0.parquet"], mart
        with duckdb.connect() as con:
            rows = con.execute(f"select * from read_parquet('{files[0]}') order by all").fetchall()
        assert rows == nightly.first.warehouse[mart].rows, mart


def test_the_sql_marts_equal_the_reference_over_the_journeys_of_the_fct(nightly: Nightly) -> None:
    """The marts alone: the reference computed from the very journeys the SQL read."""
    assert nightly.first.succeeded, nightly.first.failures
    funnels = list(load_funnels(nightly.settings.funnels_file))
    journeys = fct_journeys(nightly.journeys)
    assert any(j.is_converted for j in journeys)
    for mart, rows in mr.all_marts(journeys, funnels).items():
        assert_mart_equals_reference(
            mart, ANALYSIS_MART_GRAIN[mart], nightly.first.warehouse[mart], rows
        )


def test_stage_totals_equal_the_reference_over_the_journeys_of_the_fct(nightly: Nightly) -> None:
    """Sums over every cohort per campaign, platform and in all; exact medians; spend once a day."""
    assert nightly.first.succeeded, nightly.first.failures
    funnels = list(load_funnels(nightly.settings.funnels_file))
    spend = {
        (r["platform"], r["campaign_id"], r["report_date"]): r["spend"]
        for r in nightly.first.warehouse["int_ad_spend_daily"].dicts()
    }
    rows = mr.stage_totals(fct_journeys(nightly.journeys), funnels, spend)
    assert {r.platform for r in rows if r.campaign_id == "(all)"} > {"(all)"}
    assert any(r.spend for r in rows if r.platform == "(all)")
    totals = nightly.first.warehouse[STAGE_TOTALS]
    assert_mart_equals_reference(STAGE_TOTALS, GRAINS[STAGE_TOTALS], totals, rows)


def test_campaign_totals_are_the_sums_of_the_daily_campaign_rows(nightly: Nightly) -> None:
    assert nightly.first.succeeded, nightly.first.failures
    sums: dict[tuple[str, str], dict[str, Any]] = {}
    for r in sorted(
        nightly.first.warehouse["agg_campaign_performance"].dicts(), key=lambda r: r["report_date"]
    ):
        total = sums.setdefault(
            (r["platform"], r["campaign_id"]),
            {"impressions": 0, "clicks": 0, "spend": 0.0, "first_party_conversions": 0},
        )
        for column in ("impressions", "clicks", "spend", "first_party_conversions"):
            total[column] += r[column]
        total["campaign_name"] = r["campaign_name"]
        total["report_days"] = total.get("report_days", 0) + 1
    published = {
        (r["platform"], r["campaign_id"]): r
        for r in nightly.first.warehouse[CAMPAIGN_TOTALS].dicts()
    }
    assert sums and published.keys() == sums.keys()
    for key, expected in sums.items():
        got = published[key]
        for column, value in expected.items():
            assert close(value, got[column]), (key, column, value, got[column])
        if expected["impressions"] and expected["clicks"]:
            assert close(expected["clicks"] / expected["impressions"], got["ctr"]), key
            assert close(expected["spend"] / expected["clicks"], got["cpc"]), key


def test_the_sql_marts_equal_the_reference_over_the_reference_journeys(nightly: Nightly) -> None:
    """The whole chain: events -> reference journeys -> reference marts, against the SQL."""
    assert nightly.first.succeeded, nightly.first.failures
    funnels = list(load_funnels(nightly.settings.funnels_file))
    journeys = reference_journeys(nightly.enriched_events, funnels, nightly.as_of, nightly.settings)
    assert len(journeys) > 100, "too few reference journeys for a meaningful comparison"
    for mart, rows in mr.all_marts(journeys, funnels).items():
        assert_mart_equals_reference(
            mart, ANALYSIS_MART_GRAIN[mart], nightly.first.warehouse[mart], rows
        )


def test_rerunning_the_last_day_gives_identical_published_analysis_marts(
    nightly: Nightly,
) -> None:
    assert nightly.rerun.succeeded, nightly.rerun.failures
    for mart in MARTS:
        assert nightly.rerun.reporting[mart] == nightly.first.reporting[mart], mart
