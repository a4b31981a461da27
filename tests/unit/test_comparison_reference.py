"""agg_sequence_comparison and agg_funnel_diagnostics: the dbt SQL against the Python reference;
agg_funnel_recommendations (read from the diagnostics) against hand-computed rankings.

The SQL runs in a fresh DuckDB through harness/dbt_sql.py on a fct_funnel_journeys table
built from journeys (wide columns, as in docs/funnels.md section 6) and a spend table; the
reference (`tests/reference/comparison_marts.py`) computes the same rows from the same
journeys. The statistics are also checked against textbook numbers computed independently.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import jinja2
import pyarrow as pa
import pytest

from harness.dbt_sql import SqlHarness, journey_inputs, spend_table
from pipelines.lib.funnels import load_funnels
from pipelines.lib.funnels.model import Funnel, FunnelSet
from tests.reference import comparison_marts as ref
from tests.reference import funnel as funnel_reference

REPO_ROOT = Path(__file__).resolve().parents[2]
STATISTICS_MACROS = REPO_ROOT / "dbt_project" / "macros" / "statistics.sql"
MAX_STAGES = 8
ABS_TOL = 1e-6
REL_TOL = 1e-9
DAY1 = date(2024, 3, 1)


# --- journeys ------------------------------------------------------------------------------


@dataclass(frozen=True)
class J:
    """A journey with the interface attributes the two marts read (see JourneyLike)."""

    funnel_id: str
    funnel_version: int
    journey_id: str
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


def journey(
    funnel: Funnel,
    n: int,
    *,
    day: date = DAY1,
    campaign: tuple[str | None, str | None] = ("google_ads", "c1"),
    furthest: int = 1,
    gaps: Sequence[float] = (),
    skipped: Iterable[int] = (),
    excluded: bool = False,
    stalled: bool = False,
    final: bool = True,
) -> J:
    """Journey number n of `funnel`: stages 1..furthest reached (but `skipped`), `gaps` in
    seconds between consecutive reached stages (default 60 s)."""
    start = datetime.combine(day, datetime.min.time()) + timedelta(minutes=n % 600)
    reached: list[datetime | None] = [None] * funnel.stage_count
    orders = [k for k in range(1, furthest + 1) if k not in set(skipped)]
    at = start
    to_next: list[float | None] = [None] * funnel.stage_count
    for i, k in enumerate(orders):
        reached[k - 1] = at
        if i + 1 < len(orders):
            gap = gaps[i] if i < len(gaps) else 60.0
            to_next[k - 1] = gap
            at = at + timedelta(seconds=gap)
    converted = furthest == funnel.stage_count
    return J(
        funnel_id=funnel.id,
        funnel_version=funnel.version,
        journey_id=f"{funnel.id}-{day}-{campaign[1]}-{n}",
        platform=campaign[0],
        campaign_id=campaign[1],
        cohort_date=day,
        reached_at=tuple(reached),
        seconds_to_next=tuple(to_next),
        furthest_stage=furthest,
        is_converted=converted,
        is_excluded=excluded,
        is_stalled=stalled and not converted,
        is_final=final,
    )


def fct_table(journeys: Iterable[Any]) -> pa.Table:
    """fct_funnel_journeys rows (the columns the two marts read) from journeys."""
    rows = []
    for j in journeys:
        row: dict[str, Any] = {
            "funnel_id": j.funnel_id,
            "funnel_version": j.funnel_version,
            "journey_id": j.journey_id,
            "platform": j.platform,
            "campaign_id": j.campaign_id,
            "cohort_date": j.cohort_date,
            "furthest_stage": j.furthest_stage,
            "is_converted": j.is_converted,
            "is_excluded": j.is_excluded,
            "is_stalled": j.is_stalled,
            "is_final": j.is_final,
        }
        for k in range(1, MAX_STAGES + 1):
            inside = k <= len(j.reached_at)
            row[f"stage_{k}_reached_at"] = j.reached_at[k - 1] if inside else None
            row[f"stage_{k}_seconds_to_next"] = j.seconds_to_next[k - 1] if inside else None
        rows.append(row)
    fields = [
        ("funnel_id", pa.string()),
        ("funnel_version", pa.int32()),
        ("journey_id", pa.string()),
        ("platform", pa.string()),
        ("campaign_id", pa.string()),
        ("cohort_date", pa.date32()),
        ("furthest_stage", pa.int32()),
        ("is_converted", pa.bool_()),
        ("is_excluded", pa.bool_()),
        ("is_stalled", pa.bool_()),
        ("is_final", pa.bool_()),
    ]
    for k in range(1, MAX_STAGES + 1):
        fields += [
            (f"stage_{k}_reached_at", pa.timestamp("us")),
            (f"stage_{k}_seconds_to_next", pa.float64()),
        ]
    return pa.Table.from_pylist(rows, schema=pa.schema(fields))


@pytest.fixture(scope="module")
def funnels() -> FunnelSet:
    """The default micro and direct funnels plus a second, non-primary micro funnel."""
    default = load_funnels(REPO_ROOT / "funnels" / "funnels.yml")
    micro = next(f for f in default.funnels if f.kind == "micro")
    second = dataclasses.replace(
        micro, id="micro_short", is_primary=False, stages=micro.stages[:3], campaigns=()
    )
    return FunnelSet((*default.funnels, second))


def run_marts(
    harness: SqlHarness,
    funnels: FunnelSet,
    journeys: Sequence[Any],
    spend: dict[tuple[str, str, date], float],
) -> duckdb.DuckDBPyConnection:
    return harness.run(
        {"fct_funnel_journeys": fct_table(journeys), "int_ad_spend_daily": spend_table(spend)},
        ["agg_sequence_comparison", "agg_funnel_diagnostics"],
        funnels=funnels,
    )


def sql_rows(con: duckdb.DuckDBPyConnection, table: str) -> list[dict[str, Any]]:
    cursor = con.execute(f"select * from {table}")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def values_match(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) or isinstance(actual, float):
        if expected is None or actual is None:
            return False
        return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return expected == actual


def assert_same_rows(
    expected: Sequence[Any], actual: Sequence[dict[str, Any]], key: Sequence[str]
) -> None:
    want = {tuple(getattr(r, k) for k in key): dataclasses.asdict(r) for r in expected}
    got = {tuple(r[k] for k in key): r for r in actual}
    assert len(got) == len(actual), "duplicate keys in the SQL rows"
    assert sorted(got, key=repr) == sorted(want, key=repr)
    for k, row in want.items():
        assert list(got[k]) == list(row), "column names or order differ from the reference"
        diff = {c: (v, got[k][c]) for c, v in row.items() if not values_match(v, got[k][c])}
        assert not diff, f"{k}: {diff}"


COMPARISON_KEY = ("micro_funnel_id", "direct_funnel_id", "cohort_grain", "cohort_date")
DIAGNOSTICS_KEY = ("funnel_id", "funnel_version", "platform", "campaign_id", "finding")


# --- a random but realistic mix of journeys ----------------------------------------------------

CAMPAIGNS: tuple[tuple[str | None, str | None], ...] = (
    ("google_ads", "c_micro"),
    ("meta_ads", "c_micro"),
    ("google_ads", "c_direct"),
    ("google_ads", "c_small"),
    (None, None),
)


def random_journeys(funnels: FunnelSet, seed: int) -> list[J]:
    rng = random.Random(seed)
    out: list[J] = []
    for funnel in funnels.funnels:
        size = {"micro_commitment": 900, "direct_ask": 700, "micro_short": 120}[funnel.id]
        for n in range(size):
            weights = (5, 2, 5, 1, 2) if funnel.id != "micro_short" else (5, 0, 0, 0, 1)
            campaign = rng.choices(CAMPAIGNS, weights=weights)[0]
            if campaign[1] == "c_small" and rng.random() < 0.6:
                continue  # keep c_small below the minimum on some steps
            furthest = 1
            # Stage 3 -> 4 passes ~95% after hours: a delay without filter on the micro funnel.
            keep = (0.0, 0.55, 0.6, 0.95, 0.5) if funnel.kind == "micro" else (0.0, 0.04)
            while furthest < funnel.stage_count and rng.random() < keep[furthest]:
                furthest += 1
            gaps = [
                rng.uniform(5000, 9000) if k == 3 else rng.expovariate(1 / 600)
                for k in range(1, furthest)
            ]
            out.append(
                journey(
                    funnel,
                    n,
                    day=DAY1 + timedelta(days=rng.randrange(3)),
                    campaign=campaign,
                    furthest=furthest,
                    gaps=gaps,
                    excluded=rng.random() < 0.05,
                    stalled=rng.random() < 0.6,
                    final=rng.random() < 0.9,
                )
            )
    return out


def random_spend(seed: int) -> dict[tuple[str, str, date], float]:
    rng = random.Random(seed)
    spend = {}
    for platform, campaign in CAMPAIGNS:
        if campaign is None:
            continue
        for d in range(2):  # the third day has no spend row: null spend, no error
            spend[(platform, campaign, DAY1 + timedelta(days=d))] = round(rng.uniform(10, 500), 2)
    return spend


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_marts_equal_the_reference_row_by_row(
    sql_harness: SqlHarness, funnels: FunnelSet, seed: int
) -> None:
    journeys = random_journeys(funnels, seed)
    spend = random_spend(seed)
    con = run_marts(sql_harness, funnels, journeys, spend)

    comparison = ref.sequence_comparison(journeys, funnels.funnels, spend)
    # two pairs (micro_commitment, micro_short) x direct_ask, three days plus 'all'
    assert len(comparison) == 8
    assert_same_rows(comparison, sql_rows(con, "agg_sequence_comparison"), COMPARISON_KEY)

    diagnostics = ref.funnel_diagnostics(journeys, funnels.funnels)
    assert {r.finding for r in diagnostics} == set(ref.FINDINGS)
    flagged = {(r.funnel_id, r.finding) for r in diagnostics if r.is_flagged}
    assert ("micro_commitment", "delay_without_filter") in flagged
    assert ("direct_ask", "asking_too_much_too_soon") in flagged
    assert_same_rows(diagnostics, sql_rows(con, "agg_funnel_diagnostics"), DIAGNOSTICS_KEY)


# --- from events: reference journeys, and the whole SQL chain ---------------------------------

MICRO_CAMPAIGNS = ("spring_quiz_micro", "webinar_video_micro", "pricing_tour_micro")
DIRECT_CAMPAIGNS = ("free_trial_direct", "summer_sale_direct", "demo_request_direct")


# (event, chance to go on, mean seconds after the previous one)
MICRO_STEPS = (
    ("click", 0.7, 60),
    ("view_item", 0.6, 900),
    ("view_item_list", 0.9, 7200),
    ("purchase", 0.5, 1800),
)
DIRECT_STEPS = (("purchase", 0.06, 300),)


def generated_events(seed: int, users: int = 400) -> list[dict[str, Any]]:
    """Paid visits of the default funnels' campaigns: micro visitors climb the five stages
    (the reinforcement step passes ~90% after about two hours), direct visitors are asked to
    buy at once; some users touch the site again after their last stage (not stalled)."""
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []

    def emit(user: str, name: str, at: datetime, campaign: str | None, **extra: Any) -> None:
        events.append(
            {
                "event_id": f"e{len(events):06d}",
                "user_key": user,
                "event_name": name,
                "event_at": at,
                "event_date": at.date(),
                "platform": "google_ads" if campaign else None,
                "campaign_id": f"id_{campaign}" if campaign else None,
                "utm_campaign": campaign,
                "is_paid_touch": campaign is not None,
                "engagement_time_ms": extra.get("engagement_time_ms"),
                "page_url": extra.get("page_url", "/"),
            }
        )

    for u in range(users):
        user = f"u{u:04d}"
        micro = rng.random() < 0.55
        campaign = rng.choice(MICRO_CAMPAIGNS if micro else DIRECT_CAMPAIGNS)
        at = datetime(2024, 3, 1, 8) + timedelta(minutes=rng.randrange(3 * 24 * 60))
        emit(user, "page_view", at, campaign)
        steps = MICRO_STEPS if micro else DIRECT_STEPS
        for name, chance, mean_gap in steps:
            if rng.random() >= chance:
                break
            at += timedelta(seconds=rng.uniform(0.5, 1.5) * mean_gap)
            emit(user, name, at, None)
        if rng.random() < 0.4:  # activity after the last stage reached: not stalled
            emit(user, "user_engagement", at + timedelta(minutes=5), None, engagement_time_ms=500)
    return events


def test_from_events_reference_journeys_and_the_sql_chain_agree(
    sql_harness: SqlHarness,
) -> None:
    funnels = load_funnels(REPO_ROOT / "funnels" / "funnels.yml")
    events = generated_events(seed=5)
    as_of = date(2024, 3, 20)
    journeys = []
    for funnel in funnels.funnels:
        journeys += funnel_reference.compute_journeys(events, funnel, as_of=as_of, late_data_days=3)
    rng = random.Random(5)
    spend = {
        ("google_ads", f"id_{c}", DAY1 + timedelta(days=d)): round(rng.uniform(20, 200), 2)
        for c in MICRO_CAMPAIGNS + DIRECT_CAMPAIGNS
        for d in range(4)
    }
    comparison = ref.sequence_comparison(journeys, funnels.funnels, spend)
    diagnostics = ref.funnel_diagnostics(journeys, funnels.funnels)
    overall = next(r for r in comparison if r.cohort_grain == "all")
    assert overall.micro_entries > 150 and overall.direct_entries > 150
    assert overall.verdict.startswith("micro sequence converts")
    assert overall.is_significant and overall.micro_cost_per_conversion is not None
    flagged = {(r.funnel_id, r.platform, r.finding) for r in diagnostics if r.is_flagged}
    assert ("micro_commitment", ref.ALL, "delay_without_filter") in flagged
    assert ("direct_ask", ref.ALL, "asking_too_much_too_soon") in flagged

    # The marts on a fct built from the reference journeys ...
    con = run_marts(sql_harness, funnels, journeys, spend)
    assert_same_rows(comparison, sql_rows(con, "agg_sequence_comparison"), COMPARISON_KEY)
    assert_same_rows(diagnostics, sql_rows(con, "agg_funnel_diagnostics"), DIAGNOSTICS_KEY)
    # ... and the whole SQL chain from the events.
    con = sql_harness.run(
        journey_inputs(events, as_of=as_of, spend_by_campaign_day=spend),
        ["agg_sequence_comparison", "agg_funnel_diagnostics"],
        funnels=funnels,
    )
    assert_same_rows(comparison, sql_rows(con, "agg_sequence_comparison"), COMPARISON_KEY)
    assert_same_rows(diagnostics, sql_rows(con, "agg_funnel_diagnostics"), DIAGNOSTICS_KEY)


# --- hand-built cases with known answers -------------------------------------------------------


def test_excluded_journeys_other_versions_and_spend_per_campaign_day_once(
    sql_harness: SqlHarness, funnels: FunnelSet
) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    journeys = [journey(micro, n, furthest=5 if n < 12 else 2) for n in range(40)]
    journeys += [journey(micro, 100 + n, furthest=5, excluded=True) for n in range(50)]
    old = dataclasses.replace(micro, version=micro.version - 1)
    journeys += [journey(old, 200 + n, furthest=5) for n in range(50)]
    journeys += [
        journey(direct, n, campaign=("meta_ads", "d1"), furthest=2 if n < 3 else 1)
        for n in range(60)
    ]
    journeys += [journey(direct, 100 + n, campaign=(None, None)) for n in range(10)]
    spend = {("google_ads", "c1", DAY1): 120.0, ("meta_ads", "d1", DAY1): 90.0}
    only_two = FunnelSet((micro, direct))
    con = run_marts(sql_harness, only_two, journeys, spend)
    rows = {r["cohort_grain"]: r for r in sql_rows(con, "agg_sequence_comparison")}
    assert set(rows) == {"day", "all"}
    day = rows["day"]
    assert (day["micro_entries"], day["micro_conversions"]) == (40, 12)
    assert (day["direct_entries"], day["direct_conversions"]) == (70, 3)
    # 40 journeys on one campaign-day: its spend once, not 40 times; organic adds nothing.
    assert day["micro_spend"] == 120.0 and day["direct_spend"] == 90.0
    assert day["micro_cost_per_conversion"] == pytest.approx(10.0)
    assert day["direct_cost_per_conversion"] == pytest.approx(30.0)
    assert day["verdict"].startswith("micro sequence converts 7.0x more per hook (30.0% vs 4.3%)")
    assert day["is_significant"] and day["verdict"].endswith("; significant (p < 0.001)")
    assert rows["all"]["cohort_date"] is None
    assert_same_rows(
        ref.sequence_comparison(journeys, only_two.funnels, spend),
        sql_rows(con, "agg_sequence_comparison"),
        COMPARISON_KEY,
    )


def test_verdict_wordings(sql_harness: SqlHarness, funnels: FunnelSet) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    days = [DAY1 + timedelta(days=d) for d in range(5)]
    journeys = []
    # day 1: too few direct entries
    journeys += [journey(micro, n, day=days[0], furthest=5 if n < 5 else 1) for n in range(1200)]
    journeys += [journey(direct, n, day=days[0], furthest=2) for n in range(12)]
    # day 2: the direct ask converts better, not significantly: 4/40 vs 3/40
    journeys += [journey(micro, n, day=days[1], furthest=5 if n < 3 else 1) for n in range(40)]
    journeys += [journey(direct, n, day=days[1], furthest=2 if n < 4 else 1) for n in range(40)]
    # day 3: equal rates
    journeys += [journey(micro, n, day=days[2], furthest=5 if n < 4 else 1) for n in range(40)]
    journeys += [journey(direct, n, day=days[2], furthest=2 if n < 4 else 1) for n in range(40)]
    # day 4: nobody converts on the direct side
    journeys += [journey(micro, n, day=days[3], furthest=5 if n < 8 else 1) for n in range(40)]
    journeys += [journey(direct, n, day=days[3], final=False) for n in range(40)]
    # day 5: a small lift, 42/400 vs 40/400: 1.05x, not 1.0x
    journeys += [journey(micro, n, day=days[4], furthest=5 if n < 42 else 1) for n in range(400)]
    journeys += [journey(direct, n, day=days[4], furthest=2 if n < 40 else 1) for n in range(400)]
    only_two = FunnelSet((micro, direct))
    con = run_marts(sql_harness, only_two, journeys, {})
    rows = {r["cohort_date"]: r for r in sql_rows(con, "agg_sequence_comparison")}
    assert rows[days[4]]["verdict"].startswith(
        "micro sequence converts 1.05x more per hook (10.5% vs 10.0%); not significant (p = 0."
    )
    assert rows[days[0]]["verdict"] == (
        "no difference measurable yet: fewer than 30 entries on a side (micro 1,200, direct 12)"
    )
    p = math.erfc(abs(ref.two_proportion_z(3, 40, 4, 40) or 0) / math.sqrt(2))
    assert rows[days[1]]["verdict"] == (
        f"direct ask converts 1.3x more per hook (10.0% vs 7.5%); not significant (p = {p:.2f})"
    )
    assert rows[days[2]]["verdict"] == "no difference: both sides convert 10.0% per hook"
    assert rows[days[2]]["p_value"] == pytest.approx(1.0)
    assert rows[days[3]]["verdict"].startswith("micro sequence converts more per hook (20.0% vs")
    assert rows[days[3]]["relative_lift"] is None and not rows[days[3]]["is_final"]
    assert rows[None]["is_final"] is False and rows[days[0]]["is_final"] is True
    for row in rows.values():
        assert (row["micro_spend"], row["micro_cost_per_conversion"]) == (None, None)
    assert_same_rows(
        ref.sequence_comparison(journeys, only_two.funnels, {}),
        sql_rows(con, "agg_sequence_comparison"),
        COMPARISON_KEY,
    )


def test_diagnostic_findings_on_a_known_funnel(sql_harness: SqlHarness, funnels: FunnelSet) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    journeys = []
    # 100 hooks; 80 reach first_action (after 30 s); 20 of them reach engagement (after 2 h);
    # all 20 reach reinforcement after 3 h (100% pass, slow, but under 30 journeys); 5 convert.
    for n in range(100):
        furthest = 1 if n >= 80 else 2 if n >= 20 else 4 if n >= 5 else 5
        journeys.append(
            journey(micro, n, furthest=furthest, gaps=(30, 7200, 10800, 60), stalled=n >= 90)
        )
    journeys += [journey(direct, n) for n in range(100)]  # no conversion at all
    only_two = FunnelSet((micro, direct))
    con = run_marts(sql_harness, only_two, journeys, {})
    got = {
        (r["funnel_id"], r["platform"], r["finding"]): r
        for r in sql_rows(con, "agg_funnel_diagnostics")
    }
    drop = got[("micro_commitment", "(all)", "largest_dropoff")]
    assert (drop["stage_name"], drop["next_stage_name"]) == ("first_action", "engagement")
    assert drop["metric_name"] == "dropoff_count" and drop["metric_value"] == 60
    assert (drop["journeys"], drop["journeys_lost"]) == (80, 60)
    assert drop["evidence"] == (
        "60 journeys (75.0% of 80) that reached first_action stopped there, before engagement"
    )
    slow = got[("micro_commitment", "(all)", "slowest_step")]
    assert (slow["stage_name"], slow["metric_value"]) == ("first_action", 7200.0)
    assert slow["evidence"] == (
        "from first_action, the next stage took a median of 2.0 h (20 of 80 journeys went on)"
    )
    # engagement (20 journeys) is below the 30-journey minimum: no delay finding.
    delay = got[("micro_commitment", "(all)", "delay_without_filter")]
    assert not delay["is_flagged"] and delay["stage_order"] is None
    assert delay["evidence"] == (
        "no step of at least 30 journeys lets 90.0% or more through yet takes a median of "
        "1.0 h or more"
    )
    stalled = got[("micro_commitment", "(all)", "stalled_journeys")]
    assert stalled["evidence"] == (
        "10.0% of 100 journeys stalled (the user did nothing after reaching a stage), "
        "most at hook (10)"
    )
    assert not stalled["is_flagged"] and stalled["threshold"] == 0.5
    ask = got[("direct_ask", "(all)", "asking_too_much_too_soon")]
    assert ask["is_flagged"] and ask["metric_name"] == "p_value" and ask["metric_value"] < 0.05
    p = math.erfc(0.05 / math.sqrt(0.025 * 0.975 * 0.02) / math.sqrt(2))  # 0/100 vs 5/100
    assert ask["metric_value"] == pytest.approx(p, abs=1e-12)
    assert ask["evidence"] == (
        "direct_ask converts 0.0% of 100 entries vs 5.0% of 100 for micro_commitment"
        f" (all campaigns): worse, significant (p = {p:.3f})"
    )
    assert ("micro_commitment", "(all)", "asking_too_much_too_soon") not in got
    assert_same_rows(
        ref.funnel_diagnostics(journeys, only_two.funnels),
        sql_rows(con, "agg_funnel_diagnostics"),
        DIAGNOSTICS_KEY,
    )


def test_largest_dropoff_is_the_step_that_loses_the_most_people_not_the_lowest_rate(
    sql_harness: SqlHarness, funnels: FunnelSet
) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    # 200 hooks -> 120 first_action (80 lost, 40%) -> 100 engagement (20 lost) -> 40
    # reinforcement (60 lost) -> 10 conversions (30 lost: the lowest step rate, 25%).
    furthest = [1] * 80 + [2] * 20 + [3] * 60 + [4] * 30 + [5] * 10
    journeys = [journey(micro, n, furthest=f) for n, f in enumerate(furthest)]
    journeys += [journey(direct, n, furthest=2 if n < 10 else 1) for n in range(100)]
    only_two = FunnelSet((micro, direct))
    con = run_marts(sql_harness, only_two, journeys, {})
    got = {
        (r["funnel_id"], r["platform"], r["finding"]): r
        for r in sql_rows(con, "agg_funnel_diagnostics")
    }
    drop = got[("micro_commitment", "(all)", "largest_dropoff")]
    assert (drop["stage_name"], drop["journeys_lost"], drop["journeys"]) == ("hook", 80, 200)
    assert drop["evidence"] == (
        "80 journeys (40.0% of 200) that reached hook stopped there, before first_action"
    )
    ask = got[("direct_ask", "(all)", "asking_too_much_too_soon")]
    assert ask["journeys_lost"] == 90  # the direct ask's unconverted entries
    assert_same_rows(
        ref.funnel_diagnostics(journeys, only_two.funnels),
        sql_rows(con, "agg_funnel_diagnostics"),
        DIAGNOSTICS_KEY,
    )


def recommendation_rows(con: duckdb.DuckDBPyConnection, scope: str) -> list[tuple[Any, ...]]:
    return con.execute(
        "select priority, funnel_id, campaign_id, recommendation, stage_name, "
        "journeys_at_stake, entries, spend_at_stake from agg_funnel_recommendations "
        "where scope = ? order by priority",
        [scope],
    ).fetchall()


def test_recommendations_rank_what_to_fix_by_people_lost_then_spend_at_stake(
    sql_harness: SqlHarness, funnels: FunnelSet
) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    c1, c2 = ("google_ads", "c1"), ("google_ads", "c2")
    d1, organic = ("google_ads", "d1"), (None, None)
    journeys = []
    # c1: 100 journeys, 50 stop (and stall) at hook, 30 at first_action, 10 at engagement,
    # 5 at reinforcement, 5 convert.
    for n, f in enumerate([1] * 50 + [2] * 30 + [3] * 10 + [4] * 5 + [5] * 5):
        journeys.append(journey(micro, n, campaign=c1, furthest=f, stalled=f == 1))
    # c2: 60 journeys, 10 stop at hook, 40 at first_action, 5 at engagement, 5 convert.
    for n, f in enumerate([1] * 10 + [2] * 40 + [3] * 5 + [5] * 5):
        journeys.append(journey(micro, n, campaign=c2, furthest=f))
    # Organic: 40 journeys that all stall at hook (no spend).
    journeys += [journey(micro, n, campaign=organic, stalled=True) for n in range(40)]
    # d1: a direct ask with 100 entries and no conversion (micro converts 10 of 200: p < 0.05).
    journeys += [journey(direct, n, campaign=d1) for n in range(100)]
    spend = {("google_ads", "c1", DAY1): 1000.0, ("google_ads", "c2", DAY1): 300.0,
             ("google_ads", "d1", DAY1): 500.0}  # fmt: skip
    con = run_marts_with_recommendations(sql_harness, FunnelSet((micro, direct)), journeys, spend)
    # Across every campaign: micro loses 100 of 200 at hook, for 1,300 x 100 / 200 of spend;
    # the direct ask's 100 unconverted entries tie on people and rank second on spend (500).
    # Its own drop-off (the ask itself) is not repeated as ease_step.
    assert recommendation_rows(con, "funnel") == [
        (1, "micro_commitment", "(all)", "ease_step", "hook", 100, 200, pytest.approx(650.0)),
        (2, "direct_ask", "(all)", "replace_direct_ask", None, 100, 100, pytest.approx(500.0)),
    ]
    # Per campaign: ties on people broken by spend (unknown last), then by name.
    assert recommendation_rows(con, "campaign") == [
        (1, "direct_ask", "d1", "replace_direct_ask", None, 100, 100, pytest.approx(500.0)),
        (2, "micro_commitment", "c1", "ease_step", "hook", 50, 100, pytest.approx(500.0)),
        (3, "micro_commitment", "c1", "follow_up_stalled", "hook", 50, 100, pytest.approx(500.0)),
        (4, "micro_commitment", "c2", "ease_step", "first_action", 40, 60, pytest.approx(200.0)),
        (5, "micro_commitment", "(none)", "ease_step", "hook", 40, 40, None),
        (6, "micro_commitment", "(none)", "follow_up_stalled", "hook", 40, 40, None),
    ]
    top = con.execute(
        "select action, evidence, share_at_stake from agg_funnel_recommendations "
        "where scope = 'funnel' and priority = 1"
    ).fetchone()
    assert top == (
        "Make the step after hook easier: a smaller, clearer ask to reach first_action",
        "100 journeys (50.0% of 200) that reached hook stopped there, before first_action",
        0.5,
    )


def run_marts_with_recommendations(
    harness: SqlHarness,
    funnels: FunnelSet,
    journeys: Sequence[Any],
    spend: dict[tuple[str, str, date], float],
) -> duckdb.DuckDBPyConnection:
    return harness.run(
        {"fct_funnel_journeys": fct_table(journeys), "int_ad_spend_daily": spend_table(spend)},
        ["agg_funnel_recommendations"],
        funnels=funnels,
    )


def test_lower_thresholds_through_dbt_vars(tmp_path: Path, funnels: FunnelSet) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    journeys = [
        journey(micro, n, furthest=4 if n < 18 else 2, gaps=(30, 7200, 10800)) for n in range(20)
    ]
    journeys += [journey(direct, n) for n in range(20)]
    thresholds = ref.Thresholds(min_journeys=10, delay_seconds=1800, stalled_share=0.2)
    harness = SqlHarness.compile(
        tmp_path,
        dbt_vars={
            "microfunnel__diagnostics_min_journeys": 10,
            "microfunnel__diagnostics_delay_seconds": 1800,
            "microfunnel__diagnostics_stalled_share": 0.2,
        },
    )
    only_two = FunnelSet((micro, direct))
    con = run_marts(harness, only_two, journeys, {})
    expected = ref.funnel_diagnostics(journeys, only_two.funnels, thresholds)
    delay = next(
        r
        for r in expected
        if (r.funnel_id, r.platform, r.finding) == (micro.id, ref.ALL, "delay_without_filter")
    )
    # first_action passes 90% after 2 h, engagement 100% after 3 h: the slower one is reported.
    assert delay.is_flagged and delay.stage_name == "engagement" and delay.threshold == 1800
    assert_same_rows(expected, sql_rows(con, "agg_funnel_diagnostics"), DIAGNOSTICS_KEY)


# --- statistics against textbook numbers -------------------------------------------------------


def render_macro(call: str) -> str:
    """SQL of a statistics macro call (the macros are plain Jinja: no dbt context needed)."""
    source = STATISTICS_MACROS.read_text(encoding="utf-8")
    return jinja2.Environment().from_string(source + "{{ " + call + " }}").render().strip()


def phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


def test_normal_cdf_macro_is_accurate_to_1e_minus_7_everywhere() -> None:
    grid = [i / 100 for i in range(-4000, 4001)] + [1.959963984540054, 2.5758293035489004]
    with duckdb.connect() as con:
        con.execute("create table g as select unnest(?::double[]) as x", [grid])
        cdf_sql = render_macro("normal_cdf('x')")
        values = con.execute(f"select x, {cdf_sql} as cdf from g").fetchall()
    errors = [abs(cdf - phi(x)) for x, cdf in values]
    assert max(errors) < 1e-14  # the documented bound is 1e-15; the brief asks < 1e-7
    by_x = dict(values)
    assert by_x[0.0] == 0.5
    assert by_x[1.959963984540054] == pytest.approx(0.975, abs=1e-15)
    assert by_x[-1.0] == pytest.approx(0.15865525393145707, abs=1e-15)
    assert by_x[-5.0] == pytest.approx(2.866515718791939e-07, rel=1e-9)


def test_wilson_and_two_proportion_test_textbook_numbers() -> None:
    z = ref.Z_95
    # 0 successes in 10 trials: the upper bound is z^2 / (n + z^2) = 0.2775.
    low, high = ref.wilson_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(z * z / (10 + z * z), abs=1e-12)
    assert high == pytest.approx(0.2775, abs=1e-4)
    # Wilson bounds are the roots of (p_hat - p)^2 = z^2 p (1 - p) / n, solved independently.
    for x, n in [(45, 100), (12, 40), (1, 1000), (999, 1000)]:
        p_hat = x / n
        a, b, c = 1 + z * z / n, -(2 * p_hat + z * z / n), p_hat * p_hat
        root = math.sqrt(b * b - 4 * a * c)
        low, high = ref.wilson_interval(x, n)
        assert low == pytest.approx((-b - root) / (2 * a), abs=1e-12)
        assert high == pytest.approx((-b + root) / (2 * a), abs=1e-12)
    # 45/100 vs 30/100: pooled 0.375, z = 0.15 / sqrt(0.375 * 0.625 * 0.02) = 2.19, p = 0.0285.
    z_score = ref.two_proportion_z(45, 100, 30, 100)
    assert z_score == pytest.approx(0.15 / math.sqrt(0.375 * 0.625 * 0.02), rel=1e-12)
    assert z_score == pytest.approx(2.1909, abs=1e-4)
    assert ref.two_sided_p_value(z_score) == pytest.approx(0.02846, abs=1e-5)
    assert ref.two_sided_p_value(1.959963984540054) == pytest.approx(0.05, abs=1e-15)
    assert ref.two_proportion_z(0, 50, 0, 60) is None


def test_the_sql_statistics_give_the_textbook_numbers(
    sql_harness: SqlHarness, funnels: FunnelSet
) -> None:
    micro, direct = funnels.by_id["micro_commitment"], funnels.by_id["direct_ask"]
    journeys = [journey(micro, n, furthest=5 if n < 45 else 1) for n in range(100)]
    journeys += [journey(direct, n, furthest=2 if n < 30 else 1) for n in range(100)]
    con = run_marts(sql_harness, FunnelSet((micro, direct)), journeys, {})
    row = next(r for r in sql_rows(con, "agg_sequence_comparison") if r["cohort_grain"] == "all")
    z = 0.15 / math.sqrt(0.375 * 0.625 * 0.02)
    assert row["z_score"] == pytest.approx(z, rel=1e-12)
    assert row["p_value"] == pytest.approx(math.erfc(z / math.sqrt(2)), abs=1e-12)
    assert row["p_value"] == pytest.approx(0.02846, abs=1e-5)
    assert row["absolute_lift"] == pytest.approx(0.15) and row["relative_lift"] == pytest.approx(
        0.5
    )
    assert row["is_significant"]
    assert row["verdict"] == (
        "micro sequence converts 1.5x more per hook (45.0% vs 30.0%); significant (p = 0.028)"
    )
    for side, x in (("micro", 45), ("direct", 30)):
        assert (row[f"{side}_ci_low"], row[f"{side}_ci_high"]) == pytest.approx(
            ref.wilson_interval(x, 100), abs=1e-12
        )
    # 45/100: Wilson 95% interval (0.3561, 0.5476), the textbook value.
    assert row["micro_ci_low"] == pytest.approx(0.3561, abs=1e-4)
    assert row["micro_ci_high"] == pytest.approx(0.5476, abs=1e-4)
