"""Fivetran connector tables -> ad_performance: real seeds reconcile, bad rows are quarantined.

The seeds are the Fivetran connector schemas of fivetran/dbt_google_ads, dbt_facebook_ads,
dbt_tiktok_ads and dbt_linkedin (beside the repository, see tests/fixtures/README.md, or where
MICROFUNNEL_TEST_SAMPLES_DIR points); each test copies them into a landing zone laid out as
`connectors/<connector>/<table>.csv` and checks values computed here from the seed CSV itself.
Microsoft Advertising has no public sample: a hand-written fixture with the real columns.
"""

from __future__ import annotations

import csv
import gzip
import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import IngestError
from pipelines.lib.ingest.connector_facebook_ads import (
    CONVERSION_ACTION_TYPES,
    load_facebook_ads_connector,
)
from pipelines.lib.ingest.connector_google_ads import load_google_ads_connector
from pipelines.lib.ingest.connector_linkedin_ads import load_linkedin_ads_connector
from pipelines.lib.ingest.connector_microsoft_ads import load_microsoft_ads_connector
from pipelines.lib.ingest.connector_tiktok_ads import load_tiktok_ads_connector
from pipelines.lib.ingest.meta_actions import CONVERSION_EVENTS, aliases
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "connectors"
SAMPLES_DIR = Path(
    os.environ.get("MICROFUNNEL_TEST_SAMPLES_DIR", REPO.parent / "shared" / "samples")
)
LOADED_AT = datetime(2024, 1, 7, 5, 0)


def seed(folder: str, name: str) -> Path:
    path = SAMPLES_DIR / folder / "seeds" / name
    if not path.exists():
        pytest.skip(f"public sample not available: {path}")
    return path


def land(landing: Path, connector: str, tables: dict[str, Path]) -> list[Path]:
    """Copy files into <landing>/connectors/<connector>/<table>.<ext>; return every file."""
    folder = landing / "connectors" / connector
    folder.mkdir(parents=True, exist_ok=True)
    for table, source in tables.items():
        shutil.copyfile(source, folder / f"{table}{''.join(source.suffixes)}")
    return sorted(p for p in folder.rglob("*") if p.is_file())


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return [{k.lower(): v for k, v in row.items()} for row in csv.DictReader(handle)]


def table_rows(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * from {table} order by report_date, ad_id, source_line")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]


def quarantined(con, table: str) -> dict[int | None, dict]:
    cursor = con.execute(f"select * from {table} order by source_file, source_line")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]
    return {r["source_line"]: r for r in rows}


def valid_version(history: list[dict], id_col: str, key: str, day: str, stamp: str) -> dict:
    """The history row valid on `day` (latest stamped before its end), else the latest."""
    versions = sorted((h for h in history if h[id_col] == key), key=lambda h: h[stamp])
    before = [h for h in versions if h[stamp][:10] <= day]
    return (before or versions)[-1]


# ---- real seeds ---------------------------------------------------------------------------


def google_seeds() -> dict[str, Path]:
    return {
        t: seed("dbt_google_ads", f"{t}_data.csv")
        for t in (
            "ad_stats",
            "account_history",
            "campaign_history",
            "ad_group_history",
            "ad_history",
        )
    }


def test_output_tables_have_exactly_the_canonical_columns_in_order(con, tmp_path):
    result = load_google_ads_connector(
        con, land(tmp_path, "google_ads", google_seeds()), None, LOADED_AT
    )
    for table, expected in (
        (result.table, AD_PERFORMANCE_COLUMNS),
        (result.quarantine_table, QUARANTINE_COLUMNS),
    ):
        described = con.execute(f"describe {table}").fetchall()
        assert [(r[0], r[1]) for r in described] == list(expected.items())


