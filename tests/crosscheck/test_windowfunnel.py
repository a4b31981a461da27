"""Our journey SQL against ClickHouse `windowFunnel` (chdb), where the two mean the same thing.

For every user, `furthest_stage` of the user's first journey in `fct_funnel_journeys` must equal
the level of `windowFunnel(window)(timestamp, stage_1, ..., stage_N)` (funnel `mode: ordered`)
or `windowFunnel(window, 'strict_order')(...)` (`mode: strict`) over the user's events; a user
without a journey (no stage-1 event) has level 0. The domain below is where this holds; it was
derived from ClickHouse's `AggregateFunctionWindowFunnel.cpp` and each difference is pinned by a
test in this module (`test_outside_the_domain_*`, `test_clickhouse_behaviour_*`).

How ClickHouse computes the level: it sorts the user's (timestamp, condition index) pairs (an
event adds one pair per condition it satisfies) and walks them once, keeping for each level the
chain that reached it; a stage-1 event always (re)starts a chain with its own window, a level-k
event extends the chain of level k-1 when `timestamp <= chain start + window`, and the level is
the deepest ever reached, over all chains.

Domain (both modes):

1. The funnel has no optional stages, no `max_gap` and no `campaigns` (windowFunnel has no such
   notions). Exclusions do not change `furthest_stage` (docs/funnels.md; not exercised here).
2. Every event matches at most one stage (the stage conditions are disjoint). ClickHouse adds an
   event matching several conditions once per condition and, at one timestamp, handles them in
   ascending condition order, so one event can advance several levels; in ours an event
   advances at most one stage.
3. The conditions given to windowFunnel are non-null UInt8 (`toUInt8(coalesce(cond, false))`):
   with a Nullable argument ClickHouse skips the whole row when any argument is NULL, where our
   filters read null as false.
4. Window: both inclusive (an event exactly at entry + window counts). Timestamps are passed in
   microseconds (`toUnixTimestamp64Micro(event_at)`, window in microseconds).
5. Ties on the timestamp are allowed: ClickHouse orders by (timestamp, condition index), the
   same order as our sequence (`event_at`, lowest matched stage, `event_id`) given point 2;
   events with the same timestamp and the same stage are interchangeable for both.
6. Events before the user's first stage-1 event (of stages 2..N, at any time) are allowed:
   both ignore them.
7. No stage-1 event after the first stage-1 event's deadline (entry + window), unless the first
   journey converted before it: ClickHouse would start a new chain there and report the deepest
   level of any chain, where ours starts a second journey. After a conversion anything may
   follow: ClickHouse has reached its last level, our first journey has ended (later journeys
   of ours are not part of the comparison).

`ordered` additionally:

8. Several stage-1 events are allowed only when every event after the first stage-1 event lies
   inside its window. A stage-1 event inside an open journey does not restart ours, whereas in
   ClickHouse the later chain gets its own, later window: entry at 0, entry at 5 s, stage 2 at
   window + 3 s is level 2 in ClickHouse, furthest stage 1 in ours. A user with a single
   stage-1 event may have events at any time after it.
   Events that match no stage may be fed or not (without `strict_order` ClickHouse adds nothing
   for a row that matches no condition).

`strict` additionally:

9. Only events that match a stage are given to ClickHouse (`where cond_1 or ... or cond_N`):
   `strict_order` stops at any row that matches no condition, while our strict mode ignores
   events that match no stage. Events outside every stage may be anywhere in the data.
10. The funnel event that stops our strict walk (the next funnel event after the last reached
   stage, when it is not the next stage inside the window) is not a repeat of a stage already
   reached, including another stage-1 event, even at the entry's timestamp. ClickHouse's
   `strict_order` stops only on an event whose previous level has not been reached (a skip
   ahead) and carries on after a repeat (it re-anchors that level): entry, 2, 2, 3 is level 3
   in ClickHouse, furthest stage 2 in ours; entry, 2, entry, 3 likewise. A stop on the next
   stage arriving after the window agrees (ClickHouse skips it, and with point 7 nothing later
   can advance).

The test data is generated inside this domain (seeded, a few thousand users per seed, timestamps
on a coarse grid so ties are frequent, events exactly on and one second past the deadline), and
the funnel has filters on two stages (`is_paid_touch`, `engagement_time_ms >= 10000`) so that
events of the same name fall inside and outside a stage.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from harness.dbt_sql import SqlHarness, journey_inputs
from harness.windowfunnel import (
    FUNNEL_ID,
    STAGE_COUNT,
    WINDOW_SECONDS,
    clickhouse_levels,
    funnel_set,
)
from tests.reference.funnel import compute_journeys

pytest.importorskip("chdb", reason="chdb (ClickHouse in-process) is a test dependency")

W = WINDOW_SECONDS
GRID = 60  # seconds: offsets on a coarse grid make equal timestamps common
AS_OF = date(2024, 6, 30)
BASE = datetime(2024, 6, 1)

# (event_name, is_paid_touch, engagement_time_ms) per stage; NOISE matches no stage.
STAGE_EVENTS: dict[int, tuple[tuple[str, bool, int | None], ...]] = {
    1: (("session_start", True, None), ("page_view", True, None)),
    2: (("click", False, None), ("quiz_answer", True, None)),
    3: (("video_complete", False, None), ("user_engagement", False, 10000)),
    4: (("add_to_wishlist", False, None),),
    5: (("purchase", False, None), ("sign_up", True, None)),
}
NOISE: tuple[tuple[str, bool, int | None], ...] = (
    ("page_view", False, None),  # hook needs a paid touch
    ("session_start", False, None),
    ("user_engagement", False, 9999),  # below the engagement filter
    ("user_engagement", False, None),  # null compares false
    ("scroll", True, None),
)
NOISE_STAGE = 0

Plan = list[tuple[int, int]]  # (stage or NOISE_STAGE, offset seconds from the entry)


# --- data inside the domain ---------------------------------------------------------------------


def _pre_entry(rng: random.Random) -> Plan:
    """Point 6: events of stages 2..N (and noise) before the first stage-1 event."""
    return [
        (rng.choice([NOISE_STAGE, 2, 3, 4, 5]), -GRID * rng.randint(1, 40))
        for _ in range(rng.randint(0, 3))
    ]


def _offset(rng: random.Random, low: int, high: int) -> int:
    """An offset in [low, high]: mostly on the grid, sometimes exactly on a bound."""
    roll = rng.random()
    if roll < 0.1:
        return low
    if roll < 0.2:
        return high
    return min(high, low + GRID * rng.randint(0, max(0, (high - low) // GRID)))


def _noise(rng: random.Random, high: int) -> Plan:
    return [(NOISE_STAGE, _offset(rng, -GRID, high)) for _ in range(rng.randint(0, 3))]


def _run(rng: random.Random, depth: int, high: int) -> Plan:
    """Stages 2..depth in order at non-decreasing offsets in [0, high] (ties sort by stage)."""
    offsets = sorted(_offset(rng, 0, high) for _ in range(depth - 1))
    return list(zip(range(2, depth + 1), offsets, strict=True))


def ordered_user(rng: random.Random) -> Plan:
    """Point 8: several stage-1 events inside the first window, or one entry and any times."""
    kind = rng.random()
    if kind < 0.1:  # no stage-1 event: level 0
        return [(rng.choice([NOISE_STAGE, 2, 3, 4, 5]), _offset(rng, 0, 2 * W)) for _ in range(4)]
    plan = [*_pre_entry(rng), (1, 0)]
    if kind < 0.6:  # repeated stage-1 events, everything inside [entry, entry + window]
        plan += _run(rng, rng.randint(1, STAGE_COUNT), W)
        extra = rng.randint(0, 6)
        plan += [(rng.randint(1, STAGE_COUNT), _offset(rng, 0, W)) for _ in range(extra)]
        return plan + [(NOISE_STAGE, _offset(rng, -GRID, W)) for _ in range(rng.randint(0, 3))]
    # a single stage-1 event; later events also on and past the deadline
    late = [W, W + 1, W + GRID, 2 * W]
    plan += [
        (stage, rng.choice(late) if rng.random() < 0.3 else offset)
        for stage, offset in _run(rng, rng.randint(1, STAGE_COUNT), 2 * W)
    ]
    extra = rng.randint(0, 4)
    plan += [(rng.randint(2, STAGE_COUNT), _offset(rng, 0, 2 * W)) for _ in range(extra)]
    return plan + _noise(rng, 2 * W)


def strict_user(rng: random.Random) -> Plan:
    """Point 10: a run 2..c, then a stop that is not a repeat, then anything the domain allows."""
    if rng.random() < 0.1:  # no stage-1 event: level 0
        return [(rng.choice([NOISE_STAGE, 2, 3, 4, 5]), _offset(rng, 0, 2 * W)) for _ in range(4)]
    depth = rng.randint(1, STAGE_COUNT)
    plan = [*_pre_entry(rng), (1, 0), *_run(rng, depth, W), *_noise(rng, 2 * W)]
    last = max(offset for stage, offset in plan if stage > 0)
    if depth == STAGE_COUNT:  # converted: anything may follow (point 7)
        return plan + [
            (rng.randint(1, STAGE_COUNT), _offset(rng, last + 1, 2 * W + 1))
            for _ in range(rng.randint(0, 4))
        ]
    stop = rng.choice(["skip", "late", "none"])
    if stop == "skip" and depth + 2 <= STAGE_COUNT:  # a later stage jumps ahead, inside the window
        stop_at = _offset(rng, last, W)
        plan.append((rng.randint(depth + 2, STAGE_COUNT), stop_at))
        # after the stop: any stage inside the window, no stage 1 past it (point 7)
        plan += [(rng.randint(1, STAGE_COUNT), _offset(rng, stop_at + 1, W + 1)) for _ in range(3)]
        plan = [(s, o) for s, o in plan if not (s == 1 and o > W)]
    elif stop == "late":  # the next stage, past the deadline
        stop_at = rng.choice([W + 1, W + GRID, 2 * W])
        plan.append((depth + 1, stop_at))
        plan += [(rng.randint(2, STAGE_COUNT), _offset(rng, stop_at + 1, 3 * W)) for _ in range(2)]
    else:  # nothing more inside the window; stages 2..N past it
        plan += [(rng.randint(2, STAGE_COUNT), _offset(rng, W + 1, 3 * W)) for _ in range(2)]
    return plan


def events_from_plans(plans: Sequence[Plan], rng: random.Random) -> list[dict[str, Any]]:
    """Reference-style event dicts (the harness turns them into int_events_enriched rows)."""
    events = []
    for index, plan in enumerate(plans):
        user_key = f"u{index:05d}"
        entry_at = BASE + timedelta(seconds=rng.randint(0, 20 * 86400))
        for stage, offset in plan:
            name, paid, engagement = rng.choice(STAGE_EVENTS.get(stage, NOISE))
            event_at = entry_at + timedelta(seconds=offset)
            events.append(
                {
                    # random ids: equal-time ties are not broken in generation order
                    "event_id": f"{rng.getrandbits(64):016x}",
                    "event_name": name,
                    "event_at": event_at,
                    "event_date": event_at.date(),
                    "user_key": user_key,
                    "anonymous_id": user_key,
                    "is_paid_touch": paid,
                    "platform": "google_ads" if paid else None,
                    "campaign_id": "c-1" if paid else None,
                    "engagement_time_ms": engagement,
                }
            )
    return events


# --- the two engines -----------------------------------------------------------------------------


def our_sql_stages(
    harness: SqlHarness, inputs: dict[str, Any], mode: str
) -> dict[str, tuple[int, ...]]:
    """Per user, furthest_stage of each journey in fct_funnel_journeys, in journey order."""
    con = harness.run(inputs, ["fct_funnel_journeys"], funnels=funnel_set(mode))
    rows = con.execute(
        "select user_key, list(furthest_stage order by started_at) from fct_funnel_journeys"
        " where funnel_id = ? group by user_key",
        [FUNNEL_ID],
    ).fetchall()
    con.close()
    return {user: tuple(stages) for user, stages in rows}


def reference_stages(events: list[dict[str, Any]], mode: str) -> dict[str, tuple[int, ...]]:
    """The same from the Python reference (the oracle of docs/funnels.md)."""
    funnel = funnel_set(mode).funnels[0]
    stages: dict[str, list[int]] = {}
    for journey in compute_journeys(events, funnel, as_of=AS_OF, late_data_days=3):
        stages.setdefault(journey.user_key, []).append(journey.furthest_stage)
    return {user: tuple(values) for user, values in stages.items()}


def run_both(
    harness: SqlHarness, events: list[dict[str, Any]], mode: str, tmp_path: Path
) -> tuple[dict[str, tuple[int, ...]], dict[str, int]]:
    """(our furthest stages per user in journey order, ClickHouse level per user)."""
    inputs = journey_inputs(events, as_of=AS_OF)
    ours = our_sql_stages(harness, inputs, mode)
    parquet = tmp_path / f"events_{mode}.parquet"
    pq.write_table(inputs["int_events_enriched"], parquet)
    return ours, clickhouse_levels(parquet, mode)


def _describe(events: list[dict[str, Any]], user: str) -> str:
    stage_of = {spec: stage for stage, specs in STAGE_EVENTS.items() for spec in specs}
    rows = sorted(
        (e["event_at"], e["event_name"], e["is_paid_touch"], e["engagement_time_ms"])
        for e in events
        if e["user_key"] == user
    )
    return "\n".join(
        f"    {at:%H:%M:%S} {name} stage={stage_of.get((name, paid, eng), '-')}"
        for at, name, paid, eng in rows
    )


def assert_same_levels(
    events: list[dict[str, Any]],
    ours: dict[str, tuple[int, ...]],
    clickhouse: dict[str, int],
) -> None:
    users = sorted({e["user_key"] for e in events})
    mismatches = []
    for user in users:
        journeys = ours.get(user, ())
        first = journeys[0] if journeys else 0
        if first != clickhouse.get(user, 0):
            mismatches.append(user)
        # Point 7: a later journey only after the first one converted.
        assert len(journeys) <= 1 or journeys[0] == STAGE_COUNT, (user, journeys)
    if mismatches:
        detail = "\n".join(
            f"  {user}: ours {ours.get(user, ())} vs ClickHouse {clickhouse.get(user, 0)}\n"
            + _describe(events, user)
            for user in mismatches[:5]
        )
        pytest.fail(f"{len(mismatches)} of {len(users)} users differ, first ones:\n{detail}")


def _levels_spread(ours: dict[str, tuple[int, ...]]) -> set[int]:
    return {journeys[0] for journeys in ours.values()}


# --- tests -------------------------------------------------------------------------------------

GENERATORS: dict[str, Callable[[random.Random], Plan]] = {
    "ordered": ordered_user,
    "strict": strict_user,
}


def generated_events(mode: str, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(f"{mode}-{seed}")
    plans = [GENERATORS[mode](rng) for _ in range(2500)]
    return events_from_plans(plans, rng)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("mode", ["ordered", "strict"])
def test_furthest_stage_equals_windowfunnel_level(
    sql_harness: SqlHarness, tmp_path: Path, mode: str, seed: int
) -> None:
    events = generated_events(mode, seed)
    ours, clickhouse = run_both(sql_harness, events, mode, tmp_path)
    # The data exercises every level, so agreement is not agreement on trivial journeys.
    assert _levels_spread(ours) == set(range(1, STAGE_COUNT + 1))
    assert 0 in {clickhouse.get(e["user_key"], 0) for e in events}
    assert_same_levels(events, ours, clickhouse)


@pytest.mark.parametrize("mode", ["ordered", "strict"])
def test_reference_equals_windowfunnel_level(tmp_path: Path, mode: str) -> None:
    """The domain is a property of docs/funnels.md, so the Python reference meets it too."""
    events = generated_events(mode, 3)
    parquet = tmp_path / "events.parquet"
    pq.write_table(journey_inputs(events, as_of=AS_OF)["int_events_enriched"], parquet)
    assert_same_levels(events, reference_stages(events, mode), clickhouse_levels(parquet, mode))


# Hand-written users just outside the domain: (plan, our furthest stage, ClickHouse level).
OUTSIDE_THE_DOMAIN = {
    "ordered": [
        # point 8: a second entry inside the window gives ClickHouse a later window
        ([(1, 0), (1, 5), (2, W + 3)], 1, 2),
    ],
    "strict": [
        # point 10: a repeat of a reached stage stops ours, ClickHouse re-anchors and goes on
        ([(1, 0), (2, 60), (2, 120), (3, 180)], 2, 3),
        ([(1, 0), (2, 60), (1, 120), (3, 180)], 2, 3),
        # point 9 is the other side: a row that matches no condition stops strict_order, so the
        # test feeds only stage events (here the noise in between is not given to ClickHouse)
        ([(1, 0), (NOISE_STAGE, 30), (2, 60), (3, 180)], 3, 3),
    ],
}


@pytest.mark.parametrize(
    ("mode", "plan", "expected_ours", "expected_clickhouse"),
    [(mode, *case) for mode, cases in OUTSIDE_THE_DOMAIN.items() for case in cases],
)
def test_outside_the_domain_known_differences(
    sql_harness: SqlHarness,
    tmp_path: Path,
    mode: str,
    plan: Plan,
    expected_ours: int,
    expected_clickhouse: int,
) -> None:
    events = events_from_plans([plan], random.Random(0))
    ours, clickhouse = run_both(sql_harness, events, mode, tmp_path)
    assert (ours["u00000"][0], clickhouse.get("u00000", 0)) == (
        expected_ours,
        expected_clickhouse,
    )


def _clickhouse_level(rows: list[tuple[int, int]], *params: str, conditions: int = 3) -> int:
    """windowFunnel over inline (timestamp, stage) rows; condition k is `stage = k`."""
    import chdb

    values = ", ".join(f"({ts}, {stage})" for ts, stage in rows)
    args = ", ".join(["100", *(f"'{p}'" for p in params)])
    conds = ", ".join(f"stage = {k}" for k in range(1, conditions + 1))
    result = chdb.query(
        f"select windowFunnel({args})(ts, {conds}) from values('ts UInt64, stage UInt8', {values})",
        "CSV",
    )
    return int(result.bytes().decode().strip())


@pytest.mark.parametrize(
    ("rows", "params", "level", "why"),
    [
        ([(0, 1), (1, 2), (100, 3)], (), 3, "window inclusive"),
        ([(0, 1), (1, 2), (101, 3)], (), 2, "one past the window"),
        ([(5, 3), (5, 2), (5, 1)], (), 3, "equal timestamps handled by condition index"),
        ([(0, 1), (90, 1), (150, 2)], (), 2, "a later stage-1 event restarts the window"),
        ([(0, 1), (1, 0), (2, 2)], ("strict_order",), 1, "strict_order stops on a non-match"),
        ([(0, 1), (1, 2), (2, 2), (3, 3)], ("strict_order",), 3, "strict_order: repeat"),
        ([(0, 1), (1, 3), (2, 2)], ("strict_order",), 1, "strict_order stops on a skip"),
        ([(0, 1), (200, 2), (201, 3)], ("strict_order",), 1, "late event then a skip"),
    ],
)
def test_clickhouse_behaviour_the_domain_relies_on(
    rows: list[tuple[int, int]], params: tuple[str, ...], level: int, why: str
) -> None:
    assert _clickhouse_level(rows, *params) == level, why


def test_clickhouse_behaviour_one_event_several_conditions() -> None:
    """Point 2: an event matching conditions 1 and 2 advances two levels in ClickHouse."""
    import chdb

    result = chdb.query(
        "select windowFunnel(100)(ts, stage <= 2, stage <= 2, stage = 3)"
        " from values('ts UInt64, stage UInt8', (0, 1), (1, 3))",
        "CSV",
    )
    assert int(result.bytes().decode().strip()) == 3


def test_clickhouse_behaviour_nullable_condition_skips_the_row() -> None:
    """Point 3: a NULL condition makes ClickHouse drop the row, hence the coalesce."""
    import chdb

    result = chdb.query(
        "select windowFunnel(100)(ts, c1, c2) from values("
        "'ts UInt64, c1 Nullable(Bool), c2 Bool', (1, true, false), (2, NULL, true))",
        "CSV",
    )
    assert int(result.bytes().decode().strip()) == 1
