"""agg_sequence_comparison and agg_funnel_diagnostics after the real nightly job on generated
exports: equal to the Python reference (pipelines/lib/comparison_reference.py) row by row, and
telling a user what the default funnels.yml is meant to show: the generator's micro campaigns
(micro_commitment) convert better per hook than its big-ask campaigns (direct_ask).

One pipeline run for the module (three days); every test reads what it captured.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest

from pipelines.lib import comparison_reference as ref
from pipelines.lib import funnel_reference
from pipelines.lib.funnels import load_funnels
from pipelines.lib.generator import generate_exports
from pipelines.lib.settings import Settings
from pipelines.runner import run_nightly_job

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

PipelineEnvironment = Callable[..., AbstractContextManager[Settings]]  # tests/conftest.py


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def read_table(db: Path, table: str) -> Table:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(f"select * from {table} order by all")
        return Table(tuple(d[0] for d in cursor.description), cursor.fetchall())


def run_failures(instance: dg.DagsterInstance) -> str:
    run_id = instance.get_runs(limit=1)[0].run_id
    texts = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        if event and event.step_failure_data.error:
            texts.append(f"{event.step_key}: {event.step_failure_data.error.to_string()}")
    return "\n".join(texts)


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
    (root / "dagster").mkdir()
    with (
        pipeline_environment(root / "home", START) as settings,
        dg.instance_for_test(temp_dir=str(root / "dagster")) as instance,
    ):
        generate_exports(settings.landing_dir, START, END, events_per_day=EVENTS_PER_DAY, seed=SEED)
        succeeded = run_nightly_job(START, END, instance=instance)
        if not succeeded:
            yield Nightly(settings, False, run_failures(instance), {}, [], None)
            return
        tables = {name: read_table(settings.duckdb_path, name) for name in READ}
        with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
            cursor = con.execute("select * from int_events_enriched")
            names = [d[0] for d in cursor.description]
            enriched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            row = con.execute("select max(export_date) from stg_lake__events").fetchone()
        yield Nightly(settings, True, "", tables, enriched, row[0] if row else None)


# --- comparing with the reference --------------------------------------------------------------


def close(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return False
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-6)
    return expected == actual


def assert_mart_equals_reference(mart: str, table: Table, reference_rows: list[Any]) -> None:
    grain = GRAIN[mart]
    actual = {tuple(r[c] for c in grain): r for r in table.dicts()}
    expected = {tuple(getattr(r, c) for c in grain): dataclasses.asdict(r) for r in reference_rows}
    assert len(actual) == len(table.rows), f"{mart} repeats a grain"
    missing, extra = expected.keys() - actual.keys(), actual.keys() - expected.keys()
    assert not missing and not extra, (
        f"{mart}: {len(missing)} reference rows missing, e.g. {sorted(missing, key=repr)[:2]}; "
        f"{len(extra)} extra, e.g. {sorted(extra, key=repr)[:2]}"
    )
    differing = {
        key: {c: (v, actual[key][c]) for c, v in row.items() if not close(v, actual[key][c])}
        for key, row in expected.items()
    }
    differing = {key: diff for key, diff in differing.items() if diff}
    assert not differing, (
        f"{mart}: {len(differing)} rows differ, e.g. {list(differing.items())[:3]}"
    )


@dataclass(frozen=True)
class FctJourney:
    """A fct_funnel_journeys row in the shape comparison_reference reads (JourneyLike)."""

    funnel_id: str
    funnel_version: int
    platform: str | None
    campaign_id: str | None
    cohort_date: date
    reached_at: tuple[datetime | None, ...]
    seconds_to_next: tuple[float | None, ...]
    furthest_stage: int
    is_converted: bool
    is_excluded: bool
    is_stalled: bool
    is_final: bool


def fct_journeys(table: Table) -> list[FctJourney]:
    names = {f.name for f in dataclasses.fields(FctJourney)} - {"reached_at", "seconds_to_next"}
    journeys = []
    for row in table.dicts():
        stages = range(1, row["stage_count"] + 1)
        journeys.append(
            FctJourney(
                **{name: row[name] for name in names},
                reached_at=tuple(row[f"stage_{k}_reached_at"] for k in stages),
                seconds_to_next=tuple(row[f"stage_{k}_seconds_to_next"] for k in stages),
            )
        )
    return journeys


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
        assert_mart_equals_reference(mart, nightly.tables[mart], rows)


def test_the_sql_marts_equal_the_reference_over_the_reference_journeys(nightly: Nightly) -> None:
    """The whole chain: events -> reference journeys -> reference marts, against the SQL."""
    assert nightly.succeeded, nightly.failures
    assert nightly.as_of is not None
    journeys: list[funnel_reference.Journey] = []
    for funnel in load_funnels(nightly.settings.funnels_file):
        journeys += funnel_reference.compute_journeys(
            nightly.enriched_events,
            funnel,
            as_of=nightly.as_of,
            late_data_days=nightly.settings.late_data_days,
        )
    assert len(journeys) > 100, "too few reference journeys for a meaningful comparison"
    for mart, rows in reference_marts(nightly, journeys).items():
        assert_mart_equals_reference(mart, nightly.tables[mart], rows)


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
    assert drop["evidence"].endswith(
        f"journeys that reached {drop['stage_name']} stopped there, before "
        f"{drop['next_stage_name']}"
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
