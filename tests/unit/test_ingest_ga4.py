"""GA4 BigQuery-export adapter: mapping, quarantine rules, reconciliation and line numbers."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.ingest import IngestError, load_ga4_day
from pipelines.lib.schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY1 = FIXTURES / "ga4" / "events_20240105.json"
DAY2 = FIXTURES / "ga4" / "events_20240106.json.gz"
BAD = FIXTURES / "ga4_bad" / "events_20240105.json"
EXPORT_DATE = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)
USER_A = "1785412345.1704412000"


def load(con, files, timezone="UTC", export_date=EXPORT_DATE):
    return load_ga4_day(con, [Path(f) for f in files], export_date, timezone, LOADED_AT)


def rows(con, table: str, order: str = "source_file, source_line") -> list[dict]:
    cursor = con.execute(f"select * from {table} order by {order}")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def fixture_lines(path: Path = DAY1) -> list[str]:
    return path.read_text().splitlines()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_output_tables_have_exactly_the_canonical_columns_in_order(con):
    result = load(con, [DAY1, BAD])
    for table, expected in (
        (result.table, EVENTS_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_int64_values_written_as_strings_are_accepted(con):
    result = load(con, [DAY1])
    first = rows(con, result.table)[3]  # quiz_answer
    assert first["event_name"] == "quiz_answer"
    assert first["event_at"] == datetime(2024, 1, 5, 0, 0, 19, 731000)
    assert first["engagement_time_ms"] == 18481
    assert first["session_id"] == f"{USER_A}.1704412800"
    assert json.loads(first["properties"])["ga_session_number"] == 1


def test_int64_values_written_as_numbers_give_the_same_rows(con, tmp_path):
    def numbers(line: str) -> str:
        record = json.loads(line)
        record["event_timestamp"] = int(record["event_timestamp"])
        for param in record["event_params"]:
            if "int_value" in param["value"]:
                param["value"]["int_value"] = int(param["value"]["int_value"])
        return json.dumps(record)

    as_numbers = write_lines(tmp_path / "events_20240105.json", map(numbers, fixture_lines()))
    strings = load(con, [DAY1])
    ints = load(con, [as_numbers])
    ignore = {"source_file"}
    left = [{k: v for k, v in r.items() if k not in ignore} for r in rows(con, strings.table)]
    right = [{k: v for k, v in r.items() if k not in ignore} for r in rows(con, ints.table)]
    assert left == right


def test_event_fields_map_to_canonical_columns(con):
    result = load(con, [DAY1])
    page_view = rows(con, result.table)[2]
    assert page_view["source"] == "ga4"
    assert page_view["anonymous_id"] == USER_A
    assert page_view["user_id"] is None
    assert page_view["user_key"] == USER_A
    assert page_view["page_url"].startswith("https://shop.example.com/quiz?")
    assert page_view["referrer"] == "https://www.google.com/"
    assert page_view["export_date"] == EXPORT_DATE
    assert page_view["source_file"] == str(DAY1)
    assert page_view["source_line"] == 3
    assert page_view["loaded_at"] == LOADED_AT


def test_utm_and_click_id_come_from_collected_traffic_source(con):
    result = load(con, [DAY1])
    landing = rows(con, result.table)[0]
    assert (landing["utm_source"], landing["utm_medium"], landing["utm_campaign"]) == (
        "google",
        "cpc",
        "spring_quiz",
    )
    assert (landing["utm_content"], landing["utm_term"], landing["utm_id"]) == (
        "ad_var_b",
        "running shoes",
        "21384756",
    )
    assert landing["click_id_type"] == "gclid"
    assert landing["click_id"].startswith("EAIaIQobChMI")


def test_utm_and_click_id_fall_back_to_the_page_url(con):
    result = load(con, [DAY2])
    session_start = rows(con, result.table)[0]
    assert session_start["utm_source"] == "newsletter"
    assert session_start["utm_medium"] == "email"
    assert session_start["utm_campaign"] == "jan_digest"
    assert (session_start["click_id"], session_start["click_id_type"]) == ("IwAR2xQm7", "fbclid")


def test_url_click_ids_are_recognised_in_priority_order(con, tmp_path):
    record = json.loads(fixture_lines()[6])  # no collected_traffic_source
    lines = []
    for query, expected in (
        ("msclkid=m1", ("m1", "msclkid")),
        ("ttclid=t1&li_fat_id=l1", ("t1", "ttclid")),
        ("wbraid=w1&fbclid=f1", ("w1", "wbraid")),
        ("gbraid=g1", ("g1", "gbraid")),
    ):
        record["event_params"][2]["value"]["string_value"] = f"https://x.example/?{query}"
        record["event_bundle_sequence_id"] = str(len(lines))
        lines.append((json.dumps(record), expected))
    path = write_lines(tmp_path / "events_20240105.json", [line for line, _ in lines])
    result = load(con, [path])
    got = [(r["click_id"], r["click_id_type"]) for r in rows(con, result.table)]
    assert got == [expected for _, expected in lines]


def test_user_key_prefers_user_id_once_known(con):
    result = load(con, [DAY1, DAY2])
    a_rows = [r for r in rows(con, result.table) if r["anonymous_id"] == USER_A]
    assert {r["user_key"] for r in a_rows if r["user_id"] is None} == {USER_A}
    assert {r["user_key"] for r in a_rows if r["user_id"] is not None} == {"u_1001"}


def test_value_and_currency_come_from_params_before_event_value_in_usd(con):
    result = load(con, [DAY1, DAY2])
    by_name = {r["event_name"]: r for r in rows(con, result.table)}
    assert (by_name["purchase"]["value"], by_name["purchase"]["currency"]) == (119.0, "EUR")
    assert (by_name["view_item"]["value"], by_name["view_item"]["currency"]) == (129.95, "USD")


def test_event_value_in_usd_is_used_when_no_value_param(con, tmp_path):
    record = json.loads(fixture_lines()[6])
    record["event_value_in_usd"] = 12.5
    path = write_lines(tmp_path / "events_20240105.json", [json.dumps(record)])
    result = load(con, [path])
    (row,) = rows(con, result.table)
    assert (row["value"], row["currency"]) == (12.5, "USD")


def test_properties_hold_the_remaining_params_as_scalars(con):
    result = load(con, [DAY1, DAY2])
    by_name = {r["event_name"]: r for r in rows(con, result.table)}
    quiz = json.loads(by_name["quiz_answer"]["properties"])
    assert quiz == {"ga_session_number": 1, "quiz_question": "terrain", "quiz_answer": "trail"}
    engagement = json.loads(by_name["user_engagement"]["properties"])
    assert engagement == {"ga_session_number": 3, "percent_scrolled": 90.0}
    purchase = json.loads(by_name["purchase"]["properties"])
    assert purchase["transaction_id"] == "T-20240106-0042"
    assert purchase["coupon"] is None
    for mapped in ("ga_session_id", "page_location", "engagement_time_msec", "value"):
        assert mapped not in purchase


def test_event_date_uses_reporting_timezone(con):
    utc = {r["event_name"]: r for r in rows(con, load(con, [DAY1], "UTC").table)}
    new_york = {r["event_name"]: r for r in rows(con, load(con, [DAY1], "America/New_York").table)}
    tokyo = {r["event_name"]: r for r in rows(con, load(con, [DAY1], "Asia/Tokyo").table)}
    # page_view at 2024-01-05 00:00:01 UTC; sign_up at 23:41 UTC.
    assert utc["page_view"]["event_date"] == date(2024, 1, 5)
    assert new_york["page_view"]["event_date"] == date(2024, 1, 4)
    assert tokyo["sign_up"]["event_date"] == date(2024, 1, 6)
    # event_at itself stays UTC whatever the reporting timezone.
    assert new_york["page_view"]["event_at"] == utc["page_view"]["event_at"]


def test_unknown_reporting_timezone_is_rejected(con):
    with pytest.raises(ValueError, match="Mars/Olympus"):
        load(con, [DAY1], "Mars/Olympus")


def test_same_event_in_two_files_gets_the_same_event_id(con, tmp_path):
    copy = write_lines(tmp_path / "events_20240105_000000000001.json", fixture_lines()[:3])
    result = load(con, [DAY1, copy])
    ids = {}
    for row in rows(con, result.table):
        ids.setdefault(row["source_file"], []).append(row["event_id"])
    assert ids[str(copy)] == ids[str(DAY1)][:3]
    # Events of one delivery are all distinct, even with the same timestamp and name.
    assert len(set(ids[str(DAY1)])) == len(ids[str(DAY1)])


def test_truncated_line_is_quarantined_with_file_and_line(con):
    result = load(con, [BAD])
    quarantined = rows(con, result.quarantine_table)
    truncated = [q for q in quarantined if "invalid JSON" in q["reason"]]
    assert len(truncated) == 1
    assert truncated[0]["source_file"] == str(BAD)
    assert truncated[0]["source_line"] == 3
    assert truncated[0]["source"] == "ga4"
    assert truncated[0]["partition_date"] == EXPORT_DATE


def test_missing_event_name_is_quarantined_naming_the_field(con):
    result = load(con, [BAD])
    (missing,) = [q for q in rows(con, result.quarantine_table) if q["source_line"] == 4]
    assert missing["reason"] == "missing required field: event_name"


def test_timestamp_more_than_a_day_after_export_date_is_quarantined(con):
    result = load(con, [BAD])
    (future,) = [q for q in rows(con, result.quarantine_table) if q["source_line"] == 5]
    assert "after export date 2024-01-05" in future["reason"]
    assert "2024-01-09 10:00:00" in future["reason"]


def test_timestamp_on_the_day_after_export_date_is_accepted(con, tmp_path):
    record = json.loads(fixture_lines()[6])
    record["event_timestamp"] = "1704585599000000"  # 2024-01-06 23:59:59 UTC
    path = write_lines(tmp_path / "events_20240105.json", [json.dumps(record)])
    assert load(con, [path]).loaded == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('"17044128OO000000"', "unparseable event_timestamp: 17044128OO000000"),
        ('"946684799999999"', "event_timestamp before 2000-01-01"),
        ("null", "missing required field: event_timestamp"),
    ],
)
def test_bad_timestamps_are_quarantined_with_the_reason(con, tmp_path, value, reason):
    record = json.loads(fixture_lines()[6])
    record["event_timestamp"] = json.loads(value)
    path = write_lines(tmp_path / "events_20240105.json", [json.dumps(record)])
    result = load(con, [path])
    (bad,) = rows(con, result.quarantine_table)
    assert reason in bad["reason"]


def test_missing_user_pseudo_id_is_quarantined_naming_the_field(con, tmp_path):
    record = json.loads(fixture_lines()[6])
    del record["user_pseudo_id"]
    # Another row keeps the column: absent from every row would fail the file (test_schema_drift).
    lines = [fixture_lines()[5], json.dumps(record)]
    path = write_lines(tmp_path / "events_20240105.json", lines)
    (bad,) = rows(con, load(con, [path]).quarantine_table)
    assert bad["reason"] == "missing required field: user_pseudo_id"


def test_raw_record_keeps_the_original_line(con):
    result = load(con, [BAD])
    original = fixture_lines(BAD)
    for q in rows(con, result.quarantine_table):
        assert q["raw_record"] == original[q["source_line"] - 1]


def test_landed_equals_loaded_plus_quarantined_per_file(con):
    result = load(con, [DAY1, DAY2, BAD])
    counts = {c.source_file: c for c in result.files}
    assert (counts[str(DAY1)].landed, counts[str(DAY1)].loaded) == (8, 8)
    assert (counts[str(DAY2)].landed, counts[str(DAY2)].loaded) == (2, 2)
    bad = counts[str(BAD)]
    assert (bad.landed, bad.loaded, bad.quarantined) == (5, 2, 3)
    for c in result.files:
        assert c.landed == c.loaded + c.quarantined
    assert result.files_read == 3
    assert result.rows == result.loaded == 12
    assert (result.min_date, result.max_date) == (date(2024, 1, 5), date(2024, 1, 6))
    assert "landed 5 = loaded 2 + quarantined 3" in result.describe()


def test_gzip_files_are_read(con):
    result = load(con, [DAY2])
    assert [r["event_name"] for r in rows(con, result.table)] == ["session_start", "purchase"]


def test_blank_lines_and_crlf_keep_physical_line_numbers(con, tmp_path):
    lines = fixture_lines()
    path = tmp_path / "events_20240105.jsonl"
    path.write_bytes(("\r\n".join([lines[0], "", lines[1], "   ", lines[2]]) + "\r\n").encode())
    result = load(con, [path])
    assert [r["source_line"] for r in rows(con, result.table)] == [1, 3, 5]
    assert result.for_file(path).landed == 3


def test_line_numbers_follow_file_order_in_large_files(con, tmp_path):
    template = json.loads(fixture_lines()[6])
    params = template["event_params"]
    path = tmp_path / "events_20240105.ndjson.gz"
    with gzip.open(path, "wt") as handle:
        for n in range(1, 60_001):
            template["event_bundle_sequence_id"] = str(n)
            template["event_params"] = [*params, {"key": "line_no", "value": {"int_value": str(n)}}]
            handle.write(json.dumps(template) + "\n")
    result = load(con, [path])
    check = con.execute(
        f"""
        select count(*), count(distinct event_id),
            count(*) filter (where source_line <> (properties::json->>'line_no')::bigint)
        from {result.table}
        """
    ).fetchone()
    assert check == (60_000, 60_000, 0)


def test_unknown_top_level_fields_are_tolerated(con, tmp_path):
    record = json.loads(fixture_lines()[6])
    record["some_future_column"] = {"nested": [1, 2, 3]}
    record["publisher"] = None
    path = write_lines(tmp_path / "events_20240105.json", [json.dumps(record)])
    assert load(con, [path]).loaded == 1


def test_empty_file_or_no_file_yields_zero_rows(con, tmp_path):
    empty = tmp_path / "events_20240105.json"
    empty.write_text("")
    empty_gz = tmp_path / "events_20240105_1.json.gz"
    with gzip.open(empty_gz, "wt"):
        pass
    for files in ([empty], [empty_gz], []):
        result = load(con, files)
        assert (result.rows, result.landed, result.quarantined) == (0, 0, 0)
        assert result.files_read == len(files)
        assert (result.min_date, result.max_date) == (None, None)


def test_file_that_is_not_ga4_raises_naming_the_file(con, tmp_path):
    path = write_lines(tmp_path / "events_20240105.json", ['{"page": "/", "ts": 1}'] * 3)
    with pytest.raises(IngestError, match=r"events_20240105\.json.*event_name"):
        load(con, [path])


def test_parquet_without_event_name_raises_naming_the_file(con, tmp_path):
    path = tmp_path / "events_20240105.parquet"
    con.execute(f"copy (select 1 as page_id) to '{path}' (format parquet)")
    with pytest.raises(IngestError, match=r"events_20240105\.parquet.*event_name"):
        load(con, [path])


def test_unsupported_file_type_raises_naming_the_file(con, tmp_path):
    path = tmp_path / "events_20240105.avro"
    path.write_bytes(b"Obj\x01")
    with pytest.raises(IngestError, match=r"events_20240105\.avro"):
        load(con, [path])


def _write_ga4_parquet(con: duckdb.DuckDBPyConnection, source: Path, target: Path) -> None:
    """The fixture as BigQuery's Parquet export types it: INT64 columns, nested records."""
    value = (
        "struct(string_value varchar, int_value bigint, float_value double, double_value double)"
    )
    con.execute(
        f"""
        copy (
            select event_date, event_timestamp::bigint as event_timestamp, event_name,
                cast(event_params as struct(key varchar, value {value})[]) as event_params,
                event_value_in_usd,
                event_bundle_sequence_id::bigint as event_bundle_sequence_id,
                user_id, user_pseudo_id, collected_traffic_source,
                batch_event_index::bigint as batch_event_index,
                batch_page_id::bigint as batch_page_id,
                batch_ordering_id::bigint as batch_ordering_id
            from read_json(?, format = 'newline_delimited', columns = {{
                event_date: 'varchar', event_timestamp: 'varchar', event_name: 'varchar',
                event_params: 'struct(key varchar, value struct(string_value varchar,
                    int_value varchar, float_value double, double_value double))[]',
                event_value_in_usd: 'double', event_bundle_sequence_id: 'varchar',
                user_id: 'varchar', user_pseudo_id: 'varchar',
                collected_traffic_source: 'struct(manual_campaign_id varchar,
                    manual_campaign_name varchar, manual_source varchar, manual_medium varchar,
                    manual_term varchar, manual_content varchar, gclid varchar)',
                batch_event_index: 'varchar', batch_page_id: 'varchar',
                batch_ordering_id: 'varchar'
            }})
        ) to '{target}' (format parquet)
        """,
        [str(source)],
    )


def test_parquet_export_maps_like_the_json_export(con, tmp_path):
    parquet = tmp_path / "events_20240105.parquet"
    _write_ga4_parquet(con, DAY1, parquet)
    from_json = rows(con, load(con, [DAY1]).table)
    from_parquet = rows(con, load(con, [parquet]).table)
    ignore = {"source_file"}
    assert [{k: v for k, v in r.items() if k not in ignore} for r in from_parquet] == [
        {k: v for k, v in r.items() if k not in ignore} for r in from_json
    ]


def test_loaded_at_with_timezone_is_stored_as_utc(con):
    from zoneinfo import ZoneInfo

    aware = datetime(2024, 1, 6, 5, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    result = load_ga4_day(con, [DAY2], EXPORT_DATE, "UTC", aware)
    assert {r["loaded_at"] for r in rows(con, result.table)} == {datetime(2024, 1, 6, 4, 0)}
