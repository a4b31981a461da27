"""The sample export generator writes real-format GA4 and Google Ads exports, and hands every
other platform's report rows and every other tracker's events to their writers.

The Google-only tests (ads=("google_ads",)) pin what the generator wrote before it simulated
several platforms; the `mix` tests capture what the other writers receive, so they hold whatever
those writers' formats are."""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from pipelines.lib.generator import catalog as cat
from pipelines.lib.generator import export, generate_exports, platform_report_path
from pipelines.lib.generator.google_ads import API_HEADER, UI_HEADER
from pipelines.lib.generator.source_rows import SITE_EVENT_SCHEMA, AdReportRow

START = date(2024, 1, 5)
GOOGLE_ONLY = ("google_ads",)
ALWAYS_PRESENT = {
    "event_date",
    "event_timestamp",
    "event_name",
    "event_params",
    "event_bundle_sequence_id",
    "event_server_timestamp_offset",
    "user_pseudo_id",
    "privacy_info",
    "user_properties",
    "user_first_touch_timestamp",
    "device",
    "geo",
    "traffic_source",
    "stream_id",
    "platform",
    "items",
    "is_active_user",
    "batch_event_index",
    "batch_page_id",
    "batch_ordering_id",
}
EXPORT_FIELDS = ALWAYS_PRESENT | {
    "event_previous_timestamp",
    "event_value_in_usd",
    "user_id",
    "user_ltv",
    "app_info",
    "event_dimensions",
    "ecommerce",
    "collected_traffic_source",
    "session_traffic_source_last_click",
    "publisher",
}
INT64_FIELDS = (
    "event_timestamp",
    "event_bundle_sequence_id",
    "event_server_timestamp_offset",
    "user_first_touch_timestamp",
    "batch_event_index",
    "batch_page_id",
    "batch_ordering_id",
)


