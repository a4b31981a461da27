"""Native report exports of Meta, TikTok, LinkedIn and Microsoft Advertising -> ad_performance.

Each platform's real headers, number and date conventions, totals rows and title/footer lines,
the bad input every adapter must quarantine (with file, line and reason), and a round trip
through the generator's writer for each platform.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.generator import (
    linkedin_ads_report,
    meta_ads_report,
    microsoft_ads_report,
    tiktok_ads_report,
)
from pipelines.lib.generator.source_rows import AdReportRow
from pipelines.lib.ingest import IngestError
from pipelines.lib.ingest.linkedin_ads import load_linkedin_ads
from pipelines.lib.ingest.meta_ads import load_meta_ads
from pipelines.lib.ingest.microsoft_ads import load_microsoft_ads
from pipelines.lib.ingest.tiktok_ads import load_tiktok_ads
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
META = FIXTURES / "meta_ads" / "ads_manager_export.csv"
META_COMMA = FIXTURES / "meta_ads" / "export_decimal_comma.csv"
META_DAY_FIRST = FIXTURES / "meta_ads" / "export_day_first.csv"
META_NO_DAY = FIXTURES / "meta_ads_bad" / "no_day_breakdown.csv"
META_CARELESS = FIXTURES / "meta_ads_bad" / "careless_export.csv"
TIKTOK_DAILY = FIXTURES / "tiktok_ads" / "api_ad_report_daily.csv"
TIKTOK_HOURLY = FIXTURES / "tiktok_ads" / "api_ad_report_hourly.csv"
TIKTOK_UI = FIXTURES / "tiktok_ads" / "ads_manager_export.csv"
TIKTOK_BAD = FIXTURES / "native_ads_bad" / "tiktok_short_and_duplicate.csv"
LINKEDIN = FIXTURES / "linkedin_ads" / "campaign_performance_report.csv"
MICROSOFT_API = FIXTURES / "microsoft_ads" / "ad_performance_report_api.csv"
MICROSOFT_UI = FIXTURES / "microsoft_ads" / "ui_ad_report.csv"
LOADED_AT = datetime(2024, 1, 7, 5, 0)
Loader = Callable[..., object]


def rows(con, result) -> list[dict]:
    cursor = con.execute(
        f"select * from {result.table} order by report_date, campaign_id, ad_id, source_line"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def reasons(con, result) -> dict[int, str]:
    return dict(
        con.execute(
            f"select source_line, reason from {result.quarantine_table} order by source_line"
        ).fetchall()
    )


def by_ad(con, result) -> dict[tuple[str, date], dict]:
    return {(r["ad_id"], r["report_date"]): r for r in rows(con, result)}


@pytest.mark.parametrize(
    ("loader", "path"),
    [
        (load_meta_ads, META_CARELESS),
        (load_tiktok_ads, TIKTOK_BAD),
        (load_linkedin_ads, LINKEDIN),
        (load_microsoft_ads, MICROSOFT_API),
    ],
)
def test_output_tables_have_exactly_the_canonical_columns(con, loader, path):
    result = loader(con, [path], None, LOADED_AT)
    for table, expected in (
        (result.table, AD_PERFORMANCE_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


# --- Meta ------------------------------------------------------------------------------------


def test_meta_clicks_are_link_clicks_not_all_clicks(con):
    result = load_meta_ads(con, [META], None, LOADED_AT)
    quiz = by_ad(con, result)[("23851234560201", date(2024, 1, 5))]
    assert quiz["platform"] == "meta_ads"
    assert (quiz["impressions"], quiz["clicks"]) == (2412, 57)  # Clicks (all) is 131


def test_meta_spend_currency_comes_from_the_amount_spent_header(con):
    result = load_meta_ads(con, [META, META_COMMA], None, LOADED_AT)
    got = by_ad(con, result)
    quiz = got[("23851234560201", date(2024, 1, 5))]
    assert (quiz["spend"], quiz["currency"]) == (41.37, "USD")
    assert got[("23851234560211", date(2024, 1, 5))]["currency"] == "EUR"  # no Currency column


def test_meta_ad_set_is_the_ad_group_and_utms_come_from_the_website_url(con):
    result = load_meta_ads(con, [META], None, LOADED_AT)
    quiz = by_ad(con, result)[("23851234560201", date(2024, 1, 5))]
    assert (quiz["ad_group_id"], quiz["ad_group_name"]) == ("23851234560101", "Quiz - lookalike")
    assert (quiz["account_id"], quiz["account_name"]) == ("1029384756", "Example Shoes")
    assert (quiz["utm_source"], quiz["utm_campaign"], quiz["utm_content"]) == (
        "facebook",
        "spring_quiz_fb",
        "video_a",
    )
    assert (quiz["conversions"], quiz["conversion_value"]) == (2.0, 259.9)
    assert quiz["account_timezone"] is None  # the export does not say
    assert (quiz["source_file"], quiz["source_line"]) == (str(META), 2)


def test_meta_summary_row_is_not_data_but_a_campaign_named_total_is(con):
    result = load_meta_ads(con, [META], None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined) == (3, 3, 0)
    names = {r["campaign_name"] for r in rows(con, result)}
    assert names == {"spring_quiz_fb", "Total brand, always on"}
    total_brand = next(r for r in rows(con, result) if r["campaign_id"] == "23851234560002")
    assert total_brand["spend"] == 1234.56


def test_meta_export_without_link_clicks_fails_naming_the_column(con, tmp_path):
    path = tmp_path / "all_clicks_only.csv"
    text = META.read_text().replace("Link clicks,", "Outbound clicks,")
    path.write_text(text)
    with pytest.raises(IngestError, match=r"all_clicks_only\.csv.*Link clicks"):
        load_meta_ads(con, [path], None, LOADED_AT)


def test_meta_decimal_comma_export_is_read_per_file(con):
    result = load_meta_ads(con, [META_COMMA], None, LOADED_AT)
    got = by_ad(con, result)
    first = got[("23851234560211", date(2024, 1, 5))]
    assert (first["impressions"], first["spend"], first["conversion_value"]) == (
        1834,
        1234.56,
        259.9,
    )
    # `1.234` alone is ambiguous; the file's other values decide: 1234.
    assert got[("23851234560211", date(2024, 1, 6))]["spend"] == 1234.0
    assert "decimal comma" in result.describe()


def test_meta_day_first_days_are_decided_by_a_day_above_12(con):
    result = load_meta_ads(con, [META_DAY_FIRST], None, LOADED_AT)
    assert {r["report_date"] for r in rows(con, result)} == {date(2024, 1, 13), date(2024, 2, 1)}
    assert {r["currency"] for r in rows(con, result)} == {"GBP"}


def test_meta_row_spanning_several_days_is_quarantined(con):
    result = load_meta_ads(con, [META_NO_DAY], None, LOADED_AT)
    assert [r["report_date"] for r in rows(con, result)] == [date(2024, 1, 5)]
    reason = reasons(con, result)[3]
    assert "Reporting starts 2024-01-05 and Reporting ends 2024-01-11 differ" in reason


def test_meta_careless_export_every_line_loaded_or_quarantined(con):
    result = load_meta_ads(con, [META_CARELESS], None, LOADED_AT)
    counts = result.for_file(META_CARELESS)
    assert (counts.landed, counts.loaded, counts.quarantined) == (6, 1, 5)
    bad = reasons(con, result)
    assert bad[3] == "duplicate of line 2"
    assert bad[4] == "negative Amount spent (USD): -3.10"
    assert bad[5] == "currency EUR differs from the currency of column Amount spent (USD)"
    assert bad[6] == "expected 15 fields, found 8"
    assert bad[7] == "expected 15 fields, found 13 (the last line of the file: truncated?)"
    partition = con.execute(
        f"select distinct partition_date from {result.quarantine_table}"
    ).fetchall()
    assert partition == [(date(2024, 1, 5),)]


# --- TikTok ----------------------------------------------------------------------------------


def test_tiktok_api_daily_report(con):
    result = load_tiktok_ads(con, [TIKTOK_DAILY], None, LOADED_AT)
    got = by_ad(con, result)
    clip = got[("1787000000000201", date(2024, 1, 5))]
    assert clip["platform"] == "tiktok_ads"
    assert (clip["account_id"], clip["campaign_id"], clip["ad_group_id"]) == (
        "7012345678901234567",
        "1787000000000001",
        "1787000000000101",
    )
    assert (clip["impressions"], clip["clicks"], clip["spend"], clip["conversions"]) == (
        3110,
        44,
        25.40,
        1.0,
    )
    assert (clip["currency"], clip["account_timezone"]) == ("USD", None)
    assert got[("1787000000000202", date(2024, 1, 5))]["campaign_name"] == "Total reach push"
    assert "ctr" not in result.drift.extra_columns  # known metrics are not drift


def test_tiktok_hourly_report_is_summed_to_utc_days_marked_utc(con):
    result = load_tiktok_ads(con, [TIKTOK_HOURLY], None, LOADED_AT)
    got = rows(con, result)
    assert [(r["report_date"], r["impressions"], r["clicks"]) for r in got] == [
        (date(2024, 1, 5), 655, 9),
        (date(2024, 1, 6), 260, 4),
    ]
    assert got[0]["spend"] == pytest.approx(5.40)
    assert {r["account_timezone"] for r in got} == {"UTC"}
    assert result.for_file(TIKTOK_HOURLY).landed == 4


def test_tiktok_ads_manager_export_destination_clicks_and_total_row(con):
    result = load_tiktok_ads(con, [TIKTOK_UI], None, LOADED_AT)
    assert (result.landed, result.quarantined) == (2, 0)
    got = by_ad(con, result)
    clip = got[("1787000000000201", date(2024, 1, 5))]
    assert (clip["impressions"], clip["clicks"], clip["spend"]) == (13110, 44, 1025.40)
    assert got[("1787000000000203", date(2024, 1, 5))]["conversions"] is None  # `-`


def test_tiktok_bad_rows_are_quarantined_with_line_and_reason(con):
    result = load_tiktok_ads(con, [TIKTOK_BAD], None, LOADED_AT)
    bad = reasons(con, result)
    assert bad[3] == "duplicate of line 2"
    assert bad[4] == "expected 11 fields, found 5"
    assert bad[5] == "negative spend: -2.00"
    assert bad[6].startswith("currency EUR differs from account 7012345678901234567's currency USD")
    assert [r["source_line"] for r in rows(con, result)] == [2]


# --- LinkedIn --------------------------------------------------------------------------------


def test_linkedin_campaign_group_is_our_campaign(con):
    result = load_linkedin_ads(con, [LINKEDIN], None, LOADED_AT)
    first = rows(con, result)[0]
    assert first["platform"] == "linkedin_ads"
    assert (first["campaign_id"], first["campaign_name"]) == ("612345001", "B2B wholesale")
    assert (first["ad_group_id"], first["ad_group_name"]) == ("187654321", "Wholesale - EU buyers")
    assert first["ad_id"] == "298765001"
    assert (first["account_name"], first["currency"], first["account_timezone"]) == (
        "Example Shoes",
        "EUR",
        "UTC",
    )


def test_linkedin_title_lines_are_not_data_and_us_days_are_decided(con):
    result = load_linkedin_ads(con, [LINKEDIN], None, LOADED_AT)
    assert (result.landed, result.quarantined) == (3, 0)
    got = [(r["report_date"], r["impressions"], r["spend"]) for r in rows(con, result)]
    assert got == [
        (date(2024, 1, 5), 4120, 152.30),
        (date(2024, 1, 6), 2210, 88.00),
        (date(2024, 1, 13), 3980, 1140.75),
    ]
    assert "Total B2B awareness" in {r["campaign_name"] for r in rows(con, result)}


def test_linkedin_day_that_reads_both_ways_is_quarantined_not_guessed(con, tmp_path):
    path = tmp_path / "ambiguous.csv"
    lines = LINKEDIN.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[3], lines[4], lines[6]]) + "\n")
    result = load_linkedin_ads(con, [path], None, LOADED_AT)
    assert result.loaded == 0
    assert all("ambiguous date in Start Date (in UTC)" in r for r in reasons(con, result).values())


# --- Microsoft Advertising -------------------------------------------------------------------


def test_microsoft_header_lines_and_copyright_footer_are_not_data(con):
    result = load_microsoft_ads(con, [MICROSOFT_API], None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined) == (3, 3, 0)
    got = by_ad(con, result)
    quiz = got[("80000000001", date(2024, 1, 6))]
    assert (quiz["impressions"], quiz["clicks"], quiz["spend"]) == (870, 27, 17.01)
    assert (quiz["conversions"], quiz["conversion_value"]) == (2.0, 259.90)
    assert quiz["account_timezone"] == "America/Los_Angeles"  # from the Time Zone line
    assert (quiz["utm_source"], quiz["utm_medium"]) == ("bing", "cpc")
    assert got[("80000000002", date(2024, 1, 5))]["campaign_name"] == "Total protection brand"
    assert result.drift.extra_columns == ()


def test_microsoft_ui_download_with_decimal_comma_and_total_row(con):
    result = load_microsoft_ads(con, [MICROSOFT_UI], None, LOADED_AT)
    assert (result.landed, result.quarantined) == (2, 0)
    got = by_ad(con, result)
    first = got[("80000000011", date(2024, 1, 5))]
    assert (first["impressions"], first["spend"], first["conversion_value"]) == (
        1912,
        1019.84,
        129.95,
    )
    assert (first["currency"], first["account_timezone"]) == ("EUR", "Europe/Berlin")
    assert got[("80000000012", date(2024, 1, 5))]["conversions"] is None  # `--`


# --- shared rules ----------------------------------------------------------------------------


def test_gzip_reads_like_plain_and_a_truncated_gzip_is_quarantined_whole(con, tmp_path):
    packed = tmp_path / "report.csv.gz"
    packed.write_bytes(gzip.compress(MICROSOFT_API.read_bytes()))
    plain = [
        tuple(r.values())[:-3]
        for r in rows(con, load_microsoft_ads(con, [MICROSOFT_API], None, LOADED_AT))
    ]
    got = [
        tuple(r.values())[:-3]
        for r in rows(con, load_microsoft_ads(con, [packed], None, LOADED_AT))
    ]
    assert got == plain
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(packed.read_bytes()[:-20])
    result = load_microsoft_ads(con, [cut], None, LOADED_AT)
    assert (result.loaded, result.quarantined) == (0, 1)
    assert result.unreadable_files and "truncated gzip" in result.unreadable_files[0][1]


def test_unknown_columns_are_reported_as_drift_and_ignored(con, tmp_path):
    path = tmp_path / "with_new_column.csv"
    lines = TIKTOK_DAILY.read_text().splitlines()
    path.write_text(
        "\n".join([lines[0] + ",brand_new_metric", *(line + ",7" for line in lines[1:])]) + "\n"
    )
    result = load_tiktok_ads(con, [path], None, LOADED_AT)
    assert result.drift.extra_columns == ("brand_new_metric",)
    assert result.loaded == 3


def test_dates_filter_keeps_only_those_days(con):
    result = load_linkedin_ads(con, [LINKEDIN], [date(2024, 1, 13)], LOADED_AT)
    assert [r["report_date"] for r in rows(con, result)] == [date(2024, 1, 13)]
    assert result.landed == 1


# --- round trips through the generator's writers ---------------------------------------------


def report_rows(platform: str, currency: str = "USD") -> list[AdReportRow]:
    def row(day: date, ad: str, impressions: int, clicks: int, spend: float) -> AdReportRow:
        return AdReportRow(
            platform=platform,
            account_id="5550001",
            account_name="Example, Shoes",
            currency=currency,
            account_timezone="America/New_York",
            campaign_id="9001",
            campaign_name="spring_quiz",
            ad_group_id="9101",
            ad_group_name="Quiz - prospecting",
            ad_id=ad,
            ad_name=f"Ad {ad}",
            final_url=f"https://shop.example.com/quiz?utm_source={platform}&utm_content={ad}",
            day=day,
            impressions=impressions,
            clicks=clicks,
            spend=spend,
            conversions=1.5,
            conversion_value=129.95,
        )

    return [
        row(date(2024, 1, 5), "9201", 1834, 61, 36.15),
        row(date(2024, 1, 5), "9202", 12210, 1049, 1234.56),
        row(date(2024, 1, 6), "9201", 977, 0, 0.0),
    ]


ROUND_TRIPS = [
    (meta_ads_report, load_meta_ads, "meta_ads", True, True),
    (tiktok_ads_report, load_tiktok_ads, "tiktok_ads", False, False),
    (linkedin_ads_report, load_linkedin_ads, "linkedin_ads", True, True),
    (microsoft_ads_report, load_microsoft_ads, "microsoft_ads", True, True),
]


@pytest.mark.parametrize(("writer", "loader", "platform", "has_value", "has_url"), ROUND_TRIPS)
def test_writer_round_trip_gives_the_same_numbers_back(
    con, tmp_path, writer, loader, platform, has_value, has_url
):
    written = report_rows(platform)
    path = tmp_path / platform / "report_20240105.csv"
    assert writer.write_report(path, written) == 3
    assert not list(path.parent.glob("*.tmp"))
    result = loader(con, [path], None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined) == (3, 3, 0)
    got = by_ad(con, result)
    for r in written:
        out = got[(r.ad_id, r.day)]
        assert out["platform"] == platform
        assert (out["campaign_id"], out["ad_group_id"], out["account_id"]) == (
            r.campaign_id,
            r.ad_group_id,
            r.account_id,
        )
        assert (out["campaign_name"], out["ad_group_name"]) == (r.campaign_name, r.ad_group_name)
        assert (out["impressions"], out["clicks"], out["spend"]) == (
            r.impressions,
            r.clicks,
            r.spend,
        )
        assert (out["conversions"], out["currency"]) == (r.conversions, r.currency)
        assert out["conversion_value"] == (r.conversion_value if has_value else None)
        assert out["utm_content"] == (r.ad_id if has_url else None)


def test_microsoft_writer_states_the_account_timezone(con, tmp_path):
    path = tmp_path / "ms.csv"
    microsoft_ads_report.write_report(path, report_rows("microsoft_ads"))
    result = load_microsoft_ads(con, [path], None, LOADED_AT)
    assert {r["account_timezone"] for r in rows(con, result)} == {"America/New_York"}


def test_meta_writer_refuses_two_currencies_in_one_export(tmp_path):
    mixed = report_rows("meta_ads")[:1] + report_rows("meta_ads", "EUR")[1:]
    with pytest.raises(ValueError, match="one currency"):
        meta_ads_report.write_report(tmp_path / "meta.csv", mixed)
