"""agg_sequence_comparison and agg_funnel_diagnostics after the real nightly job on generated
exports: equal to the Python reference (tests/reference/comparison_marts.py) row by row, and
telling a user what the default funnels.yml is meant to show: the generator's micro campaigns
(micro_commitment) convert better per hook than its big-ask campaigns (direct_ask).

One pipeline run for the module (three days); every test reads what it captured.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from pipelines.lib.funnels import load_funnels
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job
from tests.journey_fixtures import (
    PipelineEnvironment,
    Table,
    assert_mart_equals_reference,
    enriched_events,
    fct_journeys,
    generated_exports,
    read_table,
    reference_journeys,
    run_failures,
)
from tests.reference import comparison_marts as ref

pytestmark = pytest.mark.slow

START = date(2024, 3, 5)
END = date(2024, 3, 7)
EVENTS_PER_DAY = 3000
SEED = 31
GRAIN = {
    "agg_sequence_comparison": (
        "micro_funnel_id",
        "micro_funnel_version",
        "direct_funnel_id",
        "direct_funnel_version",
        "cohort_grain",
        "cohort_date",
    ),
    "agg_funnel_diagnostics": ("funnel_id", "funnel_version", "platform", "campaign_id", "finding"),
}
READ = (*GRAIN, "fct_funnel_journeys", "int_ad_spend_daily")


@dataclass(frozen=True)
class Nightly:
    settings: Settings
    succeeded: bool
    failures: str
    tables: dict[str, Table]
    enriched_events: list[dict[str, Any]]
    as_of: date | None


@pytest.fixture(scope="module")
def nightly(
    tmp_path_factory: pytest.TempPathFactory, pipeline_environment: PipelineEnvironment
) -> Iterator[Nightly]:
    root = tmp_path_factory.mktemp("comparison_marts")
    with generated_exports(
        root, pipeline_environment, START, END, events_per_day=EVENTS_PER_DAY, seed=SEED
    ) as (settings, instance):
        if not run_nightly_job(settings, START, END, instance=instance):
            yield Nightly(settings, False, run_failures(instance), {}, [], None)
            return
        tables = {name: read_table(settings.duckdb_path, name) for name in READ}
        enriched, as_of = enriched_events(settings)
        yield Nightly(settings, True, "", tables, enriched, as_of)


# --- comparing with the reference --------------------------------------------------------------


def spend_by_campaign_day(table: Table) -> dict[tuple[str, str, date], float]:
    return {(r["platform"], r["campaign_id"], r["report_date"]): r["spend"] for r in table.dicts()}


def reference_marts(nightly: Nightly, journeys: list[Any]) -> dict[str, list[Any]]:
    funnels = list(load_funnels(nightly.settings.funnels_file))
    spend = spend_by_campaign_day(nightly.tables["int_ad_spend_daily"])
    return {
        "agg_sequence_comparison": ref.sequence_comparison(journeys, funnels, spend),
        "agg_funnel_diagnostics": ref.funnel_diagnostics(journeys, funnels),
    }


def test_the_sql_marts_equal_the_reference_over_the_journeys_of_the_fct(nightly: Nightly) -> None:
    """The marts alone: the reference computed from the very journeys the SQL read."""
    assert nightly.succeeded, nightly.failures
    journeys = fct_journeys(nightly.tables["fct_funnel_journeys"])
    for mart, rows in reference_marts(nightly, journeys).items():
        assert rows, f"the reference gives no {mart} row"
        assert_mart_equals_reference(mart, GRAIN[mart], nightly.tables[mart], rows)


def test_the_sql_marts_equal_the_reference_over_the_reference_journeys(nightly: Nightly) -> None:
    """The whole chain: events -> reference journeys -> reference marts, against the SQL."""
    assert nightly.succeeded, nightly.failures
    assert nightly.as_of is not None
    funnels = load_funnels(nightly.settings.funnels_file)
    journeys = reference_journeys(nightly.enriched_events, funnels, nightly.as_of, nightly.settings)
    assert len(journeys) > 100, "too few reference journeys for a meaningful comparison"
    for mart, rows in reference_marts(nightly, journeys).items():
        assert_mart_equals_reference(mart, GRAIN[mart], nightly.tables[mart], rows)


# --- what a user reads -------------------------------------------------------------------------


def test_the_micro_sequence_wins_on_the_generated_data_with_cost_per_conversion(
    nightly: Nightly,
) -> None:
    assert nightly.succeeded, nightly.failures
    rows = nightly.tables["agg_sequence_comparison"].dicts()
    overall = [r for r in rows if r["cohort_grain"] == "all"]
    assert len(overall) == 1, "one micro x direct pair in the default funnels.yml"
    row = overall[0]
    assert (row["micro_funnel_id"], row["direct_funnel_id"]) == ("micro_commitment", "direct_ask")
    assert {r["cohort_date"] for r in rows if r["cohort_grain"] == "day"} == {
        date(2024, 3, 5),
        date(2024, 3, 6),
        date(2024, 3, 7),
    }
    assert row["micro_entries"] >= 100 and row["direct_entries"] >= 100
    assert row["micro_conversion_rate"] > row["direct_conversion_rate"] > 0
    assert row["absolute_lift"] > 0 and row["relative_lift"] > 0
    assert row["micro_ci_low"] < row["micro_conversion_rate"] < row["micro_ci_high"]
    assert row["direct_ci_low"] < row["direct_conversion_rate"] < row["direct_ci_high"]
    micro, direct = row["micro_conversion_rate"], row["direct_conversion_rate"]
    assert row["verdict"].startswith(
        f"micro sequence converts {micro / direct:.1f}x more per hook "
        f"({100 * micro:.1f}% vs {100 * direct:.1f}%); "
    ), row["verdict"]
    assert row["verdict"].endswith(")") and "significant (p " in row["verdict"]
    assert row["is_significant"] == (row["p_value"] < 0.05)
    # Cost per conversion on both sides, from the paid campaigns' spend.
    for side in ("micro", "direct"):
        spend, conversions = row[f"{side}_spend"], row[f"{side}_conversions"]
        assert spend is not None and spend > 0, side
        assert row[f"{side}_cost_per_conversion"] == pytest.approx(spend / conversions), side
    # The sides come from disjoint campaigns, so together they spend at most the whole budget.
    total = sum(r["spend"] for r in nightly.tables["int_ad_spend_daily"].dicts())
    assert row["micro_spend"] + row["direct_spend"] <= total + 1e-6
    # The 'all' row adds up its days.
    days = [r for r in rows if r["cohort_grain"] == "day"]
    assert sum(r["micro_entries"] for r in days) == row["micro_entries"]
    assert sum(r["direct_conversions"] for r in days) == row["direct_conversions"]


def test_the_diagnostics_name_the_weak_step_and_the_too_early_ask(nightly: Nightly) -> None:
    assert nightly.succeeded, nightly.failures
    rows = nightly.tables["agg_funnel_diagnostics"].dicts()
    by_key = {(r["funnel_id"], r["platform"], r["finding"]): r for r in rows}
    drop = by_key[("micro_commitment", "(all)", "largest_dropoff")]
    assert drop["is_flagged"] and drop["stage_name"] is not None
    assert drop["evidence"].startswith(f"{drop['journeys_lost']:,} journeys (")
    assert drop["evidence"].endswith(
        f"that reached {drop['stage_name']} stopped there, before {drop['next_stage_name']}"
    )
    # The step that loses the most people, whatever its rate.
    steps = [r for r in rows if r["finding"] in ("largest_dropoff", "slowest_step")]
    assert drop["journeys_lost"] == max(
        r["journeys_lost"]
        for r in steps
        if r["funnel_id"] == "micro_commitment"
        and r["platform"] == "(all)"
        and r["journeys_lost"] is not None
    )
    ask = by_key[("direct_ask", "(all)", "asking_too_much_too_soon")]
    assert ask["metric_name"] == "p_value" and ask["threshold"] == 0.05
    assert (
        ask["evidence"].startswith("direct_ask converts ")
        and "micro_commitment" in (ask["evidence"])
    )
    assert ("micro_commitment", "(all)", "asking_too_much_too_soon") not in by_key
    groups = {(r["funnel_id"], r["platform"], r["campaign_id"]) for r in rows}
    for funnel_id, platform, campaign_id in groups:
        findings = {
            r["finding"]
            for r in rows
            if (r["funnel_id"], r["platform"], r["campaign_id"])
            == (funnel_id, platform, campaign_id)
        }
        expected = set(ref.FINDINGS) - (
            set() if funnel_id == "direct_ask" else {"asking_too_much_too_soon"}
        )
        assert findings == expected, (funnel_id, platform, campaign_id)
