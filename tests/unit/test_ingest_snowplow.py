"""Snowplow adapter: the enriched event TSV and the atomic.events table (CSV, Parquet) onto the
canonical events, bad records quarantined with reason and line, the public dbt-snowplow samples
against the packages' expected outputs, and the generator's TSV writer read back."""

from __future__ import annotations

import gzip
import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from pipelines.lib.ingest.errors import IngestError
from pipelines.lib.ingest.snowplow import SNOWPLOW_DIR, SNOWPLOW_SUFFIXES, load_snowplow_day
from pipelines.lib.ingest.snowplow_fields import ENRICHED_FIELDS, FIELD_COUNT
from pipelines.lib.landing_files import day_files
from pipelines.lib.schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "snowplow"
TSV = FIXTURES / "enriched_20240105.tsv"
CSV = FIXTURES / "atomic_events_2024-01-05.csv"
BAD = FIXTURES / "bad_enriched_20240105.tsv"
# The real public samples sit beside the repository (tests/fixtures/README.md), or where
# MICROFUNNEL_TEST_SAMPLES_DIR points.
SAMPLES_DIR = Path(
    os.environ.get("MICROFUNNEL_TEST_SAMPLES_DIR", REPO.parent / "shared" / "samples")
)
WEB = SAMPLES_DIR / "dbt-snowplow-web"
FRACTRIBUTION = SAMPLES_DIR / "dbt-snowplow-fractribution"
EXPORT_DATE = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)

PAGE_VIEW = "6f3b2c1a-9d4e-4f5a-8b7c-0e1d2c3b4a51"
STRUCT = "3c4d5e6f-7a8b-4c9d-8e1f-2a3b4c5d6e54"
TRANSACTION = "4d5e6f7a-8b9c-4d0e-9f2a-3b4c5d6e7f55"
LINK_CLICK = "5e6f7a8b-9c0d-4e1f-8a3b-4c5d6e7f8a56"
FACEBOOK_VIEW = "6f7a8b9c-0d1e-4f2a-9b4c-5d6e7f8a9b57"
NEXT_DAY_VIEW = "7a8b9c0d-1e2f-4a3b-8c5d-6e7f8a9b0c58"


def load(con, files, export_date=EXPORT_DATE, timezone="Europe/Berlin"):
    return load_snowplow_day(con, [Path(f) for f in files], export_date, timezone, LOADED_AT)


def rows(con, table: str, where: str = "true") -> list[dict]:
    cursor = con.execute(f"select * from {table} where {where} order by source_file, source_line")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def by_id(con, result) -> dict[str, dict]:
    return {r["event_id"]: r for r in rows(con, result.table)}


def quarantined(con, result) -> dict[int | None, dict]:
    return {r["source_line"]: r for r in rows(con, result.quarantine_table)}


def counts(result, path: Path) -> tuple[int, int, int]:
    c = result.for_file(path)
    return c.landed, c.loaded, c.quarantined


def require(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"public sample not available: {path} (see tests/fixtures/README.md)")
    return path


def tsv_line(**values: str) -> str:
    return "\t".join(values.get(name, "") for name in ENRICHED_FIELDS)


# --- shape ----------------------------------------------------------------------------------