def test_google_ads_seed_reconciles_and_takes_account_currency_and_timezone(con, tmp_path):
    seeds = google_seeds()
    stats = csv_rows(seeds["ad_stats"])
    result = load_google_ads_connector(con, land(tmp_path, "google_ads", seeds), None, LOADED_AT)
    assert result.source == "google_ads_connector"
    assert (result.landed, result.loaded, result.quarantined) == (len(stats), len(stats), 0)
    rows = table_rows(con, result.table)
    assert sum(r["impressions"] for r in rows) == sum(int(s["impressions"]) for s in stats)
    assert sum(r["spend"] for r in rows) == sum(int(s["cost_micros"]) for s in stats) / 1e6
    account = csv_rows(seeds["account_history"])[0]
    first = rows[0]
    assert first["platform"] == "google_ads"
    assert first["account_id"] == stats[0]["customer_id"]
    # (This seed's time_zone cell is empty - its values sit one column early - so NULL.)
    assert (first["currency"], first["account_timezone"]) == (
        account["currency_code"],
        account["time_zone"] or None,
    )
    # ad_group_id comes from the ad_group resource name when the id column is empty.
    assert first["ad_group_id"] == stats[0]["ad_group"].split("adGroups/")[1]
    # The ad's history starts after these report days: the latest version's first final URL.
    ads = csv_rows(seeds["ad_history"])
    latest = valid_version(ads, "id", first["ad_id"], "0000-00-00", "updated_at")
    assert first["final_url"] == latest["final_urls"].strip("[]").split(",")[0]
    # The seed's campaign/ad group history has other ids: names NULL, and a warning says so.
    assert first["campaign_name"] is None
    assert any("campaign_id has no row in campaign_history" in w for w in result.warnings)


def test_google_ads_keeps_only_the_requested_dates(con, tmp_path):
    files = land(tmp_path, "google_ads", google_seeds())
    result = load_google_ads_connector(con, files, [date(2021, 5, 19)], LOADED_AT)
    assert (result.landed, result.rows) == (1, 1)
    assert (result.min_date, result.max_date) == (date(2021, 5, 19), date(2021, 5, 19))


def test_facebook_ads_seed_reconciles_with_link_clicks_and_conversion_action_types(con, tmp_path):
    names = (
        "basic_ad",
        "basic_ad_actions",
        "basic_ad_action_values",
        "account_history",
        "campaign_history",
        "ad_set_history",
        "ad_history",
    )
    seeds = {t: seed("dbt_facebook_ads", f"facebook_ads_{t}_data.csv") for t in names}
    basic = csv_rows(seeds["basic_ad"])
    result = load_facebook_ads_connector(
        con, land(tmp_path, "facebook_ads", seeds), None, LOADED_AT
    )
    assert (result.landed, result.loaded, result.quarantined) == (len(basic), len(basic), 0)
    rows = table_rows(con, result.table)
    assert {r["platform"] for r in rows} == {"meta_ads"}
    assert sum(r["clicks"] for r in rows) == sum(int(b["inline_link_clicks"]) for b in basic)
    assert sum(r["spend"] for r in rows) == pytest.approx(sum(float(b["spend"]) for b in basic))
    # Conversions: per ad-day of basic_ad and per event (purchase, lead, registration), the
    # first alias present in the seed's action rows (omni_, then the aggregate, then the
    # pixel's).
    ad_days = {(b["ad_id"], b["date"]) for b in basic}
    by_alias: dict[tuple[str, str, str], float] = {}
    for a in csv_rows(seeds["basic_ad_actions"]):
        key = (a["ad_id"], a["date"], a["action_type"].lower())
        if key[2] in CONVERSION_ACTION_TYPES and key[:2] in ad_days:
            by_alias[key] = by_alias.get(key, 0.0) + float(a["value"] or 0)
    expected = 0.0
    for ad_id, day in ad_days:
        for event in CONVERSION_EVENTS:
            present = [
                by_alias[(ad_id, day, x)] for x in aliases(event) if (ad_id, day, x) in by_alias
            ]
            expected += present[0] if present else 0.0
    assert sum(r["conversions"] for r in rows) == expected

    one = next(
        r for r in rows if (r["ad_id"], str(r["report_date"])) == ("6229007992271", "2020-12-13")
    )
    assert one["conversions"] == 4.0
    # Names from the history version valid on the report day.
    ads, ad_sets = csv_rows(seeds["ad_history"]), csv_rows(seeds["ad_set_history"])
    row = next(r for r in rows if r["ad_id"] == "6215304566671")
    day = str(row["report_date"])
    ad = valid_version(ads, "id", row["ad_id"], day, "updated_time")
    ad_set = valid_version(ad_sets, "id", ad["ad_set_id"], day, "updated_time")
    assert (row["ad_group_id"], row["ad_group_name"], row["campaign_id"]) == (
        ad["ad_set_id"],
        ad_set["name"],
        ad["campaign_id"],
    )
    account = csv_rows(seeds["account_history"])[0]
    assert row["account_name"] == account["name"]
    # The seed's account_history has no currency/timezone_name columns: NULL, not invented.
    assert row["currency"] is None


