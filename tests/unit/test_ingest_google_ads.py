"""Google Ads report adapter: both real CSV shapes, quarantine, restatements, date filter."""

from __future__ import annotations

import gzip
import os
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import IngestError, load_google_ads
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
API = FIXTURES / "google_ads" / "api_campaign_report.csv"
UI = FIXTURES / "google_ads" / "ui_ad_report.csv"
MISSING = FIXTURES / "google_ads_bad" / "missing_column.csv"
UNPARSEABLE = FIXTURES / "google_ads_bad" / "unparseable_values.csv"
# The real public samples sit beside the repository (tests/fixtures/README.md), or where
# MICROFUNNEL_TEST_SAMPLES_DIR points.
SAMPLES_DIR = Path(
    os.environ.get("MICROFUNNEL_TEST_SAMPLES_DIR", REPO.parent / "shared" / "samples")
)
SAMPLES = SAMPLES_DIR / "dbt_google_ads" / "seeds"
LOADED_AT = datetime(2024, 1, 7, 5, 0)
API_HEADER = API.read_text().splitlines()[0]


def load(con, files, dates=None):
    return load_google_ads(con, [Path(f) for f in files], dates, LOADED_AT)


def rows(con, table: str) -> list[dict]:
    cursor = con.execute(
        f"select * from {table} order by report_date, campaign_id, ad_id, source_file"
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def quarantined(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * from {table} order by source_file, source_line")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def test_output_tables_have_exactly_the_canonical_columns_in_order(con):
    result = load(con, [API, UNPARSEABLE])
    for table, expected in (
        (result.table, AD_PERFORMANCE_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_api_report_spend_is_cost_micros_divided_by_a_million(con):
    result = load(con, [API])
    first = rows(con, result.table)[0]
    assert first["platform"] == "google_ads"
    assert (first["account_id"], first["account_name"]) == ("2121450128", "Example Shoes")
    assert (first["campaign_id"], first["campaign_name"]) == ("21384756", "spring_quiz")
    assert (first["ad_group_id"], first["ad_id"]) == ("154829301245", "689912345670")
    assert first["report_date"] == date(2024, 1, 5)
    assert (first["impressions"], first["clicks"], first["spend"]) == (1834, 61, 36.15)
    assert (first["conversions"], first["conversion_value"]) == (2.0, 259.9)
    assert first["currency"] == "USD"
    assert first["tracking_url_template"] == "{lpurl}?gclid={gclid}"
    assert (first["source_file"], first["source_line"]) == (str(API), 2)
    assert first["loaded_at"] == LOADED_AT


def test_final_url_list_is_unwrapped_and_utms_parsed(con):
    result = load(con, [API])
    first = rows(con, result.table)[0]
    assert first["final_url"].startswith("https://shop.example.com/quiz?utm_source=google")
    assert (first["utm_source"], first["utm_medium"], first["utm_campaign"]) == (
        "google",
        "cpc",
        "spring_quiz",
    )
    assert (first["utm_content"], first["utm_term"], first["utm_id"]) == (
        "ad_var_b",
        "running shoes",
        "21384756",
    )


def test_ui_download_totals_row_is_skipped(con):
    result = load(con, [UI])
    assert result.rows == 5
    assert result.for_file(UI).landed == 5  # title, date range, header and totals not counted
    assert result.quarantined == 0
    assert all(not (r["account_name"] or "").startswith("Total") for r in rows(con, result.table))


def test_ui_download_formatted_numbers_are_parsed(con):
    result = load(con, [UI])
    offer = next(r for r in rows(con, result.table) if r["campaign_id"] == "21384757")
    assert offer["campaign_name"] == "direct_offer, winter"
    assert (offer["impressions"], offer["clicks"], offer["spend"]) == (12210, 1049, 1234.56)


def test_ui_download_double_dash_means_empty(con):
    result = load(con, [UI])
    last = [r for r in rows(con, result.table) if r["report_date"] == date(2024, 1, 6)][-1]
    assert last["tracking_url_template"] is None
    assert (last["conversions"], last["conversion_value"]) == (None, None)
    assert (last["clicks"], last["spend"]) == (0, 0.0)


def test_api_and_ui_shapes_give_the_same_rows(con):
    keep = ("account_name", "campaign_id", "ad_group_id", "ad_id", "report_date")
    metrics = ("impressions", "clicks", "spend", "conversions", "conversion_value")
    fields = (*keep, *metrics, "final_url", "utm_campaign", "utm_content", "currency")

    def spring(table: str) -> list[tuple]:
        return [
            tuple(r[f] for f in fields) for r in rows(con, table) if r["campaign_id"] == "21384756"
        ]

    assert spring(load(con, [API]).table) == spring(load(con, [UI]).table)


def test_missing_required_column_names_the_column(con):
    with pytest.raises(IngestError) as error:
        load(con, [MISSING])
    assert "metrics.cost_micros" in str(error.value)
    assert "missing_column.csv" in str(error.value)


def test_missing_required_ui_column_names_the_column(con, tmp_path):
    path = tmp_path / "ui.csv"
    path.write_text("Ad report\nAll time\nDay,Campaign,Impr.,Clicks,Cost\n2024-01-05,x,1,1,1.00\n")
    with pytest.raises(IngestError, match=r"ui\.csv.*Campaign ID"):
        load(con, [path])


def test_file_without_a_report_header_raises_naming_the_file(con, tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("name,value\na,1\n")
    with pytest.raises(IngestError, match=r"notes\.csv"):
        load(con, [path])


def test_unparseable_values_are_quarantined_with_file_line_and_reason(con):
    result = load(con, [UNPARSEABLE])
    bad = {q["source_line"]: q for q in quarantined(con, result.quarantine_table)}
    assert set(bad) == {4, 5, 6}  # physical lines: line 3 is blank
    assert bad[4]["reason"] == "unparseable metrics.clicks: n/a"
    assert bad[4]["partition_date"] == date(2024, 1, 6)
    assert bad[5]["reason"] == "unparseable segments.date: 2024-13-45"
    assert bad[5]["partition_date"] is None
    assert "expected 11 fields, found 8" in bad[6]["reason"]
    assert all(q["source_file"] == str(UNPARSEABLE) for q in bad.values())
    assert bad[4]["raw_record"] == UNPARSEABLE.read_text().splitlines()[3]
    assert result.rows == 1


def test_landed_equals_loaded_plus_quarantined_per_file(con):
    result = load(con, [API, UI, UNPARSEABLE])
    counts = {c.source_file: (c.landed, c.loaded, c.quarantined) for c in result.files}
    assert counts == {str(API): (5, 5, 0), str(UI): (5, 5, 0), str(UNPARSEABLE): (4, 1, 3)}
    assert "landed 4 = loaded 1 + quarantined 3" in result.describe()


def test_restated_rows_in_a_later_file_win(con, tmp_path):
    first = tmp_path / "2024-01-07" / "report.csv"
    later = tmp_path / "2024-01-08" / "report.csv"
    first.parent.mkdir()
    later.parent.mkdir()
    original = API.read_text().splitlines()
    first.write_text("\n".join(original) + "\n")
    restated = original[1].replace(",1834,61,36150000,", ",1900,64,38000000,")
    later.write_text(f"{API_HEADER}\n{restated}\n")
    result = load(con, [later, first])  # given out of order: sorted path order decides
    by_key = {(r["ad_id"], r["report_date"]): r for r in rows(con, result.table)}
    winner = by_key[("689912345670", date(2024, 1, 5))]
    assert (winner["impressions"], winner["clicks"], winner["spend"]) == (1900, 64, 38.0)
    assert winner["source_file"] == str(later)
    assert result.rows == 5
    # Superseded rows still count as loaded from their own file.
    assert result.for_file(first).loaded == 5


def test_same_key_rows_in_one_file_are_summed(con, tmp_path):
    # A report segmented by device: same key, different lines (an exact repeat is quarantined).
    lines = API.read_text().splitlines()
    path = tmp_path / "by_device.csv"
    by_device = [f"{lines[0]},segments.device", f"{lines[1]},MOBILE", f"{lines[1]},DESKTOP"]
    path.write_text("\n".join(by_device) + "\n")
    result = load(con, [path])
    (row,) = rows(con, result.table)
    assert (row["impressions"], row["clicks"], row["spend"]) == (3668, 122, 72.3)
    assert row["source_line"] == 2
    assert result.loaded == 2


def test_dates_filter_keeps_only_those_report_dates(con):
    result = load(con, [API, UI], dates=[date(2024, 1, 6)])
    assert {r["report_date"] for r in rows(con, result.table)} == {date(2024, 1, 6)}
    assert (result.min_date, result.max_date) == (date(2024, 1, 6), date(2024, 1, 6))
    assert result.for_file(API).landed == 2


def test_gzip_and_utf16_tab_separated_downloads_are_read(con, tmp_path):
    text = UI.read_text()
    gz = tmp_path / "ui_ad_report.csv.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as handle:
        handle.write(text)
    tsv = tmp_path / "ui_ad_report_excel.csv"
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\r\n")
    writer.writerows(csv.reader(io.StringIO(text)))
    tsv.write_bytes(buffer.getvalue().encode("utf-16"))
    plain = [tuple(r.values())[:-3] for r in rows(con, load(con, [UI]).table)]
    for path in (gz, tsv):
        got = [tuple(r.values())[:-3] for r in rows(con, load(con, [path]).table)]
        assert got == plain


def test_empty_file_or_no_file_yields_zero_rows(con, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    for files in ([empty], []):
        result = load(con, files)
        assert (result.rows, result.landed) == (0, 0)


def test_header_only_file_yields_zero_rows(con, tmp_path):
    path = tmp_path / "header_only.csv"
    path.write_text(API_HEADER + "\n")
    assert load(con, [path]).rows == 0


def test_real_google_ads_sample_values_parse(con, tmp_path):
    """Fivetran's real ad_stats seed (cost_micros, ids, device split) as a GAQL report."""
    seed = SAMPLES / "ad_stats_data.csv"
    if not seed.exists():
        pytest.skip(f"real public samples not available ({seed} is missing)")
    report = tmp_path / "ad_stats_gaql.csv"
    con.execute(
        f"""
        copy (
            select customer_id as "customer.id", campaign_id as "campaign.id",
                regexp_extract(ad_group, '[0-9]+$') as "ad_group.id",
                ad_id as "ad_group_ad.ad.id", date as "segments.date",
                impressions as "metrics.impressions", clicks as "metrics.clicks",
                cost_micros as "metrics.cost_micros"
            from read_csv('{seed}', all_varchar = true)
        ) to '{report}' (header, delimiter ',')
        """
    )
    expected = con.execute(
        f"""
        select count(distinct (customer_id, campaign_id, ad_group, ad_id, date)),
            sum(cost_micros::bigint) / 1e6, sum(impressions::bigint), count(*)
        from read_csv('{seed}', all_varchar = true)
        """
    ).fetchone()
    result = load(con, [report])
    got = con.execute(
        f"select count(*), sum(spend), sum(impressions) from {result.table}"
    ).fetchone()
    assert got[0] == expected[0]
    assert got[1] == pytest.approx(expected[1])
    assert got[2] == expected[2]
    assert result.landed == result.loaded == expected[3]
