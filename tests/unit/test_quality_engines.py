"""The DuckDB suite runner against GX itself: the same suites, the same data, the same verdicts.

Every case below is a partition a careless export or a broken adapter could write. Both engines
validate it; every failure must agree in type, column, severity, counts, percent, sample and
observed value. A new expectation type or a GX upgrade that changes a semantic fails here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from pipelines.lib.quality import SuiteLoadError, SuiteOutcome, validate_frame
from pipelines.lib.quality.checks import check_partition_parquet
from pipelines.lib.quality.sql_suite import RULES, load_rules, validate_relation
from pipelines.lib.quality.suites import read_suite_configs, suite_names
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS, EVENTS_COLUMNS
from tests.quality_fixtures import ad_rows, canonical_frame, canonical_relation, event_rows

Row = dict[str, Any]
Mutation = Callable[[list[Row]], list[Row]]


def _set(index: int, **values: Any) -> Mutation:
    def mutate(rows: list[Row]) -> list[Row]:
        rows[index].update(values)
        return rows

    return mutate


def _all(**values: Any) -> Mutation:
    def mutate(rows: list[Row]) -> list[Row]:
        for row in rows:
            row.update(values)
        return rows

    return mutate


def _repeat(index: int, **values: Any) -> Mutation:
    return lambda rows: [*rows, {**rows[index], **values}]


EVENT_CASES: dict[str, Mutation] = {
    "clean": lambda rows: rows,
    "empty": lambda rows: [],
    "duplicate event ids": lambda rows: _set(5, event_id="ev-4")(_set(7, event_id="ev-4")(rows)),
    "null event id": _set(2, event_id=None),
    "null and duplicate ids": lambda rows: _set(1, event_id=None)(_set(3, event_id="ev-2")(rows)),
    "unknown source": _set(0, source="mixpanel"),
    "every source unknown": _all(source="mixpanel"),
    "event before 2000": _set(4, event_at=datetime(1999, 12, 31, 23, 59)),
    "negative engagement": _set(6, engagement_time_ms=-5),
    "unknown click id type": _set(0, click_id_type="utm_id"),
    "lower-case currency": _set(3, currency="eur"),
    "currency with a suffix": _set(7, currency="EURO"),
    "numeric-looking currency": _set(3, currency="123"),
    "40% null sessions": lambda rows: [
        {**r, "session_id": None} if i < 4 else r for i, r in enumerate(rows)
    ],
    "every session null": _all(session_id=None),
    "null user key and dates": lambda rows: _set(2, user_key=None, event_date=None)(rows),
    "null loaded_at": _set(9, loaded_at=None),
    "required fields null": lambda rows: _set(1, source=None, event_name=None)(
        _set(2, event_at=None, export_date=None)(_set(3, source_file=None)(rows))
    ),
    "several rules at once": lambda rows: _set(1, source="x", engagement_time_ms=-1)(
        _set(2, event_id="ev-1", currency="usd")(rows)
    ),
}

AD_CASES: dict[str, Mutation] = {
    "clean": lambda rows: rows,
    "empty": lambda rows: [],
    "clicks above impressions": _set(1, clicks=2000),
    "clicks equal impressions": _set(1, clicks=1000),
    "null impressions": _set(1, impressions=None, clicks=5),
    "both null": _set(2, impressions=None, clicks=None),
    "repeated campaign row": _repeat(0, source_line=99),
    "repeated ad row": _repeat(1, source_line=98),
    "unknown platform": _set(2, platform="snapchat_ads"),
    "negative spend": _set(2, spend=-0.01),
    "negative conversions": _set(3, conversions=-1.0),
    "lower-case currency": _set(0, currency="usd"),
    "null campaign": _set(2, campaign_id=None),
    "null report date": _set(1, report_date=None),
    "null platform and file": _set(3, platform=None, source_file=None, loaded_at=None),
    "negative impressions and clicks": _set(2, impressions=-1, clicks=-2),
    "negative conversion value": _set(1, conversion_value=-3.5),
}


def _comparable(outcome: SuiteOutcome) -> list[tuple[Any, ...]]:
    rows = []
    for failure in outcome.failed:
        observed = dict(failure.observed)
        if "exception" in observed:
            observed = {"exception": True}  # the wording is each engine's own
        percent = observed.pop("unexpected_percent", None)
        rows.append(
            (
                failure.type,
                failure.column,
                failure.severity,
                json.dumps(observed, sort_keys=True, default=str),
                None if percent is None else round(percent, 9),
            )
        )
    return sorted(rows, key=lambda r: (r[0], str(r[1]), r[3]))


def _duckdb_outcome(name: str, frame: pd.DataFrame) -> SuiteOutcome:
    with duckdb.connect() as con:
        con.register("partition_frame", frame)
        return validate_relation(name, con, "partition_frame")


def _assert_same(name: str, frame: pd.DataFrame) -> SuiteOutcome:
    reference = validate_frame(name, frame)
    ours = _duckdb_outcome(name, frame)
    assert _comparable(ours) == _comparable(reference)
    assert (ours.success_errors, ours.success_warnings, ours.evaluated) == (
        reference.success_errors,
        reference.success_warnings,
        reference.evaluated,
    )
    return ours


@pytest.mark.parametrize("case", EVENT_CASES)
def test_events_suite_same_verdict_in_both_engines(case: str) -> None:
    rows = EVENT_CASES[case](event_rows(10))
    _assert_same("events", canonical_frame(EVENTS_COLUMNS, rows))


@pytest.mark.parametrize("case", AD_CASES)
def test_ad_performance_suite_same_verdict_in_both_engines(case: str) -> None:
    rows = AD_CASES[case](ad_rows())
    _assert_same("ad_performance", canonical_frame(AD_PERFORMANCE_COLUMNS, rows))


def test_the_cases_make_every_rule_of_both_suites_fail_somewhere() -> None:
    """Agreement only means something where a rule fails: each one must fail in some case."""
    failed: set[tuple[str, str, str | None]] = set()
    for name, columns, cases, rows in (
        ("events", EVENTS_COLUMNS, EVENT_CASES, event_rows),
        ("ad_performance", AD_PERFORMANCE_COLUMNS, AD_CASES, ad_rows),
    ):
        for mutate in cases.values():
            frame = canonical_frame(columns, mutate(rows()))
            failed |= {(name, f.type, f.column) for f in _duckdb_outcome(name, frame).failed}
    for name in ("events", "ad_performance"):
        for rule in load_rules(name):
            if rule.type.startswith(("expect_table_columns", "expect_table_column_count")):
                continue  # the shape cases below
            column = rule.kwargs.get("column") or (
                f"{rule.kwargs['column_A']},{rule.kwargs['column_B']}"
                if "column_A" in rule.kwargs
                else ",".join(rule.kwargs.get("column_list") or []) or None
            )
            assert (name, rule.type, column) in failed, f"no case fails {name} {rule.type} {column}"


@pytest.mark.parametrize("change", ["drop user_key", "drop session_id", "extra column"])
def test_a_changed_shape_gets_the_same_verdict(change: str) -> None:
    frame = canonical_frame(EVENTS_COLUMNS, event_rows())
    if change.startswith("drop "):
        frame = frame.drop(columns=[change.removeprefix("drop ")])
    else:
        frame = frame.assign(debug_flag=1)
    ours = _assert_same("events", frame)
    assert not ours.success_warnings


def test_mostly_and_strict_bounds_agree(tmp_path: Path) -> None:
    suite = {
        "name": "tolerant",
        "expectations": [
            {
                "type": "expect_column_values_to_be_in_set",
                "kwargs": {"column": "source", "value_set": ["ga4"], "mostly": 0.75},
                "meta": {"severity": "error", "why": "most rows are GA4"},
            },
            {
                "type": "expect_column_values_to_be_between",
                "kwargs": {
                    "column": "engagement_time_ms",
                    "min_value": 1000,
                    "max_value": 9000,
                    "strict_max": True,
                },
                "meta": {"severity": "warning", "why": "bounds"},
            },
            {
                "type": "expect_table_row_count_to_be_between",
                "kwargs": {"min_value": 1, "max_value": 5},
                "meta": {"severity": "warning", "why": "size"},
            },
        ],
    }
    (tmp_path / "tolerant.json").write_text(json.dumps(suite))
    for bad_sources in (2, 3):
        rows = event_rows(10)
        for row in rows[:bad_sources]:
            row["source"] = "segment"
        frame = canonical_frame(EVENTS_COLUMNS, rows)
        reference = validate_frame("tolerant", frame, expectations_dir=tmp_path)
        with duckdb.connect() as con:
            con.register("f", frame)
            ours = validate_relation("tolerant", con, "f", expectations_dir=tmp_path)
        assert _comparable(ours) == _comparable(reference)
        assert ours.success_errors == (bad_sources == 2)


def test_parquet_partitions_get_the_same_verdict_in_both_engines(tmp_path: Path) -> None:
    rows = event_rows(10)
    rows[3]["source"] = "mixpanel"
    files = []
    for n, part in enumerate((rows[:6], rows[5:])):
        path = tmp_path / f"part-{n}.parquet"
        with duckdb.connect() as con:
            canonical_relation(con, EVENTS_COLUMNS, part).write_parquet(str(path))
        files.append(path)
    gx = check_partition_parquet("events", files, engine="gx")
    ours = check_partition_parquet("events", files)
    assert _comparable(ours) == _comparable(gx)
    assert {f.type for f in ours.errors} == {
        "expect_column_values_to_be_unique",
        "expect_column_values_to_be_in_set",
    }
    empty_gx = check_partition_parquet("ad_performance", [], engine="gx")
    assert _comparable(check_partition_parquet("ad_performance", [])) == _comparable(empty_gx)


# --- what the DuckDB runner accepts --------------------------------------------------------


@pytest.mark.parametrize("name", suite_names())
def test_every_reviewed_suite_runs_in_duckdb_with_nothing_left_out(name: str) -> None:
    assert len(load_rules(name)) == len(read_suite_configs(name))
    assert {rule.type for rule in load_rules(name)} <= set(RULES)


def _suite_file(tmp_path: Path, expectation: dict[str, Any]) -> Path:
    body = {"name": "custom", "expectations": [expectation]}
    (tmp_path / "custom.json").write_text(json.dumps(body))
    return tmp_path


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        (
            {"type": "expect_column_values_to_be_dateutil_parseable", "kwargs": {"column": "x"}},
            "expectation #0 (expect_column_values_to_be_dateutil_parseable): the DuckDB suite",
        ),
        (
            {"type": "expect_column_values_to_not_be_null", "kwargs": {"colum": "x"}},
            "unknown keyword(s) ['colum']",
        ),
        (
            {"type": "expect_column_values_to_be_in_set", "kwargs": {"column": "x"}},
            "missing keyword(s) ['value_set']",
        ),
        (
            {
                "type": "expect_column_pair_values_a_to_be_greater_than_b",
                "kwargs": {"column_A": "a", "column_B": "b", "ignore_row_if": "sometimes"},
            },
            "ignore_row_if 'sometimes'",
        ),
    ],
)
def test_a_rule_the_runner_cannot_run_is_refused_naming_file_and_index(
    tmp_path: Path, expectation: dict[str, Any], message: str
) -> None:
    expectation["meta"] = {"severity": "error", "why": "test"}
    folder = _suite_file(tmp_path, expectation)
    with pytest.raises(SuiteLoadError) as caught:
        load_rules("custom", folder)
    assert str(folder / "custom.json") in str(caught.value)
    assert message in str(caught.value)


def test_a_sample_keeps_the_first_five_unexpected_values_in_file_order() -> None:
    rows = event_rows(12)
    for n, row in enumerate(rows):
        row["source"] = f"tracker-{n:02d}"
    ours = _assert_same("events", canonical_frame(EVENTS_COLUMNS, rows))
    (failure,) = ours.failed
    assert failure.observed["partial_unexpected_list"] == [f"tracker-{n:02d}" for n in range(5)]
    assert failure.observed["unexpected_count"] == 12


def test_dates_and_times_in_samples_read_as_gx_prints_them() -> None:
    rows = event_rows(10)
    rows[2]["event_at"] = datetime(1999, 1, 2, 3, 4, 5)
    ours = _assert_same("events", canonical_frame(EVENTS_COLUMNS, rows))
    assert ours.failed[0].observed["partial_unexpected_list"] == ["1999-01-02 03:04:05"]


# --- the setting --------------------------------------------------------------------------


def test_the_engine_setting_defaults_to_duckdb_and_refuses_unknown_names(tmp_path: Path) -> None:
    from pipelines.lib.settings import ENV_QUALITY_ENGINE, Settings, SettingsError

    home = {"MICROFUNNEL_HOME": str(tmp_path)}
    assert Settings.from_env(home).quality_engine == "duckdb"
    assert Settings.from_env({**home, ENV_QUALITY_ENGINE: " GX "}).quality_engine == "gx"
    with pytest.raises(SettingsError, match=f"{ENV_QUALITY_ENGINE}='pandas' must be one of"):
        Settings.from_env({**home, ENV_QUALITY_ENGINE: "pandas"})
    # The UI's code servers get the same engine.
    assert (
        Settings.from_env({**home, ENV_QUALITY_ENGINE: "gx"}).environ()[ENV_QUALITY_ENGINE] == "gx"
    )