def test_tiktok_ads_seed_maps_ad_history_and_advertiser(con, tmp_path):
    names = ("ad_report_hourly", "ad_history", "adgroup_history", "campaign_history", "advertiser")
    seeds = {t: seed("dbt_tiktok_ads", f"tiktok_{t}_data.csv") for t in names}
    report = csv_rows(seeds["ad_report_hourly"])
    result = load_tiktok_ads_connector(con, land(tmp_path, "tiktok_ads", seeds), None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined) == (len(report), len(report), 0)
    rows = table_rows(con, result.table)
    assert sum(r["spend"] for r in rows) == pytest.approx(sum(float(r["spend"]) for r in report))
    ad = next(a for a in csv_rows(seeds["ad_history"]) if a["ad_id"] == "1")
    advertiser = next(a for a in csv_rows(seeds["advertiser"]) if a["id"] == ad["advertiser_id"])
    group = next(g for g in csv_rows(seeds["adgroup_history"]) if g["adgroup_id"] == "1")
    first = next(r for r in rows if r["ad_id"] == "1")
    assert first == first | {
        "platform": "tiktok_ads",
        "account_id": ad["advertiser_id"],
        "account_name": advertiser["name"],
        "currency": advertiser["currency"],
        "account_timezone": "UTC",
        "ad_group_id": ad["adgroup_id"],
        "ad_group_name": group["adgroup_name"],
        "campaign_name": "campaign name one",
        "report_date": date(2021, 9, 15),
    }


def test_linkedin_seed_maps_creative_campaign_and_group_one_level_shifted(con, tmp_path):
    names = (
        "ad_analytics_by_creative",
        "creative_history",
        "campaign_history",
        "campaign_group_history",
        "account_history",
    )
    seeds = {t: seed("dbt_linkedin", f"linkedin_{t}_data.csv") for t in names}
    report = csv_rows(seeds["ad_analytics_by_creative"])
    result = load_linkedin_ads_connector(
        con, land(tmp_path, "linkedin_ads", seeds), None, LOADED_AT
    )
    assert (result.landed, result.loaded, result.quarantined) == (len(report), len(report), 0)
    rows = table_rows(con, result.table)
    assert sum(r["impressions"] for r in rows) == sum(int(r["impressions"] or 0) for r in report)
    assert sum(r["clicks"] for r in rows) == sum(int(r["clicks"] or 0) for r in report)
    creatives = {c["id"]: c for c in csv_rows(seeds["creative_history"])}
    matched = [r for r in rows if r["ad_id"] in creatives]
    assert matched, "the seed has report rows whose creative is in creative_history"
    for row in matched:
        assert row["ad_group_id"] == creatives[row["ad_id"]]["campaign_id"]
    assert any("ad_id has no row in creative_history" in w for w in result.warnings)


# ---- hand-written fixtures ----------------------------------------------------------------


def microsoft_files(tmp_path: Path) -> list[Path]:
    folder = FIXTURES / "microsoft_ads"
    return land(tmp_path, "microsoft_ads", {p.stem: p for p in folder.glob("*.csv")})


