"""Bad exports through the whole nightly job: quarantined with file and line, or a clear failure."""

from __future__ import annotations

import csv
import gzip
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.ingest.events import build_events_asset
from pipelines.defs.shared import MicrofunnelResource, daily_partitions
from pipelines.lib.generator import ga4_path, generate_exports, report_path
from pipelines.lib.privacy import pseudonym_sql, pseudonymization_key
from pipelines.lib.settings import ENV_PSEUDONYMIZATION_KEY, Settings
from pipelines.runner import run_nightly_job
from tests.pipeline_environment import PipelineEnvironment

pytestmark = pytest.mark.slow

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
        succeeded = run_nightly_job(settings, DAY, DAY, instance=instance)
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
        succeeded = run_nightly_job(settings, DAY, DAY, instance=instance)
        run = instance.get_runs(limit=1)[0]
        failures = step_failures(instance, run.run_id)

    assert not succeeded
    assert run.status == dg.DagsterRunStatus.FAILURE
    assert "ingest_ad_reports" in failures, sorted(failures)
    message = failures["ingest_ad_reports"]
    assert report.name in message
    assert MISSING_COLUMN in message
    # Nothing downstream ran on a half-read report.
    assert not (settings.reporting_dir / "reporting.duckdb").exists()


# --- careless GA4 exports through the real ingestion asset -----------------------------------

GA4_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "ga4" / "events_20240105.json"
FIXTURE_DAY = date(2024, 1, 5)
# A raw user id no log line, error or event may ever show.
RAW_ID = "RAWUSER-7731.1704412345"


def ingest_ga4_events(settings: Settings, instance: dg.DagsterInstance) -> dg.ExecuteInJobResult:
    """The real GA4 ingestion asset (with its checks) through Dagster, as a run would."""
    resource = MicrofunnelResource(
        landing_dir=str(settings.landing_dir),
        warehouse_dir=str(settings.warehouse_dir),
        funnels_file=str(settings.funnels_file),
        start_date=FIXTURE_DAY.isoformat(),
        pseudonymization_key=dg.EnvVar(ENV_PSEUDONYMIZATION_KEY),
        erasure_file=str(settings.erasure_list_path),
    )
    return dg.materialize(
        [build_events_asset(daily_partitions(settings))],
        partition_key=FIXTURE_DAY.isoformat(),
        instance=instance,
        resources={"microfunnel": resource},
        raise_on_error=False,
    )


def with_raw_id(line: bytes) -> bytes:
    event = json.loads(line)
    event["user_pseudo_id"] = RAW_ID
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def careless_day(folder: Path) -> dict[str, int]:
    """The fixture day plus bad lines that all carry RAW_ID; returns their line numbers."""
    good = GA4_FIXTURE.read_bytes().splitlines()
    event = json.loads(with_raw_id(good[6]))
    bad = {
        "latin1": with_raw_id(good[6]).replace(b"user_engagement", "café".encode("latin-1")),
        "truncated": with_raw_id(good[6])[: with_raw_id(good[6]).index(RAW_ID.encode()) + 12],
        "id_object": json.dumps({**event, "user_pseudo_id": {"id": RAW_ID}}).encode(),
        "params_string": json.dumps({**event, "event_params": "page_location=/quiz"}).encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "events_20240105.json").write_bytes(b"\n".join([*good, *bad.values()]) + b"\n")
    return {name: len(good) + n for n, name in enumerate(bad, start=1)}


def files_holding(root: Path, text: str) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and text.encode() in p.read_bytes()]