def read_lines(path: Path) -> list[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


def params(row: dict) -> dict[str, dict]:
    return {p["key"]: p["value"] for p in row["event_params"]}


def read_ui_report(path: Path) -> tuple[list[str], list[dict[str, str]], list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["Ad report"]
    header = lines[2]
    rows = [dict(zip(header, line, strict=True)) for line in lines[3:-1]]
    return lines[1], rows, lines[-1]


def ui_number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """Seven days with raised late/duplicate shares so the shares can be measured."""
    landing = tmp_path_factory.mktemp("landing")
    summary = generate_exports(
        landing,
        START,
        START + timedelta(days=6),
        events_per_day=6_000,
        late_share=0.05,
        duplicate_share=0.03,
        ads=GOOGLE_ONLY,
    )
    return landing, summary


@pytest.fixture(scope="module")
def week_rows(week) -> dict[date, list[dict]]:
    landing, _ = week
    return {
        START + timedelta(days=i): [
            json.loads(line)
            for line in read_lines(
                landing / "ga4" / f"events_{START + timedelta(days=i):%Y%m%d}.json"
            )
        ]
        for i in range(7)
    }


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    for run in ("a", "b"):
        generate_exports(
            tmp_path / run, START, START + timedelta(days=1), events_per_day=2_000, ads=GOOGLE_ONLY
        )
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert a == b and len(a) == 4
    for rel in a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_other_seed_writes_other_events(tmp_path: Path) -> None:
    generate_exports(tmp_path / "a", START, START, events_per_day=1_000, seed=1, ads=GOOGLE_ONLY)
    generate_exports(tmp_path / "b", START, START, events_per_day=1_000, seed=2, ads=GOOGLE_ONLY)
    name = f"ga4/events_{START:%Y%m%d}.json"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_gzip_files_hold_the_same_rows_as_plain_files(tmp_path: Path) -> None:
    generate_exports(tmp_path / "plain", START, START, events_per_day=1_500, ads=GOOGLE_ONLY)
    generate_exports(
        tmp_path / "gz", START, START, events_per_day=1_500, gzip=True, ads=GOOGLE_ONLY
    )
    gz_path = tmp_path / "gz" / "ga4" / f"events_{START:%Y%m%d}.json.gz"
    plain_path = tmp_path / "plain" / "ga4" / f"events_{START:%Y%m%d}.json"
    assert gzip.decompress(gz_path.read_bytes()) == plain_path.read_bytes()


def test_a_three_day_range_writes_three_ga4_files_and_three_ads_files(tmp_path: Path) -> None:
    summary = generate_exports(
        tmp_path, START, START + timedelta(days=2), events_per_day=1_000, ads=GOOGLE_ONLY
    )
    days = [f"{START + timedelta(days=i):%Y%m%d}" for i in range(3)]
    assert sorted(p.name for p in (tmp_path / "ga4").iterdir()) == [
        f"events_{d}.json" for d in days
    ]
    assert sorted(p.name for p in (tmp_path / "google_ads").iterdir()) == [
        f"ad_performance_{d}.csv" for d in days
    ]
    assert set(summary.files) == {
        *(tmp_path / "ga4").iterdir(),
        *(tmp_path / "google_ads").iterdir(),
    }
    assert list(summary.events_per_day) == [START + timedelta(days=i) for i in range(3)]
    assert summary.ad_rows == 3 * 24
    assert len(summary.campaigns) == 6


def test_every_ga4_line_is_an_export_row_with_bigquery_json_types(week, week_rows) -> None:
    _, summary = week
    for day, rows in week_rows.items():
        assert len(rows) == summary.events_per_day[day]
        for row in rows:
            assert ALWAYS_PRESENT <= row.keys() <= EXPORT_FIELDS
            assert len(row["event_date"]) == 8 and row["event_date"].isdigit()
            for name in INT64_FIELDS:  # INT64 is written as a JSON string
                assert isinstance(row[name], str) and row[name].isdigit(), (name, row[name])
            assert row["platform"] == "WEB"
            assert row["user_properties"] == [] and isinstance(row["items"], list)
            assert isinstance(row["event_params"], list) and row["event_params"]
            for param in row["event_params"]:
                assert param.keys() == {"key", "value"}
                (kind, value), *others = param["value"].items()
                assert not others, param
                assert kind in {"string_value", "int_value", "double_value"}
                if kind == "int_value":
                    assert isinstance(value, str) and value.lstrip("-").isdigit()
                elif kind == "double_value":
                    assert isinstance(value, int | float)
                else:
                    assert isinstance(value, str)


def test_event_timestamp_falls_on_event_date(week_rows) -> None:
    for rows in week_rows.values():
        for row in rows:
            at = datetime.fromtimestamp(int(row["event_timestamp"]) / 1e6, UTC)
            assert at.strftime("%Y%m%d") == row["event_date"]


def test_every_event_carries_session_page_and_engagement_params(week_rows) -> None:
    for row in week_rows[START + timedelta(days=3)]:
        p = params(row)
        assert p["ga_session_id"]["int_value"].isdigit()
        assert int(p["ga_session_number"]["int_value"]) >= 1
        assert p["page_location"]["string_value"].startswith("https://")
        assert p["page_title"]["string_value"]
        if row["event_name"] == "user_engagement":
            assert int(p["engagement_time_msec"]["int_value"]) > 0
        if row["event_name"] in {"purchase", "generate_lead"}:
            assert p["value"]["double_value"] > 0 and p["currency"]["string_value"] == "USD"
            assert row["event_value_in_usd"] == p["value"]["double_value"]
        if row["event_name"] == "purchase":
            assert row["ecommerce"]["transaction_id"] == p["transaction_id"]["string_value"]


def test_ad_click_landings_carry_gclid_and_utm_values(week_rows) -> None:
    landings = [
        row
        for row in week_rows[START + timedelta(days=2)]
        if row["event_name"] == "page_view" and "collected_traffic_source" in row
    ]
    assert len(landings) > 100
    for row in landings:
        cts = row["collected_traffic_source"]
        query = parse_qs(urlsplit(params(row)["page_location"]["string_value"]).query)
        assert query["gclid"] == [cts["gclid"]] and cts["gclid"].startswith("Cj0KCQiA")
        assert query["utm_source"] == ["google"] and query["utm_medium"] == ["cpc"]
        assert query["utm_campaign"] == [cts["manual_campaign_name"]]
        assert query["utm_id"] == [cts["manual_campaign_id"]]


def test_organic_visits_have_no_click_id_or_paid_utm(week_rows) -> None:
    organic = [
        row
        for row in week_rows[START + timedelta(days=2)]
        if row["event_name"] == "first_visit" and row["traffic_source"]["medium"] != "cpc"
    ]
    assert organic
    for row in organic:
        assert "collected_traffic_source" not in row
        assert "gclid" not in params(row)["page_location"]["string_value"]


def test_late_and_duplicated_rows_arrive_at_about_the_requested_shares(week, week_rows) -> None:
    _, summary = week
    for day in (START + timedelta(days=i) for i in range(3, 7)):  # past the warm-up days
        rows = week_rows[day]
        late = [r for r in rows if r["event_date"] != f"{day:%Y%m%d}"]
        assert 0.03 < len(late) / len(rows) < 0.07
        for r in late:
            lag = (day - datetime.strptime(r["event_date"], "%Y%m%d").date()).days
            assert 1 <= lag <= 3
    landing, _ = week
    lines = Counter(
        line for path in sorted((landing / "ga4").iterdir()) for line in read_lines(path)
    )
    twice = sum(1 for n in lines.values() if n == 2)
    assert 0.02 < twice / sum(lines.values()) < 0.04
    assert summary.duplicate_events == twice


def test_some_visitors_appear_in_two_daily_files(week_rows) -> None:
    users = [{r["user_pseudo_id"] for r in rows} for rows in week_rows.values()]
    assert len(users[2] & users[3]) > 50


def test_micro_campaigns_take_small_steps_and_direct_campaigns_drop_off(week_rows) -> None:
    reached: dict[str, Counter] = {}
    for rows in week_rows.values():
        for row in rows:
            source = row["traffic_source"]
            if source["medium"] == "cpc" and not row.get("user_id"):
                reached.setdefault(source["name"], Counter())[row["event_name"]] += 1
    for name, events in reached.items():
        first_steps = events["quiz_answer"] + events["click"] + events["select_content"]
        if name.endswith("_micro"):
            assert first_steps > 0.3 * events["first_visit"], name
        else:
            assert first_steps == 0, name
            assert events["purchase"] + events["sign_up"] + events["generate_lead"] < (
                0.1 * events["first_visit"]
            )


def test_api_ads_report_has_gaql_columns_and_utm_final_urls(tmp_path: Path) -> None:
    generate_exports(
        tmp_path, START, START, events_per_day=2_000, ads_shape="api", ads="google_ads"
    )
    with (tmp_path / "google_ads" / f"ad_performance_{START:%Y%m%d}.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == API_HEADER and len(rows) == 24
    assert len({r["campaign.id"] for r in rows}) == 6
    for r in rows:
        assert r["segments.date"] == START.isoformat()
        assert int(r["metrics.impressions"]) >= int(r["metrics.clicks"]) > 0
        assert int(r["metrics.cost_micros"]) % 10_000 == 0
        cpc = int(r["metrics.cost_micros"]) / 1e6 / int(r["metrics.clicks"])
        assert 0.3 < cpc < 10
        float(r["metrics.conversions"]), float(r["metrics.conversions_value"])
        query = parse_qs(urlsplit(r["ad_group_ad.ad.final_urls"]).query)
        assert query == {
            "utm_source": ["google"],
            "utm_medium": ["cpc"],
            "utm_campaign": [r["campaign.name"]],
            "utm_id": [r["campaign.id"]],
        }


def test_ui_ads_report_has_title_date_range_formatted_numbers_and_total(tmp_path: Path) -> None:
    generate_exports(tmp_path, START, START, events_per_day=3_000, ads_shape="ui", ads="google_ads")
    path = tmp_path / "google_ads" / f"ad_performance_{START:%Y%m%d}.csv"
    date_range, rows, total = read_ui_report(path)
    assert date_range == ["January 5, 2024 - January 5, 2024"]
    assert tuple(rows[0]) == UI_HEADER and len(rows) == 24
    assert total[0].startswith("Total:")
    assert "," in total[10]  # thousands separators, as the UI writes them
    for i, column in enumerate(UI_HEADER[10:], start=10):
        assert ui_number(total[i]) == pytest.approx(
            sum(ui_number(r[column]) for r in rows), abs=0.05
        )


def test_clicks_cover_paid_landings_per_campaign_and_day(week) -> None:
    landing, _ = week
    seen: set[str] = set()
    landings: Counter = Counter()
    for path in sorted((landing / "ga4").iterdir()):
        for line in read_lines(path):
            if line in seen:
                continue
            seen.add(line)
            row = json.loads(line)
            if row["event_name"] == "page_view" and "collected_traffic_source" in row:
                key = (row["collected_traffic_source"]["manual_campaign_id"], row["event_date"])
                landings[key] += 1
    clicks: Counter = Counter()
    for path in (landing / "google_ads").iterdir():
        with path.open() as f:
            for r in csv.DictReader(f):
                key = (r["campaign.id"], r["segments.date"].replace("-", ""))
                clicks[key] += int(r["metrics.clicks"])
    assert len(landings) == 6 * 7
    for key, n in landings.items():
        assert clicks[key] >= n, key
        assert clicks[key] < 1.3 * n + 10, key  # and not wildly more


def test_platform_conversions_differ_from_first_party_but_stay_close(week, week_rows) -> None:
    landing, _ = week
    platform = 0.0
    for path in (landing / "google_ads").iterdir():
        with path.open() as f:
            platform += sum(float(r["metrics.conversions"]) for r in csv.DictReader(f))
    first_party = sum(
        1
        for rows in week_rows.values()
        for r in rows
        if r["event_name"] in {"purchase", "sign_up", "generate_lead"}
        and r["traffic_source"]["medium"] == "cpc"
    )
    assert platform != first_party
    assert 0.5 * first_party < platform < 2.0 * first_party


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"end": START - timedelta(days=1)}, "before start"),
        ({"ads_shape": "pdf"}, "ads_shape"),
        ({"late_share": 1.5}, "late_share"),
        ({"events_per_day": 0}, "events_per_day"),
    ],
)
def test_invalid_arguments_fail_with_a_message(tmp_path: Path, kwargs, message) -> None:
    args = {"end": START, **kwargs}
    with pytest.raises(ValueError, match=message):
        generate_exports(tmp_path, START, args.pop("end"), **args)


