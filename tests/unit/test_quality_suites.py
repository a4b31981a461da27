"""The reviewed GX suites in expectations/ and the plain-Python code that runs them."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipelines.lib.quality import (
    SuiteLoadError,
    SuiteOutcome,
    load_suite,
    suite_names,
    validate_frame,
)
from pipelines.lib.quality.checks import check_partition_parquet
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, EVENTS_COLUMNS
from pipelines.lib.settings import EXPECTATIONS_DIR
from tests.quality_fixtures import (
    FLAVORS,
    Row,
    ad_rows,
    canonical_frame,
    canonical_relation,
    event_rows,
)


def failed_types(outcome: SuiteOutcome) -> set[tuple[str, str | None, str]]:
    return {(f.type, f.column, f.severity) for f in outcome.failed}


# --- suite files -------------------------------------------------------------------------


def test_both_canonical_tables_have_a_suite() -> None:
    assert {"events", "ad_performance"} <= set(suite_names())


@pytest.mark.parametrize("name", suite_names())
def test_every_suite_file_loads_with_no_expectation_dropped(name: str) -> None:
    raw = json.loads((EXPECTATIONS_DIR / f"{name}.json").read_text())
    suite = load_suite(name)
    assert len(suite.expectations) == len(raw["expectations"])
    assert [e.expectation_type for e in suite.expectations] == [
        e["type"] for e in raw["expectations"]
    ]


@pytest.mark.parametrize("name", suite_names())
def test_every_expectation_has_a_severity_and_a_reason(name: str) -> None:
    for expectation in load_suite(name).expectations:
        assert expectation.meta["severity"] in {"error", "warning"}
        assert expectation.meta["why"].strip()


@pytest.mark.parametrize(
    ("name", "columns"), [("events", EVENTS_COLUMNS), ("ad_performance", AD_PERFORMANCE_COLUMNS)]
)
def test_the_column_set_rule_matches_the_canonical_schema(
    name: str, columns: dict[str, str]
) -> None:
    suite = load_suite(name)
    (rule,) = [e for e in suite.expectations if e.expectation_type.endswith("_match_set")]
    assert set(rule.column_set) == set(columns)
    (count,) = [e for e in suite.expectations if e.expectation_type.endswith("_count_to_equal")]
    assert count.value == len(columns)


# --- broken suite files -----------------------------------------------------------------


def _write_suite(directory: Path, name: str, expectations: list[dict]) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps({"name": name, "expectations": expectations, "meta": {}}))
    return path


def _rule(type_: str, severity: str = "error", **kwargs: Any) -> dict:
    return {"type": type_, "kwargs": kwargs, "meta": {"severity": severity, "why": "test"}}


def test_an_unknown_expectation_type_raises_naming_the_file_and_index(tmp_path: Path) -> None:
    path = _write_suite(
        tmp_path,
        "broken",
        [
            _rule("expect_column_values_to_not_be_null", column="a"),
            _rule("expect_column_values_to_be_sparkly", column="a"),
        ],
    )
    with pytest.raises(SuiteLoadError) as info:
        load_suite("broken", tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert "#1" in message
    assert "expect_column_values_to_be_sparkly" in message


def test_a_misspelled_keyword_raises_instead_of_being_ignored(tmp_path: Path) -> None:
    _write_suite(tmp_path, "broken", [_rule("expect_column_values_to_be_between", colum="a")])
    with pytest.raises(SuiteLoadError, match=r"broken\.json: expectation #0"):
        load_suite("broken", tmp_path)


def test_an_expectation_without_a_severity_is_rejected(tmp_path: Path) -> None:
    rule = _rule("expect_column_values_to_not_be_null", column="a")
    del rule["meta"]["severity"]
    _write_suite(tmp_path, "broken", [rule])
    with pytest.raises(SuiteLoadError, match=r"meta\.severity"):
        load_suite("broken", tmp_path)


def test_a_native_severity_that_disagrees_with_ours_is_rejected(tmp_path: Path) -> None:
    rule = {**_rule("expect_column_values_to_not_be_null", "warning", column="a")}
    rule["severity"] = "critical"
    _write_suite(tmp_path, "broken", [rule])
    with pytest.raises(SuiteLoadError, match="disagrees"):
        load_suite("broken", tmp_path)


def test_a_missing_suite_file_raises_naming_it(tmp_path: Path) -> None:
    with pytest.raises(SuiteLoadError, match=r"nowhere\.json"):
        load_suite("nowhere", tmp_path)


# --- validating frames ------------------------------------------------------------------


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_clean_events_frame_passes_every_expectation(flavor: str) -> None:
    outcome = validate_frame("events", canonical_frame(EVENTS_COLUMNS, event_rows(), flavor))
    assert outcome.failed == [], outcome.describe()
    assert outcome.success_errors and outcome.success_warnings
    assert outcome.evaluated == len(load_suite("events").expectations)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_clean_ad_performance_frame_passes_every_expectation(flavor: str) -> None:
    outcome = validate_frame(
        "ad_performance", canonical_frame(AD_PERFORMANCE_COLUMNS, ad_rows(), flavor)
    )
    assert outcome.failed == [], outcome.describe()
    assert outcome.success_errors and outcome.success_warnings


@pytest.mark.parametrize("flavor", FLAVORS)
def test_a_duplicated_event_id_fails_at_error_severity(flavor: str) -> None:
    rows = event_rows()
    rows[5]["event_id"] = rows[4]["event_id"]
    outcome = validate_frame("events", canonical_frame(EVENTS_COLUMNS, rows, flavor))

    assert not outcome.success_errors
    (failure,) = outcome.failed
    assert (failure.type, failure.column, failure.severity) == (
        "expect_column_values_to_be_unique",
        "event_id",
        "error",
    )
    # GX counts every row of a duplicate group: one repeated id is two unexpected rows.
    assert failure.observed["unexpected_count"] == 2
    assert failure.observed["partial_unexpected_list"] == ["ev-4", "ev-4"]
    assert "expect_column_values_to_be_unique on event_id" in outcome.describe()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_clicks_above_impressions_are_reported(flavor: str) -> None:
    rows = ad_rows()
    rows[1]["clicks"] = rows[1]["impressions"] + 1
    outcome = validate_frame(
        "ad_performance", canonical_frame(AD_PERFORMANCE_COLUMNS, rows, flavor)
    )
    # A warning by design: platforms occasionally report it (see the rule's meta.why).
    assert failed_types(outcome) == {
        ("expect_column_pair_values_a_to_be_greater_than_b", "impressions,clicks", "warning")
    }
    assert outcome.success_errors and not outcome.success_warnings
    assert outcome.failed[0].observed["unexpected_count"] == 1


def test_a_repeated_ad_key_fails_even_when_ad_group_and_ad_are_null() -> None:
    rows = ad_rows()
    rows.append({**rows[0], "source_line": 99})  # the campaign-level row, exported twice
    outcome = validate_frame("ad_performance", canonical_frame(AD_PERFORMANCE_COLUMNS, rows))
    assert not outcome.success_errors
    (failure,) = outcome.errors
    assert failure.type == "expect_compound_columns_to_be_unique"
    assert failure.observed["unexpected_count"] == 2


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("currency", "eur", "expect_column_values_to_match_regex"),
        ("platform", "snapchat_ads", "expect_column_values_to_be_in_set"),
        ("spend", -0.01, "expect_column_values_to_be_between"),
        ("campaign_id", None, "expect_column_values_to_not_be_null"),
    ],
)
def test_each_hard_ad_rule_blocks(field: str, value: Any, rule: str) -> None:
    rows = ad_rows()
    rows[2][field] = value
    outcome = validate_frame("ad_performance", canonical_frame(AD_PERFORMANCE_COLUMNS, rows))
    assert failed_types(outcome) == {(rule, field, "error")}


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("event_at", datetime(1999, 12, 31, 23, 59), "expect_column_values_to_be_between"),
        ("engagement_time_ms", -1, "expect_column_values_to_be_between"),
        ("click_id_type", "utm_id", "expect_column_values_to_be_in_set"),
        ("source", "mixpanel", "expect_column_values_to_be_in_set"),
        ("user_key", None, "expect_column_values_to_not_be_null"),
        ("event_date", None, "expect_column_values_to_not_be_null"),
    ],
)
@pytest.mark.parametrize("flavor", FLAVORS)
def test_each_hard_event_rule_blocks(flavor: str, field: str, value: Any, rule: str) -> None:
    rows = event_rows()
    rows[3][field] = value
    outcome = validate_frame("events", canonical_frame(EVENTS_COLUMNS, rows, flavor))
    assert failed_types(outcome) == {(rule, field, "error")}
    assert outcome.failed[0].observed["unexpected_count"] == 1


@pytest.mark.parametrize("flavor", FLAVORS)
def test_forty_percent_null_session_ids_only_warn(flavor: str) -> None:
    rows = event_rows(10)
    for row in rows[:4]:
        row["session_id"] = None
    outcome = validate_frame("events", canonical_frame(EVENTS_COLUMNS, rows, flavor))
    assert outcome.success_errors
    assert not outcome.success_warnings
    (failure,) = outcome.failed
    assert failure.column == "session_id" and failure.severity == "warning"
    assert failure.observed["observed_value"] == pytest.approx(0.6)


@pytest.mark.parametrize(
    ("name", "columns"), [("events", EVENTS_COLUMNS), ("ad_performance", AD_PERFORMANCE_COLUMNS)]
)
@pytest.mark.parametrize("flavor", FLAVORS)
def test_an_empty_frame_passes_errors_and_warns(
    flavor: str, name: str, columns: dict[str, str]
) -> None:
    outcome = validate_frame(name, canonical_frame(columns, [], flavor))
    assert outcome.success_errors, outcome.describe()
    assert not outcome.success_warnings
    assert ("expect_table_row_count_to_be_between", None, "warning") in failed_types(outcome)


def test_a_missing_column_blocks_and_the_rules_on_it_report_the_exception() -> None:
    frame = canonical_frame(EVENTS_COLUMNS, event_rows()).drop(columns=["user_key"])
    outcome = validate_frame("events", frame)
    assert not outcome.success_errors
    by_type = {(f.type, f.column): f for f in outcome.failed}
    assert by_type[("expect_table_columns_to_match_set", None)].severity == "error"
    assert "exception" in by_type[("expect_column_values_to_not_be_null", "user_key")].observed


def test_the_unexpected_sample_is_trimmed_to_five_values() -> None:
    rows = event_rows(12)
    for row in rows:
        row["source"] = "mixpanel"
    outcome = validate_frame("events", canonical_frame(EVENTS_COLUMNS, rows))
    (failure,) = outcome.failed
    assert failure.observed["unexpected_count"] == 12
    assert failure.observed["partial_unexpected_list"] == ["mixpanel"] * 5


def test_the_metadata_is_flat_and_the_description_has_one_line_per_failure() -> None:
    rows = event_rows(10)
    rows[1]["event_id"] = rows[0]["event_id"]
    for row in rows[:4]:
        row["session_id"] = None
    outcome = validate_frame("events", canonical_frame(EVENTS_COLUMNS, rows))

    metadata = outcome.to_metadata()
    assert all(isinstance(v, str | int | float) for v in metadata.values())
    assert metadata["suite"] == "events"
    assert metadata["failed_errors"] == 1 and metadata["failed_warnings"] == 1
    assert "2 unexpected" in metadata["error.expect_column_values_to_be_unique.event_id"]

    lines = outcome.describe().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("events: [ERROR] expect_column_values_to_be_unique on event_id")
    assert lines[1].startswith("events: [WARNING]")


def test_validation_leaves_the_callers_frame_untouched() -> None:
    frame = canonical_frame(EVENTS_COLUMNS, event_rows())
    before = frame.dtypes.copy()
    validate_frame("events", frame)
    pd.testing.assert_series_equal(frame.dtypes, before)


# --- Parquet partitions -----------------------------------------------------------------


def _write_parquet(path: Path, columns: dict[str, str], rows: list[Row]) -> Path:
    with duckdb.connect() as con:
        canonical_relation(con, columns, rows).write_parquet(str(path))
    return path


def test_a_partition_of_several_files_is_validated_as_one_frame(tmp_path: Path) -> None:
    rows = event_rows(10)
    first = _write_parquet(tmp_path / "part-0.parquet", EVENTS_COLUMNS, rows[:6])
    second = _write_parquet(tmp_path / "part-1.parquet", EVENTS_COLUMNS, rows[5:])

    outcome = check_partition_parquet("events", [first, second])

    # ev-5 is in both files: only the union of the files shows the duplicate.
    assert failed_types(outcome) == {("expect_column_values_to_be_unique", "event_id", "error")}
    assert check_partition_parquet("events", [first]).failed == []


def test_a_partition_without_files_is_an_empty_day_not_an_error() -> None:
    outcome = check_partition_parquet("ad_performance", [])
    assert outcome.success_errors
    assert failed_types(outcome) == {("expect_table_row_count_to_be_between", None, "warning")}
