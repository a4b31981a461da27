"""Segment warehouse tables (tracks, pages, identifies) -> canonical events: mapping, the real
public pages sample, bad rows quarantined with reason and line, formats, the generator's dump."""

from __future__ import annotations

import gzip
import json
import os
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.lib.generator.segment_export import write_segment
from pipelines.lib.generator.source_rows import SITE_EVENT_SCHEMA
from pipelines.lib.ingest import IngestError
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.ingest.segment import SOURCE, load_segment_day
from pipelines.lib.ingest.sources import site_source
from pipelines.lib.schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "segment"
PAGES = FIXTURES / "pages" / "pages_20240105.csv"
TRACKS = FIXTURES / "tracks" / "tracks_20240105.ndjson"
IDENTIFIES = FIXTURES / "identifies" / "identifies_20240105.csv"
BAD_TRACKS = FIXTURES / "bad" / "tracks" / "tracks_20240105.csv"
BAD_PAGES = FIXTURES / "bad" / "pages" / "pages_20240105.ndjson"
SAMPLES_DIR = Path(
    os.environ.get("MICROFUNNEL_TEST_SAMPLES_DIR", REPO.parent / "shared" / "samples")
)
SAMPLE_PAGES = SAMPLES_DIR / "segment" / "seeds" / "example_segment_pages.csv"
DAY = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)


def load(con, files, day=DAY, timezone="Europe/Berlin"):
    return load_segment_day(con, [Path(f) for f in files], day, timezone, LOADED_AT)