def test_output_tables_have_exactly_the_canonical_columns_in_order(con):
    result = load(con, [TSV, BAD])
    for table, expected in (
        (result.table, EVENTS_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_the_field_list_is_the_131_field_enriched_event():
    assert FIELD_COUNT == 131
    assert ENRICHED_FIELDS[:7] == (
        "app_id",
        "platform",
        "etl_tstamp",
        "collector_tstamp",
        "dvce_created_tstamp",
        "event",
        "event_id",
    )
    # 1-based fields 117 and 118 of the enriched TSV.
    assert ENRICHED_FIELDS.index("mkt_clickid") == 116 and ENRICHED_FIELDS[117] == "mkt_network"
    assert ENRICHED_FIELDS[-2:] == ("event_fingerprint", "true_tstamp")


# --- the enriched TSV -----------------------------------------------------------------------


def test_enriched_tsv_loads_every_event_with_counts_reconciled(con):
    result = load(con, [TSV])
    assert counts(result, TSV) == (8, 8, 0)
    assert result.source == "snowplow"
    assert (result.min_date, result.max_date) == (date(2024, 1, 5), date(2024, 1, 7))
    assert [r["source_line"] for r in rows(con, result.table)] == list(range(1, 9))


def test_a_page_view_maps_ids_times_campaign_and_click_id(con):
    row = by_id(con, load(con, [TSV]))[PAGE_VIEW]
    assert row["event_name"] == "page_view"
    # derived_tstamp, not collector_tstamp (09:15:03.001) or the device's clock.
    assert row["event_at"] == datetime(2024, 1, 5, 9, 15, 2, 123000)
    assert row["event_date"] == date(2024, 1, 5)
    assert row["anonymous_id"] == "2d1f8e3a-6c1b-4b7e-9a51-0c3f5e7d9b11"
    assert row["user_id"] is None and row["user_key"] == row["anonymous_id"]
    assert row["session_id"] == "c4e1f0a2-7b3d-4e58-a9c6-2f1d8b7e3a90"
    assert row["page_url"].startswith("https://shop.example.com/landing?utm_source=google")
    assert row["referrer"] == "https://www.google.com/"
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == (
        "google",
        "cpc",
        "spring_sale",
    )
    assert (row["click_id"], row["click_id_type"]) == ("EAIaIQobChMI-test", "gclid")
    assert row["engagement_time_ms"] is None and row["value"] is None
    assert (row["export_date"], row["source_line"]) == (EXPORT_DATE, 1)
    assert row["loaded_at"] == LOADED_AT
    properties = json.loads(row["properties"])
    assert properties["page_title"] == "Spring sale | Example Shop"
    assert properties["refr_medium"] == "search" and properties["domain_sessionidx"] == 1
    # Personal data that is not mapped stays out of properties.
    assert "user_ipaddress" not in properties and "useragent" not in properties


def test_a_structured_event_is_named_by_its_action_and_valued_by_se_value(con):
    row = by_id(con, load(con, [TSV]))[STRUCT]
    assert row["event_name"] == "add-to-basket"
    assert (row["value"], row["currency"]) == (2.0, None)
    properties = json.loads(row["properties"])
    assert properties["se_category"] == "ecommerce" and properties["se_label"] == "SKU-1042"
    assert properties["se_value"] == 2.0 and properties["event"] == "struct"


def test_a_transaction_carries_tr_total_and_tr_currency_and_the_user_id(con):
    row = by_id(con, load(con, [TSV]))[TRANSACTION]
    assert row["event_name"] == "transaction"
    assert (row["value"], row["currency"]) == (59.9, "EUR")
    assert row["user_id"] == "customer-4711" and row["user_key"] == "customer-4711"
    assert json.loads(row["properties"])["tr_orderid"] == "order-1001"


def test_a_self_describing_event_keeps_its_name_and_data(con):
    row = by_id(con, load(con, [TSV]))[LINK_CLICK]
    assert row["event_name"] == "link_click"
    # No derived_tstamp: the collector's time.
    assert row["event_at"] == datetime(2024, 1, 5, 13, 2, 44, 418000)
    assert (row["click_id"], row["click_id_type"]) == (
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "msclkid",
    )
    assert json.loads(row["properties"])["event_data"] == {
        "targetUrl": "https://shop.example.com/sale",
        "elementId": "hero-cta",
    }


def test_without_campaign_fields_utms_and_click_id_come_from_the_url(con):
    row = by_id(con, load(con, [TSV]))[FACEBOOK_VIEW]
    assert (row["utm_source"], row["utm_medium"], row["utm_campaign"]) == (
        "facebook",
        "paid_social",
        "winter_blog",
    )
    assert (row["utm_content"], row["utm_id"]) == ("carousel", "120208")
    assert (row["click_id"], row["click_id_type"]) == ("IwAR2xYz_test", "fbclid")


def test_event_date_is_the_reporting_timezone_day_and_late_events_load(con):
    result = load(con, [TSV])
    events = by_id(con, result)
    # 23:58 UTC on the 4th is the 5th in Berlin; a late event of the day before still loads.
    assert events[FACEBOOK_VIEW]["event_at"] == datetime(2024, 1, 4, 23, 58, 11, 500000)
    assert events[FACEBOOK_VIEW]["event_date"] == date(2024, 1, 5)
    utc = by_id(con, load(con, [TSV], timezone="UTC"))
    assert utc[FACEBOOK_VIEW]["event_date"] == date(2024, 1, 4)
    # Up to one day after the export day is accepted (00:29 on the 7th in Berlin).
    assert events[NEXT_DAY_VIEW]["event_date"] == date(2024, 1, 7)


def test_each_page_ping_counts_one_heartbeat_of_engaged_time(con):
    result = load(con, [TSV])
    pings = rows(con, result.table, "event_name = 'page_ping'")
    assert [p["engagement_time_ms"] for p in pings] == [10_000, 10_000]
    total = con.execute(
        f"select sum(engagement_time_ms) from {result.table} "
        "where session_id = 'c4e1f0a2-7b3d-4e58-a9c6-2f1d8b7e3a90'"
    ).fetchone()
    assert total == (20_000,)


def test_a_header_line_in_a_tsv_is_skipped_not_landed(con, tmp_path):
    path = tmp_path / "enriched_20240105.tsv"
    path.write_text("\t".join(ENRICHED_FIELDS) + "\n" + TSV.read_text())
    result = load(con, [path])
    assert counts(result, path) == (8, 8, 0)
    assert rows(con, result.table)[0]["source_line"] == 2


def test_an_unknown_network_click_id_is_not_typed_and_the_url_is_used(con, tmp_path):
    line = tsv_line(
        event="page_view",
        event_name="page_view",
        event_id="9a9a9a9a-0000-4000-8000-000000000001",
        collector_tstamp="2024-01-05 08:00:00.000",
        domain_userid="d-1",
        page_url="https://shop.example.com/?ttclid=E.C.P.tt",
        mkt_clickid="pin-123",
        mkt_network="Pinterest",
    )
    path = tmp_path / "enriched_20240105.tsv"
    path.write_text(line + "\n")
    row = rows(con, load(con, [path]).table)[0]
    assert (row["click_id"], row["click_id_type"]) == ("E.C.P.tt", "ttclid")
    assert json.loads(row["properties"])["mkt_network"] == "Pinterest"


# --- bad input ------------------------------------------------------------------------------


def test_bad_records_are_quarantined_with_reason_file_and_line(con):
    result = load(con, [BAD])
    assert counts(result, BAD) == (11, 2, 9)
    bad = quarantined(con, result)
    reasons = {line: row["reason"] for line, row in bad.items()}
    assert reasons == {
        2: "wrong field count: 130 tab-separated fields, expected 131 (enriched event TSV)",
        3: "unparseable collector_tstamp: 05/01/2024 09:00",
        4: "missing required field: event_id",
        5: "derived_tstamp 2024-01-09 08:00:00 is more than 1 day after export date 2024-01-05",
        6: "collector_tstamp before 2000-01-01: 1970-01-01 00:00:00",
        7: "unparseable derived_tstamp: not a time",
        8: "missing user identity: user_id, domain_userid and network_userid are all empty",
        9: "unparseable tr_total: 59,90",
        11: "wrong field count: 59 tab-separated fields, expected 131 (enriched event TSV)"
        " - the last line of the file: truncated?",
    }
    raw_lines = BAD.read_text().split("\n")
    for line, row in bad.items():
        assert line is not None
        assert row["source"] == "snowplow" and row["source_file"] == str(BAD)
        assert row["raw_record"] == raw_lines[line - 1]
        assert (row["partition_date"], row["loaded_at"]) == (EXPORT_DATE, LOADED_AT)
    assert [r["source_line"] for r in rows(con, result.table)] == [1, 10]


def test_an_undecodable_line_is_quarantined_and_the_rest_loads(con, tmp_path):
    good = TSV.read_bytes().splitlines()
    latin1 = tsv_line(
        event="page_view",
        event_id="9a9a9a9a-0000-4000-8000-000000000002",
        collector_tstamp="2024-01-05 08:00:00.000",
        domain_userid="d-1",
        page_title="Caf\u00e9",
    ).encode("latin-1")
    path = tmp_path / "enriched_20240105.tsv"
    path.write_bytes(b"\n".join([*good[:2], latin1, *good[2:]]) + b"\n")
    result = load(con, [path])
    assert counts(result, path) == (9, 8, 1)
    assert quarantined(con, result)[3]["reason"].startswith("line is not valid UTF-8")


def test_gzip_files_load_and_a_truncated_gzip_is_quarantined_whole(con, tmp_path):
    whole = tmp_path / "enriched_20240105.tsv.gz"
    whole.write_bytes(gzip.compress(TSV.read_bytes()))
    cut = tmp_path / "enriched_2024-01-05_part2.tsv.gz"
    data = gzip.compress(BAD.read_bytes())
    cut.write_bytes(data[: len(data) // 2])
    result = load(con, [whole, cut])
    assert counts(result, whole) == (8, 8, 0)
    assert counts(result, cut) == (1, 0, 1)
    assert [name for name, _ in result.unreadable_files] == [str(cut)]
    row = quarantined(con, result)[None]
    assert row["source_file"] == str(cut) and "quarantined whole" in row["reason"]


def test_a_file_that_is_not_snowplow_data_is_refused(con, tmp_path):
    other = tmp_path / "events_20240105.json"
    other.write_text("{}\n")
    with pytest.raises(IngestError, match="not a Snowplow file type"):
        load(con, [other])


def test_a_tsv_with_no_enriched_event_line_warns(con, tmp_path):
    path = tmp_path / "enriched_20240105.tsv"
    path.write_text("a\tb\tc\nd\te\tf\n")
    result = load(con, [path])
    assert counts(result, path) == (2, 0, 2)
    assert any("none of its 2 line(s)" in w for w in result.warnings)


# --- the atomic.events table ----------------------------------------------------------------

COMPARED = [c for c in EVENTS_COLUMNS if c not in ("source_file", "source_line", "properties")]


def test_atomic_events_csv_gives_the_same_rows_as_the_tsv(con):
    from_tsv = by_id(con, load(con, [TSV]))
    result = load(con, [CSV])
    from_csv = by_id(con, result)
    assert counts(result, CSV) == (4, 4, 0)
    assert set(from_csv) == {PAGE_VIEW, STRUCT, TRANSACTION, LINK_CLICK}
    for event_id, row in from_csv.items():
        assert {c: row[c] for c in COMPARED} == {c: from_tsv[event_id][c] for c in COMPARED}


def test_csv_records_spanning_lines_keep_the_line_they_start_on(con):
    result = load(con, [CSV])
    assert [r["source_line"] for r in rows(con, result.table)] == [2, 7, 8, 9]
    struct = by_id(con, result)[STRUCT]
    assert json.loads(struct["properties"])["page_title"] == 'Rain jacket, "Storm" edition'
    # The warehouse's shredded columns are ignored and reported, without a warning.
    assert result.drift.extra_columns == (
        "contexts_com_snowplowanalytics_snowplow_web_page_1_0_0",
        "unstruct_event_com_snowplowanalytics_snowplow_link_click_1_0_1",
    )
    assert result.warnings == ()


def test_unknown_columns_are_ignored_reported_and_warned_about(con, tmp_path):
    text = CSV.read_text().split("\n", 1)
    path = tmp_path / "atomic_events_20240105.csv"
    path.write_text(text[0].upper() + "\n" + text[1])  # Snowflake unloads upper-case names
    con.execute(
        f"copy (select *, 'x' as my_extra from read_csv('{path}', all_varchar = true)) "
        f"to '{path}.tmp' (header true)"
    )
    Path(f"{path}.tmp").replace(path)
    result = load(con, [path])
    assert counts(result, path) == (4, 4, 0)
    assert "my_extra" in result.drift.extra_columns
    assert result.warnings == ("snowplow: unknown column(s) ignored: my_extra",)


def test_atomic_events_parquet_gives_the_same_rows_numbered_in_file_order(con, tmp_path):
    from_csv = by_id(con, load(con, [CSV]))
    path = tmp_path / "atomic_events_20240105.parquet"
    con.execute(
        f"""copy (select * replace (
                collector_tstamp::timestamp as collector_tstamp,
                derived_tstamp::timestamp as derived_tstamp,
                tr_total::double as tr_total)
            from read_csv('{CSV}', all_varchar = true)) to '{path}' (format parquet)"""
    )
    result = load(con, [path])
    assert counts(result, path) == (4, 4, 0)
    from_parquet = by_id(con, result)
    assert [r["source_line"] for r in rows(con, result.table)] == [1, 2, 3, 4]
    for event_id, row in from_parquet.items():
        assert {c: row[c] for c in COMPARED} == {c: from_csv[event_id][c] for c in COMPARED}


def test_a_missing_required_column_fails_naming_file_and_column(con, tmp_path):
    path = tmp_path / "atomic_events_20240105.csv"
    con.execute(
        f"copy (select * exclude (collector_tstamp) from read_csv('{CSV}', all_varchar = true)) "
        f"to '{path}' (header true)"
    )
    with pytest.raises(IngestError, match=f"{path}: missing required column collector_tstamp"):
        load(con, [path])
    parquet = tmp_path / "atomic_events_20240105.parquet"
    con.execute(
        f"copy (select * exclude (event_id) from read_csv('{CSV}', all_varchar = true)) "
        f"to '{parquet}' (format parquet)"
    )
    with pytest.raises(IngestError, match="missing required column event_id"):
        load(con, [parquet])


def test_a_truncated_csv_record_is_quarantined_with_its_first_line(con, tmp_path):
    text = CSV.read_text()
    path = tmp_path / "atomic_events_20240105.csv"
    # Cut inside the last record's multi-line JSON value: its quote never closes.
    path.write_text(text[: text.rindex("targetUrl")])
    result = load(con, [path])
    assert counts(result, path) == (4, 3, 1)
    row = quarantined(con, result)[9]
    assert row["reason"].startswith("unterminated quoted value: the record starting here")
    assert row["raw_record"].startswith("shop,web,") and row["raw_record"].count("\n") == 2
    # A last record cut short between fields (no open quote): too few fields.
    lines = text.split("\n")
    short = tmp_path / "atomic_events_2024-01-05_short.csv"
    short.write_text("\n".join([*lines[:6], lines[6].rsplit(",", 3)[0]]))
    result = load(con, [short])
    assert counts(result, short) == (2, 1, 1)
    assert quarantined(con, result)[7]["reason"] == (
        "wrong field count: 128 fields, the header has 131 - the last line of the file: truncated?"
    )


# --- landing layout -------------------------------------------------------------------------


def test_day_files_finds_both_day_formats_and_every_shape(tmp_path):
    folder = tmp_path / SNOWPLOW_DIR / "2024" / "01"
    folder.mkdir(parents=True)
    names = [
        "enriched_20240105.tsv.gz",
        "atomic_events_2024-01-05.csv",
        "atomic_events_20240105.parquet",
        "enriched_20240106.tsv",
        "notes_20240105.txt",
    ]
    for name in names:
        (folder / name).write_text("")
    found = day_files(tmp_path, SNOWPLOW_DIR, EXPORT_DATE, SNOWPLOW_SUFFIXES)
    assert sorted(p.name for p in found) == sorted(names[:3])


# --- the public dbt-snowplow samples (atomic.events as CSV) ---------------------------------


def test_web_sample_loads_every_event_with_snowplows_names(con):
    path = require(WEB / "source" / "snowplow_web_events.csv")
    result = load(con, [path], export_date=date(2021, 3, 14), timezone="UTC")
    assert counts(result, path) == (160, 160, 0)
    names = dict(
        con.execute(f"select event_name, count(*) from {result.table} group by 1").fetchall()
    )
    assert names == {
        "page_view": 50,
        "page_ping": 8,
        "login": 6,  # the structured events' se_action
        "cmp_visible": 33,
        "consent_preferences": 32,
        "link_click": 10,
        "snplow_cookies": 16,
        "data_structures_workflow": 4,
        "object_click": 1,
    }
    assert result.drift.extra_columns[0] == "contexts_com_iab_snowplow_spiders_and_robots_1_0_0"


def test_web_sample_page_views_match_the_packages_expected_page_views(con):
    path = require(WEB / "source" / "snowplow_web_events.csv")
    expected = require(WEB / "expected" / "snowplow_web_page_views_expected.csv")
    result = load(con, [path], export_date=date(2021, 3, 14), timezone="UTC")
    rows_ = con.execute(
        f"""
        select e.event_id, o.event_id, o.event_name, o.session_id = e.domain_sessionid,
            o.page_url = e.page_url, o.utm_source is not distinct from e.mkt_source,
            o.utm_medium is not distinct from e.mkt_medium
        from read_csv('{expected}', all_varchar = true) as e
        left join (select distinct on (event_id) * from {result.table}) as o using (event_id)
        """
    ).fetchall()
    assert len(rows_) == 43
    assert all(r[1:] == (r[0], "page_view", True, True, True, True) for r in rows_)


def test_web_sample_sessions_have_at_least_the_expected_page_views(con):
    """The package drops duplicates and re-assigns some page views to other sessions; each
    expected session's page views must be among the session's own page_view events."""
    path = require(WEB / "source" / "snowplow_web_events.csv")
    expected = require(WEB / "expected" / "snowplow_web_page_views_expected.csv")
    result = load(con, [path], export_date=date(2021, 3, 14), timezone="UTC")
    missing = con.execute(
        f"""
        select e.event_id from read_csv('{expected}', all_varchar = true) as e
        where not exists (select 1 from {result.table} as o where o.event_name = 'page_view'
            and o.event_id = e.event_id and o.session_id = e.domain_sessionid)
        """
    ).fetchall()
    assert missing == []


def test_fractribution_sample_sessions_per_channel_match_the_expected_counts(con):
    path = require(FRACTRIBUTION / "source" / "snowplow_fractribution_events.csv")
    expected = require(
        FRACTRIBUTION / "expected" / "snowplow_fractribution_channel_counts_expected.csv"
    )
    result = load(con, [path], export_date=date(2022, 8, 1), timezone="UTC")
    assert counts(result, path) == (98, 98, 0)
    ours = con.execute(
        f"""
        select utm_campaign, utm_source, utm_medium, count(distinct session_id)
        from {result.table} where event_name = 'page_view' group by all order by all
        """
    ).fetchall()
    theirs = con.execute(
        f"""
        select campaign, source, medium, number_of_sessions::bigint
        from read_csv('{expected}', all_varchar = true) order by all
        """
    ).fetchall()
    assert ours == theirs


def test_fractribution_sample_conversion_revenue_matches_the_expected(con):
    path = require(FRACTRIBUTION / "source" / "snowplow_fractribution_events.csv")
    expected = require(
        FRACTRIBUTION
        / "expected"
        / "snowplow_fractribution_conversions_by_customer_id_expected.csv"
    )
    result = load(con, [path], export_date=date(2022, 8, 1), timezone="UTC")
    # The package's customer_id is 'f' || domain_userid for visitors without a user_id.
    ours = con.execute(
        f"select 'f' || user_key, event_at, value from {result.table} where value > 0 order by 1"
    ).fetchall()
    theirs = con.execute(
        f"select customer_id, conversion_tstamp::timestamp, revenue::double "
        f"from read_csv('{expected}', all_varchar = true) order by 1"
    ).fetchall()
    assert ours == theirs


# --- the generator's writer, read back ------------------------------------------------------


def _site_events() -> pa.Table:
    from pipelines.lib.generator.source_rows import SITE_EVENT_SCHEMA

    landing = (
        "https://shop.example.com/l?utm_source=google&utm_medium=cpc"
        "&utm_campaign=Spring%20Sale&gclid=Cj0KCQ-abc"
    )
    base = {
        "anonymous_id": "anon-1",
        "user_id": None,
        "session_id": "sess-1",
        "page_url": landing,
        "page_title": "Landing",
        "referrer": None,
        "engagement_time_ms": None,
        "value": None,
        "currency": None,
        "properties": None,
    }
    events = [
        {
            **base,
            "event_id": "ev-1",
            "event_name": "page_view",
            "event_at": datetime(2024, 1, 5, 9, 0, 0, 123456, tzinfo=UTC),
            "page_title": "Landing\twith a tab",
            "referrer": "https://www.google.com/",
        },
        {
            **base,
            "event_id": "ev-2",
            "event_name": "user_engagement",
            "event_at": datetime(2024, 1, 5, 9, 1, 0, tzinfo=UTC),
            "engagement_time_ms": 25_300,
            "properties": '{"engaged": true}',
        },
        {
            **base,
            "event_id": "ev-3",
            "event_name": "purchase",
            "event_at": datetime(2024, 1, 5, 9, 5, 0, tzinfo=UTC),
            "user_id": "user-9",
            "page_url": "https://shop.example.com/thanks?msclkid=ms-1",
            "value": 59.9,
            "currency": "EUR",
            "engagement_time_ms": 0,
            "properties": '{"transaction_id": "T1", "items": 2}',
        },
    ]
    return pa.Table.from_pylist(events, schema=SITE_EVENT_SCHEMA)


def test_generated_enriched_tsv_reads_back_as_the_same_events(con, tmp_path):
    from pipelines.lib.generator.snowplow_export import write_snowplow

    events = _site_events()
    paths = write_snowplow(tmp_path / SNOWPLOW_DIR, EXPORT_DATE, events)
    assert [p.name for p in paths] == ["enriched_20240105.tsv.gz"]
    assert day_files(tmp_path, SNOWPLOW_DIR, EXPORT_DATE, SNOWPLOW_SUFFIXES) == paths
    lines = gzip.decompress(paths[0].read_bytes()).decode().splitlines()
    assert all(len(line.split("\t")) == FIELD_COUNT for line in lines)
    result = load(con, paths, timezone="UTC")
    assert counts(result, paths[0]) == (5, 5, 0)  # 3 events + 2 page pings (25.3 s)
    out = by_id(con, result)
    for event in events.to_pylist():
        row = out[event["event_id"]]
        assert row["event_name"] == event["event_name"]
        assert row["event_at"] == event["event_at"].replace(
            tzinfo=None, microsecond=event["event_at"].microsecond // 1000 * 1000
        )
        assert (row["anonymous_id"], row["user_id"]) == (event["anonymous_id"], event["user_id"])
        assert row["session_id"] == event["session_id"]
        assert row["page_url"] == event["page_url"] and row["referrer"] == event["referrer"]
        assert (row["value"], row["currency"]) == (event["value"], event["currency"])
    view, purchase = out["ev-1"], out["ev-3"]
    assert (view["utm_source"], view["utm_campaign"]) == ("google", "Spring Sale")
    assert (view["click_id"], view["click_id_type"]) == ("Cj0KCQ-abc", "gclid")
    assert (purchase["click_id"], purchase["click_id_type"]) == ("ms-1", "msclkid")
    assert json.loads(view["properties"])["page_title"] == "Landing with a tab"
    assert json.loads(purchase["properties"])["event_data"] == {"transaction_id": "T1", "items": 2}
    pings = rows(con, result.table, "event_name = 'page_ping'")
    assert [p["engagement_time_ms"] for p in pings] == [10_000, 10_000]
    assert [p["event_at"] for p in pings] == [
        datetime(2024, 1, 5, 9, 0, 40),
        datetime(2024, 1, 5, 9, 0, 50),
    ]
    assert len({p["event_id"] for p in pings}) == 2


def test_generated_file_is_the_same_bytes_for_the_same_events(tmp_path):
    from pipelines.lib.generator.snowplow_export import write_snowplow

    first = write_snowplow(tmp_path / "a", EXPORT_DATE, _site_events())[0].read_bytes()
    second = write_snowplow(tmp_path / "b", EXPORT_DATE, _site_events())[0].read_bytes()
    assert first == second
