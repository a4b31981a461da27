"""The analysis marts (docs/funnels.md section 6): the Python reference on hand-made journeys,
then the dbt SQL against the reference, row by row, on fct_funnel_journeys tables built from
the same journeys (harness/dbt_sql.py runs the compiled models in memory)."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from harness.dbt_sql import SqlHarness
from pipelines.lib.funnels.loader import parse_funnels
from pipelines.lib.funnels.model import FunnelSet
from tests.journey_fixtures import ANALYSIS_MART_GRAIN
from tests.reference import analysis_marts as mr
from tests.reference.funnel import Journey

MAX_STAGES = 8  # dbt var microfunnel__max_stages
MARTS = tuple(ANALYSIS_MART_GRAIN)

FUNNELS = parse_funnels(
    """
funnels:
  - id: micro
    version: 3
    label: Micro
    kind: micro
    primary: true
    stages:
      - {name: hook, events: [page_view]}
      - {name: first_action, events: [click]}
      - {name: engagement, events: [scroll]}
      - {name: conversion, events: [purchase]}
  - id: direct
    version: 1
    label: Direct
    kind: direct
    stages:
      - {name: hook, events: [page_view]}
      - {name: conversion, events: [purchase]}
"""
)
MICRO = FUNNELS.by_id["micro"]
DIRECT = FUNNELS.by_id["direct"]


# --- journeys and the fct_funnel_journeys table built from them --------------------------------


def journey(
    funnel_id: str = "micro",
    *,
    reached: Sequence[float | None] = (0.0,),
    day: date = date(2024, 3, 4),
    platform: str | None = "google_ads",
    campaign_id: str | None = "c1",
    excluded: bool = False,
    final: bool = True,
    intent: str = "early",
    version: int | None = None,
    n: int = 0,
) -> Journey:
    """A journey whose stage k was reached `reached[k-1]` seconds after midnight of `day`
    (None: not reached, e.g. a skipped optional stage)."""
    funnel = FUNNELS.by_id[funnel_id]
    stages = funnel.stage_count
    offsets = list(reached) + [None] * (stages - len(reached))
    start = datetime.combine(day, datetime.min.time())
    reached_at = tuple(None if s is None else start + timedelta(seconds=s) for s in offsets)
    furthest = max(k for k, at in enumerate(reached_at, start=1) if at is not None)
    converted = furthest == stages
    times = [at for at in reached_at if at is not None]
    started_at = times[0]
    ended_at = times[-1] if converted else started_at + funnel.window
    return Journey(
        funnel_id=funnel_id,
        funnel_version=funnel.version if version is None else version,
        journey_id=f"{funnel_id}-{day}-{platform}-{campaign_id}-{n}-{offsets}",
        user_key=f"u{n}",
        platform=platform,
        campaign_id=campaign_id,
        first_touch_platform=platform,
        first_touch_campaign_id=campaign_id,
        attribution_model="first_touch",
        cohort_date=day,
        started_at=started_at,
        ended_at=ended_at,
        deadline_at=started_at + funnel.window,
        reached_at=reached_at,
        reached_event_id=tuple(None if at is None else f"e{k}" for k, at in enumerate(reached_at)),
        reached_event_name=tuple(None if at is None else "page_view" for at in reached_at),
        seconds_to_next=tuple(None for _ in reached_at),
        engaged_seconds=tuple(None if at is None else 0.0 for at in reached_at),
        furthest_stage=furthest,
        is_converted=converted,
        seconds_to_convert=(ended_at - started_at).total_seconds() if converted else None,
        is_excluded=excluded,
        excluded_by="support_contact" if excluded else None,
        excluded_event_id="x1" if excluded else None,
        dropoff_event_id=None,
        dropoff_event_name=None,
        dropoff_at=None,
        is_stalled=False,
        intent_segment=intent,
        intent_rule="prior_stage",
        is_final=final,
    )


FCT_SCALARS: tuple[tuple[str, pa.DataType], ...] = (
    ("funnel_id", pa.string()),
    ("funnel_version", pa.int32()),
    ("journey_id", pa.string()),
    ("user_key", pa.string()),
    ("platform", pa.string()),
    ("campaign_id", pa.string()),
    ("first_touch_platform", pa.string()),
    ("first_touch_campaign_id", pa.string()),
    ("attribution_model", pa.string()),
    ("cohort_date", pa.date32()),
    ("started_at", pa.timestamp("us")),
    ("ended_at", pa.timestamp("us")),
    ("deadline_at", pa.timestamp("us")),
    ("furthest_stage", pa.int32()),
    ("is_converted", pa.bool_()),
    ("seconds_to_convert", pa.float64()),
    ("is_excluded", pa.bool_()),
    ("excluded_by", pa.string()),
    ("excluded_event_id", pa.string()),
    ("dropoff_event_id", pa.string()),
    ("dropoff_event_name", pa.string()),
    ("dropoff_at", pa.timestamp("us")),
    ("is_stalled", pa.bool_()),
    ("intent_segment", pa.string()),
    ("intent_rule", pa.string()),
    ("is_final", pa.bool_()),
)
FCT_PER_STAGE: tuple[tuple[str, str, pa.DataType], ...] = (
    ("reached_at", "reached_at", pa.timestamp("us")),
    ("event_id", "reached_event_id", pa.string()),
    ("event_name", "reached_event_name", pa.string()),
    ("seconds_to_next", "seconds_to_next", pa.float64()),
    ("engaged_seconds", "engaged_seconds", pa.float64()),
)


def fct_table(journeys: Iterable[Journey], funnels: FunnelSet) -> pa.Table:
    """fct_funnel_journeys rows (journey_interface.md: wide per stage, k = 1..8)."""
    by_id = funnels.by_id
    columns: dict[str, list[Any]] = {name: [] for name, _ in FCT_SCALARS}
    for k in range(1, MAX_STAGES + 1):
        for suffix, _, _ in FCT_PER_STAGE:
            columns[f"stage_{k}_{suffix}"] = []
    columns["furthest_stage_name"] = []
    columns["stage_count"] = []
    for j in journeys:
        for name, _ in FCT_SCALARS:
            columns[name].append(getattr(j, name))
        for k in range(1, MAX_STAGES + 1):
            for suffix, attribute, _ in FCT_PER_STAGE:
                values = getattr(j, attribute)
                columns[f"stage_{k}_{suffix}"].append(values[k - 1] if k <= len(values) else None)
        columns["furthest_stage_name"].append(by_id[j.funnel_id].stage(j.furthest_stage).name)
        columns["stage_count"].append(by_id[j.funnel_id].stage_count)
    types = dict(FCT_SCALARS)
    for k in range(1, MAX_STAGES + 1):
        for suffix, _, dtype in FCT_PER_STAGE:
            types[f"stage_{k}_{suffix}"] = dtype
    types["furthest_stage_name"] = pa.string()
    types["stage_count"] = pa.int32()
    schema = pa.schema([(name, types[name]) for name in columns])
    return pa.table(columns, schema=schema)


def random_journeys(seed: int, count: int) -> list[Journey]:
    """Journeys over three weeks around New Year (ISO week 1 of 2025 starts 2024-12-30),
    mixed funnels, campaigns, organic traffic, skipped stages, exclusions and intents;
    is_final for the cohorts up to a cut-off day, as the pipeline marks them."""
    rng = random.Random(seed)
    first_day, final_through = date(2024, 12, 16), date(2024, 12, 29)
    # Gaps that land on and around every time-to-convert bucket boundary.
    gaps = [0, 0.5, 59.999, 60, 299, 300, 900, 3599, 3600, 21600, 86400, 200000, 302400]
    campaigns = [("google_ads", "c1"), ("google_ads", "c2"), ("meta_ads", "m1"), (None, None)]
    journeys = []
    for n in range(count):
        funnel = rng.choice([MICRO, MICRO, DIRECT])
        furthest = rng.randint(1, funnel.stage_count)
        offsets: list[float | None] = [float(rng.randint(0, 80000))]
        clock = offsets[0]
        for k in range(2, furthest + 1):
            clock += rng.choice(gaps)
            # A stage before the furthest may be skipped (an optional stage).
            offsets.append(None if k < furthest and rng.random() < 0.2 else clock)
        day = first_day + timedelta(days=rng.randint(0, 20))
        platform, campaign = rng.choice(campaigns)
        journeys.append(
            journey(
                funnel.id,
                reached=offsets,
                day=day,
                platform=platform,
                campaign_id=campaign,
                excluded=rng.random() < 0.1,
                final=day <= final_through,
                intent=rng.choice(["early", "mid", "late"]),
                n=n,
            )
        )
    return journeys


# --- the reference on hand-made journeys ---------------------------------------------------------


def rows_by(rows: Iterable[Any], **match: Any) -> list[Any]:
    return [r for r in rows if all(getattr(r, k) == v for k, v in match.items())]


def only(rows: Iterable[Any], **match: Any) -> Any:
    found = rows_by(rows, **match)
    assert len(found) == 1, (match, found)
    return found[0]


def test_trends_count_days_and_iso_weeks_with_an_all_rollup_and_organic_traffic() -> None:
    monday, sunday = date(2024, 12, 30), date(2024, 12, 29)  # 2025-W01 starts on that Monday
    journeys = [
        journey(reached=[0, 10, 20, 100], day=monday, n=1),
        journey(reached=[0, 10, 20, 300], day=monday, n=2),
        journey(reached=[0, 10], day=monday, n=3),
        journey(reached=[0, 10, 20, 50], day=monday, platform=None, campaign_id=None, n=4),
        journey(reached=[0, 10, 20, 50], day=monday, excluded=True, n=5),
        journey(reached=[0], day=sunday, n=6),
    ]
    rows = mr.funnel_trends(journeys, FUNNELS)
    day = only(rows, cohort_grain="day", cohort_start=monday, campaign_id="c1")
    assert (day.journeys_started, day.journeys_converted, day.journeys_excluded) == (3, 2, 1)
    assert day.conversion_rate == pytest.approx(2 / 3)
    assert day.median_seconds_to_convert == 200.0
    assert (day.iso_year, day.iso_week, day.funnel_version) == (2025, 1, 3)
    organic = only(rows, cohort_grain="day", cohort_start=monday, campaign_id="(none)")
    assert organic.platform == "organic" and organic.journeys_converted == 1
    rollup = only(rows, cohort_grain="day", cohort_start=monday, platform="(all)")
    assert (rollup.campaign_id, rollup.journeys_started, rollup.journeys_excluded) == (
        "(all)",
        4,
        1,
    )
    assert rollup.median_seconds_to_convert == 100.0  # of 50, 100, 300
    week = only(rows, cohort_grain="week", cohort_start=monday, platform="(all)")
    assert week.journeys_started == 4
    previous_week = only(
        rows, cohort_grain="week", cohort_start=date(2024, 12, 23), platform="(all)"
    )
    assert (previous_week.iso_year, previous_week.iso_week) == (2024, 52)
    assert previous_week.journeys_started == 1 and previous_week.conversion_rate == 0.0
    assert {r.funnel_id for r in rows} == {"micro"}


def test_a_platform_rollup_sums_its_campaigns_and_nothing_else() -> None:
    journeys = [
        journey(reached=[0, 10, 20, 100], n=1),
        journey(reached=[0], campaign_id="c2", n=2),
        journey(reached=[0, 10, 20, 50], platform=None, campaign_id=None, n=3),
    ]
    rows = mr.funnel_trends(journeys, FUNNELS)
    google = only(rows, cohort_grain="day", platform="google_ads", campaign_id="(all)")
    assert (google.journeys_started, google.journeys_converted) == (2, 1)
    organic = only(rows, cohort_grain="day", platform="organic", campaign_id="(all)")
    assert organic.journeys_started == 1
    every = only(rows, cohort_grain="day", platform="(all)")
    assert (every.campaign_id, every.journeys_started) == ("(all)", 3)
    momentum = rows_by(mr.momentum_curve(journeys, FUNNELS), campaign_id="(all)")
    assert {r.platform for r in momentum} == {"google_ads", "organic", "(all)"}
    buckets = rows_by(mr.time_to_convert(journeys, FUNNELS), platform="google_ads")
    assert {r.campaign_id for r in buckets} == {"c1", "(all)"}  # c2 has no conversion
    assert {r.total_conversions for r in buckets} == {1}


def test_intent_segment_totals_sum_every_cohort_day_per_scope() -> None:
    journeys = [
        journey(reached=[0, 10, 20, 30], intent="late", day=date(2024, 3, 1), n=1),
        journey(reached=[0, 10], intent="late", day=date(2024, 3, 2), final=False, n=2),
        journey(reached=[0], intent="late", campaign_id="c2", n=3),
    ]
    rows = mr.intent_segment_totals(journeys, FUNNELS)
    c1 = rows_by(rows, campaign_id="c1")
    assert [r.journeys_reached for r in c1] == [2, 2, 1, 1]
    assert [r.journeys_advanced for r in c1] == [2, 1, 1, None]
    assert not c1[0].is_final
    google = rows_by(rows, platform="google_ads", campaign_id="(all)")
    assert [r.journeys_reached for r in google] == [3, 2, 1, 1]
    assert google[1].overall_conversion_rate == pytest.approx(2 / 3)


def test_trends_keep_a_period_whose_journeys_are_all_excluded() -> None:
    rows = mr.funnel_trends([journey(reached=[0, 5], excluded=True)], FUNNELS)
    day = only(rows, cohort_grain="day", campaign_id="c1")
    assert (day.journeys_started, day.journeys_excluded) == (0, 1)
    assert day.conversion_rate is None and day.median_seconds_to_convert is None


def test_a_week_is_final_only_when_its_sunday_is_final_even_without_journeys_that_day() -> None:
    monday = date(2024, 3, 4)
    final_week = [journey(day=monday, final=True, n=1), journey(day=date(2024, 3, 12), n=2)]
    rows = mr.funnel_trends(final_week, FUNNELS)
    # A final journey on a later day proves the Sunday (2024-03-10) final.
    assert only(rows, cohort_grain="week", cohort_start=monday, platform="(all)").is_final
    open_week = [
        journey(day=monday, final=True, n=1),
        journey(day=date(2024, 3, 8), final=True, n=2),
        journey(day=date(2024, 3, 12), final=False, n=3),
    ]
    rows = mr.funnel_trends(open_week, FUNNELS)
    week = only(rows, cohort_grain="week", cohort_start=monday, platform="(all)")
    assert not week.is_final  # Friday is the newest final day: the weekend may still change
    assert only(rows, cohort_grain="day", cohort_start=monday, platform="(all)").is_final


def test_time_to_convert_buckets_include_the_lower_bound_and_fill_every_bucket() -> None:
    journeys = [
        journey("direct", reached=[0, 59.999], n=1),
        journey("direct", reached=[0, 60], n=2),
        journey("direct", reached=[0, 86399], n=3),
        journey("direct", reached=[0, 604800], n=4),
        journey("direct", reached=[0, 30], excluded=True, n=5),
        journey("direct", reached=[0], campaign_id="c2", n=6),  # no conversion: no rows
    ]
    rows = mr.time_to_convert(journeys, FUNNELS)
    group = rows_by(rows, platform="google_ads", campaign_id="c1")
    assert [r.bucket_order for r in group] == list(range(1, 10))
    assert [r.conversions for r in group] == [1, 1, 0, 0, 0, 1, 0, 0, 1]
    assert [r.cumulative_share for r in group] == [0.25, 0.5, 0.5, 0.5, 0.5, 0.75, 0.75, 0.75, 1.0]
    assert group[0].share_of_conversions == 0.25
    assert (group[-1].bucket_label, group[-1].lower_seconds, group[-1].upper_seconds) == (
        ">= 7 d",
        604800,
        None,
    )
    assert not rows_by(rows, campaign_id="c2")
    assert [r.conversions for r in rows_by(rows, platform="(all)")] == [1, 1, 0, 0, 0, 1, 0, 0, 1]


def test_momentum_counts_a_skipped_optional_stage_as_not_reached() -> None:
    journeys = [
        journey(reached=[0, 10, 20, 30], n=1),
        journey(reached=[0, 10, None, 30], n=2),  # skipped engagement, converted
        journey(reached=[0, 10, 20], n=3),
        journey(reached=[0], n=4),
        journey(reached=[0, 10, 20, 30], excluded=True, n=5),
    ]
    rows = rows_by(mr.momentum_curve(journeys, FUNNELS), campaign_id="c1")
    assert [r.stage_name for r in rows] == ["hook", "first_action", "engagement", "conversion"]
    assert [r.journeys_reached for r in rows] == [4, 3, 2, 2]
    assert [r.journeys_converted for r in rows] == [2, 2, 1, 2]
    assert [r.conversion_probability for r in rows] == [0.5, 2 / 3, 0.5, 1.0]
    assert rows[0].lift_vs_previous_stage is None
    assert rows[1].lift_vs_previous_stage == pytest.approx(4 / 3)
    assert rows[2].lift_vs_previous_stage == pytest.approx(0.75)


def test_momentum_has_no_lift_at_the_conversion_stage() -> None:
    # P(convert | converted) is 1 by definition: a lift there would only be 1 / the previous
    # stage's probability (here 2.0), which says nothing about momentum.
    journeys = [journey(reached=[0, 10, 20, 30], n=1), journey(reached=[0, 10, 20], n=2)]
    rows = rows_by(mr.momentum_curve(journeys, FUNNELS), platform="(all)")
    assert rows[-1].stage_name == "conversion" and rows[-1].conversion_probability == 1.0
    assert rows[-1].lift_vs_previous_stage is None
    assert rows[2].lift_vs_previous_stage == 1.0


def test_momentum_lift_is_none_after_a_stage_with_no_chance() -> None:
    journeys = [journey(reached=[0, 10], n=1), journey(reached=[0, 10, None, 20], n=2)]
    rows = rows_by(mr.momentum_curve(journeys, FUNNELS), platform="(all)")
    assert [r.conversion_probability for r in rows] == [0.5, 0.5, None, 1.0]
    assert [r.lift_vs_previous_stage for r in rows] == [None, 1.0, None, None]


def test_intent_segments_count_advances_per_segment_with_none_for_the_last_stage() -> None:
    journeys = [
        journey(reached=[0, 10, 20, 30], intent="late", n=1),
        journey(reached=[0, 10], intent="late", n=2),
        journey(reached=[0, 10, None, 30], intent="late", n=3),
        journey(reached=[0], intent="early", final=False, n=4),
        journey(reached=[0, 10], intent="early", excluded=True, n=5),
    ]
    rows = mr.intent_segments(journeys, FUNNELS)
    late = rows_by(rows, intent_segment="late")
    assert [r.journeys_reached for r in late] == [3, 3, 1, 2]
    assert [r.journeys_advanced for r in late] == [3, 2, 1, None]
    assert [r.step_conversion_rate for r in late] == [1.0, 2 / 3, 1.0, None]
    assert [r.overall_conversion_rate for r in late] == [1.0, 1.0, 1 / 3, 2 / 3]
    assert all(r.is_final for r in late)
    early = rows_by(rows, intent_segment="early")
    assert [r.journeys_reached for r in early] == [1, 0, 0, 0]
    assert early[1].step_conversion_rate is None and not early[0].is_final


def test_two_versions_of_a_funnel_never_add_up() -> None:
    journeys = [journey(reached=[0, 10, 20, 30], n=1), journey(reached=[0], version=2, n=2)]
    for rows in mr.all_marts(journeys, FUNNELS).values():
        assert {r.funnel_version for r in rows} <= {2, 3}
    trends = rows_by(mr.funnel_trends(journeys, FUNNELS), cohort_grain="day", platform="(all)")
    assert sorted((r.funnel_version, r.journeys_started) for r in trends) == [(2, 1), (3, 1)]


# --- the SQL against the reference ---------------------------------------------------------------


def close(expected: Any, actual: Any) -> bool:
    if isinstance(expected, float) and isinstance(actual, float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return expected == actual and type(expected) is type(actual)


def run_marts(
    harness: SqlHarness, journeys: Sequence[Journey], funnels: FunnelSet = FUNNELS
) -> dict[str, tuple[tuple[str, ...], dict[tuple[Any, ...], dict[str, Any]]]]:
    """Every analysis mart built by the dbt SQL: columns and rows by grain."""
    con = harness.run({"fct_funnel_journeys": fct_table(journeys, funnels)}, MARTS, funnels=funnels)
    marts = {}
    for mart in MARTS:
        cursor = con.execute(f"select * from {mart}")
        columns = tuple(d[0] for d in cursor.description)
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        by_grain = {tuple(r[c] for c in ANALYSIS_MART_GRAIN[mart]): r for r in rows}
        assert len(by_grain) == len(rows), f"{mart} repeats a grain"
        marts[mart] = (columns, by_grain)
    con.close()
    return marts


def assert_sql_equals_reference(harness: SqlHarness, journeys: Sequence[Journey]) -> None:
    actual = run_marts(harness, journeys)
    for mart, reference_rows in mr.all_marts(journeys, list(FUNNELS)).items():
        columns, got = actual[mart]
        expected = {
            tuple(getattr(r, c) for c in ANALYSIS_MART_GRAIN[mart]): dataclasses.asdict(r)
            for r in reference_rows
        }
        assert columns == tuple(f.name for f in dataclasses.fields(reference_rows[0])), mart
        assert sorted(got, key=repr) == sorted(expected, key=repr), mart
        differing = {
            key: {c: (v, got[key][c]) for c, v in row.items() if not close(v, got[key][c])}
            for key, row in expected.items()
        }
        differing = {key: diff for key, diff in differing.items() if diff}
        assert not differing, (
            f"{mart}: {len(differing)} rows differ, e.g. {list(differing.items())[:3]}"
        )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_sql_marts_equal_the_reference_row_by_row_on_random_journeys(
    sql_harness: SqlHarness,
    seed: int,
) -> None:
    journeys = random_journeys(seed, 1500)
    assert sum(j.is_excluded for j in journeys) > 50
    assert_sql_equals_reference(sql_harness, journeys)


def test_sql_marts_equal_the_reference_on_the_hand_made_edge_cases(
    sql_harness: SqlHarness,
) -> None:
    monday = date(2024, 12, 30)
    journeys = [
        journey("direct", reached=[0, 59.999], day=monday, n=1),
        journey("direct", reached=[0, 60], day=monday, n=2),
        journey("direct", reached=[0, 604800], day=date(2024, 12, 29), n=3),
        journey(reached=[0, 10, None, 30], day=monday, platform=None, campaign_id=None, n=4),
        journey(reached=[0, 10], excluded=True, day=date(2025, 1, 6), final=False, n=5),
        journey(reached=[0], day=monday, intent="late", n=6),
    ]
    assert_sql_equals_reference(sql_harness, journeys)


def test_sql_keeps_older_funnel_versions_apart_with_the_stage_names_they_recorded(
    sql_harness: SqlHarness,
) -> None:
    journeys = [
        journey(reached=[0, 10, 20, 30], n=1),
        journey(reached=[0, 10], version=2, n=2),
        journey(reached=[0, 10, 20, 30], version=2, n=3),
    ]
    _, momentum = run_marts(sql_harness, journeys)["agg_momentum_curve"]
    old = {key[-1]: row for key, row in momentum.items() if key[1] == 2 and key[2] == "(all)"}
    assert sorted(old) == [1, 2, 3, 4]
    assert [old[k]["journeys_reached"] for k in (1, 2, 3, 4)] == [2, 2, 1, 1]
    # The current definition (version 3) names stages; version 2 only knows its journeys'
    # furthest stages.
    assert [old[k]["stage_name"] for k in (1, 2, 3, 4)] == [
        None,
        "first_action",
        None,
        "conversion",
    ]
    current = [row for key, row in momentum.items() if key[1] == 3 and key[2] == "(all)"]
    assert [r["stage_name"] for r in sorted(current, key=lambda r: r["stage_order"])] == [
        "hook",
        "first_action",
        "engagement",
        "conversion",
    ]