# --- Google-only output is what the generator wrote before it simulated other platforms ------

# sha256 of the files the Google-only generator wrote (seed 7, 1 000 events/day, 2024-01-05..06)
# before the multi-platform simulation: `ads=("google_ads",)` must reproduce them byte for byte.
GOOGLE_ONLY_SHA256 = {
    "ga4/events_20240105.json": "2f759c498bf9414e82abaa4e5370c5a8b41c5891e359b06f985b71ee5f1d845f",
    "ga4/events_20240106.json": "a00138dbdcb69e6764e493ef36294b582fc04742ec49078a23ce135f373ec26a",
    "google_ads/ad_performance_20240105.csv": (
        "7190bf10b35afdedf46dea4ebde34ef424172b213d32087ed90cacf1521e8960"
    ),
    "google_ads/ad_performance_20240106.csv": (
        "2195aa6a9f28e6cad7758e12401a7110c225c180a7b3121a13b1f4a384388f29"
    ),
}


def test_google_only_mode_writes_the_same_bytes_as_before(tmp_path: Path) -> None:
    generate_exports(
        tmp_path, START, START + timedelta(days=1), events_per_day=1_000, ads="google_ads"
    )
    written = {
        p.relative_to(tmp_path).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in tmp_path.rglob("*")
        if p.is_file()
    }
    assert written == GOOGLE_ONLY_SHA256
    first = read_lines(tmp_path / "google_ads" / "ad_performance_20240105.csv")[1]
    assert first.startswith(
        "4851926730,Northwind Outfitters,USD,21543870011,spring_quiz_micro,152318000001,"
        "Broad - awareness,689000000001,https://www.northwind-outfitters.example/quiz/"
        "find-your-fit?utm_source=google&utm_medium=cpc&utm_campaign=spring_quiz_micro"
        "&utm_id=21543870011,{lpurl},2024-01-05,"
    )


