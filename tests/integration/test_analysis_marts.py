"""The analysis marts after the real nightly job on generated exports: published to every target,
and equal to the Python reference (pipelines/lib/mart_reference.py) row by row.

One three-day range (Saturday to Monday, so cohorts span two ISO weeks) and a re-run of its last
day: the table marts are rebuilt whole and republished whole, so the re-run must give the same
rows.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from pipelines.lib import funnel_reference
from pipelines.lib import mart_reference as mr
from pipelines.lib.funnels import load_funnels
from pipelines.lib.generator import generate_exports
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job

pytestmark = pytest.mark.slow

START = date(2024, 3, 2)  # Saturday
END = date(2024, 3, 4)  # Monday: ISO week 10 starts
EVENTS_PER_DAY = 3000
SEED = 23
GRAIN = {
    "agg_funnel_trends": (
        "funnel_id",
        "funnel_version",
        "cohort_grain",
        "cohort_start",
        "platform",
        "campaign_id",
    ),
    "agg_time_to_convert": (
        "funnel_id",
        "funnel_version",
        "platform",
        "campaign_id",
        "bucket_order",
    ),
    "agg_momentum_curve": ("funnel_id", "funnel_version", "platform", "campaign_id", "stage_order"),
    "agg_intent_segments": (
        "funnel_id",
        "funnel_version",
        "cohort_date",
        "platform",
        "campaign_id",
        "intent_segment",
        "stage_order",
    ),
}
MARTS = tuple(GRAIN)
WHOLE_TABLE_MARTS = ("agg_funnel_trends", "agg_time_to_convert", "agg_momentum_curve")

PipelineEnvironment = Callable[..., AbstractContextManager[Settings]]  # tests/conftest.py


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def read_table(db: Path, table: str) -> Table:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(f"select * from {table} order by all")
        return Table(tuple(d[0] for d in cursor.description), cursor.fetchall())


def run_failures(instance: dg.DagsterInstance) -> str:
    run_id = instance.get_runs(limit=1)[0].run_id
    texts = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event and event.step_failure_data.error:
            texts.append(f"{event.step_key}: {event.step_failure_data.error.to_string()}")
    return "\n".join(texts)


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
    succeeded = run_nightly_job(start, end, instance=instance)
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
    (root / "dagster").mkdir()
    with (
        pipeline_environment(root / "home", START) as settings,
        dg.instance_for_test(temp_dir=str(root / "dagster")) as instance,
    ):
        generate_exports(settings.landing_dir, START, END, events_per_day=EVENTS_PER_DAY, seed=SEED)
        first = capture(settings, instance, START, END)
        enriched: list[dict[str, Any]] = []
        journeys = Table((), [])
        as_of = START
        if first.succeeded:
            with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
                cursor = con.execute("select * from int_events_enriched")
                names = [d[0] for d in cursor.description]
                enriched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
                row = con.execute("select max(export_date) from stg_lake__events").fetchone()
                as_of = row[0] if row else START
            journeys = read_table(settings.duckdb_path, "fct_funnel_journeys")
        rerun = capture(settings, instance, END, END) if first.succeeded else first
        yield Nightly(settings, first, rerun, enriched, journeys, as_of)


# --- comparing with the reference --------------------------------------------------------------


def close(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-6)
    return expected == actual


def assert_mart_equals_reference(mart: str, table: Table, reference_rows: list[Any]) -> None:
    grain = GRAIN[mart]
    actual = {tuple(r[c] for c in grain): r for r in table.dicts()}
    expected = {tuple(getattr(r, c) for c in grain): dataclasses.asdict(r) for r in reference_rows}
    assert len(actual) == len(table.rows), f"{mart} repeats a grain"
    missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
    assert not missing and not extra, (
        f"{mart}: {len(missing)} reference rows missing, e.g. {sorted(missing, key=repr)[:2]}; "
        f"{len(extra)} extra, e.g. {sorted(extra, key=repr)[:2]}"
    )
    differing = {
        key: {c: (v, actual[key][c]) for c, v in row.items() if not close(v, actual[key][c])}
        for key, row in expected.items()
    }
    differing = {key: diff for key, diff in differing.items() if diff}
    assert not differing, (
        f"{mart}: {len(differing)} rows differ, e.g. {list(differing.items())[:3]}"
    )


@dataclass(frozen=True)
class FctJourney:
    """A fct_funnel_journeys row in the shape mart_reference reads (mart_reference.JourneyLike)."""

    funnel_id: str
    funnel_version: int
    platform: str | None
    campaign_id: str | None
    cohort_date: date
    reached_at: tuple[datetime | None, ...]
    furthest_stage: int
    is_converted: bool
    seconds_to_convert: float | None
    is_excluded: bool
    intent_segment: str
    is_final: bool


def fct_journeys(table: Table) -> list[FctJourney]:
    names = {f.name for f in dataclasses.fields(FctJourney)} - {"reached_at"}
    return [
        FctJourney(
            **{name: row[name] for name in names},
            reached_at=tuple(
                row[f"stage_{k}_reached_at"] for k in range(1, row["stage_count"] + 1)
            ),
        )
        for row in table.dicts()
    ]


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
        assert_mart_equals_reference(mart, nightly.first.warehouse[mart], rows)


def test_the_sql_marts_equal_the_reference_over_the_reference_journeys(nightly: Nightly) -> None:
    """The whole chain: events -> reference journeys -> reference marts, against the SQL."""
    assert nightly.first.succeeded, nightly.first.failures
    funnels = list(load_funnels(nightly.settings.funnels_file))
    journeys: list[funnel_reference.Journey] = []
    for funnel in funnels:
        journeys += funnel_reference.compute_journeys(
            nightly.enriched_events,
            funnel,
            as_of=nightly.as_of,
            late_data_days=nightly.settings.late_data_days,
        )
    assert len(journeys) > 100, "too few reference journeys for a meaningful comparison"
    for mart, rows in mr.all_marts(journeys, funnels).items():
        assert_mart_equals_reference(mart, nightly.first.warehouse[mart], rows)


def test_rerunning_the_last_day_gives_identical_published_analysis_marts(
    nightly: Nightly,
) -> None:
    assert nightly.rerun.succeeded, nightly.rerun.failures
    for mart in MARTS:
        assert nightly.rerun.reporting[mart] == nightly.first.reporting[mart], mart