def test_microsoft_ads_sums_segments_and_picks_the_version_valid_that_day(con, tmp_path):
    result = load_microsoft_ads_connector(con, microsoft_files(tmp_path), None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined, result.rows) == (4, 4, 0, 3)
    rows = table_rows(con, result.table)
    first = rows[0]
    # Two device segments of 2024-03-04 summed.
    assert (first["impressions"], first["clicks"], first["spend"]) == (65, 5, 10.75)
    assert (first["conversions"], first["conversion_value"]) == (1.0, 12.0)
    # The account and campaign were renamed after the report day: the old names apply.
    assert (first["account_name"], first["campaign_name"]) == ("Acme Search EU", "Spring Sale")
    assert (first["currency"], first["account_timezone"]) == ("USD", "America/Los_Angeles")
    assert (first["utm_source"], first["utm_campaign"]) == ("bing", "spring_sale")
    # conversions_qualified (0.5) wins over conversions (1), as the Fivetran package does.
    assert rows[1]["conversions"] == 0.5
    # An ad with no ad_history row still loads, with a NULL final_url and a warning.
    assert rows[2]["final_url"] is None and rows[2]["ad_group_name"] == "Audience retargeting"
    assert any("1 report row(s) whose ad_id has no row in ad_history" in w for w in result.warnings)


def test_tiktok_hours_are_summed_per_utc_day(con, tmp_path):
    report = FIXTURES / "tiktok_ads" / "ad_report_hourly.csv"
    files = land(tmp_path, "tiktok_ads", {"ad_report_hourly": report})
    result = load_tiktok_ads_connector(con, files, None, LOADED_AT)
    rows = [
        (r["ad_id"], r["report_date"], r["impressions"], r["spend"], r["account_timezone"])
        for r in table_rows(con, result.table)
    ]
    assert rows == [
        ("1", date(2021, 9, 15), 150, 2.25, "UTC"),
        ("1", date(2021, 9, 16), 20, 0.25, "UTC"),
        ("2", date(2021, 9, 16), 10, 0.10, "UTC"),
    ]
    assert any("no adgroup_history table landed" in w for w in result.warnings)


def test_bad_rows_are_quarantined_with_reason_and_physical_line(con, tmp_path):
    bad = FIXTURES / "bad_input" / "facebook_ads" / "basic_ad.csv"
    files = land(tmp_path, "facebook_ads", {"basic_ad": bad})
    result = load_facebook_ads_connector(con, files, None, LOADED_AT)
    counts = result.for_file(files[0])
    assert (counts.landed, counts.loaded, counts.quarantined) == (7, 2, 5)
    rejected = quarantined(con, result.quarantine_table)
    # Line 3 holds a quoted name with a line break (lines 3-4); line 5 is blank.
    assert rejected[3]["reason"] == "negative spend: -54.87"
    assert rejected[6]["reason"] == "unparseable impressions: 12x"
    assert rejected[7]["reason"] == f"duplicate of {files[0]}:2"
    assert rejected[8]["reason"] == "missing date"
    assert rejected[9]["reason"] == "expected 8 fields (the header's), found 5"
    assert {r["source"] for r in rejected.values()} == {"facebook_ads_connector"}
    assert rejected[3]["partition_date"] == date(2020, 12, 5)
    rows = table_rows(con, result.table)
    # The duplicate was not summed twice.
    assert [(r["report_date"], r["impressions"]) for r in rows] == [
        (date(2020, 12, 4), 2575),
        (date(2020, 12, 7), 10701),
    ]
    assert "basic_ad.ad_name" in result.drift.extra_columns


def test_parquet_rows_are_numbered_by_row_in_file(con, tmp_path):
    source = FIXTURES / "microsoft_ads" / "ad_performance_daily_report.csv"
    folder = tmp_path / "connectors" / "microsoft_ads" / "ad_performance_daily_report"
    folder.mkdir(parents=True)
    target = folder / "part-0.parquet"
    con.execute(
        f"copy (select * replace (case when clicks = '2' then '-2' else clicks end as clicks) "
        f"from read_csv('{source}', all_varchar = true)) to '{target}' (format parquet)"
    )
    result = load_microsoft_ads_connector(con, [target], None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined) == (4, 3, 1)
    rejected = quarantined(con, result.quarantine_table)
    assert rejected[2]["reason"] == "negative clicks: -2"
    assert '"device_os":"iOS"' in rejected[2]["raw_record"]


