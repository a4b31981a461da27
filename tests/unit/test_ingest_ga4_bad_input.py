"""GA4 lines that cannot be read, or carry a field of the wrong JSON type: quarantined one by
one with their line number and the reason; the rest of the day loads."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import lines, load_ga4_day

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY1 = FIXTURES / "ga4" / "events_20240105.json"
EXPORT_DATE = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)
GOOD = DAY1.read_bytes().splitlines()  # 8 events


def load(con, files):
    return load_ga4_day(con, [Path(f) for f in files], EXPORT_DATE, "UTC", LOADED_AT)


def quarantined(con, result) -> dict[int, tuple[str, str]]:
    rows = con.execute(
        f"select source_line, reason, raw_record from {result.quarantine_table}"
    ).fetchall()
    return {line: (reason, raw) for line, reason, raw in rows}


def loaded_lines(con, result) -> list[int]:
    rows = con.execute(f"select source_line from {result.table} order by 1").fetchall()
    return [line for (line,) in rows]


def record(**changes: object) -> dict:
    """The fixture's 7th event (a user_engagement) with some fields replaced."""
    event = json.loads(GOOD[6])
    event.update(changes)
    return event


def with_param(index: int, param: object) -> dict:
    event = record()
    event["event_params"][index] = param
    return event


# --- lines that cannot be decoded -----------------------------------------------------------


def undecodable_day(path: Path) -> Path:
    """Good lines around a Latin-1 line (é as byte 0xE9) and a line of invalid UTF-8 bytes."""
    text = json.dumps(record(event_name="café"), ensure_ascii=False)
    latin1 = text.encode("latin-1")
    body = [*GOOD[:3], latin1, *GOOD[3:6], b'{"event_name": "\xff\xfe\x80"}', *GOOD[6:]]
    data = b"\n".join(body) + b"\n"
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


@pytest.mark.parametrize("name", ["events_20240105.json", "events_20240105.json.gz"])
def test_an_undecodable_line_is_quarantined_and_the_rest_of_the_day_loads(con, tmp_path, name):
    path = undecodable_day(tmp_path / name)
    result = load(con, [path])
    bad = quarantined(con, result)
    assert sorted(bad) == [4, 8]
    assert all(reason.startswith("line is not valid UTF-8") for reason, _ in bad.values())
    # Good lines keep their physical numbers, before and after the bad ones.
    assert loaded_lines(con, result) == [1, 2, 3, 5, 6, 7, 9, 10]
    counts = result.for_file(path)
    assert (counts.landed, counts.loaded, counts.quarantined) == (10, 8, 2)


def test_an_undecodable_line_is_stored_as_valid_text(con, tmp_path):
    result = load(con, [undecodable_day(tmp_path / "events_20240105.json")])
    _, raw = quarantined(con, result)[4]
    raw.encode("utf-8")  # storable: no lone surrogates or invalid bytes
    assert raw.startswith('{"event_date": "20240105"')
    assert '"event_name": "caf' in raw


def test_a_line_over_the_maximum_line_size_is_quarantined_cut_short(con, tmp_path, monkeypatch):
    monkeypatch.setattr(lines, "MAX_LINE_BYTES", 4096)
    monkeypatch.setattr(lines, "MAX_RAW_CHARS", 100)
    huge = json.dumps(record(page_title="x" * 10_000)).encode()
    path = tmp_path / "events_20240105.json"
    path.write_bytes(b"\n".join([GOOD[0], huge, GOOD[1]]) + b"\n")
    result = load(con, [path])
    ((line, (reason, raw)),) = quarantined(con, result).items()
    assert (line, reason) == (2, "line longer than the maximum of 4,096 bytes")
    assert len(raw) == 100
    assert loaded_lines(con, result) == [1, 3]


# --- fields of the wrong JSON type ----------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (record(event_params="page_location=https://x.example/"), "event_params is VARCHAR"),
        (record(event_params={"key": "page_location"}), "event_params is OBJECT"),
        (record(event_name={"name": "page_view"}), "event_name is OBJECT (expected a string)"),
        (record(event_name=["page_view"]), "event_name is ARRAY (expected a string)"),
        (record(event_name=42), "event_name is UBIGINT (expected a string)"),
        (record(user_pseudo_id={"id": "123.456"}), "user_pseudo_id is OBJECT"),
        (record(user_pseudo_id=1785412345.17044), "user_pseudo_id is DOUBLE"),
        (record(event_timestamp={"micros": 1}), "event_timestamp is OBJECT"),
        (record(collected_traffic_source="google"), "collected_traffic_source is VARCHAR"),
        (
            record(collected_traffic_source={"gclid": ["a"]}),
            "collected_traffic_source.gclid is ARRAY",
        ),
        (record(event_value_in_usd="twelve"), "event_value_in_usd is a string that is not a"),
        (with_param(0, "ga_session_id"), "event_params[0] is VARCHAR (expected an object)"),
        (with_param(1, {"key": 7, "value": {}}), "event_params[1].key is UBIGINT"),
        (with_param(1, {"value": {"string_value": "x"}}), "event_params[1].key is missing"),
        (
            with_param(2, {"key": "page_location", "value": "https://x.example/"}),
            "event_params[2].value is VARCHAR (expected an object)",
        ),
        (
            with_param(2, {"key": "page_location", "value": {"string_value": {"u": 1}}}),
            "event_params[2].value.string_value is OBJECT",
        ),
        (
            with_param(0, {"key": "ga_session_id", "value": {"int_value": "abc"}}),
            "event_params[0].value.int_value is a string that is not an integer",
        ),
        (
            with_param(0, {"key": "ga_session_id", "value": {"int_value": 1.5}}),
            "event_params[0].value.int_value is DOUBLE (expected an integer)",
        ),
        (
            with_param(0, {"key": "x", "value": {"double_value": True}}),
            "event_params[0].value.double_value is BOOLEAN (expected a number)",
        ),
    ],
)
def test_a_field_of_the_wrong_json_type_is_quarantined_naming_field_and_type(
    con, tmp_path, event, reason
):
    path = tmp_path / "events_20240105.json"
    path.write_bytes(b"\n".join([GOOD[0], json.dumps(event).encode()]) + b"\n")
    result = load(con, [path])
    ((line, (got, _)),) = quarantined(con, result).items()
    assert line == 2
    assert got.startswith("wrong JSON type: ")
    assert reason in got
    assert loaded_lines(con, result) == [1]


@pytest.mark.parametrize(
    "event",
    [
        record(event_timestamp=int(record()["event_timestamp"])),  # INT64 as a JSON number
        record(user_id=None, event_value_in_usd=12.5),  # JSON null is "not set"
        record(event_value_in_usd="12.5"),
        with_param(0, {"key": "ga_session_id", "value": {"int_value": 1704412800}}),
        with_param(0, {"key": "x", "value": {"double_value": "NaN"}}),
        with_param(0, {"key": "x", "value": None}),
    ],
)
def test_the_types_the_bigquery_export_writes_are_accepted(con, tmp_path, event):
    path = tmp_path / "events_20240105.json"
    path.write_text(json.dumps(event) + "\n")
    result = load(con, [path])
    assert quarantined(con, result) == {}
    assert result.loaded == 1
