"""The nightly job end to end: sample exports -> lake -> dbt marts -> reporting warehouses.

Full runs are expensive (dbt startup dominates), so the module runs the pipeline six times in
all: once for a single day, and a chain for a three-day range (first run, the same range again,
the middle partition again, the middle partition with a duplicate export file, the last two days
publishing to PostgreSQL). Each fixture of the chain captures what its tests read right after
its run, so tests never see a later state.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import psycopg
import pytest
from psycopg import sql

from pipelines.lib.funnels import load_funnels
from pipelines.lib.generator import ga4_path, generate_exports
from pipelines.lib.settings import DEFAULT_FUNNELS_FILE, ENV_FUNNELS_FILE, Settings
from pipelines.runner import (
    PARTITION_RANGE_END_TAG,
    PARTITION_RANGE_START_TAG,
    run_nightly_job,
)
from tests.funnel_modes import EVERY_MODE_FUNNELS
from tests.pipeline_environment import PipelineEnvironment
from tests.reference import funnel as funnel_reference

pytestmark = pytest.mark.slow

START = date(2024, 3, 1)
MIDDLE = date(2024, 3, 2)
END = date(2024, 3, 3)
EVENTS_PER_DAY = 3000
SEED = 11
MARTS = (
    "fct_funnel_journeys",
    "fct_funnel_journey_stages",
    "agg_funnel_stages_daily",
    "agg_campaign_performance",
)
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
POSTGRES_SCHEMA = "microfunnel"
REL_TOL = 1e-9
ABS_TOL = 1e-6

# --- reading what a user reads --------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def read_table(db: Path, table: str) -> Table:
    """Every row of a table, fully sorted, from a DuckDB file opened read-only."""
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(f"select * from {table} order by all")
        columns = tuple(d[0] for d in cursor.description)
        return Table(columns, cursor.fetchall())


def read_marts(settings: Settings) -> dict[str, Table]:
    return {mart: read_table(settings.reporting_dir / "reporting.duckdb", mart) for mart in MARTS}


def lake_rows_by_file(settings: Settings, table: str, day: date) -> Counter[str]:
    part = settings.lake_dir / table / f"date={day.isoformat()}" / "part-0.parquet"
    with duckdb.connect() as con:
        rows = con.execute(
            "select source_file, count(*) from read_parquet(?) group by source_file", [str(part)]
        ).fetchall()
    return Counter({name: count for name, count in rows})


def data_lines(path: Path) -> int:
    """What landed: the non-blank lines of a newline-delimited JSON export."""
    with path.open(encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def run_for(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRun:
    run = instance.get_run_by_id(run_id)
    assert run is not None
    return run


def run_failures(instance: dg.DagsterInstance, run_id: str) -> str:
    """The errors of the run's failed steps, for assertion messages."""
    failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
    texts = []
    for record in failures:
        event = record.dagster_event
        if event and event.step_failure_data.error:
            texts.append(f"{event.step_key}: {event.step_failure_data.error.to_string()}")
    return "\n".join(texts)


@dataclass(frozen=True)
class RunOutcome:
    succeeded: bool
    run_id: str
    failures: str


def run_range(instance: dg.DagsterInstance, start: date, end: date) -> RunOutcome:
    succeeded = run_nightly_job(Settings.from_env(), start, end, instance=instance)
    run_id = latest_run_id(instance)
    return RunOutcome(succeeded, run_id, "" if succeeded else run_failures(instance, run_id))


def latest_run_id(instance: dg.DagsterInstance) -> str:
    return instance.get_runs(limit=1)[0].run_id


def materializations(
    instance: dg.DagsterInstance, asset: str, run_id: str
) -> list[dg.AssetMaterialization]:
    result = instance.fetch_materializations(dg.AssetKey(asset), limit=1000)
    return [
        record.asset_materialization
        for record in result.records
        if record.run_id == run_id and record.asset_materialization is not None
    ]


PER_FILE_ROW = re.compile(
    r"^\| (?P<file>[^|]+) \| (?P<landed>\d+) \| (?P<loaded>\d+) \| (?P<q>\d+) \|$"
)