# --- several platforms and trackers ---------------------------------------------------------

MIX_DAYS = 4
CURRENCIES = {
    "google_ads": "USD",
    "meta_ads": "EUR",
    "tiktok_ads": "USD",
    "linkedin_ads": "USD",
    "microsoft_ads": "USD",
}
CLICK_ID = {
    "google_ads": "gclid",
    "meta_ads": "fbclid",
    "tiktok_ads": "ttclid",
    "linkedin_ads": "li_fat_id",
    "microsoft_ads": "msclkid",
}
UTM_SOURCE = {
    "google_ads": "google",
    "meta_ads": "facebook",
    "tiktok_ads": "tiktok",
    "linkedin_ads": "linkedin",
    "microsoft_ads": "bing",
}


@dataclass
class Captured:
    """What the platform and tracker writers were handed."""

    ad_rows: dict[str, list[AdReportRow]] = field(default_factory=dict)
    ad_paths: list[Path] = field(default_factory=list)
    site: dict[str, list[tuple[date, pa.Table]]] = field(default_factory=dict)


def _capture(monkeypatch: pytest.MonkeyPatch, captured: Captured) -> None:
    """Swap every writer but GA4's for one that records its input (Google's is real)."""
    real = export.writer_for

    def ad_writer(platform: str, *, ads_shape: str, meta_format: str):
        google = (
            real(platform, ads_shape=ads_shape, meta_format=meta_format)
            if (platform == "google_ads")
            else None
        )

        def write(path: Path, rows) -> int:
            captured.ad_rows.setdefault(platform, []).extend(rows)
            captured.ad_paths.append(path)
            return google(path, rows) if google else len(rows)

        return write

    def site_writer(name: str):
        def write(folder: Path, day: date, table: pa.Table) -> list[Path]:
            captured.site.setdefault(name, []).append((day, table))
            return []

        return write

    monkeypatch.setattr(export, "writer_for", ad_writer)
    monkeypatch.setattr(export, "site_writer_for", site_writer)


