"""The analysis marts after the real nightly job on generated exports: published to every target,
and equal to the Python reference (tests/reference/analysis_marts.py) row by row.

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

from pipelines.lib.funnels import load_funnels
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job
from tests.journey_fixtures import (
    ANALYSIS_MART_GRAIN,
    PipelineEnvironment,
    Table,
    assert_mart_equals_reference,
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
MARTS = tuple(ANALYSIS_MART_GRAIN)
WHOLE_TABLE_MARTS = ("agg_funnel_trends", "agg_time_to_convert", "agg_momentum_curve")


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
        {mart: read_table(settings.duckdb_path, mart) for mart in MARTS},
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