def test_truncated_gzip_is_quarantined_whole(con, tmp_path):
    source = FIXTURES / "microsoft_ads" / "ad_performance_daily_report.csv"
    folder = tmp_path / "connectors" / "microsoft_ads"
    folder.mkdir(parents=True)
    good = folder / "ad_performance_daily_report.csv.gz"
    good.write_bytes(gzip.compress(source.read_bytes()))
    result = load_microsoft_ads_connector(con, [good], None, LOADED_AT)
    assert (result.landed, result.loaded) == (4, 4)
    good.write_bytes(gzip.compress(source.read_bytes())[:-12])
    result = load_microsoft_ads_connector(con, [good], None, LOADED_AT)
    assert (result.landed, result.loaded, result.quarantined) == (1, 0, 1)
    assert "truncated gzip" in result.unreadable_files[0][1]


def test_missing_required_column_names_file_and_column(con, tmp_path):
    bad = FIXTURES / "bad_input" / "missing_spend_basic_ad.csv"
    files = land(tmp_path, "facebook_ads", {"basic_ad": bad})
    with pytest.raises(
        IngestError,
        match=r"basic_ad\.csv: table basic_ad is missing required "
        r"column\(s\) spend",
    ):
        load_facebook_ads_connector(con, files, None, LOADED_AT)


def test_missing_report_table_names_the_table(con, tmp_path):
    history = FIXTURES / "microsoft_ads" / "ad_history.csv"
    files = land(tmp_path, "microsoft_ads", {"ad_history": history})
    with pytest.raises(IngestError, match="missing required table ad_performance_daily_report"):
        load_microsoft_ads_connector(con, files, None, LOADED_AT)


def test_table_parts_in_a_folder_and_undecodable_lines(con, tmp_path):
    source = FIXTURES / "microsoft_ads" / "ad_performance_daily_report.csv"
    header, *data = source.read_bytes().splitlines(keepends=True)
    folder = tmp_path / "connectors" / "microsoft_ads" / "ad_performance_daily_report" / "2024"
    folder.mkdir(parents=True)
    first = folder / "part-0.csv.gz"
    first.write_bytes(gzip.compress(header + data[0] + data[1]))
    second = folder / "part-1.csv"
    # Line 2 carries a Latin-1 byte (not UTF-8): quarantined alone, with its line number.
    second.write_bytes(header + data[2].replace(b"USD", b"US\xe9") + data[3])
    history = tmp_path / "connectors" / "microsoft_ads" / "keyword_history.csv"
    history.write_text("id,name\n1,shoes\n")
    result = load_microsoft_ads_connector(con, [first, second, history], None, LOADED_AT)
    assert [(f.landed, f.loaded, f.quarantined) for f in result.files] == [(2, 2, 0), (2, 1, 1)]
    rejected = quarantined(con, result.quarantine_table)
    assert rejected[2]["source_file"] == str(second)
    assert "not valid UTF-8" in rejected[2]["reason"]
    assert any("tables landed but not used: keyword_history" in n for n in result.notes)


def test_facebook_ads_counts_a_conversion_reported_under_two_aliases_once(con, tmp_path):
    folder = tmp_path / "connectors" / "facebook_ads"
    folder.mkdir(parents=True)
    (folder / "basic_ad.csv").write_text(
        "ad_id,date,account_id,impressions,inline_link_clicks,spend\n11,2024-03-01,7,100,10,5.00\n"
    )
    # Meta lands one lead as the aggregate `lead` and as the pixel's event, and one purchase
    # under all three aliases: one lead and one purchase, never five conversions.
    (folder / "basic_ad_actions.csv").write_text(
        "ad_id,date,action_type,value\n"
        "11,2024-03-01,lead,1\n"
        "11,2024-03-01,offsite_conversion.fb_pixel_lead,1\n"
        "11,2024-03-01,omni_purchase,1\n"
        "11,2024-03-01,purchase,1\n"
        "11,2024-03-01,offsite_conversion.fb_pixel_purchase,1\n"
        "11,2024-03-01,link_click,10\n"
    )
    result = load_facebook_ads_connector(con, sorted(folder.iterdir()), None, LOADED_AT)
    (row,) = table_rows(con, result.table)
    assert row["conversions"] == 2.0