def _run_mix(tmp_path: Path, seed: int = 7, **kwargs) -> tuple[Captured, object]:
    captured = Captured()
    with pytest.MonkeyPatch.context() as mp:
        _capture(mp, captured)
        summary = generate_exports(
            tmp_path,
            START,
            START + timedelta(days=MIX_DAYS - 1),
            events_per_day=kwargs.pop("events_per_day", 6_000),
            seed=seed,
            trackers={"ga4": None, "segment": 0.25, "generic": 0.1},
            **kwargs,
        )
    return captured, summary


@pytest.fixture(scope="module")
def mix(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Captured, object]:
    landing = tmp_path_factory.mktemp("mix")
    captured, summary = _run_mix(landing)
    return landing, captured, summary


def _paid_landings(landing: Path, captured: Captured) -> list[tuple[str, datetime]]:
    """(page URL, UTC time) of every paid landing page_view, GA4 and the other trackers."""
    out = []
    seen: set[str] = set()
    for path in sorted((landing / "ga4").iterdir()):
        for line in read_lines(path):
            if line in seen:
                continue
            seen.add(line)
            row = json.loads(line)
            if row["event_name"] == "page_view" and "collected_traffic_source" in row:
                at = datetime.fromtimestamp(int(row["event_timestamp"]) / 1e6, UTC)
                out.append((params(row)["page_location"]["string_value"], at))
    ids: set[str] = set()
    for tables in captured.site.values():
        for _, table in tables:
            for r in table.to_pylist():
                if r["event_id"] in ids:
                    continue
                ids.add(r["event_id"])
                paid = "utm_id=" in r["page_url"] and "northwind" not in (r["referrer"] or "x")
                if r["event_name"] == "page_view" and paid:
                    out.append((r["page_url"], r["event_at"]))
    return out


