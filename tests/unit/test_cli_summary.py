"""The CLI's summary queries over the reporting DuckDB: per funnel version, optional stages. The
stage totals are built by their dbt model (the SQL harness) from hand-made daily rows."""

from pathlib import Path

import duckdb
import pytest

from harness.dbt_sql import SqlHarness
from pipelines.lib.funnel_report.cli_summary import (
    comparison_verdicts,
    platform_stages,
    stage_totals,
)
from pipelines.lib.funnel_report.model import EVERY
from pipelines.lib.funnel_report.read_marts import load_report_data
from pipelines.lib.funnel_report.text_formats import format_platform_table
from tests.report_fixtures import build_full

DAILY_SQL = """
    SELECT funnel_id, funnel_version, CAST(cohort_date AS DATE) AS cohort_date, platform,
        campaign_id, stage_order, stage_name, journeys_reached, journeys_advanced, dropoff_count,
        0::BIGINT AS journeys_excluded, NULL::DOUBLE AS spend, true AS is_final
    FROM (VALUES
        -- Version 2: stage 2 is optional; 40 of 100 hooks do it, 70 reach stage 3.
        ('f', 2, '2024-03-01', 'meta', 'c1', 1, 'hook', 60, 40, 20),
        ('f', 2, '2024-03-01', 'organic', '(none)', 1, 'hook', 40, 30, 10),
        ('f', 2, '2024-03-01', 'meta', 'c1', 2, 'quiz', 40, 38, 2),
        ('f', 2, '2024-03-01', 'meta', 'c1', 3, 'buy', 70, NULL, NULL),
        -- Version 1 of the same funnel: reported apart, never summed with version 2.
        ('f', 1, '2024-02-01', 'meta', 'c1', 1, 'hook', 10, 1, 9),
        ('f', 1, '2024-02-01', 'meta', 'c1', 2, 'buy', 1, NULL, NULL)
    ) AS t(funnel_id, funnel_version, cohort_date, platform, campaign_id, stage_order,
        stage_name, journeys_reached, journeys_advanced, dropoff_count)"""

JOURNEY_STAGES_SQL = """
    SELECT funnel_id, funnel_version, platform, campaign_id, stage_order,
        seconds_to_next_stage::DOUBLE AS seconds_to_next_stage, is_excluded,
        CASE WHEN advanced THEN TIMESTAMP '2024-03-01 12:00:00' END AS next_stage_reached_at
    FROM (VALUES
        ('f', 2, 'meta', 'c1', 1, 10, false, true), ('f', 2, NULL, NULL, 1, 30, false, true),
        ('f', 2, 'meta', 'c1', 1, 9999, true, true), ('f', 2, 'meta', 'c1', 1, NULL, false, false)
    ) AS t(funnel_id, funnel_version, platform, campaign_id, stage_order, seconds_to_next_stage,
        is_excluded, advanced)"""


def build_reporting(path: Path, harness: SqlHarness) -> Path:
    """A reporting file with agg_funnel_stage_totals built by its dbt model from hand-made
    daily rows and journey stages, and a comparison mart."""
    with duckdb.connect() as scratch:
        inputs = {
            "agg_funnel_stages_daily": scratch.sql(DAILY_SQL).to_arrow_table(),
            "fct_funnel_journey_stages": scratch.sql(JOURNEY_STAGES_SQL).to_arrow_table(),
        }
    con = harness.run(inputs, ["agg_funnel_stage_totals"])
    try:
        con.execute(f"ATTACH '{path}' AS reporting")
        con.execute(
            "CREATE TABLE reporting.agg_funnel_stage_totals AS "
            "SELECT * FROM agg_funnel_stage_totals"
        )
        con.execute(
            "CREATE TABLE reporting.agg_sequence_comparison (micro_funnel_id VARCHAR, "
            "direct_funnel_id VARCHAR, cohort_grain VARCHAR, verdict VARCHAR)"
        )
        con.execute(
            "INSERT INTO reporting.agg_sequence_comparison VALUES "
            "('f', 'd', 'all', 'micro sequence converts 2.0x more per hook'), "
            "('f', 'd', 'day', 'per day, not printed')"
        )
    finally:
        con.close()
    return path