def rows(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * from {table} order by event_at, event_id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def by_id(con, result) -> dict[str, dict]:
    return {row["event_id"]: row for row in rows(con, result.table)}


def reasons(con, result) -> dict[int | None, str]:
    found = con.execute(
        f"select source_line, reason from {result.quarantine_table} order by source_line"
    ).fetchall()
    return dict(found)


def test_output_tables_have_exactly_the_canonical_columns_in_order(con):
    result = load(con, [PAGES, BAD_TRACKS])
    for table, expected in (
        (result.table, EVENTS_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_three_tables_map_to_events_with_segment_ids_and_names(con):
    result = load(con, [PAGES, TRACKS, IDENTIFIES])
    assert result.source == SOURCE == "segment"
    assert (result.landed, result.loaded, result.quarantined) == (7, 7, 0)
    events = by_id(con, result)
    names = {event_id: row["event_name"] for event_id, row in events.items()}
    assert names == {
        "ajs-3f9c0d1e2b7a4c58a1e6f0b2d4c6e8a1": "page_view",
        "ajs-7b2e4d6f8a0c1e3g5i7k9m1o3q5s7u9w": "page_view",
        "ajs-c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6": "page_view",
        "ajs-next-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d": "Product Added",
        "ajs-next-2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e": "Signed Up",
        "ajs-next-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f": "Order Completed",
        "ajs-next-9f8e7d6c5b4a39281706f5e4d3c2b1a0": "identify",
    }
    assert all(row["source"] == "segment" for row in events.values())


def test_event_at_is_the_utc_timestamp_and_event_date_the_reporting_day(con):
    events = by_id(con, load(con, [PAGES, TRACKS]))
    first = events["ajs-3f9c0d1e2b7a4c58a1e6f0b2d4c6e8a1"]
    assert first["event_at"] == datetime(2024, 1, 5, 9, 0, 0, 957000)
    late_page = events["ajs-c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"]  # "...T22:30:04.700Z"
    assert late_page["event_at"] == datetime(2024, 1, 5, 22, 30, 4, 700000)
    assert late_page["event_date"] == date(2024, 1, 5)  # 23:30 in Berlin
    order = events["ajs-next-3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f"]  # 23:15 UTC = 00:15 Berlin
    assert order["event_at"] == datetime(2024, 1, 5, 23, 15, 0, 90000)
    assert order["event_date"] == date(2024, 1, 6)
    assert order["export_date"] == DAY


def test_ids_pages_urls_campaigns_and_click_ids(con):
    events = by_id(con, load(con, [PAGES, TRACKS, IDENTIFIES]))
    landing = events["ajs-3f9c0d1e2b7a4c58a1e6f0b2d4c6e8a1"]
    assert landing["anonymous_id"] == "5f1d2c3b-4a59-4e2f-9b1a-7c6d5e4f3a21"
    assert landing["user_id"] is None
    assert landing["user_key"] == landing["anonymous_id"]
    assert landing["session_id"] is None
    assert landing["page_url"].startswith("https://shop.example.com/winter?utm_source=google")
    assert landing["referrer"] == "https://www.google.com/"
    assert (landing["utm_source"], landing["utm_medium"], landing["utm_campaign"]) == (
        "google",
        "cpc",
        "winter_sale",
    )
    assert (landing["click_id"], landing["click_id_type"]) == ("EAIaIQobChMI8x", "gclid")
    product = events["ajs-7b2e4d6f8a0c1e3g5i7k9m1o3q5s7u9w"]
    assert (product["click_id"], product["click_id_type"]) == ("IwAR2xYz", "fbclid")
    assert product["utm_source"] is None
    signed_up = events["ajs-next-2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e"]  # context_campaign_*
    assert (signed_up["utm_source"], signed_up["utm_medium"], signed_up["utm_campaign"]) == (
        "newsletter",
        "email",
        "jan_digest",
    )
    assert signed_up["page_url"] == "https://shop.example.com/signup"
    assert signed_up["user_key"] == "user_512"
    identify = events["ajs-next-9f8e7d6c5b4a39281706f5e4d3c2b1a0"]
    assert (identify["anonymous_id"], identify["user_id"]) == (
        "5f1d2c3b-4a59-4e2f-9b1a-7c6d5e4f3a21",
        "user_512",
    )


def test_properties_hold_the_other_columns_but_no_ip_traits_or_bookkeeping(con):
    result = load(con, [PAGES, TRACKS, IDENTIFIES])
    events = by_id(con, result)
    page = json.loads(events["ajs-7b2e4d6f8a0c1e3g5i7k9m1o3q5s7u9w"]["properties"])
    assert page["title"] == "Parka 42"
    assert page["path"] == "/p/parka-42"
    assert page["context_user_agent"].startswith("Mozilla/5.0 (Macintosh")
    assert "context_ip" not in page and "url" not in page and "id" not in page
    track = json.loads(events["ajs-next-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"]["properties"])
    assert track["context_page_title"] == "Parka 42"
    assert track["original_timestamp"] == "2024-01-05T10:03:30.050+01:00"
    assert not {"uuid_ts", "event_text", "context_ip", "event", "timestamp"} & set(track)
    identify = json.loads(events["ajs-next-9f8e7d6c5b4a39281706f5e4d3c2b1a0"]["properties"])
    assert identify["context_library_name"] == "analytics.js"
    assert not {"email", "first_name", "plan", "context_ip"} & set(identify)
    # Trait columns are not Segment's standard columns: reported, not copied.
    assert set(result.drift.extra_columns) == {"email", "first_name", "plan"}
    assert "title" in result.drift.params_seen


def test_the_real_public_segment_pages_sample_loads(con, tmp_path):
    if not SAMPLE_PAGES.exists():
        pytest.skip(f"public sample not present: {SAMPLE_PAGES}")
    landing = tmp_path / "landing"
    target = landing / "segment" / "pages" / "pages_2015-02-23.csv"
    target.parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE_PAGES, target)
    files = site_source("segment").files_for_day(landing, date(2015, 2, 23))
    assert files == [target.resolve()]
    result = load(con, files, day=date(2015, 2, 23), timezone="UTC")
    assert (result.landed, result.loaded, result.quarantined) == (1, 1, 0)
    [event] = rows(con, result.table)
    assert event["event_id"] == "ajs-9527e97fc714abe02a23b3d24cf09a36"
    assert event["event_name"] == "page_view"
    assert event["event_at"] == datetime(2015, 2, 23, 22, 28, 55)
    assert (event["anonymous_id"], event["user_id"], event["user_key"]) == (
        "507f191e810c19729de860ea",
        "97980cfea0067",
        "97980cfea0067",
    )
    assert event["page_url"] == "https://www.getdbt.com/"
    assert event["referrer"] == "https://www.google.com/"
    campaign = [event[f"utm_{k}"] for k in ("source", "medium", "campaign", "content", "term")]
    assert campaign == ["facebook", "social", "autumn_collection_2015", "bar", "foo"]
    properties = json.loads(event["properties"])
    assert properties["path"] == "/product"
    assert properties["search"] == "?name=ferret"
    assert properties["title"] == "Product"
    assert "context_ip" not in properties
    assert event["source_line"] == 2


def test_bad_csv_rows_are_quarantined_with_reason_and_physical_line(con):
    result = load(con, [BAD_TRACKS])
    counts = result.for_file(BAD_TRACKS)
    assert (counts.landed, counts.loaded, counts.quarantined) == (9, 2, 7)
    found = reasons(con, result)
    assert found[3] == "missing required field: event"
    assert found[4] == "unparseable timestamp: yesterday at noon"
    assert found[5] == (
        "timestamp 2024-01-09 10:00:00 is more than 1 day after export date 2024-01-05"
    )
    assert found[6] == "timestamp before 2000-01-01: 1999-12-31 23:59:59"
    assert found[7] == "expected 6 fields (the header's), found 7"
    assert found[9] == "missing required field: anonymous_id or user_id"
    assert found[10] == "unterminated quoted field (the last line of the file: truncated?)"
    raw = con.execute(
        f"select raw_record from {result.quarantine_table} where source_line = 7"
    ).fetchone()
    assert raw is not None and raw[0].endswith(",surplus")
    partition = con.execute(
        f"select distinct partition_date, source from {result.quarantine_table}"
    ).fetchall()
    assert partition == [(DAY, "segment")]


def test_a_repeated_message_id_gets_the_same_event_id_and_the_copy_is_quarantined(con):
    result = quarantine_duplicate_events(con, load(con, [BAD_TRACKS]))
    assert con.execute(f"select event_id, source_line from {result.table}").fetchall() == [
        ("ajs-good-0001", 2)
    ]
    reason = reasons(con, result)[8]
    assert reason == f"duplicate event_id ajs-good-0001 (kept the copy at {BAD_TRACKS}:2)"
    counts = result.for_file(BAD_TRACKS)
    assert (counts.landed, counts.loaded, counts.quarantined) == (9, 1, 8)


def test_bad_ndjson_rows_wrong_types_and_a_truncated_last_line(con):
    result = load(con, [BAD_PAGES])
    counts = result.for_file(BAD_PAGES)
    assert (counts.landed, counts.loaded, counts.quarantined) == (6, 2, 4)  # blank line 5
    found = reasons(con, result)
    assert found[2] == "wrong type: url is OBJECT (expected a string)"
    assert found[3] == "wrong type: timestamp is BOOLEAN (expected an ISO 8601 time)"
    assert found[4] == "not a JSON object"
    assert found[7] == (
        "invalid JSON (truncated or malformed line) (the last line of the file: truncated?)"
    )
    assert [r["source_line"] for r in rows(con, result.table)] == [1, 6]


def test_a_missing_required_column_fails_naming_file_and_column(con, tmp_path):
    path = tmp_path / "tracks" / "tracks_20240105.csv"
    path.parent.mkdir()
    path.write_text("id,anonymous_id,timestamp\nm1,a1,2024-01-05 10:00:00\n")
    with pytest.raises(IngestError, match=r"tracks_20240105\.csv: missing required column event"):
        load(con, [path])


def test_a_file_outside_the_table_folders_is_refused(con, tmp_path):
    path = tmp_path / "segment" / "users_20240105.csv"
    path.parent.mkdir()
    path.write_text("id,anonymous_id,timestamp\n")
    with pytest.raises(IngestError, match="not in a Segment table folder"):
        load(con, [path])


def test_gzip_parquet_and_csv_give_the_same_events(con, tmp_path):
    gz = tmp_path / "pages" / "pages_20240105.csv.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(PAGES.read_bytes()))
    parquet = tmp_path / "tracks" / "tracks_20240105.parquet"
    parquet.parent.mkdir()
    con.execute(
        f"copy (select * from read_json('{TRACKS}', format = 'newline_delimited')) "
        f"to '{parquet}' (format parquet)"
    )
    plain = load(con, [PAGES, TRACKS])
    packed = load(con, [gz, parquet])
    columns = "event_id, event_name, event_at, user_key, page_url, utm_source, click_id"
    query = "select {c} from {t} order by event_id"
    assert (
        con.execute(query.format(c=columns, t=plain.table)).fetchall()
        == con.execute(query.format(c=columns, t=packed.table)).fetchall()
    )
    assert packed.loaded == 6


def test_a_truncated_gzip_file_is_quarantined_whole(con, tmp_path):
    gz = tmp_path / "pages" / "pages_20240105.csv.gz"
    gz.parent.mkdir()
    gz.write_bytes(gzip.compress(PAGES.read_bytes())[:-30])
    result = load(con, [gz, TRACKS])
    assert result.for_file(gz).loaded == 0 and result.for_file(gz).quarantined == 1
    assert [name for name, _ in result.unreadable_files] == [str(gz)]
    assert result.for_file(TRACKS).loaded == 3


def test_segment_files_finds_both_day_stamps_under_the_table_folders(tmp_path):
    landing = tmp_path / "landing"
    for name in (
        "tracks/tracks_20240105.ndjson",
        "pages/2024-01-05/part-0.csv",
        "pages/pages_20240106.csv",
        "identifies/identifies_2024-01-05.parquet",
    ):
        path = landing / "segment" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    files = site_source("segment").files_for_day(landing, DAY)
    found = [p.relative_to(landing.resolve()).as_posix() for p in files]
    assert found == [
        "segment/identifies/identifies_2024-01-05.parquet",
        "segment/tracks/tracks_20240105.ndjson",
    ]


def _site_events() -> pa.Table:
    def at(day: int, hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
        return datetime(2024, 1, day, hour, minute, second, micro, tzinfo=UTC)

    url = "https://shop.example.com/lp?utm_source=google&utm_medium=cpc&utm_campaign=w%20s&gclid=G1"
    return pa.Table.from_pylist(
        [
            dict(
                event_id="m1",
                event_name="page_view",
                event_at=at(5, 9, 0, 0, 123000),
                anonymous_id="a1",
                session_id="a1.1",
                page_url=url,
                page_title="Landing",
                referrer="https://www.google.com/",
                properties="{}",
            ),
            dict(
                event_id="m2",
                event_name="sign_up",
                event_at=at(5, 9, 5),
                anonymous_id="a1",
                user_id="u1",
                session_id="a1.1",
                page_url="https://shop.example.com/signup",
                page_title="Sign up",
                engagement_time_ms=5300,
                properties='{"method":"email"}',
            ),
            dict(
                event_id="m3",
                event_name="purchase",
                event_at=at(5, 23, 59, 59, 999999),
                anonymous_id="a1",
                user_id="u1",
                session_id="a1.2",
                page_url="https://shop.example.com/checkout?fbclid=F1",
                value=49.9,
                currency="EUR",
                properties='{"transaction_id":"T1"}',
            ),
        ],
        schema=SITE_EVENT_SCHEMA,
    )


def test_generated_segment_dump_round_trips_to_the_same_events(con, tmp_path):
    landing = tmp_path / "landing"
    written = write_segment(landing / "segment", DAY, _site_events())
    assert [p.relative_to(landing).as_posix() for p in written] == [
        "segment/pages/pages_20240105.csv",
        "segment/tracks/tracks_20240105.csv",
        "segment/identifies/identifies_20240105.csv",
    ]
    result = load(con, site_source("segment").files_for_day(landing, DAY), timezone="UTC")
    assert result.quarantined == 0
    got = con.execute(
        f"""select event_id, event_name, event_at, anonymous_id, user_id, page_url, referrer,
            utm_source, utm_medium, utm_campaign, click_id, click_id_type
        from {result.table} where event_name <> 'identify' order by event_at"""
    ).fetchall()
    expected = [
        (
            e["event_id"],
            e["event_name"],
            e["event_at"].replace(tzinfo=None),
            e["anonymous_id"],
            e["user_id"],
            e["page_url"],
            e["referrer"],
        )
        for e in _site_events().to_pylist()
    ]
    assert [g[:7] for g in got] == expected
    assert got[0][7:] == ("google", "cpc", "w s", "G1", "gclid")
    assert got[2][10:] == ("F1", "fbclid")
    identify = con.execute(
        f"select anonymous_id, user_id, event_at from {result.table} where event_name = 'identify'"
    ).fetchall()
    assert identify == [("a1", "u1", datetime(2024, 1, 5, 9, 5))]
