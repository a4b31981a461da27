"""Computed quality checks (freshness, click-id match rate, volume anomaly), the check history,
and the Dagster glue that runs them on the partitions an ingest wrote."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from pipelines.defs.ingest import lake_checks
from pipelines.lib.ingest.lake import PART_FILE, partition_dir, write_partition
from pipelines.lib.quality import SuiteOutcome
from pipelines.lib.quality.computed import (
    PAID_MEDIUMS,
    click_id_match_rate,
    newest_event_freshness,
    partition_row_counts,
    volume_anomaly,
)
from pipelines.lib.quality.history import CheckRecord, append_history, history_sql
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, EVENTS_COLUMNS
from pipelines.lib.settings import DBT_PROJECT_DIR, Settings
from tests.quality_fixtures import canonical_relation

DAY = date(2024, 3, 5)


def write_table(
    lake: Path, table: str, columns: dict[str, str], day: date, rows: list[dict]
) -> Path:
    """Rows cast to the canonical types, written as the lake partition of `day`."""
    with duckdb.connect() as con:
        canonical_relation(con, columns, rows).create("canonical_rows")
        write_partition(con, "canonical_rows", lake / table, day)
    return partition_dir(lake / table, day) / PART_FILE


def event(i: int, at: datetime, **fields: Any) -> dict:
    return {
        "event_id": f"ev-{i}",
        "source": "ga4",
        "event_name": "page_view",
        "event_at": at,
        "event_date": at.date(),
        "user_key": f"u-{i}",
        "anonymous_id": f"a-{i}",
        "session_id": f"s-{i}",
        "export_date": at.date(),
        "source_file": "events.json",
        "source_line": i + 1,
        "loaded_at": datetime(2024, 3, 6, 3),
        **fields,
    }


def ad(campaign_id: str, clicks: int, platform: str = "google_ads") -> dict:
    return {
        "platform": platform,
        "account_id": "123",
        "campaign_id": campaign_id,
        "report_date": DAY,
        "impressions": 1000,
        "clicks": clicks,
        "spend": 10.0,
        "currency": "EUR",
        "source_file": "ads.csv",
        "source_line": 1,
        "loaded_at": datetime(2024, 3, 6, 3),
    }


# --- freshness of the newest event ---------------------------------------------------------


def test_a_partition_whose_newest_event_is_hours_before_the_day_end_is_stale(
    tmp_path: Path,
) -> None:
    path = write_table(
        tmp_path,
        "events",
        EVENTS_COLUMNS,
        DAY,
        [event(0, datetime(2024, 3, 5, 8)), event(1, datetime(2024, 3, 5, 10, 30))],
    )
    measure = newest_event_freshness([path], DAY, "UTC", max_lag_hours=6)
    assert not measure.passed
    assert measure.metadata["lag_hours"] == pytest.approx(13.5)
    assert measure.metadata["newest_event_at_utc"] == "2024-03-05 10:30:00"
    assert measure.metadata["threshold_hours"] == 6
    assert "stale" in measure.note


def test_a_partition_with_an_event_near_the_day_end_is_fresh(tmp_path: Path) -> None:
    path = write_table(
        tmp_path, "events", EVENTS_COLUMNS, DAY, [event(0, datetime(2024, 3, 5, 21))]
    )
    assert newest_event_freshness([path], DAY, "UTC", max_lag_hours=6).passed


def test_freshness_measures_from_the_day_end_in_the_reporting_timezone(tmp_path: Path) -> None:
    # Berlin's 2024-03-05 ends at 23:00 UTC: an event at 22:30 UTC is half an hour before it.
    path = write_table(
        tmp_path, "events", EVENTS_COLUMNS, DAY, [event(0, datetime(2024, 3, 5, 22, 30))]
    )
    measure = newest_event_freshness([path], DAY, "Europe/Berlin")
    assert measure.metadata["export_day_end_utc"] == "2024-03-05 23:00:00"
    assert measure.metadata["lag_hours"] == pytest.approx(0.5)


def test_an_empty_partition_has_no_newest_event_and_is_stale(tmp_path: Path) -> None:
    path = write_table(tmp_path, "events", EVENTS_COLUMNS, DAY, [])
    measure = newest_event_freshness([path], DAY, "UTC")
    assert not measure.passed
    assert measure.metadata["rows"] == 0 and measure.metadata["newest_event_at_utc"] is None


# --- click-id match rate -------------------------------------------------------------------


def test_the_match_rate_is_the_share_of_paid_sessions_whose_campaign_is_in_the_ad_report(
    tmp_path: Path,
) -> None:
    noon = datetime(2024, 3, 5, 12)
    gclid = {"click_id": "Cj0", "click_id_type": "gclid"}
    events = [
        # Session s-0: two events, the first paid one names the campaign.
        event(0, noon, session_id="s-0", utm_id="c-1", **gclid),
        event(1, noon + timedelta(minutes=1), session_id="s-0", anonymous_id="a-0"),
        event(2, noon, utm_id="c-1", **gclid),
        event(3, noon, utm_campaign="c-2", utm_medium="cpc", utm_source="google"),
        event(4, noon, utm_id="c-404", **gclid),  # a campaign the report does not have
        event(5, noon),  # organic: not a paid session
        event(6, noon, utm_id="m-1", click_id="fb", click_id_type="fbclid"),  # no Meta report
        event(7, noon - timedelta(days=1), utm_id="c-404", **gclid),  # late: another day
    ]
    events_path = write_table(tmp_path, "events", EVENTS_COLUMNS, DAY, events)
    ads_path = write_table(
        tmp_path, "ad_performance", AD_PERFORMANCE_COLUMNS, DAY, [ad("c-1", 30), ad("c-2", 12)]
    )

    measure = click_id_match_rate([ads_path], [events_path], DAY, min_rate=0.8)

    assert measure.metadata["paid_sessions"] == 4
    assert measure.metadata["matched_sessions"] == 3
    assert measure.metadata["match_rate"] == pytest.approx(0.75)
    assert measure.metadata["ad_clicks"] == 42
    assert measure.metadata["threshold"] == 0.8
    assert not measure.passed
    assert click_id_match_rate([ads_path], [events_path], DAY, min_rate=0.7).passed


def test_the_match_rate_is_skipped_when_the_events_of_the_day_are_missing(
    tmp_path: Path,
) -> None:
    ads_path = write_table(tmp_path, "ad_performance", AD_PERFORMANCE_COLUMNS, DAY, [ad("c", 1)])
    measure = click_id_match_rate([ads_path], [tmp_path / "nowhere.parquet"], DAY)
    assert measure.passed and measure.skipped
    assert "no events partition" in measure.note


def test_the_paid_mediums_agree_with_the_dbt_project() -> None:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    assert list(PAID_MEDIUMS) == project["vars"]["microfunnel__paid_mediums"]


# --- volume anomaly ------------------------------------------------------------------------


def _history(rows_today: int, previous: list[int]) -> dict[date, int]:
    counts = {DAY - timedelta(days=len(previous) - i): n for i, n in enumerate(previous)}
    return {**counts, DAY: rows_today}


@pytest.mark.parametrize(("rows", "fires"), [(1000, True), (10, True), (200, False), (50, False)])
def test_a_volume_anomaly_fires_at_ten_times_and_a_tenth_of_the_median_not_at_twice(
    rows: int, fires: bool
) -> None:
    measure = volume_anomaly(_history(rows, [90, 100, 110, 100, 95, 105, 100]), DAY)
    assert measure.passed is not fires
    assert measure.metadata["trailing_median"] == 100
    assert measure.metadata["ratio"] == pytest.approx(rows / 100)
    assert measure.metadata["day_rows"] == rows
    assert (measure.metadata["high_threshold"], measure.metadata["low_threshold"]) == (10, 0.1)


def test_the_trailing_median_uses_the_previous_seven_existing_partitions_only() -> None:
    # Ten earlier partitions with a gap; only the last seven existing ones count.
    counts = {DAY - timedelta(days=d): 1 for d in range(12, 20)}
    counts |= {DAY - timedelta(days=d): 100 for d in (1, 2, 4, 5, 6, 7, 8)}
    counts[DAY] = 100
    counts[DAY + timedelta(days=1)] = 1_000_000  # later days never count
    measure = volume_anomaly(counts, DAY)
    assert measure.passed
    assert measure.metadata["trailing_partitions"] == 7
    assert measure.metadata["trailing_median"] == 100


def test_volume_is_not_compared_with_fewer_than_three_earlier_partitions() -> None:
    measure = volume_anomaly(_history(1_000_000, [5, 5]), DAY)
    assert measure.passed and measure.skipped


def test_partition_row_counts_come_from_the_lake(tmp_path: Path) -> None:
    write_table(tmp_path, "events", EVENTS_COLUMNS, DAY, [event(0, datetime(2024, 3, 5))])
    write_table(tmp_path, "events", EVENTS_COLUMNS, DAY + timedelta(days=1), [])
    assert partition_row_counts(tmp_path / "events") == {DAY: 1, DAY + timedelta(days=1): 0}
    assert partition_row_counts(tmp_path / "missing") == {}


# --- history -------------------------------------------------------------------------------


def test_check_results_are_appended_to_history_and_readable_with_duckdb(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    with duckdb.connect() as con:
        assert con.sql(f"select count(*) from {history_sql(lake)}").fetchone() == (0,)

    for run, passed, ratio in [("run-1", True, 1.0), ("run-2", False, 12.5)]:
        append_history(
            lake,
            run,
            "events",
            [
                CheckRecord("events", "volume_anomaly", (DAY,), passed, "WARN", {"ratio": ratio}),
                CheckRecord("events", "quarantine_share", (DAY,), True, "ERROR", {"share": 0}),
            ],
            checked_at=datetime(2024, 3, 6, 2, 15) if run == "run-1" else datetime(2024, 3, 7, 2),
        )

    files = sorted(p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file())
    assert files == [
        "check_history/date=2024-03-06/run-1-events.parquet",
        "check_history/date=2024-03-07/run-2-events.parquet",
    ]
    with duckdb.connect() as con:
        rows = con.sql(
            f"""
            select run_id, passed, severity, partition_start, partition_end,
                   cast(json_extract(metrics, '$.ratio') as double) as ratio
            from {history_sql(lake)}
            where asset = 'events' and check_name = 'volume_anomaly'
            order by checked_at
            """
        ).fetchall()
    assert rows == [
        ("run-1", True, "WARN", DAY, DAY, 1.0),
        ("run-2", False, "WARN", DAY, DAY, 12.5),
    ]


def test_a_retried_run_replaces_its_own_history_file(tmp_path: Path) -> None:
    at = datetime(2024, 3, 6, 2)
    first = [CheckRecord("events", "volume_anomaly", (DAY,), False, "WARN", {"x": float("inf")})]
    append_history(tmp_path, "run-1", "events", first, checked_at=at)
    retry = [CheckRecord("events", "volume_anomaly", (DAY,), True, "WARN", {})]
    path = append_history(tmp_path, "run-1", "events", retry, checked_at=at)
    assert path is not None
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    with duckdb.connect() as con:
        assert con.sql(f"select passed from {history_sql(tmp_path)}").fetchall() == [(True,)]


def test_temp_files_left_by_a_killed_history_writer_are_removed(tmp_path: Path) -> None:
    at = datetime(2024, 3, 6, 2)
    folder = tmp_path / "check_history" / "date=2024-03-06"
    folder.mkdir(parents=True)
    own = folder / f".run-1-events.parquet.tmp-{'a' * 32}"
    old = folder / f".run-0-events.parquet.tmp-{'b' * 32}"
    young = folder / f".run-9-events.parquet.tmp-{'c' * 32}"  # a concurrent writer's
    for path in (own, old, young):
        path.write_bytes(b"partial")
    os.utime(old, (0, 0))
    record = CheckRecord("events", "volume_anomaly", (DAY,), True, "WARN", {})
    append_history(tmp_path, "run-1", "events", [record], checked_at=at)
    assert sorted(p.name for p in folder.iterdir()) == sorted([young.name, "run-1-events.parquet"])


# --- Dagster glue --------------------------------------------------------------------------


def test_run_checks_yields_every_declared_check_and_records_each_in_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The GX suites have their own tests; a stub keeps this one fast.
    clean = SuiteOutcome("events", success_errors=True, success_warnings=True, evaluated=1)
    monkeypatch.setattr(lake_checks, "check_partition_parquet", lambda *_, **__: clean)
    lake = tmp_path / "warehouse" / "lake"
    for back in range(4, 0, -1):
        day = DAY - timedelta(days=back)
        write_table(
            lake, "events", EVENTS_COLUMNS, day, [event(i, datetime(2024, 3, 1)) for i in range(3)]
        )
    written = {
        DAY: write_table(
            lake,
            "events",
            EVENTS_COLUMNS,
            DAY,
            [event(i, datetime(2024, 3, 5, 9)) for i in range(30)],
        )
    }
    settings = Settings(
        landing_dir=tmp_path / "landing",
        warehouse_dir=tmp_path / "warehouse",
        funnels_file=tmp_path / "funnels.yml",
    )

    results = list(lake_checks.run_checks("events", written, [], settings=settings))

    by_name = {r.check_name: r for r in results}
    assert set(by_name) == {spec.name for spec in lake_checks.check_specs("events")}
    assert not by_name["volume_anomaly"].passed  # 30 rows against a median of 3
    assert by_name["volume_anomaly"].metadata["ratio"].value == 10
    assert not by_name["newest_event_freshness"].passed  # newest at 09:00: 15 h stale
    assert by_name["great_expectations_errors"].passed
    with duckdb.connect() as con:
        history = con.sql(
            f"select check_name, passed, severity, metrics from {history_sql(lake)}"
        ).fetchall()
    assert {row[0] for row in history} == set(by_name)
    volume = next(row for row in history if row[0] == "volume_anomaly")
    assert volume[1:3] == (False, "WARN")
    assert json.loads(volume[3])["trailing_median"] == 3


def test_the_ad_checks_include_the_click_id_match_rate() -> None:
    names = [spec.name for spec in lake_checks.check_specs("ad_performance")]
    assert "click_id_match_rate" in names and "volume_anomaly" in names
    assert "newest_event_freshness" not in names
    blocking = {s.name for s in lake_checks.check_specs("ad_performance") if s.blocking}
    assert blocking == {"great_expectations_errors", "quarantine_share"}
