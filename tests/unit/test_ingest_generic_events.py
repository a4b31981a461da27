"""The generic event format (docs/event_format.md): mapping, times, derived ids, bad rows with
reason and physical line, formats, and the generator's files round-tripping."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.lib.generator.generic_export import write_generic
from pipelines.lib.generator.source_rows import SITE_EVENT_SCHEMA
from pipelines.lib.ingest import IngestError
from pipelines.lib.ingest.duplicates import quarantine_duplicate_events
from pipelines.lib.ingest.generic_events import (
    SOURCE,
    load_generic_events_day,
)
from pipelines.lib.ingest.sources import site_source
from pipelines.lib.schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "generic_events"
CSV = FIXTURES / "events_2024-01-05.csv"
NDJSON = FIXTURES / "events_20240105.ndjson"
BAD_CSV = FIXTURES / "bad" / "events_2024-01-05.csv"
BAD_NDJSON = FIXTURES / "bad" / "events_2024-01-05.ndjson"
DAY = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)


def load(con, files, timezone="Europe/Berlin"):
    return load_generic_events_day(con, [Path(f) for f in files], DAY, timezone, LOADED_AT)


def rows(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * from {table} order by source_file, source_line")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def reasons(con, result) -> dict[int | None, str]:
    found = con.execute(
        f"select source_line, reason from {result.quarantine_table} order by source_line"
    ).fetchall()
    return dict(found)


def test_output_tables_have_exactly_the_canonical_columns_in_order(con):
    result = load(con, [CSV, BAD_CSV])
    for table, expected in (
        (result.table, EVENTS_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_csv_columns_map_to_the_canonical_ones(con):
    result = load(con, [CSV])
    assert result.source == SOURCE == "generic_events"
    assert (result.landed, result.loaded, result.quarantined) == (4, 4, 0)
    first, second, third, fourth = rows(con, result.table)
    assert (first["event_id"], first["event_name"], first["source_line"]) == (
        "e-1001",
        "page_view",
        2,
    )
    assert first["event_at"] == datetime(2024, 1, 5, 8, 15)
    assert (first["anonymous_id"], first["user_id"], first["user_key"]) == (
        "anon-1",
        None,
        "anon-1",
    )
    assert first["session_id"] == "sess-1"
    assert first["referrer"] == "https://www.bing.com/"
    # No utm columns filled: the page URL's query gives them, and the click id.
    assert (first["utm_source"], first["utm_medium"], first["utm_campaign"]) == (
        "bing",
        "cpc",
        "brand",
    )
    assert (first["click_id"], first["click_id_type"]) == ("5a1b2c3d4e", "msclkid")
    assert first["engagement_time_ms"] == 1200
    assert json.loads(first["properties"]) == {}
    assert (second["utm_source"], second["utm_medium"], second["utm_campaign"]) == (
        "newsletter",
        "email",
        "jan_digest",
    )
    assert second["event_at"] == datetime(2024, 1, 5, 8, 16, 30, 250000)  # +01:00 offset
    assert second["user_key"] == "user-7"
    assert json.loads(second["properties"]) == {"plan": "pro"}
    assert (third["click_id"], third["click_id_type"]) == ("Cj0KCQiA-gclid-value", "gclid")
    assert third["event_at"] == datetime(2024, 1, 5, 9, 20)  # epoch milliseconds
    assert (third["value"], third["currency"]) == (19.99, "EUR")
    assert json.loads(third["properties"]) == {"item_count": "1"}
    assert fourth["event_at"] == datetime(2024, 1, 5, 23, 30)  # naive = UTC
    assert fourth["event_date"] == date(2024, 1, 6)  # 00:30 in Berlin
    assert (fourth["value"], fourth["currency"]) == (59.98, "EUR")
    assert fourth["user_key"] == "user-7" and fourth["anonymous_id"] is None
    assert {r["export_date"] for r in (first, fourth)} == {DAY}


def test_a_row_without_event_id_gets_a_stable_id_from_its_content(con):
    first = load(con, [CSV])
    again = load(con, [CSV])
    query = "select event_id from {t} where source_line = 4"
    one = con.execute(query.format(t=first.table)).fetchone()
    two = con.execute(query.format(t=again.table)).fetchone()
    assert one is not None and one == two
    assert len(one[0]) == 32  # md5 hex, not empty


def test_ndjson_typed_values_and_other_fields_into_properties(con):
    result = load(con, [NDJSON], timezone="UTC")
    view, lead = rows(con, result.table)
    assert view["event_at"] == datetime(2024, 1, 5, 7, 0)
    assert (view["utm_source"], view["utm_medium"]) == ("tiktok", "paid_social")
    assert (view["click_id"], view["click_id_type"]) == ("E.C.P.abc", "ttclid")
    assert view["engagement_time_ms"] == 15000
    assert json.loads(view["properties"]) == {
        "$browser": "Firefox",
        "screen": {"w": 1920, "h": 1080},
    }
    assert lead["event_at"] == datetime(2024, 1, 5, 7, 1)  # 1704438060000 ms
    assert lead["user_id"] == "4711"  # a JSON integer id becomes text
    assert (lead["value"], lead["currency"]) == (120.0, "USD")
    assert json.loads(lead["properties"]) == {"form": "contact"}
    assert set(result.drift.params_seen) == {"$browser", "screen", "form"}
    assert result.drift.extra_columns == ()  # other columns are properties by design


def test_bad_csv_rows_are_quarantined_with_reason_and_physical_line(con):
    result = load(con, [BAD_CSV])
    counts = result.for_file(BAD_CSV)
    assert (counts.landed, counts.loaded, counts.quarantined) == (11, 2, 9)
    found = reasons(con, result)
    assert found == {
        3: "missing required field: event_name",
        4: "missing required field: anonymous_id or user_id",
        5: "unparseable event_at: 05/01/2024 10:03",
        6: "unparseable event_at: 2024-01-05",
        7: "event_at 2024-01-08 00:00:00 is more than 1 day after export date 2024-01-05",
        8: "wrong type: value is not a number: 12,50",
        9: "wrong type: engagement_time_ms is not a whole number: 1.5",
        10: "expected 9 fields (the header's), found 4",
        12: "expected 9 fields (the header's), found 3 (the last line of the file: truncated?)",
    }
    raw = con.execute(
        f"select raw_record from {result.quarantine_table} where source_line = 8"
    ).fetchone()
    assert raw is not None and json.loads(raw[0])["value"] == "12,50"  # the row, by column


def test_bad_ndjson_rows_wrong_types_epoch_seconds_and_truncation(con):
    result = load(con, [BAD_NDJSON])
    counts = result.for_file(BAD_NDJSON)
    assert (counts.landed, counts.loaded, counts.quarantined) == (9, 2, 7)
    found = reasons(con, result)
    assert found == {
        2: "wrong type: event_name is ARRAY (expected a string)",
        3: "wrong type: value is not a number: abc",
        4: "wrong type: value is BOOLEAN (expected a number)",
        5: "event_at before 2000-01-01: 1704446400",  # seconds read as milliseconds
        6: "unknown click_id_type: xyzclid (known: gclid, gbraid, wbraid, dclid, fbclid, "
        "ttclid, li_fat_id, msclkid)",
        7: "invalid JSON (truncated or malformed line)",
        9: "invalid JSON (truncated or malformed line) (the last line of the file: truncated?)",
    }


def test_a_repeated_event_gets_the_same_id_and_the_copy_is_quarantined(con):
    for path, kept, copy, event_id in ((BAD_CSV, 2, 11, "g-01"), (BAD_NDJSON, 1, 8, None)):
        result = quarantine_duplicate_events(con, load(con, [path]))
        assert [r["source_line"] for r in rows(con, result.table)] == [kept]
        reason = reasons(con, result)[copy]
        assert reason.startswith("duplicate event_id ")
        assert reason.endswith(f"(kept the copy at {path}:{kept})")
        if event_id:
            assert reason.startswith(f"duplicate event_id {event_id} ")


def test_click_id_needs_its_type(con, tmp_path):
    path = tmp_path / "events_20240105.csv"
    path.write_text(
        "event_name,event_at,anonymous_id,click_id,click_id_type\n"
        "page_view,2024-01-05T10:00:00Z,a1,abc,\n"
        "page_view,2024-01-05T10:00:00Z,a1,abc,FBCLID\n"
    )
    result = load(con, [path])
    assert reasons(con, result) == {2: "missing required field: click_id_type (click_id is given)"}
    [row] = rows(con, result.table)
    assert (row["click_id"], row["click_id_type"]) == ("abc", "fbclid")


@pytest.mark.parametrize("header", ["event_name,anonymous_id", "event_at,event_name"])
def test_a_missing_required_column_fails_naming_file_and_column(con, tmp_path, header):
    path = tmp_path / "events_20240105.csv"
    values = {"event_name": "page_view", "anonymous_id": "a1", "event_at": "2024-01-05 10:00"}
    path.write_text(header + "\n" + ",".join(values[h] for h in header.split(",")) + "\n")
    missing = "event_at" if "event_at" not in header else "anonymous_id or user_id"
    with pytest.raises(
        IngestError, match=f"events_20240105.csv: missing required column {missing}"
    ):
        load(con, [path])


def test_gzip_and_parquet_give_the_same_events_as_the_plain_file(con, tmp_path):
    gz = tmp_path / "events_20240105.ndjson.gz"
    gz.write_bytes(gzip.compress(NDJSON.read_bytes()))
    parquet = tmp_path / "events_20240105.parquet"
    con.execute(f"copy (select * from read_csv('{CSV}', all_varchar = true)) to '{parquet}'")
    columns = "event_id, event_name, event_at, user_key, page_url, utm_source, click_id, value"
    query = "select {c} from {t} order by event_at"
    for plain, packed in ((NDJSON, gz), (CSV, parquet)):
        one, two = load(con, [plain]), load(con, [packed])
        assert two.loaded == one.loaded > 0
        assert (
            con.execute(query.format(c=columns, t=one.table)).fetchall()
            == con.execute(query.format(c=columns, t=two.table)).fetchall()
        )


def test_a_truncated_gzip_file_is_quarantined_whole(con, tmp_path):
    gz = tmp_path / "events_20240105.ndjson.gz"
    gz.write_bytes(gzip.compress(NDJSON.read_bytes())[:-20])
    result = load(con, [gz, CSV])
    counts = result.for_file(gz)
    assert (counts.landed, counts.loaded, counts.quarantined) == (1, 0, 1)
    assert [name for name, _ in result.unreadable_files] == [str(gz)]
    assert result.for_file(CSV).loaded == 4


def test_generic_event_files_finds_the_day_under_events(tmp_path):
    landing = tmp_path / "landing"
    for name in (
        "events_20240105.csv",
        "sub/2024-01-05.ndjson.gz",
        "events_20240106.csv",
        "notes_20240105.txt",
    ):
        path = landing / "events" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("")
    files = site_source("generic_events").files_for_day(landing, DAY)
    found = [p.relative_to(landing.resolve()).as_posix() for p in files]
    assert found == ["events/events_20240105.csv", "events/sub/2024-01-05.ndjson.gz"]


def _site_events() -> pa.Table:
    def at(day: int, hour: int, minute: int, second: int = 0, micro: int = 0) -> datetime:
        return datetime(2024, 1, day, hour, minute, second, micro, tzinfo=UTC)

    url = "https://shop.example.com/lp?utm_source=google&utm_medium=cpc&gclid=G1"
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
                page_url="https://shop.example.com/checkout",
                value=49.9,
                currency="EUR",
                properties='{"transaction_id":"T1","items":2}',
            ),
        ],
        schema=SITE_EVENT_SCHEMA,
    )


def test_generated_generic_file_round_trips_to_the_same_events(con, tmp_path):
    landing = tmp_path / "landing"
    events = _site_events()
    written = write_generic(landing / "events", DAY, events)
    assert [p.relative_to(landing).as_posix() for p in written] == [
        "events/events_2024-01-05.ndjson"
    ]
    result = load(con, site_source("generic_events").files_for_day(landing, DAY), timezone="UTC")
    assert result.quarantined == 0
    fields = [
        "event_id",
        "event_name",
        "event_at",
        "anonymous_id",
        "user_id",
        "session_id",
        "page_url",
        "referrer",
        "engagement_time_ms",
        "value",
        "currency",
    ]
    got = rows(con, result.table)
    expected = events.to_pylist()
    for row, event in zip(got, expected, strict=True):
        event["event_at"] = event["event_at"].replace(tzinfo=None)
        assert {f: row[f] for f in fields} == {f: event[f] for f in fields}
        properties = json.loads(event["properties"])
        if event["page_title"]:
            properties["page_title"] = event["page_title"]
        assert json.loads(row["properties"]) == properties
    assert (got[0]["utm_source"], got[0]["click_id"], got[0]["click_id_type"]) == (
        "google",
        "G1",
        "gclid",
    )


def test_the_examples_in_docs_event_format_load_as_written(con, tmp_path):
    text = (REPO / "docs" / "event_format.md").read_text(encoding="utf-8")
    blocks = {}
    for kind in ("csv", "json"):
        start = text.index(f"```{kind}\n") + len(f"```{kind}\n")
        blocks[kind] = text[start : text.index("```", start)]
    csv_path = tmp_path / "events_2024-01-05.csv"
    csv_path.write_text(blocks["csv"])
    json_path = tmp_path / "events_2024-01-05.ndjson"
    json_path.write_text(blocks["json"])
    result = load(con, [csv_path, json_path], timezone="UTC")
    assert (result.landed, result.loaded, result.quarantined) == (4, 4, 0)
    got = con.execute(
        f"select event_name, event_at, click_id_type, value from {result.table} order by event_at"
    ).fetchall()
    assert got == [
        ("generate_lead", datetime(2024, 1, 5, 7, 1), None, 120.0),
        ("page_view", datetime(2024, 1, 5, 8, 15), "msclkid", None),
        ("sign_up", datetime(2024, 1, 5, 8, 16, 30), None, None),
        ("purchase", datetime(2024, 1, 5, 23, 30), None, 59.98),
    ]


def test_a_line_that_is_not_utf8_is_quarantined_with_its_line_number(con, tmp_path):
    path = tmp_path / "events_20240105.csv"
    lines = CSV.read_bytes().splitlines(keepends=True)
    latin1 = "e-9,page_view,2024-01-05T10:00:00Z,anon-é,,,,,,,,,,,,,,,,,\n".encode("latin-1")
    path.write_bytes(b"".join([*lines[:2], latin1, *lines[2:]]))
    result = load(con, [path])
    counts = result.for_file(path)
    assert (counts.landed, counts.loaded, counts.quarantined) == (5, 4, 1)
    assert reasons(con, result)[3].startswith("line is not valid UTF-8")
    assert [r["source_line"] for r in rows(con, result.table)] == [2, 4, 5, 6]
