"""Helpers the analysis-mart tests share: the marts' grains, a nightly run on generated exports
and reading back what it built, and the row-by-row comparison with the Python references
(tests/reference/analysis_marts.py, tests/reference/comparison_marts.py)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.funnels.model import Funnel
from pipelines.lib.generator import generate_exports
from pipelines.lib.publish.marts import mart_grains
from pipelines.lib.settings import Settings
from tests.pipeline_environment import PipelineEnvironment
from tests.reference import funnel as funnel_reference

# The marts of tests/reference/analysis_marts.py; one row per grain, as each mart's yml declares
# it (read from the dbt manifest, like publishing does).
ANALYSIS_MARTS = (
    "agg_funnel_trends",
    "agg_time_to_convert",
    "agg_momentum_curve",
    "agg_intent_segments",
    "agg_intent_segment_totals",
)
_GRAINS = mart_grains(dbt_project().manifest_path)
ANALYSIS_MART_GRAIN: dict[str, tuple[str, ...]] = {mart: _GRAINS[mart] for mart in ANALYSIS_MARTS}


# --- a nightly run on generated exports --------------------------------------------------------


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
    """The step failures of the instance's latest run."""
    run_id = instance.get_runs(limit=1)[0].run_id
    texts = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event and event.step_failure_data.error:
            texts.append(f"{event.step_key}: {event.step_failure_data.error.to_string()}")
    return "\n".join(texts)


@contextmanager
def generated_exports(
    root: Path,
    pipeline_environment: PipelineEnvironment,
    start: date,
    end: date,
    *,
    events_per_day: int,
    seed: int,
) -> Iterator[tuple[Settings, dg.DagsterInstance]]:
    """A pipeline home under root with generated exports for start..end, and a Dagster instance
    to run the nightly job in."""
    (root / "dagster").mkdir()
    with (
        pipeline_environment(root / "home", start) as settings,
        dg.instance_for_test(temp_dir=str(root / "dagster")) as instance,
    ):
        generate_exports(settings.landing_dir, start, end, events_per_day=events_per_day, seed=seed)
        yield settings, instance


def enriched_events(settings: Settings) -> tuple[list[dict[str, Any]], date | None]:
    """The warehouse's int_events_enriched rows and the newest export day (the reference's
    as_of; None without events)."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        cursor = con.execute("select * from int_events_enriched")
        names = [d[0] for d in cursor.description]
        events = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        row = con.execute("select max(export_date) from stg_lake__events").fetchone()
    return events, row[0] if row else None


def reference_journeys(
    events: Sequence[dict[str, Any]], funnels: Iterable[Funnel], as_of: date, settings: Settings
) -> list[funnel_reference.Journey]:
    """The Python reference's journeys of every funnel from the enriched events."""
    journeys: list[funnel_reference.Journey] = []
    for funnel in funnels:
        journeys += funnel_reference.compute_journeys(
            events, funnel, as_of=as_of, late_data_days=settings.late_data_days
        )
    return journeys


# --- comparing with the reference --------------------------------------------------------------


@dataclass(frozen=True)
class FctJourney:
    """A fct_funnel_journeys row in the shape the references read (their JourneyLike)."""

    funnel_id: str
    funnel_version: int
    platform: str | None
    campaign_id: str | None
    cohort_date: date
    reached_at: tuple[datetime | None, ...]
    seconds_to_next: tuple[float | None, ...]
    furthest_stage: int
    is_converted: bool
    seconds_to_convert: float | None
    is_excluded: bool
    is_stalled: bool
    intent_segment: str
    is_final: bool


def fct_journeys(table: Table) -> list[FctJourney]:
    names = {f.name for f in dataclasses.fields(FctJourney)} - {"reached_at", "seconds_to_next"}
    journeys = []
    for row in table.dicts():
        stages = range(1, row["stage_count"] + 1)
        journeys.append(
            FctJourney(
                **{name: row[name] for name in names},
                reached_at=tuple(row[f"stage_{k}_reached_at"] for k in stages),
                seconds_to_next=tuple(row[f"stage_{k}_seconds_to_next"] for k in stages),
            )
        )
    return journeys


def close(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return False
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-6)
    return expected == actual


def assert_mart_equals_reference(
    mart: str, grain: Sequence[str], table: Table, reference_rows: list[Any]
) -> None:
    """Same grains and, grain by grain, the same values (floats to 1e-9 relative)."""
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