def test_raw_user_ids_of_bad_lines_reach_no_output_log_or_event_only_a_pseudonymized_quarantine(
    tmp_path: Path, pipeline_environment: PipelineEnvironment, capfd: pytest.CaptureFixture[str]
) -> None:
    with (
        pipeline_environment(tmp_path / "home", FIXTURE_DAY) as settings,
        dagster_instance_in(tmp_path / "dagster") as instance,
    ):
        bad_lines = careless_day(settings.landing_dir / "ga4")
        result = ingest_ga4_events(settings, instance)
        events = instance.all_logs(result.run_id)
        quarantine = read_partition(settings, "events_quarantine", FIXTURE_DAY)
        lake_events = read_partition(settings, "events", FIXTURE_DAY)
        pseudonym = keyed_pseudonym(RAW_ID)
        cut_pseudonym = keyed_pseudonym(RAW_ID[:12])  # the line ends inside the id
    output = capfd.readouterr()

    # The id appears nowhere: not on stdout/stderr, not in any event of the run, not in any
    # file of the Dagster instance (event log storage, compute logs), not in the lake.
    assert RAW_ID not in output.out + output.err
    assert not [e for e in events if RAW_ID in dg.serialize_value(e)]
    assert files_holding(tmp_path / "dagster", RAW_ID) == []
    assert files_holding(tmp_path / "dagster", "events_20240105.json")  # the scan sees logs
    assert RAW_ID not in str(quarantine) + str(lake_events)
    # 4 bad lines in 12 are over the quarantine share: the blocking check fails the step (an
    # error path too), after the day was written.
    assert (
        "1 blocking asset check failed"
        in step_failures(instance, result.run_id)["ingest_site_events"]
    )
    # Nothing lost: the good lines load, each bad line is quarantined with its line.
    assert len(lake_events) == 8
    reasons = {row["source_line"]: row["reason"] for row in quarantine}
    assert set(reasons) == set(bad_lines.values())
    assert reasons[bad_lines["latin1"]].startswith("line is not valid UTF-8")
    assert reasons[bad_lines["id_object"]].startswith("wrong JSON type: user_pseudo_id is OBJECT")
    # ... while the quarantine keeps each record with the pseudonym in its place.
    records = {row["source_line"]: row["raw_record"] for row in quarantine}
    for name in ("latin1", "params_string"):
        assert f'"user_pseudo_id":"{pseudonym}"' in records[bad_lines[name]], name
    assert f'"user_pseudo_id":"{cut_pseudonym}"' in records[bad_lines["truncated"]]


def test_a_truncated_gzip_export_is_quarantined_whole_and_blocks_downstream(
    tmp_path: Path, pipeline_environment: PipelineEnvironment
) -> None:
    with (
        pipeline_environment(tmp_path / "home", FIXTURE_DAY) as settings,
        dagster_instance_in(tmp_path / "dagster") as instance,
    ):
        folder = settings.landing_dir / "ga4"
        folder.mkdir(parents=True)
        packed = gzip.compress(GA4_FIXTURE.read_bytes() * 50)
        cut = folder / "events_20240105_000000000001.json.gz"
        cut.write_bytes(packed[: len(packed) // 2])
        (folder / "events_20240105_000000000000.json").write_bytes(GA4_FIXTURE.read_bytes())
        result = ingest_ga4_events(settings, instance)
        quarantine = read_partition(settings, "events_quarantine", FIXTURE_DAY)
        lake_events = read_partition(settings, "events", FIXTURE_DAY)
        checks = {
            c.check_name: c
            for c in result.get_asset_check_evaluations()
            if c.asset_key == dg.AssetKey("events")
        }
        materialized = {
            m.asset_key.path[-1]: m.metadata
            for m in result.get_asset_materialization_events()
            for m in [m.event_specific_data.materialization]
        }

    # The good file of the day is in the lake, the cut one is one quarantine row ...
    assert len(lake_events) == 8
    (whole,) = [row for row in quarantine if row["source_file"] == str(cut.resolve())]
    assert whole["source_line"] is None and whole["reason"].startswith("truncated gzip stream")
    # ... counted (landed 1 = loaded 0 + quarantined 1), listed, and the blocking check fails,
    # so nothing downstream would run on the partial day.
    per_file = materialized["events"]["per_file"].value
    assert f"| {cut.resolve()} | 1 | 0 | 1 |" in per_file
    listed = materialized["events"]["files_quarantined_whole"].value
    assert [item["file"] for item in listed] == [str(cut.resolve())]
    share = checks["quarantine_share"]
    assert not share.passed and share.severity == dg.AssetCheckSeverity.ERROR
    assert cut.name in (share.description or "")


def read_partition(settings: Settings, table: str, day: date) -> list[dict]:
    """The rows of one lake partition; none when the day was not written."""
    part = settings.lake_dir / table / f"date={day.isoformat()}" / "part-0.parquet"
    if not part.exists():
        return []
    with duckdb.connect() as con:
        cursor = con.execute("select * from read_parquet(?)", [str(part)])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def keyed_pseudonym(value: str) -> str:
    with (
        duckdb.connect() as con,
        pseudonymization_key(con, Settings.from_env().pseudonymization_key),
    ):
        return con.execute(f"select {pseudonym_sql('?::varchar')}", [value]).fetchone()[0]
