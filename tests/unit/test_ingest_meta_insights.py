"""Meta insights adapter: response pages and NDJSON, link clicks, conversions once, quarantine."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from pipelines.lib.generator.meta_insights_export import write_insights
from pipelines.lib.generator.source_rows import AdReportRow
from pipelines.lib.ingest.errors import IngestError
from pipelines.lib.ingest.meta_insights import SOURCE, load_meta_insights
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "meta_ads_api"
PAGE = FIXTURES / "insights_page_20240105.json"
PAGES = FIXTURES / "insights_pages_20240106.jsonl"
BAD = FIXTURES / "bad" / "bad_rows_20240105.ndjson"
TRUNCATED = FIXTURES / "bad" / "truncated_page.json"
NO_CURRENCY = FIXTURES / "bad" / "no_account_currency.json"
LOADED_AT = datetime(2024, 1, 7, 5, 0)
ACCOUNT = "1047583920164385"
AD_VIDEO, AD_CAROUSEL, AD_OFFER = "23859012345671001", "23859012345671002", "23859012345672001"


def load(con, files, dates=None):
    return load_meta_insights(con, [Path(f) for f in files], dates, LOADED_AT)


def rows(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * from {table} order by report_date, ad_id, source_file")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def quarantined(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * from {table} order by source_file, source_line")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def by_ad(con, table: str, day: date) -> dict[str, dict]:
    return {r["ad_id"]: r for r in rows(con, table) if r["report_date"] == day}


def insights_row(ad_id: str, day: str = "2024-01-05", **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "account_id": ACCOUNT,
        "account_name": "Example Shoes EU",
        "account_currency": "EUR",
        "campaign_id": "23859012345670001",
        "campaign_name": "spring_quiz",
        "adset_id": "23859012345670101",
        "adset_name": "quiz_lookalike_1pct",
        "ad_id": ad_id,
        "date_start": day,
        "date_stop": day,
        "impressions": "1000",
        "inline_link_clicks": "20",
        "spend": "10.00",
    }
    row.update(fields)
    return {k: v for k, v in row.items() if v is not None}


def write_page(path: Path, data: list[dict[str, Any]]) -> Path:
    page = {"data": data, "paging": {"cursors": {"before": "MAZDZD", "after": "MAZDZD"}}}
    path.write_text(json.dumps(page, indent=2) + "\n")
    return path


def test_output_tables_have_exactly_the_canonical_columns_in_order(con):
    result = load(con, [PAGE, BAD])
    for table, expected in (
        (result.table, AD_PERFORMANCE_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_saved_page_maps_fields_and_numbers_rows_by_their_index_in_data(con):
    result = load(con, [PAGE])
    assert (result.rows, result.quarantined) == (3, 0)
    video = by_ad(con, result.table, date(2024, 1, 5))[AD_VIDEO]
    assert video["platform"] == "meta_ads"
    assert (video["account_id"], video["account_name"]) == (ACCOUNT, "Example Shoes EU")
    assert (video["campaign_id"], video["campaign_name"]) == ("23859012345670001", "spring_quiz")
    assert (video["ad_group_id"], video["ad_group_name"]) == (
        "23859012345670101",
        "quiz_lookalike_1pct",
    )
    assert (video["impressions"], video["spend"], video["currency"]) == (4218, 36.15, "EUR")
    assert video["account_timezone"] is None and video["final_url"] is None
    assert (video["source_file"], video["source_line"]) == (str(PAGE), 1)
    assert video["loaded_at"] == LOADED_AT
    lines = {r["ad_id"]: r["source_line"] for r in rows(con, result.table)}
    assert lines == {AD_VIDEO: 1, AD_CAROUSEL: 2, AD_OFFER: 3}


def test_clicks_are_link_clicks_never_all_clicks(con):
    result = load(con, [PAGE])
    ads = by_ad(con, result.table, date(2024, 1, 5))
    assert ads[AD_VIDEO]["clicks"] == 61  # inline_link_clicks; `clicks` says 97
    assert ads[AD_CAROUSEL]["clicks"] == 14  # `clicks` says 22
    # The offer row has `clicks` but no inline_link_clicks (none): 0 link clicks, spend "0".
    assert (ads[AD_OFFER]["clicks"], ads[AD_OFFER]["spend"]) == (0, 0.0)


def test_a_conversion_reported_under_three_aliases_counts_once(con):
    result = load(con, [PAGE])
    video = by_ad(con, result.table, date(2024, 1, 5))[AD_VIDEO]
    # 5 registrations (pixel, aggregate, omni: 5 each) + 2 purchases (likewise), not 21.
    assert video["conversions"] == 7.0
    assert video["conversion_value"] == pytest.approx(259.9)  # not 779.7


def test_aggregate_alias_wins_over_pixel_and_on_meta_leads_are_not_counted(con):
    result = load(con, [PAGE])
    carousel = by_ad(con, result.table, date(2024, 1, 5))[AD_CAROUSEL]
    # lead 3 (= fb_pixel_lead 3, not added); onsite_conversion.lead_grouped 4 never landed.
    assert carousel["conversions"] == 3.0
    # The file has action_values, this row has none: zero value, not unknown.
    assert carousel["conversion_value"] == 0.0


def test_ndjson_pages_rows_carry_their_physical_line_and_pixel_alias_is_the_fallback(con):
    result = load(con, [PAGES])
    ads = by_ad(con, result.table, date(2024, 1, 6))
    assert {ad: r["source_line"] for ad, r in ads.items()} == {
        AD_VIDEO: 1,
        AD_CAROUSEL: 1,
        AD_OFFER: 2,
    }
    assert ads[AD_CAROUSEL]["conversions"] == 2.0  # only offsite_conversion.fb_pixel_lead
    assert (ads[AD_VIDEO]["conversions"], ads[AD_VIDEO]["conversion_value"]) == (1.0, 129.95)
    assert result.for_file(PAGES).landed == 3


def test_actions_absent_from_every_row_of_a_file_mean_unknown_not_zero(con, tmp_path):
    path = write_page(tmp_path / "no_actions.json", [insights_row(AD_VIDEO)])
    result = load(con, [path])
    (row,) = rows(con, result.table)
    assert (row["conversions"], row["conversion_value"]) == (None, None)


def test_repeated_action_type_entries_of_one_alias_are_summed(con, tmp_path):
    actions = [
        {"action_type": "purchase", "value": "2", "action_device": "iphone"},
        {"action_type": "purchase", "value": "1", "action_device": "desktop"},
        {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "3"},
    ]
    path = write_page(tmp_path / "devices.json", [insights_row(AD_VIDEO, actions=actions)])
    result = load(con, [path])
    assert rows(con, result.table)[0]["conversions"] == 3.0


EXPECTED_BAD = [
    (1, "missing ad_id"),
    (2, "invalid JSON (truncated or malformed line)"),
    (3, "non-numeric spend: 12,50"),
    (4, "negative spend: -3.00"),
    (5, "duplicate of the row at source_line 1: ad 23859012345671001 on 2024-01-05"),
    (6, "multi-day row 2024-01-01 .. 2024-01-07: not a daily row (request time_increment=1)"),
    (7, "missing date_start"),
    (8, "currency USD differs from account 1047583920164385's currency EUR"),
    (9, "Graph API error response saved instead of data (code 17: (#17) User request limit"),
    (11, "non-numeric impressions: 1.5e3; non-numeric actions value for omni_purchase 'two'"),
]


def test_bad_rows_are_quarantined_with_a_reason_naming_the_field_and_the_line(con):
    result = load(con, [BAD])
    found = [(q["source_line"], q["reason"]) for q in quarantined(con, result.quarantine_table)]
    assert len(found) == len(EXPECTED_BAD)
    for (line, reason), (want_line, want) in zip(found, EXPECTED_BAD, strict=True):
        assert line == want_line
        assert reason.startswith(want), reason
    first = quarantined(con, result.quarantine_table)[0]
    assert (first["source"], first["source_file"]) == (SOURCE, str(BAD))
    assert first["partition_date"] == date(2024, 1, 5)
    assert json.loads(first["raw_record"])["adset_id"] == "23859012345670101"
    # Multi-day rows and rows without a date cannot be put in a partition.
    undated = {q["source_line"] for q in quarantined(con, result.quarantine_table)}
    assert {6, 7} <= undated


def test_bad_file_reconciles_landed_loaded_and_quarantined(con):
    result = load(con, [BAD])
    counts = result.for_file(BAD)
    # 11 non-blank lines, the first a page of 2 rows; the blank line 10 is not a row.
    assert (counts.landed, counts.loaded, counts.quarantined) == (12, 2, 10)
    assert sorted(r["source_line"] for r in rows(con, result.table)) == [1, 12]


def test_a_repeated_ad_day_in_one_delivery_is_never_summed(con):
    result = load(con, [BAD])
    kept = by_ad(con, result.table, date(2024, 1, 5))[AD_VIDEO]
    assert (kept["source_line"], kept["spend"], kept["impressions"]) == (1, 10.0, 1000)


def test_truncated_pretty_printed_page_is_quarantined_whole(con):
    result = load(con, [TRUNCATED])
    (only,) = quarantined(con, result.quarantine_table)
    assert only["source_line"] is None
    assert only["reason"].startswith("invalid JSON document (truncated or malformed)")
    assert "quarantined whole" in only["reason"]
    assert (result.rows, result.for_file(TRUNCATED).landed) == (0, 1)


def test_response_without_account_currency_fails_naming_the_field(con):
    with pytest.raises(IngestError) as raised:
        load(con, [PAGE, NO_CURRENCY])
    message = str(raised.value)
    assert str(NO_CURRENCY) in message
    assert "missing required column account_currency" in message
    assert "cannot be summed" in message


def test_a_row_with_an_empty_account_currency_is_quarantined(con, tmp_path):
    path = write_page(
        tmp_path / "one_empty.json",
        [insights_row(AD_VIDEO), insights_row(AD_CAROUSEL, account_currency="")],
    )
    result = load(con, [path])
    assert [q["reason"] for q in quarantined(con, result.quarantine_table)] == [
        "missing account_currency"
    ]


def test_a_pull_without_inline_link_clicks_fails_rather_than_use_all_clicks(con, tmp_path):
    path = write_page(
        tmp_path / "all_clicks.json",
        [insights_row(AD_VIDEO, inline_link_clicks=None, clicks="97")],
    )
    with pytest.raises(IngestError, match="missing required column inline_link_clicks"):
        load(con, [path])


def test_across_files_the_last_file_in_sorted_order_wins(con, tmp_path):
    first = write_page(tmp_path / "pull_1.json", [insights_row(AD_VIDEO, spend="10.00")])
    again = write_page(tmp_path / "pull_2.json", [insights_row(AD_VIDEO, spend="12.40")])
    result = load(con, [again, first])
    (row,) = rows(con, result.table)
    assert (row["spend"], row["source_file"]) == (12.4, str(again))
    assert result.quarantined == 0


def test_file_names_with_quotes_and_spaces_are_data_not_sql(con, tmp_path):
    path = write_page(tmp_path / "o'brien's pull; drop.json", [insights_row(AD_VIDEO)])
    result = load(con, [path])
    assert rows(con, result.table)[0]["source_file"] == str(path)
    assert result.for_file(path).loaded == 1


def test_dates_keep_only_those_days_and_out_of_scope_rows_are_not_landed(con):
    result = load(con, [PAGE, PAGES, BAD], dates=[date(2024, 1, 6)])
    assert {r["report_date"] for r in rows(con, result.table)} == {date(2024, 1, 6)}
    assert result.for_file(PAGE).landed == 0
    bad = {q["source_line"] for q in quarantined(con, result.quarantine_table)}
    # Kept: the multi-day row spanning the 6th, and rows without a readable day.
    assert bad == {2, 6, 7, 9}


def test_extra_fields_are_ignored_and_reported_as_drift(con):
    result = load(con, [PAGE, PAGES])
    assert result.drift.extra_columns == ("ad_name", "clicks", "reach")


def test_gzip_pages_load_and_a_truncated_gzip_is_quarantined_whole(con, tmp_path):
    packed = tmp_path / "insights_pages_20240106.jsonl.gz"
    packed.write_bytes(gzip.compress(PAGES.read_bytes()))
    cut = tmp_path / "insights_page_20240105.json.gz"
    cut.write_bytes(gzip.compress(PAGE.read_bytes())[:-40])
    result = load(con, [packed, cut])
    assert result.for_file(packed).loaded == 3
    assert [name for name, _ in result.unreadable_files] == [str(cut)]
    (whole,) = quarantined(con, result.quarantine_table)
    assert (whole["source_file"], whole["source_line"]) == (str(cut), None)


def test_ndjson_saved_as_json_is_read_line_by_line(con, tmp_path):
    path = tmp_path / "pages.json"
    path.write_bytes(PAGES.read_bytes())
    result = load(con, [path])
    lines = sorted(r["source_line"] for r in rows(con, result.table))
    assert lines == [1, 1, 2]


def test_undecodable_line_is_quarantined_with_its_line(con, tmp_path):
    path = tmp_path / "latin1.ndjson"
    good = json.dumps(insights_row(AD_VIDEO)).encode()
    bad = json.dumps(insights_row(AD_CAROUSEL, ad_name="Caf\u00e9"), ensure_ascii=False)
    bad_bytes = bad.encode("latin-1")
    path.write_bytes(good + b"\n" + bad_bytes + b"\n")
    result = load(con, [path])
    (reject,) = quarantined(con, result.quarantine_table)
    assert reject["source_line"] == 2 and "not valid UTF-8" in reject["reason"]
    assert result.for_file(path).loaded == 1


def test_accounts_in_different_currencies_load_with_a_warning(con, tmp_path):
    path = write_page(
        tmp_path / "two_accounts.json",
        [
            insights_row(AD_VIDEO),
            insights_row(AD_OFFER, account_id="act_99", account_currency="USD"),
        ],
    )
    result = load(con, [path])
    assert {r["account_id"]: r["currency"] for r in rows(con, result.table)} == {
        ACCOUNT: "EUR",
        "99": "USD",  # the act_ prefix is dropped
    }
    assert any("different currencies" in w for w in result.warnings)


def test_json_numbers_read_like_numeric_strings_and_wrong_types_are_named(con, tmp_path):
    numbers = insights_row(AD_VIDEO, impressions=1000, inline_link_clicks=20, spend=10.5)
    wrong = insights_row(AD_CAROUSEL, actions="none")
    wrong["ad_id"] = {"id": AD_CAROUSEL}
    result = load(con, [write_page(tmp_path / "types.json", [numbers, wrong])])
    (row,) = rows(con, result.table)
    assert (row["impressions"], row["clicks"], row["spend"]) == (1000, 20, 10.5)
    (bad,) = quarantined(con, result.quarantine_table)
    assert bad["reason"] == (
        "wrong JSON type: ad_id is object; wrong JSON type: actions is not a list but string"
    )


def test_error_responses_odd_values_and_empty_pages(con, tmp_path):
    error = tmp_path / "expired_token.json"
    error.write_text(
        json.dumps(
            {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException",
                       "code": 190, "fbtrace_id": "A1b2C3"}},
            indent=2,
        )
    )  # fmt: skip
    odd = tmp_path / "odd.ndjson"
    odd.write_text('{"data": {"a": 1}}\n42\n[1]\n')
    empty = write_page(tmp_path / "no_delivery.json", [])
    result = load(con, [error, odd, empty])
    reasons = [(q["source_line"], q["reason"]) for q in quarantined(con, result.quarantine_table)]
    assert reasons == [
        (None, "Graph API error response saved instead of data (code 190: Invalid OAuth "
               "access token.)"),
        (1, "response page whose data is not a list (found: object)"),
        (2, "not a JSON object (found: number)"),
        (3, "insights row is not a JSON object (found: number)"),
    ]  # fmt: skip
    assert result.for_file(empty).landed == 0  # a day without delivery has no rows


def test_other_file_types_are_refused(con, tmp_path):
    path = tmp_path / "ads_manager_export.csv"
    path.write_text("Ad ID,Day\n")
    with pytest.raises(IngestError, match="not a Meta insights file type"):
        load(con, [path])


def _report_rows(n: int) -> list[AdReportRow]:
    return [
        AdReportRow(
            platform="meta_ads",
            account_id=ACCOUNT,
            account_name="Example Shoes EU",
            currency="EUR",
            account_timezone="Europe/Berlin",
            campaign_id=f"2385901234567{i % 3:04d}",
            campaign_name=f"campaign_{i % 3}",
            ad_group_id=f"2385901234568{i % 6:04d}",
            ad_group_name=f"adset_{i % 6}",
            ad_id=f"2385901234569{i:04d}",
            ad_name=f"ad_{i}",
            final_url="https://shop.example.com/quiz",
            day=date(2024, 1, 5 + i % 2),
            impressions=1000 + 37 * i,
            clicks=(11 * i) % 50,
            spend=round(3.07 * i, 2),
            conversions=[0.0, 1.0, 2.5][i % 3],
            conversion_value=[0.0, 59.9, 149.75][i % 3],
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("name", ["insights_20240105.json", "insights_20240105.ndjson.gz"])
def test_generator_response_round_trips_through_the_adapter(con, tmp_path, name):
    source = _report_rows(60)  # 3 pages of 25 when paginated
    path = tmp_path / name
    assert write_insights(path, source) == 60
    result = load(con, [path])
    assert (result.rows, result.quarantined) == (60, 0)
    got = {r["ad_id"]: r for r in rows(con, result.table)}
    for want in source:
        row = got[want.ad_id]
        assert (row["report_date"], row["impressions"], row["clicks"]) == (
            want.day,
            want.impressions,
            want.clicks,
        )
        assert row["spend"] == pytest.approx(want.spend)
        assert row["conversions"] == pytest.approx(want.conversions)
        assert row["conversion_value"] == pytest.approx(want.conversion_value)
        assert (row["currency"], row["ad_group_id"]) == (want.currency, want.ad_group_id)


def test_generator_writes_paginated_pages_one_a_line(tmp_path):
    path = tmp_path / "insights.jsonl"
    write_insights(path, _report_rows(60))
    pages = [json.loads(line) for line in path.read_text().splitlines()]
    assert [len(p["data"]) for p in pages] == [25, 25, 10]
    assert "next" in pages[0]["paging"] and "next" not in pages[-1]["paging"]
    first = pages[0]["data"][1]
    assert first["spend"] == "3.07" and isinstance(first["impressions"], str)
    assert int(first["clicks"]) > int(first["inline_link_clicks"])


def test_generator_refuses_other_platforms(tmp_path):
    other = [r.__class__(**{**r.__dict__, "platform": "google_ads"}) for r in _report_rows(1)]
    with pytest.raises(ValueError, match="meta_ads rows only"):
        write_insights(tmp_path / "x.json", other)
