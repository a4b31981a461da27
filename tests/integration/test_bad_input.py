"""Bad exports through the whole nightly job: quarantined with file and line, or a clear failure."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.lib.generator import ga4_path, generate_exports, report_path
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job

pytestmark = pytest.mark.slow

PipelineEnvironment = Callable[..., AbstractContextManager[Settings]]  # tests/conftest.py

DAY = date(2024, 4, 10)
UNKNOWN_EVENT = "mystery_widget_spin"
MISSING_COLUMN = "metrics.cost_micros"


def dagster_instance_in(folder: Path) -> AbstractContextManager[dg.DagsterInstance]:
    folder.mkdir(parents=True, exist_ok=True)
    return dg.instance_for_test(temp_dir=str(folder))


def step_failures(instance: dg.DagsterInstance, run_id: str) -> dict[str, str]:
    """step key -> the full error text (with causes) of each failed step of a run."""
    failures = {}
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event and event.step_failure_data.error:
            failures[event.step_key] = event.step_failure_data.error.to_string()
    return failures


def partition_rows(settings: Settings, table: str, query: str) -> list[tuple]:
    part = settings.lake_dir / table / f"date={DAY.isoformat()}" / "part-0.parquet"
    with duckdb.connect() as con:
        con.execute(f"create view t as select * from read_parquet('{part}')")
        return con.execute(query).fetchall()


def count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as handle:
        return sum(1 for _ in handle)


# --- bad GA4 rows: one run, two tests -------------------------------------------------------


@dataclass(frozen=True)
class BadGa4Run:
    settings: Settings
    succeeded: bool
    failures: dict[str, str]
    export: Path
    truncated_line: int
    unknown_event_line: int


@pytest.fixture(scope="module")
def bad_ga4_run(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> BadGa4Run:
    root = tmp_path_factory.mktemp("bad_ga4")
    with (
        pipeline_environment(root / "home", DAY) as settings,
        dagster_instance_in(root / "dagster") as instance,
    ):
        generate_exports(settings.landing_dir, DAY, DAY, events_per_day=1000, seed=5)
        export = ga4_path(settings.landing_dir, DAY, gzip=False)
        good = export.read_text(encoding="utf-8").splitlines()
        # A GA4 row whose event name no funnel lists, a microsecond after a real one.
        row = json.loads(good[0])
        row["event_name"] = UNKNOWN_EVENT
        row["event_timestamp"] = str(int(row["event_timestamp"]) + 1)
        with export.open("a", encoding="utf-8") as handle:
            handle.write(good[1][: len(good[1]) // 2] + "\n")  # cut off mid-record
            handle.write(json.dumps(row) + "\n")
        succeeded = run_nightly_job(DAY, DAY, instance=instance)
        failures = step_failures(instance, instance.get_runs(limit=1)[0].run_id)
    return BadGa4Run(
        settings=settings,
        succeeded=succeeded,
        failures=failures,
        export=export.resolve(),
        truncated_line=len(good) + 1,
        unknown_event_line=len(good) + 2,
    )


def test_a_truncated_ga4_line_is_quarantined_with_its_file_and_line_and_the_run_succeeds(
    bad_ga4_run: BadGa4Run,
) -> None:
    assert bad_ga4_run.succeeded, bad_ga4_run.failures
    rows = partition_rows(
        bad_ga4_run.settings,
        "events_quarantine",
        "select source_file, source_line, reason, raw_record from t",
    )
    truncated = [r for r in rows if r[1] == bad_ga4_run.truncated_line]
    assert len(truncated) == 1, rows
    source_file, _, reason, raw_record = truncated[0]
    assert source_file == str(bad_ga4_run.export)
    assert "truncated" in reason or "invalid JSON" in reason, reason
    assert raw_record and not raw_record.rstrip().endswith("}")


def test_an_event_name_no_funnel_knows_still_lands_in_events(bad_ga4_run: BadGa4Run) -> None:
    assert bad_ga4_run.succeeded, bad_ga4_run.failures
    lake = partition_rows(
        bad_ga4_run.settings,
        "events",
        f"select event_id, source_line from t where event_name = '{UNKNOWN_EVENT}'",
    )
    assert [line for _, line in lake] == [bad_ga4_run.unknown_event_line]
    quarantined = partition_rows(
        bad_ga4_run.settings,
        "events_quarantine",
        f"select reason from t where source_line = {bad_ga4_run.unknown_event_line}",
    )
    assert quarantined == []
    # ... and it reaches the transformation (nothing silently dropped before the funnels).
    with duckdb.connect(str(bad_ga4_run.settings.duckdb_path), read_only=True) as con:
        enriched = con.execute(
            "select event_id from int_events_enriched where event_name = ?", [UNKNOWN_EVENT]
        ).fetchall()
    assert enriched == [(lake[0][0],)]


# --- a Google Ads report without a required column -------------------------------------------


def drop_column(path: Path, column: str) -> None:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    position = rows[0].index(column)
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([r[:position] + r[position + 1 :] for r in rows])


def test_a_google_ads_report_missing_a_required_column_fails_the_run_naming_file_and_column(
    tmp_path: Path, pipeline_environment: PipelineEnvironment
) -> None:
    with (
        pipeline_environment(tmp_path / "home", DAY) as settings,
        dagster_instance_in(tmp_path / "dagster") as instance,
    ):
        generate_exports(settings.landing_dir, DAY, DAY, events_per_day=300, seed=5)
        report = report_path(settings.landing_dir, DAY)
        drop_column(report, MISSING_COLUMN)
        assert count_lines(report) > 1
        succeeded = run_nightly_job(DAY, DAY, instance=instance)
        run = instance.get_runs(limit=1)[0]
        failures = step_failures(instance, run.run_id)

    assert not succeeded
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert "ingest_google_ads" in failures, sorted(failures)
    message = failures["ingest_google_ads"]
    assert report.name in message
    assert MISSING_COLUMN in message
    # Nothing downstream ran on a half-read report.
    assert not (settings.reporting_dir / "reporting.duckdb").exists()