def per_file_counts(materialization: dg.AssetMaterialization) -> dict[str, tuple[int, int, int]]:
    """The `per_file` markdown table of an ingestion materialization: file -> counts."""
    text = materialization.metadata["per_file"].value
    assert isinstance(text, str)
    counts = {}
    for line in text.splitlines():
        match = PER_FILE_ROW.match(line)
        if match:
            counts[match["file"]] = (int(match["landed"]), int(match["loaded"]), int(match["q"]))
    return counts


def dagster_instance_in(folder: Path) -> AbstractContextManager[dg.DagsterInstance]:
    """A Dagster instance (run storage, event log) kept under the test's own folder."""
    folder.mkdir(parents=True, exist_ok=True)
    return dg.instance_for_test(temp_dir=str(folder))


def postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError:
        return False
    return True


def postgres_mart_counts(url: str) -> dict[str, int]:
    counts = {}
    with psycopg.connect(url) as conn:
        for mart in MARTS:
            row = conn.execute(
                sql.SQL("select count(*) from {}.{}").format(
                    sql.Identifier(POSTGRES_SCHEMA), sql.Identifier(mart)
                )
            ).fetchone()
            counts[mart] = row[0] if row else 0
    return counts


def require_postgres(url: str | None) -> None:
    """Skip without a server, except on CI (CI=true), where a missing server is a failure."""
    if url is None:
        message = f"PostgreSQL not reachable at {POSTGRES_URL}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires it")
        pytest.skip(message)


def drop_postgres_schema(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(POSTGRES_SCHEMA))
        )


# --- one partition ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OneDay:
    settings: Settings
    postgres_url: str | None
    postgres_counts: dict[str, int]
    outcome: RunOutcome
    marts: dict[str, Table]
    transformation_counts: dict[str, int]


@pytest.fixture(scope="module")
def one_day(tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment):
    root = tmp_path_factory.mktemp("one_day")
    postgres_url = POSTGRES_URL if postgres_reachable(POSTGRES_URL) else None
    if postgres_url:
        drop_postgres_schema(postgres_url)
    try:
        with (
            pipeline_environment(root / "home", START, postgres_url=postgres_url) as settings,
            dagster_instance_in(root / "dagster") as instance,
        ):
            generate_exports(settings.landing_dir, START, START, events_per_day=1500, seed=SEED)
            outcome = run_range(instance, START, START)
        postgres_counts = postgres_mart_counts(postgres_url) if postgres_url else {}
    finally:
        if postgres_url:
            drop_postgres_schema(postgres_url)
    counts = {}
    if settings.duckdb_path.exists():
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            for mart in MARTS:
                row = con.execute(f"select count(*) from {mart}").fetchone()
                counts[mart] = row[0] if row else 0
    marts = read_marts(settings) if outcome.succeeded else {}
    return OneDay(settings, postgres_url, postgres_counts, outcome, marts, counts)


def test_one_partition_run_fills_the_lake_the_marts_the_report_and_the_parquet_files(
    one_day: OneDay,
) -> None:
    settings = one_day.settings
    assert one_day.outcome.succeeded, one_day.outcome.failures
    assert (settings.lake_dir / "events" / f"date={START}" / "part-0.parquet").is_file()
    assert all(count > 0 for count in one_day.transformation_counts.values()), (
        one_day.transformation_counts
    )
    assert set(one_day.transformation_counts) == set(MARTS)
    assert {mart: len(table.rows) > 0 for mart, table in one_day.marts.items()} == dict.fromkeys(
        MARTS, True
    )
    report = (settings.reporting_dir / "funnel_report.html").read_text(encoding="utf-8")
    assert "micro_commitment" in report
    assert "direct_ask" in report
    for mart in MARTS:
        files = list((settings.reporting_dir / "parquet" / mart).glob("*=*/*.parquet"))
        assert files, f"no Parquet files for {mart}"
        with duckdb.connect() as con:
            row = con.execute(
                "select count(*) from read_parquet(?)", [[str(f) for f in files]]
            ).fetchone()
        assert row is not None and row[0] == len(one_day.marts[mart].rows)


