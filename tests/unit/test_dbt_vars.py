"""How a partition range becomes dbt arguments (pipelines/lib/dbt_vars.py)."""

from __future__ import annotations

import json
from datetime import date

from pipelines.lib.dbt_vars import dbt_build_args, dbt_vars, reprocess_from


def test_reprocess_from_goes_back_one_window_plus_the_late_data_allowance_plus_one_day() -> None:
    assert reprocess_from(date(2024, 3, 20), 7, 3) == date(2024, 3, 9)


def test_reprocess_from_without_window_or_allowance_still_rebuilds_the_day_before() -> None:
    assert reprocess_from(date(2024, 3, 20), 0, 0) == date(2024, 3, 19)


def test_reprocess_from_crosses_month_year_and_leap_day_boundaries() -> None:
    assert reprocess_from(date(2024, 3, 2), 1, 0) == date(2024, 2, 29)
    assert reprocess_from(date(2024, 1, 5), 7, 3) == date(2023, 12, 25)


def test_a_longer_window_reaches_further_back_than_a_shorter_one() -> None:
    first = date(2024, 6, 1)
    assert reprocess_from(first, 30, 3) < reprocess_from(first, 7, 3)
    assert reprocess_from(first, 7, 5) < reprocess_from(first, 7, 3)


def test_dbt_vars_send_the_reprocess_date_as_iso_text() -> None:
    assert dbt_vars(date(2024, 3, 9), 3) == {
        "microfunnel__reprocess_from": "2024-03-09",
        "microfunnel__late_data_days": 3,
    }


def test_dbt_vars_send_null_for_a_full_build() -> None:
    assert dbt_vars(None, 3)["microfunnel__reprocess_from"] is None


def test_dbt_vars_carry_the_late_data_allowance_unchanged() -> None:
    assert dbt_vars(None, 0)["microfunnel__late_data_days"] == 0
    assert dbt_vars(date(2024, 1, 1), 14)["microfunnel__late_data_days"] == 14


def test_dbt_build_args_are_a_build_with_the_vars_as_one_json_argument() -> None:
    variables = dbt_vars(date(2024, 3, 9), 3)
    args = dbt_build_args(variables)
    assert args[:2] == ["build", "--vars"]
    assert json.loads(args[2]) == variables
    assert args[3:] == ["--target", "duckdb", "--exclude-resource-type", "unit_test"]


def test_dbt_build_args_name_the_engine_as_the_dbt_target() -> None:
    args = dbt_build_args(dbt_vars(None, 3), target="spark")
    assert args[args.index("--target") + 1] == "spark"


def test_dbt_build_args_write_a_full_build_as_json_null() -> None:
    args = dbt_build_args(dbt_vars(None, 3))
    assert json.loads(args[2])["microfunnel__reprocess_from"] is None
    assert '"microfunnel__reprocess_from": null' in args[2]


def test_dbt_build_args_do_not_depend_on_the_order_of_the_vars() -> None:
    forward = {"a": 1, "b": "2024-01-01"}
    backward = {"b": "2024-01-01", "a": 1}
    assert dbt_build_args(forward) == dbt_build_args(backward)


def test_the_lake_window_var_covers_every_event_ingestion_accepts() -> None:
    """int_events_enriched skips lake folders more than this many days before the window: an
    export day's events reach at most one UTC day later, plus one day of reporting timezone."""
    import yaml

    from pipelines.lib.ingest.ga4_parse import LATEST_DAYS_AFTER_EXPORT
    from pipelines.lib.settings import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    lead = project["vars"]["microfunnel__max_event_days_after_export"]
    assert lead == LATEST_DAYS_AFTER_EXPORT + 1
