"""The landed-files manifest: a file delivered twice changes nothing; empty days still land."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import load_ga4_day, load_google_ads, write_partition
from pipelines.lib.ingest.deliveries import (
    DUPLICATE,
    LANDED_FILES_COLUMNS,
    LOADED,
    MANIFEST_TABLE,
    empty_day_warning,
    plan_day,
    plan_files,
    record_deliveries,
)
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.ingest.lake import PART_FILE, read_partitions_sql
from pipelines.lib.landing_files import ga4_files_for_day, google_ads_files
from pipelines.lib.schemas import EVENTS_COLUMNS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GA4_DAY = FIXTURES / "ga4" / "events_20240105.json"
ADS_API = FIXTURES / "google_ads" / "api_campaign_report.csv"
DAY5, DAY6 = date(2024, 1, 5), date(2024, 1, 6)
LOADED_AT = datetime(2024, 1, 7, 4, 0)


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    return tmp_path / "lake" / MANIFEST_TABLE


def deliver(landing: Path, name: str, source: Path = GA4_DAY, folder: str = "ga4") -> Path:
    target = landing / folder / name
    shutil.copyfile(source, target)
    return target


def ingest_ga4_day(con, landing: Path, manifest: Path, day: date):
    """What the events asset does for one day: plan, load the kept files, record."""
    plan = plan_day(con, manifest, "ga4", ga4_files_for_day(landing, day), day)
    result = quarantine_duplicate_events(
        con, load_ga4_day(con, plan.to_load, day, "UTC", LOADED_AT)
    )
    record_deliveries(con, manifest, plan, day, LOADED_AT)
    return plan, result


def manifest_rows(con, manifest: Path) -> list[tuple]:
    return con.execute(
        f"""
        select date, source, parse_filename(source_file), status,
            parse_filename(first_seen_file)
        from {read_partitions_sql(manifest, LANDED_FILES_COLUMNS)}
        order by all
        """
    ).fetchall()


def columns(con, parquet: Path) -> dict[str, str]:
    described = con.execute(
        "describe select * from read_parquet(?, hive_partitioning = false)", [str(parquet)]
    ).fetchall()
    return {name: dtype for name, dtype, *_ in described}


def events(con, table: str) -> list[tuple]:
    return con.execute(
        f"select * exclude (source_file, loaded_at) from {table} order by event_id"
    ).fetchall()


def test_same_file_under_a_new_name_is_recorded_as_duplicate_and_skipped(con, landing, manifest):
    original = deliver(landing, "events_20240105.json")
    _, alone = ingest_ga4_day(con, landing, manifest, DAY5)
    expected = events(con, alone.table)

    copy = deliver(landing, "events_20240105_redelivered.json")
    plan, result = ingest_ga4_day(con, landing, manifest, DAY5)

    assert plan.to_load == [original]
    (duplicate,) = plan.duplicates
    assert (duplicate.source_file, duplicate.first_seen_file) == (str(copy), str(original))
    assert "events_20240105_redelivered.json skipped: same content" in plan.warnings()[0]
    # No change to the output: same events, nothing quarantined.
    assert events(con, result.table) == expected
    assert (result.loaded, result.quarantined, result.files_read) == (8, 0, 1)
    assert manifest_rows(con, manifest) == [
        (DAY5, "ga4", "events_20240105.json", LOADED, None),
        (DAY5, "ga4", "events_20240105_redelivered.json", DUPLICATE, "events_20240105.json"),
    ]


def test_rerunning_a_day_does_not_flag_its_own_files(con, landing, manifest):
    deliver(landing, "events_20240105.json")
    deliver(landing, "events_20240105_000000000001.json", FIXTURES / "ga4_bad" / GA4_DAY.name)
    first, _ = ingest_ga4_day(con, landing, manifest, DAY5)
    again, _ = ingest_ga4_day(con, landing, manifest, DAY5)
    assert first.duplicates == again.duplicates == ()
    assert [d.status for d in again.deliveries] == [LOADED, LOADED]
    assert [row[3] for row in manifest_rows(con, manifest)] == [LOADED, LOADED]


def test_same_file_delivered_again_in_a_later_day_is_a_duplicate(con, landing, manifest):
    original = deliver(landing, "events_20240105.json")
    ingest_ga4_day(con, landing, manifest, DAY5)
    deliver(landing, "events_20240106.json")
    plan, result = ingest_ga4_day(con, landing, manifest, DAY6)
    assert plan.to_load == []
    assert plan.duplicates[0].first_seen_file == str(original)
    assert result.landed == 0
    # Re-running either day keeps the decision: day 5 loads it, day 6 skips it.
    assert ingest_ga4_day(con, landing, manifest, DAY5)[0].to_load == [original]
    assert ingest_ga4_day(con, landing, manifest, DAY6)[0].to_load == []


def test_a_copy_whose_name_sorts_first_does_not_displace_the_original(con, landing, manifest):
    original = deliver(landing, "events_20240105.json")
    ingest_ga4_day(con, landing, manifest, DAY5)
    deliver(landing, "events_20240105 (1).json")  # ' ' sorts before '.'
    plan, _ = ingest_ga4_day(con, landing, manifest, DAY5)
    assert plan.to_load == [original]


def test_empty_files_are_never_duplicates_of_each_other(con, landing, manifest):
    (landing / "ga4" / "events_20240105.json").write_text("")
    (landing / "ga4" / "events_20240106.json").write_text("")
    ingest_ga4_day(con, landing, manifest, DAY5)
    plan, _ = ingest_ga4_day(con, landing, manifest, DAY6)
    assert plan.duplicates == ()


def test_duplicate_ads_report_is_skipped_and_changes_no_row(con, landing, manifest):
    original = deliver(landing, "campaigns.csv", ADS_API, "google_ads")
    alone = load_google_ads(con, [original], None, LOADED_AT)
    expected = con.execute(f"select * from {alone.table} order by all").fetchall()

    deliver(landing, "campaigns_copy.csv", ADS_API, "google_ads")
    plan = plan_files(con, manifest, "google_ads", google_ads_files(landing))
    assert plan.to_load == [original]
    assert plan.duplicates[0].first_seen_file == str(original)
    result = load_google_ads(con, plan.to_load, None, LOADED_AT)
    assert con.execute(f"select * from {result.table} order by all").fetchall() == expected


def test_manifest_keeps_the_other_sources_rows_of_the_day(con, landing, manifest):
    deliver(landing, "events_20240105.json")
    deliver(landing, "campaigns.csv", ADS_API, "google_ads")
    ads = plan_files(con, manifest, "google_ads", google_ads_files(landing))
    record_deliveries(con, manifest, ads.for_day(DAY5), DAY5, LOADED_AT)
    ingest_ga4_day(con, landing, manifest, DAY5)
    ingest_ga4_day(con, landing, manifest, DAY5)
    assert manifest_rows(con, manifest) == [
        (DAY5, "ga4", "events_20240105.json", LOADED, None),
        (DAY5, "google_ads", "campaigns.csv", LOADED, None),
    ]
    assert columns(con, manifest / "date=2024-01-05" / PART_FILE) == LANDED_FILES_COLUMNS


def test_manifest_records_size_and_sha256(con, landing, manifest):
    import hashlib

    deliver(landing, "events_20240105.json")
    ingest_ga4_day(con, landing, manifest, DAY5)
    row = con.execute(
        f"select sha256, bytes from {read_partitions_sql(manifest, LANDED_FILES_COLUMNS)}"
    ).fetchone()
    assert row == (hashlib.sha256(GA4_DAY.read_bytes()).hexdigest(), GA4_DAY.stat().st_size)


@pytest.mark.parametrize("empty_file", [True, False], ids=["file_with_no_rows", "no_file"])
def test_empty_file_gives_zero_rows(con, landing, manifest, tmp_path, empty_file):
    if empty_file:
        (landing / "ga4" / "events_20240105.json").write_text("\n")
    plan, result = ingest_ga4_day(con, landing, manifest, DAY5)
    lake = tmp_path / "lake" / "events"
    assert write_partition(con, result.table, lake, DAY5) == 0
    assert columns(con, lake / "date=2024-01-05" / PART_FILE) == EVENTS_COLUMNS
    assert con.execute(f"select count(*) from {read_partitions_sql(lake)}").fetchone() == (0,)
    warning = empty_day_warning("ga4", DAY5, plan.to_load, result.landed)
    assert warning is not None
    assert "ga4 2024-01-05" in warning
    assert "zero rows" in warning
    assert ("hold no rows" if empty_file else "no new export file") in warning


def test_day_whose_only_file_is_a_duplicate_warns_as_empty(con, landing, manifest):
    deliver(landing, "events_20240105.json")
    ingest_ga4_day(con, landing, manifest, DAY5)
    deliver(landing, "events_20240106.json")
    plan, result = ingest_ga4_day(con, landing, manifest, DAY6)
    warning = empty_day_warning("ga4", DAY6, plan.to_load, result.landed, len(plan.duplicates))
    assert warning is not None
    assert "1 duplicate delivery(ies) skipped" in warning


def test_a_day_with_rows_gives_no_empty_day_warning():
    assert empty_day_warning("ga4", DAY5, [GA4_DAY], 8) is None


def test_ads_day_without_rows_writes_an_empty_partition(con, landing, tmp_path):
    header_only = landing / "google_ads" / "campaigns.csv"
    header_only.write_text(ADS_API.read_text().splitlines()[0] + "\n")
    result = load_google_ads(con, [header_only], [DAY5], LOADED_AT)
    lake = tmp_path / "lake" / "ad_performance"
    day_rows = f"select * from {result.table} where report_date = date '2024-01-05'"
    assert write_partition(con, day_rows, lake, DAY5) == 0
    assert con.execute(f"select count(*) from {read_partitions_sql(lake)}").fetchone() == (0,)
    assert "hold no rows" in (empty_day_warning("google_ads", DAY5, [header_only], 0) or "")


def test_a_backfill_plans_a_later_days_copy_as_a_duplicate_before_anything_is_recorded(
    con, landing, manifest
):
    """Days of one run are planned before any loads (so they can load in parallel): day 6's
    copy of day 5's file is still a duplicate, as in a day-by-day run."""
    original = deliver(landing, "events_20240105.json")
    deliver(landing, "events_20240106.json")
    day5 = plan_day(con, manifest, "ga4", ga4_files_for_day(landing, DAY5), DAY5)
    day6 = plan_day(
        con, manifest, "ga4", ga4_files_for_day(landing, DAY6), DAY6, planned={DAY5: [day5]}
    )
    assert day5.to_load == [original]
    assert day6.to_load == []
    assert day6.duplicates[0].first_seen_file == str(original)


def test_a_planned_day_stands_in_for_its_old_manifest(con, landing, manifest):
    """A day re-planned in the run replaces what an earlier run recorded for it: a file it no
    longer has does not make another day's copy a duplicate."""
    old = deliver(landing, "events_20240105.json")
    ingest_ga4_day(con, landing, manifest, DAY5)
    old.unlink()  # day 5 is re-delivered without that file
    copy = deliver(landing, "events_20240106.json")
    day5 = plan_day(con, manifest, "ga4", ga4_files_for_day(landing, DAY5), DAY5)
    day6 = plan_day(
        con, manifest, "ga4", ga4_files_for_day(landing, DAY6), DAY6, planned={DAY5: [day5]}
    )
    assert day6.to_load == [copy]
