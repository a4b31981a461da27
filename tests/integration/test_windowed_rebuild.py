"""A nightly run rebuilds only its window, and the result equals a build over the whole history.

Three weeks of exports run as one backfill (every cohort built); then the nightly job runs for
the last day alone, so dbt rebuilds from the window's start (mid-history, a Wednesday) and keeps
everything older: the lake folders before the window are not read, identity links and the
incremental marts keep their older rows, the weekly trend recounts its whole week. Every
published mart and the identity map must come out row for row as the full build left them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pytest

from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.publish.marts import published_marts
from pipelines.lib.rebuild_window import rebuild_start
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job
from tests.journey_fixtures import PipelineEnvironment, generated_exports, run_failures

pytestmark = pytest.mark.slow

START = date(2024, 3, 4)  # a Monday
END = date(2024, 3, 24)  # a Sunday: the nightly's window starts on Wednesday 2024-03-13
TABLES_BESIDE_MARTS = ("int_identity_links_daily", "int_identity_map")


@dataclass
class Builds:
    settings: Settings
    full: dict[str, list[tuple]]
    windowed: dict[str, list[tuple]]
    window_start: date


def _tables(settings: Settings) -> dict[str, list[tuple]]:
    names = [spec.table for spec in published_marts(dbt_project().manifest_path)]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return {
            name: sorted(con.execute(f"select * from {name}").fetchall(), key=repr)
            for name in [*names, *TABLES_BESIDE_MARTS]
        }


@pytest.fixture(scope="module")
def builds(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> Iterator[Builds]:
    root = tmp_path_factory.mktemp("windowed")
    with generated_exports(root, pipeline_environment, START, END, events_per_day=1500, seed=5) as (
        settings,
        instance,
    ):
        assert run_nightly_job(settings, START, END, instance=instance), run_failures(instance)
        full = _tables(settings)
        assert run_nightly_job(settings, END, END, instance=instance), run_failures(instance)
        yield Builds(settings, full, _tables(settings), rebuild_start(settings, END))


def test_the_nightly_window_starts_mid_history(builds: Builds) -> None:
    assert START + timedelta(days=7) < builds.window_start < END
    assert builds.window_start.weekday() != 0  # so the trend's week starts before the window


@pytest.mark.parametrize(
    "table",
    [spec.table for spec in published_marts(dbt_project().manifest_path)]
    + list(TABLES_BESIDE_MARTS),
)
def test_a_windowed_nightly_leaves_every_table_as_the_full_build(
    builds: Builds, table: str
) -> None:
    full, windowed = builds.full[table], builds.windowed[table]
    assert full, f"{table} is empty: nothing to compare"
    changed = set(full) ^ set(windowed)
    assert windowed == full, (
        f"{table}: {len(changed)} rows differ, e.g. {sorted(changed, key=repr)[:2]}"
    )