def test_stage_totals_per_version_with_skipped_optional_stages(
    tmp_path: Path, sql_harness: SqlHarness
) -> None:
    totals = stage_totals(build_reporting(tmp_path / "r.duckdb", sql_harness))
    assert list(totals) == ["f, version 1", "f, version 2"]
    hook, quiz, buy = totals["f, version 2"]
    # Step rates come from journeys_advanced: the next stage's reach would give 40 / 100.
    assert hook["step_conversion_rate"] == pytest.approx(0.7)
    assert quiz["step_conversion_rate"] == pytest.approx(38 / 40)
    assert buy["overall_conversion_rate"] == pytest.approx(0.7)
    # Excluded journeys and journeys that did not advance are left out of the median.
    assert hook["median_seconds_to_next_stage"] == pytest.approx(20.0)
    assert [row["journeys_reached"] for row in totals["f, version 1"]] == [10, 1]


def test_comparison_verdicts_over_all_cohorts(tmp_path: Path, sql_harness: SqlHarness) -> None:
    lines = comparison_verdicts(build_reporting(tmp_path / "r.duckdb", sql_harness))
    assert lines == ["f vs d: micro sequence converts 2.0x more per hook"]


def test_no_verdicts_before_the_comparison_is_published(
    tmp_path: Path, sql_harness: SqlHarness
) -> None:
    path = build_reporting(tmp_path / "r.duckdb", sql_harness)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE agg_sequence_comparison")
    assert comparison_verdicts(path) == []


def test_cli_table_is_the_reports_every_campaign_view(tmp_path: Path) -> None:
    """One home for the stage totals: the CLI prints what the report shows for every campaign."""
    full = build_full(tmp_path / "full.duckdb")
    totals = stage_totals(full)
    assert set(totals) == {
        "direct_ask, version 1",
        "direct_ask, version 2",
        "micro_commitment, version 2",
    }
    for funnel in load_report_data(full).funnels:
        cli = totals[f"{funnel.funnel_id}, version {funnel.funnel_version}"]
        shown = funnel.views[EVERY].stages
        assert [r["stage_name"] for r in cli] == [s.stage_name for s in shown]
        assert [r["journeys_reached"] for r in cli] == [s.journeys_reached for s in shown]
        assert [r["step_conversion_rate"] for r in cli] == [s.step_conversion_rate for s in shown]
        assert [r["overall_conversion_rate"] for r in cli] == [
            s.overall_conversion_rate for s in shown
        ]
        assert [r["dropoff_count"] or 0 for r in cli] == [s.dropoff_count for s in shown]
        assert [r["median_seconds_to_next_stage"] for r in cli] == [
            s.median_seconds_to_next_stage for s in shown
        ]


def test_platforms_side_by_side_for_the_newest_version(
    tmp_path: Path, sql_harness: SqlHarness
) -> None:
    reporting = build_reporting(tmp_path / "reporting.duckdb", sql_harness)
    by_funnel = platform_stages(reporting)
    # Version 1 is older: only version 2's platforms; the organic rollup is a platform too.
    assert list(by_funnel) == ["f, version 2"]
    rows = by_funnel["f, version 2"]
    assert {r["platform"] for r in rows} == {"meta", "organic"}
    table = format_platform_table(rows, "EUR")
    header, _rule, *lines = table.splitlines()
    assert header.split() == [
        "platform", "hook", "quiz", "buy", "overall", "conv.", "spend", "(EUR)", "cost", "/",
        "conv.",
    ]  # fmt: skip
    meta = next(line for line in lines if line.startswith("meta"))
    assert meta.split()[:4] == ["meta", "60", "40", "70"]