def test_every_platforms_campaigns_get_clicks_and_spend_in_the_accounts_currency(mix) -> None:
    _, captured, summary = mix
    assert set(captured.ad_rows) == set(CURRENCIES)
    assert summary.currencies == CURRENCIES
    campaigns = {p: {r.campaign_id for r in rows} for p, rows in captured.ad_rows.items()}
    assert {p: len(c) for p, c in campaigns.items()} == {
        "google_ads": 6, "meta_ads": 3, "tiktok_ads": 3, "linkedin_ads": 2, "microsoft_ads": 2,
    }  # fmt: skip
    for platform, rows in captured.ad_rows.items():
        assert {r.platform for r in rows} == {platform}
        assert {r.currency for r in rows} == {CURRENCIES[platform]}
        assert {r.day for r in rows} == {START + timedelta(days=i) for i in range(MIX_DAYS)}
        for campaign_id in campaigns[platform]:
            mine = [r for r in rows if r.campaign_id == campaign_id]
            assert sum(r.clicks for r in mine) > 0, (platform, campaign_id)
            assert sum(r.spend for r in mine) > 0, (platform, campaign_id)
        for r in rows:
            assert r.impressions >= r.clicks >= 0 and r.spend == round(r.spend, 2)
        names = {r.campaign_name for r in rows}
        assert any(n.endswith("_micro") for n in names), platform
        assert any(n.endswith("_direct") for n in names), platform
    # Micro and direct campaigns on Google, Meta and TikTok; a realistic CPC per platform.
    cpc = {
        p: sum(r.spend for r in rows) / sum(r.clicks for r in rows)
        for p, rows in captured.ad_rows.items()
    }
    assert cpc["linkedin_ads"] > 3 * cpc["google_ads"] > 3 * cpc["tiktok_ads"]
    assert 0.3 < cpc["meta_ads"] < 1.5  # EUR


def test_platform_ids_have_each_platforms_shape(mix) -> None:
    _, captured, _ = mix
    digits = {
        "google_ads": (10, 11, 12, 12), "meta_ads": (16, 17, 17, 17),
        "tiktok_ads": (19, 16, 16, 16), "linkedin_ads": (9, 9, 9, 9),
        "microsoft_ads": (9, 9, 13, 14),
    }  # fmt: skip  # account, campaign, ad group, ad
    for platform, rows in captured.ad_rows.items():
        for r in rows:
            ids = (r.account_id, r.campaign_id, r.ad_group_id, r.ad_id)
            assert all(i.isdigit() for i in ids), ids
            assert tuple(len(i) for i in ids) == digits[platform], (platform, ids)
        ads = [r.ad_id for r in rows if r.day == START]
        assert len(ads) == len(set(ads))
    assert {r.account_timezone for r in captured.ad_rows["meta_ads"]} == {"Europe/Berlin"}


