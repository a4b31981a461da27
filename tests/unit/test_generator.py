"""The sample export generator writes real-format GA4 and Google Ads exports."""

from __future__ import annotations

import csv
import gzip
import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.lib.generator import generate_exports
from pipelines.lib.generator.google_ads import API_HEADER, UI_HEADER

START = date(2024, 1, 5)
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
        generate_exports(tmp_path / run, START, START + timedelta(days=1), events_per_day=2_000)
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert a == b and len(a) == 4
    for rel in a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


def test_other_seed_writes_other_events(tmp_path: Path) -> None:
    generate_exports(tmp_path / "a", START, START, events_per_day=1_000, seed=1)
    generate_exports(tmp_path / "b", START, START, events_per_day=1_000, seed=2)
    name = f"ga4/events_{START:%Y%m%d}.json"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_gzip_files_hold_the_same_rows_as_plain_files(tmp_path: Path) -> None:
    generate_exports(tmp_path / "plain", START, START, events_per_day=1_500)
    generate_exports(tmp_path / "gz", START, START, events_per_day=1_500, gzip=True)
    gz_path = tmp_path / "gz" / "ga4" / f"events_{START:%Y%m%d}.json.gz"
    plain_path = tmp_path / "plain" / "ga4" / f"events_{START:%Y%m%d}.json"
    assert gzip.decompress(gz_path.read_bytes()) == plain_path.read_bytes()


def test_a_three_day_range_writes_three_ga4_files_and_three_ads_files(tmp_path: Path) -> None:
    summary = generate_exports(tmp_path, START, START + timedelta(days=2), events_per_day=1_000)
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
    generate_exports(tmp_path, START, START, events_per_day=2_000, ads_shape="api")
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
    generate_exports(tmp_path, START, START, events_per_day=3_000, ads_shape="ui")
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