# --- a three-day range and its re-runs --------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    settings: Settings
    instance: dg.DagsterInstance


@dataclass(frozen=True)
class FirstRun:
    outcome: RunOutcome
    run_count: int
    marts: dict[str, Table]
    enriched_events: list[dict[str, Any]]
    ad_spend: Table
    lake_as_of: date
    journeys: Table
    journey_stages: Table
    stages: Table
    events_lake: dict[date, Counter[str]]
    quarantine_lake: dict[date, Counter[str]]


@dataclass(frozen=True)
class Rerun:
    outcome: RunOutcome
    marts: dict[str, Table]


@pytest.fixture(scope="module")
def workspace(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("three_days")
    funnels_file = root / "funnels.yml"
    funnels_file.write_text(DEFAULT_FUNNELS_FILE.read_text(encoding="utf-8") + EVERY_MODE_FUNNELS)
    # START is the partitions start, so the first run rebuilds everything (a full build).
    with (
        pipeline_environment(root / "home", START),
        pytest.MonkeyPatch.context() as mp,
        dagster_instance_in(root / "dagster") as instance,
    ):
        mp.setenv(ENV_FUNNELS_FILE, str(funnels_file))
        settings = Settings.from_env()
        generate_exports(settings.landing_dir, START, END, events_per_day=EVENTS_PER_DAY, seed=SEED)
        yield Workspace(settings, instance)


@pytest.fixture(scope="module")
def first_run(workspace: Workspace) -> FirstRun:
    settings, instance = workspace.settings, workspace.instance
    outcome = run_range(instance, START, END)
    days = [START + timedelta(days=n) for n in range((END - START).days + 1)]
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        cursor = con.execute("select * from int_events_enriched")
        columns = [d[0] for d in cursor.description]
        enriched = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    with duckdb.connect() as con:
        pattern = str(settings.lake_dir / "events" / "date=*" / "*.parquet")
        row = con.execute("select max(export_date) from read_parquet(?)", [pattern]).fetchone()
    assert row is not None
    return FirstRun(
        outcome=outcome,
        run_count=len(instance.get_runs()),
        marts=read_marts(settings),
        enriched_events=enriched,
        ad_spend=read_table(settings.duckdb_path, "int_ad_spend_daily"),
        lake_as_of=row[0],
        journeys=read_table(settings.duckdb_path, "fct_funnel_journeys"),
        journey_stages=read_table(settings.duckdb_path, "fct_funnel_journey_stages"),
        stages=read_table(settings.duckdb_path, "agg_funnel_stages_daily"),
        events_lake={day: lake_rows_by_file(settings, "events", day) for day in days},
        quarantine_lake={
            day: lake_rows_by_file(settings, "events_quarantine", day) for day in days
        },
    )


@pytest.fixture(scope="module")
def repeat_run(workspace: Workspace, first_run: FirstRun) -> Rerun:
    outcome = run_range(workspace.instance, START, END)
    return Rerun(outcome, read_marts(workspace.settings))


@pytest.fixture(scope="module")
def middle_run(workspace: Workspace, repeat_run: Rerun) -> Rerun:
    outcome = run_range(workspace.instance, MIDDLE, MIDDLE)
    return Rerun(outcome, read_marts(workspace.settings))


@pytest.fixture(scope="module")
def duplicate_file_run(workspace: Workspace, middle_run: Rerun) -> Rerun:
    original = ga4_path(workspace.settings.landing_dir, MIDDLE, gzip=False)
    shutil.copyfile(original, original.with_name(f"events_{MIDDLE:%Y%m%d}_copy.json"))
    outcome = run_range(workspace.instance, MIDDLE, MIDDLE)
    return Rerun(outcome, read_marts(workspace.settings))


def assert_same_marts(expected: dict[str, Table], actual: dict[str, Table]) -> None:
    assert all(expected[mart].rows for mart in MARTS), "a mart is empty: nothing to compare"
    for mart in MARTS:
        assert actual[mart].columns == expected[mart].columns, mart
        assert len(actual[mart].rows) == len(expected[mart].rows), mart
        changed = set(actual[mart].rows) ^ set(expected[mart].rows)
        assert actual[mart].rows == expected[mart].rows, (
            f"{mart}: {len(changed)} differing rows, e.g. {sorted(changed, key=repr)[:2]}"
        )


def test_a_three_day_range_runs_as_a_single_dagster_run(
    workspace: Workspace, first_run: FirstRun
) -> None:
    assert first_run.outcome.succeeded, first_run.outcome.failures
    assert first_run.run_count == 1
    run = run_for(workspace.instance, first_run.outcome.run_id)
    assert run.tags[PARTITION_RANGE_START_TAG] == START.isoformat()
    assert run.tags[PARTITION_RANGE_END_TAG] == END.isoformat()
    for asset in ("events", "ad_performance", "agg_funnel_stages_daily", "reporting_duckdb"):
        partitions = {m.partition for m in materializations(workspace.instance, asset, run.run_id)}
        assert partitions == {"2024-03-01", "2024-03-02", "2024-03-03"}, asset


def test_running_the_same_range_again_gives_identical_mart_rows(
    first_run: FirstRun, repeat_run: Rerun
) -> None:
    assert repeat_run.outcome.succeeded, repeat_run.outcome.failures
    assert_same_marts(first_run.marts, repeat_run.marts)


def test_rerunning_only_the_middle_partition_gives_identical_mart_rows(
    first_run: FirstRun, middle_run: Rerun
) -> None:
    assert middle_run.outcome.succeeded, middle_run.outcome.failures
    assert_same_marts(first_run.marts, middle_run.marts)


def test_a_duplicate_export_file_changes_no_mart_row(
    workspace: Workspace, first_run: FirstRun, duplicate_file_run: Rerun
) -> None:
    assert duplicate_file_run.outcome.succeeded, duplicate_file_run.outcome.failures
    assert_same_marts(first_run.marts, duplicate_file_run.marts)
    # The copy adds no event: the day's lake partition holds the same rows from the same file.
    original = ga4_path(workspace.settings.landing_dir, MIDDLE, gzip=False)
    copy = original.with_name(f"events_{MIDDLE:%Y%m%d}_copy.json")
    in_lake = lake_rows_by_file(workspace.settings, "events", MIDDLE)
    assert in_lake == first_run.events_lake[MIDDLE]
    assert str(copy.resolve()) not in in_lake


def test_landed_equals_loaded_plus_quarantined_for_every_file(
    workspace: Workspace, first_run: FirstRun
) -> None:
    assert first_run.outcome.succeeded, first_run.outcome.failures
    events = materializations(workspace.instance, "events", first_run.outcome.run_id)
    assert events
    metadata = events[-1].metadata
    counts = per_file_counts(events[-1])
    landing = workspace.settings.landing_dir.resolve()
    expected_files = {
        str(ga4_path(landing, START + timedelta(days=n), gzip=False)) for n in range(3)
    }
    assert set(counts) == expected_files
    loaded_in_lake = sum(first_run.events_lake.values(), Counter())
    quarantined_in_lake = sum(first_run.quarantine_lake.values(), Counter())
    for name, (landed, loaded, quarantined) in counts.items():
        assert landed == data_lines(Path(name)), name
        assert landed == loaded + quarantined, name
        assert loaded_in_lake[name] == loaded, name
        assert quarantined_in_lake[name] == quarantined, name
    assert metadata["rows_landed"].value == sum(c[0] for c in counts.values())
    assert metadata["rows_loaded"].value == sum(loaded_in_lake.values())
    assert metadata["rows_quarantined"].value == sum(quarantined_in_lake.values())
    assert metadata["files_read"].value == len(expected_files)


# --- the SQL against the pure-Python reference -----------------------------------------------


def reference_journeys(workspace: Workspace, first_run: FirstRun) -> list[funnel_reference.Journey]:
    funnels = load_funnels(workspace.settings.funnels_file)
    journeys: list[funnel_reference.Journey] = []
    for funnel in funnels:
        journeys += funnel_reference.compute_journeys(
            first_run.enriched_events,
            funnel,
            as_of=first_run.lake_as_of,
            late_data_days=workspace.settings.late_data_days,
        )
    return journeys


def values_match(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return False
        return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return expected == actual


def mismatches(expected: dict[str, Any], actual: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {
        name: (value, actual[name])
        for name, value in expected.items()
        if not values_match(value, actual[name])
    }


def test_stage_aggregates_equal_the_python_reference_row_by_row(
    workspace: Workspace, first_run: FirstRun
) -> None:
    assert first_run.outcome.succeeded, first_run.outcome.failures
    journeys = reference_journeys(workspace, first_run)
    spend = {
        (row["platform"], row["campaign_id"], row["report_date"]): row["spend"]
        for row in first_run.ad_spend.dicts()
    }
    expected: dict[tuple[Any, ...], dict[str, Any]] = {}
    for funnel in load_funnels(workspace.settings.funnels_file):
        for ref in funnel_reference.aggregate_stages(journeys, funnel, spend):
            row = dict(vars(ref))
            row["platform"] = ref.platform if ref.platform is not None else "organic"
            row["campaign_id"] = ref.campaign_id if ref.campaign_id is not None else "(none)"
            key = (row["funnel_id"], row["funnel_version"], row["cohort_date"], row["platform"])
            expected[(*key, row["campaign_id"], row["stage_order"])] = row
    actual = {
        (
            r["funnel_id"],
            r["funnel_version"],
            r["cohort_date"],
            r["platform"],
            r["campaign_id"],
            r["stage_order"],
        ): r
        for r in first_run.stages.dicts()
    }
    assert len(expected) > 50, "too few reference rows for a meaningful comparison"
    assert sorted(actual, key=repr) == sorted(expected, key=repr)
    differing = {key: mismatches(row, actual[key]) for key, row in expected.items()}
    differing = {key: diff for key, diff in differing.items() if diff}
    assert not differing, f"{len(differing)} rows differ, e.g. {list(differing.items())[:3]}"


PER_STAGE_COLUMNS = {
    "reached_at": "stage_{}_reached_at",
    "reached_event_id": "stage_{}_event_id",
    "reached_event_name": "stage_{}_event_name",
    "seconds_to_next": "stage_{}_seconds_to_next",
    "engaged_seconds": "stage_{}_engaged_seconds",
}


def journey_row(journey: funnel_reference.Journey) -> dict[str, Any]:
    """A reference journey as a fct_funnel_journeys row: every field, per-stage tuples wide."""
    row: dict[str, Any] = {}
    for field in dataclasses.fields(journey):
        value = getattr(journey, field.name)
        if field.name in PER_STAGE_COLUMNS:
            for k, item in enumerate(value, start=1):
                row[PER_STAGE_COLUMNS[field.name].format(k)] = item
        else:
            row[field.name] = value
    return row


def test_journeys_equal_the_python_reference_journey_by_journey(
    workspace: Workspace, first_run: FirstRun
) -> None:
    assert first_run.outcome.succeeded, first_run.outcome.failures
    reference = reference_journeys(workspace, first_run)
    expected = {journey.journey_id: journey_row(journey) for journey in reference}
    actual = {row["journey_id"]: row for row in first_run.journeys.dicts()}
    assert len(expected) > 100, "too few reference journeys for a meaningful comparison"
    # Every mode and option of the workspace's funnels is exercised, not just present.
    by_funnel = Counter(j.funnel_id for j in reference)
    assert all(by_funnel[f] > 50 for f in ("strict_steps", "any_order_mix", "gaps_optional"))
    assert any(j.is_excluded for j in reference if j.funnel_id == "any_order_mix")
    assert any(j.is_converted for j in reference if j.funnel_id == "strict_steps")
    assert any(j.intent_rule == "campaign" for j in reference)
    assert any(
        j.reached_at[2] is None and j.furthest_stage > 3
        for j in reference
        if j.funnel_id == "gaps_optional"
    ), "no journey skipped an optional stage"
    assert any(j.is_stalled for j in reference)
    missing = expected.keys() - actual.keys()
    extra = actual.keys() - expected.keys()
    assert not missing and not extra, (
        f"{len(missing)} reference journeys missing from the mart, {len(extra)} extra"
    )
    assert set(next(iter(expected.values()))) <= set(first_run.journeys.columns)
    differing = {jid: mismatches(row, actual[jid]) for jid, row in expected.items()}
    differing = {jid: diff for jid, diff in differing.items() if diff}
    assert not differing, f"{len(differing)} journeys differ, e.g. {list(differing.items())[:3]}"


def test_journey_stages_are_the_reached_stages_of_the_reference_journeys(
    workspace: Workspace, first_run: FirstRun
) -> None:
    assert first_run.outcome.succeeded, first_run.outcome.failures
    funnels = {funnel.id: funnel for funnel in load_funnels(workspace.settings.funnels_file)}
    expected = {}
    for journey in reference_journeys(workspace, first_run):
        reached = [k for k in range(1, len(journey.reached_at) + 1) if journey.reached(k)]
        for k, next_k in zip(reached, [*reached[1:], None], strict=True):
            expected[(journey.journey_id, k)] = {
                "funnel_id": journey.funnel_id,
                "funnel_version": journey.funnel_version,
                "user_key": journey.user_key,
                "platform": journey.platform,
                "campaign_id": journey.campaign_id,
                "cohort_date": journey.cohort_date,
                "stage_name": funnels[journey.funnel_id].stage(k).name,
                "reached_at": journey.reached(k),
                "reached_event_id": journey.reached_event_id[k - 1],
                "reached_event_name": journey.reached_event_name[k - 1],
                "next_stage_reached_at": journey.reached(next_k) if next_k else None,
                "seconds_to_next_stage": journey.seconds_to_next[k - 1],
                "engaged_seconds": journey.engaged_seconds[k - 1],
                "is_excluded": journey.is_excluded,
                "is_final": journey.is_final,
            }
    actual = {(r["journey_id"], r["stage_order"]): r for r in first_run.journey_stages.dicts()}
    assert sorted(actual, key=repr) == sorted(expected, key=repr)
    differing = {key: mismatches(row, actual[key]) for key, row in expected.items()}
    differing = {key: diff for key, diff in differing.items() if diff}
    assert not differing, f"{len(differing)} rows differ, e.g. {list(differing.items())[:3]}"


# --- PostgreSQL -------------------------------------------------------------------------------


def test_a_one_day_run_publishes_the_marts_to_postgres(one_day: OneDay) -> None:
    require_postgres(one_day.postgres_url)
    assert one_day.outcome.succeeded, one_day.outcome.failures
    expected = {mart: len(table.rows) for mart, table in one_day.marts.items()}
    assert all(count > 0 for count in expected.values())
    assert one_day.postgres_counts == expected


@dataclass(frozen=True)
class PostgresRangeRun:
    postgres_url: str | None
    outcome: RunOutcome | None
    marts: dict[str, Table]
    postgres_counts: dict[str, int]


@pytest.fixture(scope="module")
def postgres_range_run(workspace: Workspace, duplicate_file_run: Rerun) -> PostgresRangeRun:
    """The last run of the chain: the last two days again, now with PostgreSQL configured."""
    url = POSTGRES_URL if postgres_reachable(POSTGRES_URL) else None
    if url is None:
        return PostgresRangeRun(None, None, {}, {})
    drop_postgres_schema(url)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("MICROFUNNEL_POSTGRES_URL", url)
            outcome = run_range(workspace.instance, MIDDLE, END)
        counts = postgres_mart_counts(url) if outcome.succeeded else {}
    finally:
        drop_postgres_schema(url)
    return PostgresRangeRun(url, outcome, read_marts(workspace.settings), counts)


def test_a_range_run_publishes_the_marts_to_postgres(
    postgres_range_run: PostgresRangeRun,
) -> None:
    require_postgres(postgres_range_run.postgres_url)
    assert postgres_range_run.outcome is not None
    assert postgres_range_run.outcome.succeeded, postgres_range_run.outcome.failures
    expected = {mart: len(table.rows) for mart, table in postgres_range_run.marts.items()}
    assert all(count > 0 for count in expected.values())
    assert postgres_range_run.postgres_counts == expected