def test_landing_urls_carry_the_platforms_click_id_and_utm_id_equal_to_its_campaign_id(
    mix,
) -> None:
    landing, captured, _ = mix
    campaign_platform = {r.campaign_id: p for p, rows in captured.ad_rows.items() for r in rows}
    by_platform: Counter = Counter()
    for url, _ in _paid_landings(landing, captured):
        query = parse_qs(urlsplit(url).query)
        # int_events_enriched: campaign_id = coalesce(utm_id, utm_campaign)
        platform = campaign_platform[query["utm_id"][0]]
        by_platform[platform] += 1
        assert query["utm_source"] == [UTM_SOURCE[platform]]
        assert query["utm_medium"] == ["cpc" if platform in {"google_ads", "microsoft_ads"}
                                        else "paid_social"]  # fmt: skip
        click_ids = [k for k in query if k in CLICK_ID.values()]
        assert click_ids == [CLICK_ID[platform]], url
        value = query[CLICK_ID[platform]][0]
        assert len(value) >= 32
        if platform == "meta_ads":
            assert value.startswith("IwAR")
        if platform == "microsoft_ads":
            assert len(value) == 32 and int(value, 16) >= 0
    assert set(by_platform) == set(CLICK_ID)
    # The ad reports' final URLs carry the same campaign ids, without a click id.
    for platform, rows in captured.ad_rows.items():
        for r in rows:
            query = parse_qs(urlsplit(r.final_url).query)
            assert query["utm_id"] == [r.campaign_id] and CLICK_ID[platform] not in query


def test_clicks_cover_the_landings_of_each_platform_day_in_its_time_zone(mix) -> None:
    landing, captured, _ = mix
    rows = [r for rs in captured.ad_rows.values() for r in rs]
    tz = {r.campaign_id: r.platform for r in rows}
    day_zone = {p.name: p.day_timezone for p in cat.PLATFORMS}
    clicks: Counter = Counter()
    for r in rows:
        clicks[(r.campaign_id, r.day)] += r.clicks
    landings: Counter = Counter()
    for url, at in _paid_landings(landing, captured):
        campaign_id = parse_qs(urlsplit(url).query)["utm_id"][0]
        day = at.astimezone(ZoneInfo(day_zone[tz[campaign_id]])).date()
        landings[(campaign_id, day)] += 1
    in_range = {k: n for k, n in landings.items() if START <= k[1] < START + timedelta(MIX_DAYS)}
    assert len({k[0] for k in in_range}) == 16
    for key, n in in_range.items():
        assert clicks[key] >= n, key
    # Microsoft's days end at 05:00 UTC the next day: its last day still has a full day's clicks.
    last = START + timedelta(days=MIX_DAYS - 1)
    ms = {r.campaign_id for r in captured.ad_rows["microsoft_ads"]}
    last_clicks = sum(n for (c, d), n in clicks.items() if c in ms and d == last)
    before = sum(n for (c, d), n in clicks.items() if c in ms and d == last - timedelta(1))
    assert last_clicks > 0.6 * before


def test_a_share_of_visitors_is_tracked_by_segment_and_generic_with_the_same_people(
    mix, tmp_path: Path
) -> None:
    landing, captured, summary = mix
    assert set(captured.site) == {"segment", "generic"}
    segment = pa.concat_tables(t for _, t in captured.site["segment"])
    generic = pa.concat_tables(t for _, t in captured.site["generic"])
    for _, table in captured.site["segment"]:
        assert table.schema == SITE_EVENT_SCHEMA
        at = table["event_at"].to_pylist()
        assert at == sorted(at)
    ga4_users: Counter = Counter()
    ga4_user_ids: set[str] = set()
    for path in (landing / "ga4").iterdir():
        for line in read_lines(path):
            row = json.loads(line)
            ga4_users[row["user_pseudo_id"]] += 1
            if row.get("user_id"):
                ga4_user_ids.add(row["user_id"])
    people = {
        "ga4": len(ga4_users),
        "segment": len(set(segment["anonymous_id"].to_pylist())),
        "generic": len(set(generic["anonymous_id"].to_pylist())),
    }
    total = sum(people.values())
    assert 0.17 < people["segment"] / total < 0.33, people
    assert 0.05 < people["generic"] / total < 0.16, people
    # Some people signed in on both trackers: the same user_id in GA4 and in Segment.
    segment_ids = {u for u in segment["user_id"].to_pylist() if u}
    assert len(segment_ids & ga4_user_ids) >= 5
    # Every row is complete: ids, a page URL with its query string on paid landings.
    assert segment["event_id"].null_count == 0 and segment["session_id"].null_count == 0
    props = [json.loads(p) for p in segment["properties"].to_pylist()]
    assert all(p["session_number"] >= 1 for p in props)
    purchases = segment.filter(pc.equal(segment["event_name"], "purchase")).to_pylist()
    assert purchases and all(r["value"] > 0 and r["currency"] == "USD" for r in purchases)
    assert summary.site_events_per_tracker["segment"] == segment.num_rows


