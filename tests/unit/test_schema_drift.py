"""Schema drift: new params and fields are kept and reported; a vanished column fails."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from pipelines.lib.ingest import IngestError, load_ga4_day, load_google_ads
from pipelines.lib.ingest.drift import SchemaDrift

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GA4_DAY = FIXTURES / "ga4" / "events_20240105.json"
ADS_API = FIXTURES / "google_ads" / "api_campaign_report.csv"
EXPORT_DATE = date(2024, 1, 5)
LOADED_AT = datetime(2024, 1, 6, 4, 0)


def records() -> list[dict]:
    return [json.loads(line) for line in GA4_DAY.read_text().splitlines()]


def write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def load(con, path: Path):
    return load_ga4_day(con, [path], EXPORT_DATE, "UTC", LOADED_AT)


def test_known_params_and_fields_are_not_reported_as_new(con):
    drift = load(con, GA4_DAY).drift
    assert (drift.new_params, drift.new_fields) == ((), ())
    assert "page_title" in drift.params_seen
    assert "ga_session_id" not in drift.params_seen  # mapped to a column, not properties


def test_new_event_param_lands_in_properties_and_is_reported(con, tmp_path):
    rows = records()
    rows[2]["event_params"].append({"key": "ab_variant", "value": {"string_value": "B"}})
    result = load(con, write(tmp_path / "events_20240105.json", rows))
    properties = con.execute(
        f"select properties from {result.table} where source_line = 3"
    ).fetchone()
    assert json.loads(properties[0])["ab_variant"] == "B"
    assert result.drift.new_params == ("ab_variant",)
    assert "ab_variant" in result.drift.params_seen
    assert result.drift.warnings("ga4") == [
        "ga4: new event param(s) kept in properties: ab_variant"
    ]


def test_new_top_level_field_is_ignored_and_reported(con, tmp_path):
    rows = records()
    rows[0]["consent_mode"] = {"ads": "granted"}
    result = load(con, write(tmp_path / "events_20240105.json", rows))
    assert result.loaded == 8
    assert result.drift.new_fields == ("consent_mode",)
    assert "new top-level field(s) ignored: consent_mode" in result.drift.warnings("ga4")[0]


def test_drift_of_several_days_is_combined_sorted_and_unique():
    combined = SchemaDrift.combine(
        [SchemaDrift(new_params=("b", "a")), SchemaDrift(new_params=("a",), new_fields=("x",))]
    )
    assert (combined.new_params, combined.new_fields) == (("a", "b"), ("x",))


@pytest.mark.parametrize("field", ["event_name", "event_timestamp", "user_pseudo_id"])
def test_file_missing_a_required_field_everywhere_fails_naming_file_and_field(con, tmp_path, field):
    rows = records()
    for row in rows:
        del row[field]
    path = write(tmp_path / "events_20240105.json", rows)
    with pytest.raises(IngestError, match=rf"events_20240105\.json: .*{field}") as raised:
        load(con, path)
    assert f"{len(rows)} row(s)" in str(raised.value)


def test_file_missing_user_pseudo_id_everywhere_fails_naming_the_field(con, tmp_path):
    rows = records()
    for row in rows:
        del row["user_pseudo_id"]
    path = write(tmp_path / "events_20240105.json", rows)
    with pytest.raises(IngestError, match="missing required column user_pseudo_id"):
        load(con, path)


def test_parquet_export_without_a_required_column_fails_naming_it(con, tmp_path):
    rows = records()
    for row in rows:
        del row["event_timestamp"]
    ndjson = write(tmp_path / "rows.json", rows)
    path = tmp_path / "events_20240105.parquet"
    con.execute(f"copy (select * from read_json_auto('{ndjson}')) to '{path}' (format parquet)")
    with pytest.raises(IngestError, match=r"events_20240105\.parquet: .*event_timestamp"):
        load(con, path)


def test_field_missing_from_only_some_rows_is_quarantined_per_row(con, tmp_path):
    rows = records()
    del rows[1]["user_pseudo_id"]
    result = load(con, write(tmp_path / "events_20240105.json", rows))
    assert (result.loaded, result.quarantined) == (7, 1)


def test_required_field_present_but_null_everywhere_is_quarantined_not_failed(con, tmp_path):
    rows = records()
    for row in rows:
        row["user_pseudo_id"] = None
    result = load(con, write(tmp_path / "events_20240105.json", rows))
    assert (result.loaded, result.quarantined) == (0, 8)


def test_ads_report_missing_a_required_column_fails_naming_file_and_column(con, tmp_path):
    header = ADS_API.read_text().splitlines()[0].split(",")
    path = tmp_path / "campaigns.csv"
    path.write_text(",".join(h for h in header if h != "metrics.clicks") + "\n")
    with pytest.raises(IngestError, match=r"campaigns\.csv: missing required column.*clicks"):
        load_google_ads(con, [path], None, LOADED_AT)


def test_ads_extra_column_is_ignored_and_reported(con, tmp_path):
    lines = ADS_API.read_text().splitlines()
    path = tmp_path / "campaigns.csv"
    path.write_text(
        "".join(f"{line},{'metrics.ctr' if i == 0 else '0.03'}\n" for i, line in enumerate(lines))
    )
    result = load_google_ads(con, [path], None, LOADED_AT)
    baseline = load_google_ads(con, [ADS_API], None, LOADED_AT)
    assert result.drift.extra_columns == ("metrics.ctr",)
    assert baseline.drift.extra_columns == ()
    assert (result.loaded, result.quarantined) == (baseline.loaded, 0)