def test_same_seed_same_rows_for_every_platform_and_tracker(mix, tmp_path: Path) -> None:
    landing, captured, _ = mix
    again, _ = _run_mix(tmp_path / "again")
    assert again.ad_rows == captured.ad_rows
    for name, tables in captured.site.items():
        assert [(d, t.to_pylist()) for d, t in again.site[name]] == [
            (d, t.to_pylist()) for d, t in tables
        ]
    for path in (landing / "ga4").iterdir():
        assert (tmp_path / "again" / "ga4" / path.name).read_bytes() == path.read_bytes()
    other, _ = _run_mix(tmp_path / "other", seed=8, events_per_day=2_000)
    assert other.ad_rows["meta_ads"][0].clicks != captured.ad_rows["meta_ads"][0].clicks or (
        other.ad_rows["meta_ads"][0].spend != captured.ad_rows["meta_ads"][0].spend
    )


def test_reports_land_at_each_platforms_path(mix) -> None:
    landing, captured, _ = mix
    names = sorted(p.relative_to(landing).as_posix() for p in captured.ad_paths)
    day = f"{START:%Y%m%d}"
    for expected in (
        f"google_ads/ad_performance_{day}.csv",
        f"meta_ads/meta_ads_{day}.csv",
        f"tiktok_ads/tiktok_ads_{day}.csv",
        f"linkedin_ads/linkedin_ads_{day}.csv",
        f"microsoft_ads/microsoft_ads_{day}.csv",
    ):
        assert expected in names
    assert len(names) == 5 * MIX_DAYS
    assert platform_report_path(landing, "meta_ads", START, meta_format="api") == (
        landing / "meta_ads" / f"insights_{day}.json"
    )


def test_the_default_mix_writes_every_platforms_files(tmp_path: Path) -> None:
    for module in ("meta_ads_report", "tiktok_ads_report", "linkedin_ads_report",
                   "microsoft_ads_report"):  # fmt: skip
        pytest.importorskip(f"pipelines.lib.generator.{module}")
    summary = generate_exports(tmp_path, START, START + timedelta(days=1), events_per_day=1_000)
    assert summary.files_per_source == {
        "ga4": 2, "google_ads": 2, "meta_ads": 2, "tiktok_ads": 2, "linkedin_ads": 2,
        "microsoft_ads": 2, "exchange_rates": 1,  # the Meta account is in EUR
    }  # fmt: skip
    assert all(p.exists() and p.stat().st_size > 0 for p in summary.files)
    assert summary.ad_rows == 2 * 4 * 16
    assert len(summary.campaigns) == 16 and "meta_ads:spring_quiz_micro" in summary.campaigns


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ads": ("google_ads", "myspace_ads")}, "ads must be"),
        ({"ads": ()}, "ads must be"),
        ({"meta_format": "xml"}, "meta_format"),
        ({"trackers": {"ga4": 0.5, "segment": 0.2}}, "add up to 1"),
        ({"trackers": {"mixpanel": None}}, "trackers must be"),
    ],
)
def test_invalid_sources_fail_with_a_message(tmp_path: Path, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        generate_exports(tmp_path, START, START, events_per_day=100, **kwargs)
