"""The pure-Python reference of the funnel engine (docs/funnels.md sections 2-4), rule by rule."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.lib.funnels import Funnel, load_funnels, parse_funnels
from pipelines.lib.settings import DEFAULT_FUNNELS_FILE
from tests.reference.funnel import (
    Journey,
    aggregate_stages,
    compute_journeys,
    event_matches_stage,
    quantile_cont,
)

T0 = datetime(2024, 3, 1, 12, 0, 0)
AS_OF = date(2024, 3, 2)


def ev(
    event_id: str,
    name: str,
    at: float,
    *,
    user: str = "u1",
    **columns: Any,
) -> dict[str, Any]:
    """A canonical event `at` seconds after T0, paid Google Ads traffic unless overridden."""
    event_at = T0 + timedelta(seconds=at)
    event: dict[str, Any] = {
        "event_id": event_id,
        "user_key": user,
        "event_name": name,
        "event_at": event_at,
        "event_date": event_at.date(),
        "platform": "google_ads",
        "campaign_id": "c1",
        "is_paid_touch": True,
        "engagement_time_ms": None,
        "page_url": None,
        "referrer": None,
        "utm_source": None,
        "utm_medium": None,
        "utm_campaign": None,
        "utm_content": None,
        "utm_term": None,
        "utm_id": None,
        "click_id": None,
        "click_id_type": None,
        "value": None,
        "currency": None,
        "properties": {},
    }
    event.update(columns)
    return event


def funnel(stages: str, *, window: str = "1h", extra: str = "") -> Funnel:
    """A one-funnel file: `stages` is YAML for the stage list."""
    text = (
        f"funnels:\n  - id: f\n    kind: micro\n    window: {window}\n{extra}    stages: {stages}\n"
    )
    return parse_funnels(text, source="test.yml").funnels[0]


ABC = funnel("[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]}]")


def journeys_of(events: list[dict[str, Any]], f: Funnel = ABC, late: int = 0) -> list[Journey]:
    return compute_journeys(events, f, as_of=AS_OF, late_data_days=late)


def starts(journeys: Sequence[Journey]) -> list[datetime]:
    return [j.started_at for j in journeys]


def seconds(*offsets: float) -> list[datetime]:
    return [T0 + timedelta(seconds=s) for s in offsets]


# --- matching --------------------------------------------------------------------------------


def filter_stage(filter_yaml: str) -> Any:
    return funnel(
        f"[{{name: s1, events: [x], where: [{filter_yaml}]}}, {{name: s2, events: [y]}}]"
    ).stage(1)


@pytest.mark.parametrize(
    ("filter_yaml", "columns", "expected"),
    [
        ("{field: is_paid_touch, op: eq, value: true}", {"is_paid_touch": True}, True),
        ("{field: is_paid_touch, op: eq, value: true}", {"is_paid_touch": False}, False),
        ("{field: is_paid_touch, op: eq, value: false}", {"is_paid_touch": False}, True),
        ("{field: is_paid_touch, op: eq, value: true}", {"is_paid_touch": None}, False),
        ("{field: utm_medium, op: ne, value: cpc}", {"utm_medium": "email"}, True),
        ("{field: utm_medium, op: ne, value: cpc}", {"utm_medium": None}, False),
        ("{field: utm_medium, op: not_in, value: [cpc]}", {"utm_medium": None}, False),
        ("{field: utm_medium, op: not_in, value: [cpc]}", {"utm_medium": "email"}, True),
        ("{field: utm_medium, op: in, value: [cpc, paid]}", {"utm_medium": "paid"}, True),
        ("{field: utm_medium, op: is_null}", {"utm_medium": None}, True),
        ("{field: utm_medium, op: not_null}", {"utm_medium": ""}, True),
        ("{field: engagement_time_ms, op: gte, value: 10000}", {"engagement_time_ms": 10000}, True),
        ("{field: engagement_time_ms, op: gt, value: 10000}", {"engagement_time_ms": 10000}, False),
        ("{field: engagement_time_ms, op: lt, value: 5}", {"engagement_time_ms": None}, False),
        ("{field: value, op: lte, value: 9.5}", {"value": 9.5}, True),
        ("{field: value, op: eq, value: 10}", {"value": 10.0}, True),  # numbers compare as numbers
        ("{field: value, op: ne, value: 10}", {"value": 10.5}, True),
        ("{field: param.n, op: eq, value: 10}", {"properties": {"n": "10.0"}}, True),
        ("{field: param.n, op: ne, value: 10}", {"properties": {"n": "ten"}}, False),
        ("{field: param.n, op: eq, value: '10'}", {"properties": {"n": "10.0"}}, False),  # text
        ("{field: param.n, op: in, value: [10, 11]}", {"properties": {"n": 10}}, True),
        (
            "{field: page_url, op: contains, value: /pricing}",
            {"page_url": "https://x/pricing?a"},
            True,
        ),
        ("{field: page_url, op: contains, value: /pricing}", {"page_url": None}, False),
        ("{field: param.step, op: gte, value: 2}", {"properties": {"step": "3"}}, True),
        ("{field: param.step, op: gte, value: 2}", {"properties": {"step": "three"}}, False),
        ("{field: param.step, op: eq, value: 3}", {"properties": {"step": 3}}, True),
        ("{field: param.step, op: eq, value: 3}", {"properties": '{"step": 3}'}, True),
        ("{field: param.step, op: is_null}", {"properties": {}}, True),
        ("{field: param.ok, op: eq, value: true}", {"properties": {"ok": True}}, True),
    ],
)
def test_filters_follow_sql_semantics(
    filter_yaml: str, columns: dict[str, Any], expected: bool
) -> None:
    assert event_matches_stage(ev("e1", "x", 0, **columns), filter_stage(filter_yaml)) is expected


def test_event_name_must_match_the_matcher_whose_filters_pass() -> None:
    engagement = load_funnels(DEFAULT_FUNNELS_FILE).by_id["micro_commitment"].stage(3)
    assert event_matches_stage(ev("e1", "view_item", 0), engagement)
    assert event_matches_stage(ev("e1", "user_engagement", 0, engagement_time_ms=12000), engagement)
    assert not event_matches_stage(
        ev("e1", "user_engagement", 0, engagement_time_ms=900), engagement
    )
    assert not event_matches_stage(ev("e1", "page_view", 0, engagement_time_ms=12000), engagement)


# --- journeys: one rule per test -------------------------------------------------------------


def test_a_later_stage1_event_restarts_only_after_the_journey_ended() -> None:
    # Window 1h from 0: deadline 3600. Stage-1 events at 1800 and exactly 3600 are inside the
    # open journey; 3601 starts the second journey.
    events = [ev("e1", "a", 0), ev("e2", "a", 1800), ev("e3", "a", 3600), ev("e4", "a", 3601)]
    journeys = journeys_of(events)
    assert starts(journeys) == seconds(0, 3601)
    assert [j.ended_at for j in journeys] == seconds(3600, 7201)
    assert [j.furthest_stage for j in journeys] == [1, 1]


def test_stage1_event_inside_an_open_journey_does_not_restart_it() -> None:
    events = [ev("e1", "a", 0), ev("e2", "a", 100), ev("e3", "b", 200), ev("e4", "c", 300)]
    (journey,) = journeys_of(events)
    assert journey.reached_event_id == ("e1", "e3", "e4")
    assert journey.is_converted
    assert journey.seconds_to_convert == 300.0


def test_window_is_inclusive_at_exactly_start_plus_window() -> None:
    inside = journeys_of([ev("e1", "a", 0), ev("e2", "b", 10), ev("e3", "c", 3600)])
    outside = journeys_of([ev("e1", "a", 0), ev("e2", "b", 10), ev("e3", "c", 3601)])
    assert inside[0].furthest_stage == 3
    assert inside[0].reached_at[2] == T0 + timedelta(hours=1)
    assert outside[0].furthest_stage == 2
    assert outside[0].reached_at[2] is None
    # The late event at 3601 is not stage 1, so it starts nothing.
    assert len(outside) == 1


def test_one_event_cannot_advance_two_stages() -> None:
    # Stages 2 and 3 both accept event x.
    f = funnel("[{name: s1, events: [a]}, {name: s2, events: [x]}, {name: s3, events: [x, c]}]")
    (single,) = journeys_of([ev("e1", "a", 0), ev("e2", "x", 10)], f)
    assert single.furthest_stage == 2
    (double,) = journeys_of([ev("e1", "a", 0), ev("e2", "x", 10), ev("e3", "x", 20)], f)
    assert double.furthest_stage == 3
    assert double.reached_event_id == ("e1", "e2", "e3")


def test_the_start_event_cannot_also_reach_stage_2() -> None:
    f = funnel("[{name: s1, events: [a]}, {name: s2, events: [a, b]}]")
    (journey,) = journeys_of([ev("e1", "a", 0)], f)
    assert journey.furthest_stage == 1
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "a", 5)], f)
    assert journey.reached_event_id == ("e1", "e2")


def test_same_timestamp_events_are_ordered_by_lowest_stage_then_event_id() -> None:
    # c (stage 3) has the smallest id but sorts after b (stage 2) at the same instant, so both
    # count; and a stage-2 event at the start instant comes after the stage-1 event.
    events = [ev("z1", "a", 0), ev("y2", "b", 0), ev("b3", "b", 0), ev("a4", "c", 0)]
    (journey,) = journeys_of(events)
    assert journey.reached_event_id == ("z1", "b3", "a4")
    assert journey.seconds_to_convert == 0.0


def test_same_timestamp_stage1_events_start_at_the_lowest_event_id() -> None:
    journeys = journeys_of([ev("e2", "a", 0), ev("e1", "a", 0)])
    assert [j.reached_event_id[0] for j in journeys] == ["e1"]
    assert journeys[0].journey_id == hashlib.md5(b"f|u1|e1").hexdigest()


def test_event_matching_hook_and_reinforcement_advances_an_open_journey() -> None:
    micro = load_funnels(DEFAULT_FUNNELS_FILE).by_id["micro_commitment"]
    pricing = "https://shop.example/pricing"
    spring = "spring_quiz_micro"  # the default micro funnel lists its campaigns
    events = [
        ev("e1", "page_view", 0, page_url="https://shop.example/", utm_campaign=spring),
        ev("e2", "click", 10),
        ev("e3", "view_item", 20),
        ev("e4", "page_view", 30, page_url=pricing, utm_campaign=spring),  # hook, reinforcement
        ev("e5", "purchase", 40),
    ]
    (journey,) = compute_journeys(events, micro, as_of=AS_OF, late_data_days=0)
    assert journey.reached_event_id == ("e1", "e2", "e3", "e4", "e5")
    assert journey.is_converted

    # With no open journey the same event starts one (at the hook only).
    (alone,) = compute_journeys(
        [ev("e1", "page_view", 0, page_url=pricing, utm_campaign=spring)],
        micro,
        as_of=AS_OF,
        late_data_days=0,
    )
    assert alone.furthest_stage == 1
    assert alone.reached_at[3] is None


def test_campaigns_restrict_only_the_stage1_event() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}]",
        extra='    campaigns: [spring, "123"]\n',
    )
    other = ev("e1", "a", 0, campaign_id="999", utm_campaign="winter")
    by_name = ev("e2", "a", 10, campaign_id="999", utm_campaign="spring")
    by_id = ev("e3", "a", 5000, user="u2", campaign_id="123", utm_campaign=None)
    stage2 = ev("e4", "b", 20, campaign_id="999", utm_campaign="winter")
    journeys = journeys_of([other, by_name, by_id, stage2], f)
    assert [(j.user_key, j.reached_event_id) for j in journeys] == [
        ("u1", ("e2", "e4")),
        ("u2", ("e3", None)),
    ]
    assert journeys[0].campaign_id == "999"  # the stage-1 event's campaign_id column
    assert journeys_of([other], f) == []


def test_conversion_ends_the_journey_so_a_hook_one_second_later_starts_a_new_one() -> None:
    events = [
        ev("e1", "a", 0),
        ev("e2", "b", 10),
        ev("e3", "c", 20),
        ev("e4", "a", 20),  # same instant as the conversion: not after the end
        ev("e5", "a", 21),
        ev("e6", "b", 22),
    ]
    journeys = journeys_of(events)
    assert starts(journeys) == seconds(0, 21)
    assert journeys[0].ended_at == T0 + timedelta(seconds=20)
    assert journeys[1].reached_event_id == ("e5", "e6", None)


def test_events_outside_the_funnel_and_other_users_do_not_interfere() -> None:
    events = [
        ev("e1", "a", 0),
        ev("e2", "noise", 5),
        ev("e3", "b", 6, user="u2"),
        ev("e4", "c", 7, user="u2"),
        ev("e5", "b", 8),
    ]
    journeys = journeys_of(events)
    assert [(j.user_key, j.furthest_stage) for j in journeys] == [("u1", 2)]


def test_engaged_seconds_cover_all_user_events_from_each_stage_to_the_next_or_the_end() -> None:
    events = [
        ev("e1", "a", 0, engagement_time_ms=1000),
        ev("e2", "noise", 5, engagement_time_ms=2000),  # not in the funnel, still counted
        ev("e3", "b", 10, engagement_time_ms=4000),
        ev("e4", "noise", 15, engagement_time_ms=8000),
        ev("e5", "noise", 3600, engagement_time_ms=16000),  # at the deadline: excluded
        ev("x1", "noise", 12, user="u2", engagement_time_ms=64000),  # another user
    ]
    (open_journey,) = journeys_of(events)
    assert open_journey.engaged_seconds == (3.0, 12.0, None)

    (converted,) = journeys_of([*events, ev("e6", "c", 20, engagement_time_ms=32000)])
    # Stage 2 runs until stage 3 at 20; the converting stage has an empty interval.
    assert converted.engaged_seconds == (3.0, 12.0, 0.0)


def test_journey_attributes_and_finality() -> None:
    events = [ev("e1", "a", 0, platform="meta", campaign_id="m9"), ev("e2", "b", 90)]
    (journey,) = compute_journeys(events, ABC, as_of=date(2024, 3, 3), late_data_days=1)
    assert journey.journey_id == hashlib.md5(b"f|u1|e1").hexdigest()
    assert (journey.platform, journey.campaign_id) == ("meta", "m9")
    assert journey.cohort_date == date(2024, 3, 1)
    assert (journey.furthest_stage, journey.is_converted, journey.seconds_to_convert) == (
        2,
        False,
        None,
    )
    # 1h window rounds up to 1 day: 2024-03-01 + 1 + 1 = 03-03, final only when as_of > 03-03.
    assert not journey.is_final
    (later,) = compute_journeys(events, ABC, as_of=date(2024, 3, 4), late_data_days=1)
    assert later.is_final


def test_organic_stage1_event_gives_a_journey_without_campaign() -> None:
    (journey,) = journeys_of([ev("e1", "a", 0, platform=None, campaign_id=None)])
    assert (journey.platform, journey.campaign_id) == (None, None)


# --- stage aggregates ------------------------------------------------------------------------


def test_quantile_cont_matches_a_hand_computation() -> None:
    gaps = [100.0, 10.0, 30.0, 20.0]
    assert quantile_cont(gaps, 0.5) == 25.0  # position 1.5 between 20 and 30
    assert quantile_cont(gaps, 0.9) == pytest.approx(79.0)  # 2.7: 30 + 0.7 * 70
    assert quantile_cont([7.0], 0.9) == 7.0
    assert quantile_cont([], 0.5) is None


def test_quantile_cont_agrees_with_duckdb() -> None:
    duckdb = pytest.importorskip("duckdb")
    rng = random.Random(7)
    for n in (1, 2, 5, 17):
        values = [float(rng.randint(0, 5000)) for _ in range(n)]
        median, p90 = duckdb.sql(
            "select quantile_cont(v, 0.5), quantile_cont(v, 0.9) from unnest($vals) t(v)",
            params={"vals": values},
        ).fetchone()
        assert quantile_cont(values, 0.5) == pytest.approx(median)
        assert quantile_cont(values, 0.9) == pytest.approx(p90)


def test_stage_rows_count_reach_conversion_dropoff_times_and_cost() -> None:
    events = []
    # Four users advance to stage 2 after 10, 20, 30 and 100 seconds; u5 stops at stage 1;
    # u1 also converts and has a second journey the same day.
    for i, gap in enumerate([10, 20, 30, 100], start=1):
        events += [
            ev(f"u{i}a", "a", 0, user=f"u{i}", engagement_time_ms=1000 * i),
            ev(f"u{i}b", "b", gap, user=f"u{i}"),
        ]
    events += [
        ev("u1c", "c", 50, user="u1"),
        ev("u1a2", "a", 60, user="u1"),
        ev("u5a", "a", 0, user="u5"),
        ev("o1a", "a", 0, user="o1", platform=None, campaign_id=None),
    ]
    journeys = journeys_of(events)
    spend = {("google_ads", "c1", date(2024, 3, 1)): 30.0}
    rows = aggregate_stages(journeys, ABC, spend)

    organic = [r for r in rows if r.campaign_id is None]
    paid = [r for r in rows if r.campaign_id == "c1"]
    assert [r.stage_order for r in organic] == [1, 2, 3]
    assert [r.stage_name for r in paid] == ["s1", "s2", "s3"]
    assert organic[0].spend is None and organic[0].cost_per_journey_reached is None

    s1, s2, s3 = paid
    assert (s1.journeys_reached, s1.users_reached) == (6, 5)
    assert (s1.journeys_advanced, s1.dropoff_count) == (4, 2)
    assert s1.step_conversion_rate == pytest.approx(4 / 6)
    assert s1.overall_conversion_rate == 1.0
    assert s1.median_seconds_to_next_stage == 25.0
    assert s1.p90_seconds_to_next_stage == pytest.approx(79.0)
    # Stage 1 engaged time: u1's interval [0, 10) has 1 s, u2 2 s, u3 3 s, u4 4 s,
    # u5 (open, until its deadline) 0 s, u1's second journey 0 s.
    assert s1.avg_engaged_seconds == pytest.approx(10 / 6)
    assert s1.spend == 30.0
    assert s1.cost_per_journey_reached == pytest.approx(5.0)

    assert (s2.journeys_reached, s2.journeys_advanced, s2.dropoff_count) == (4, 1, 3)
    assert s2.step_conversion_rate == 0.25
    assert s2.overall_conversion_rate == pytest.approx(4 / 6)
    assert s2.median_seconds_to_next_stage == 40.0  # u1: 10 -> 50
    assert s2.cost_per_journey_reached == pytest.approx(7.5)

    assert (s3.journeys_reached, s3.users_reached) == (1, 1)
    assert s3.journeys_advanced is None
    assert s3.step_conversion_rate is None
    assert s3.dropoff_count is None
    assert s3.median_seconds_to_next_stage is None
    assert s3.p90_seconds_to_next_stage is None
    assert s3.avg_engaged_seconds == 0.0
    assert s3.overall_conversion_rate == pytest.approx(1 / 6)
    assert not any(r.is_final for r in rows)


def test_stage_rows_with_nobody_at_a_stage_have_zero_reach_and_no_rates() -> None:
    rows = aggregate_stages(journeys_of([ev("e1", "a", 0)]), ABC, {})
    assert [(r.journeys_reached, r.users_reached) for r in rows] == [(1, 1), (0, 0), (0, 0)]
    assert rows[0].step_conversion_rate == 0.0
    assert rows[1].step_conversion_rate is None
    assert rows[1].avg_engaged_seconds is None
    assert rows[1].overall_conversion_rate == 0.0
    assert rows[0].spend is None  # no spend data for the day


def test_a_group_is_final_only_when_every_journey_is_final() -> None:
    events = [ev("e1", "a", 0), ev("e2", "a", 0, user="u2")]
    journeys = compute_journeys(events, ABC, as_of=date(2024, 3, 3), late_data_days=0)
    assert all(r.is_final for r in aggregate_stages(journeys, ABC, {}))
    mixed = [journeys[0], replace(journeys[1], is_final=False)]
    assert not any(r.is_final for r in aggregate_stages(mixed, ABC, {}))


# --- equivalence with ClickHouse windowFunnel ------------------------------------------------

STAGE_EVENTS = ("a", "b", "c", "d")  # stage k accepts exactly STAGE_EVENTS[k-1]
FOUR = funnel(
    "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]},"
    " {name: s4, events: [d]}]",
    window="10h",
)
WINDOW_SECONDS = 10 * 3600


def window_funnel_level(events: Sequence[tuple[int, str]], window: int, conditions: int) -> int:
    """ClickHouse windowFunnel(window) default mode, written from its documented algorithm.

    Events sorted by (timestamp, condition); a condition-1 event opens a chain; condition k
    extends a chain at level k-1 whose first event is within `window` (inclusive). The result
    is the deepest level any chain reached.
    """
    entries = sorted((ts, STAGE_EVENTS.index(name)) for ts, name in events if name in STAGE_EVENTS)
    chain_start: list[int | None] = [None] * conditions  # start time of a chain at level k+1
    for ts, cond in entries:
        if cond >= conditions:
            continue
        if cond == 0:
            chain_start[0] = ts
        elif chain_start[cond - 1] is not None and ts <= chain_start[cond - 1] + window:
            chain_start[cond] = chain_start[cond - 1]
    return max((k + 1 for k, start in enumerate(chain_start) if start is not None), default=0)


def _user_stream(draw: st.DrawFn) -> list[tuple[int, str]]:
    """At most one stage-1 event, any number of later-stage and unrelated events."""
    # A coarse time grid (hours) makes ties and exact-window hits common.
    hour = st.integers(min_value=0, max_value=30).map(lambda h: h * 3600)
    stream = [(draw(hour), name) for name in draw(st.lists(st.sampled_from("bcdz"), max_size=12))]
    if draw(st.booleans()):
        stream.append((draw(hour), "a"))
    return stream


user_streams = st.composite(_user_stream)


def _as_events(streams: Sequence[Sequence[tuple[int, str]]]) -> list[dict[str, Any]]:
    return [
        ev(f"e{u:03d}_{i:03d}", name, ts, user=f"u{u}")
        for u, stream in enumerate(streams)
        for i, (ts, name) in enumerate(stream)
    ]


@settings(max_examples=300, deadline=None)
@given(streams=st.lists(user_streams(), min_size=1, max_size=4))
def test_furthest_stage_equals_window_funnel_level_with_one_stage1_event_per_user(
    streams: list[list[tuple[int, str]]],
) -> None:
    journeys = {j.user_key: j for j in journeys_of(_as_events(streams), FOUR)}
    for u, stream in enumerate(streams):
        expected = window_funnel_level(stream, WINDOW_SECONDS, FOUR.stage_count)
        journey = journeys.get(f"u{u}")
        assert (journey.furthest_stage if journey else 0) == expected


def test_window_funnel_stand_in_agrees_with_clickhouse() -> None:
    """Check the stand-in above against real windowFunnel (chdb), when chdb is installed."""
    chdb = pytest.importorskip("chdb")
    rng = random.Random(11)
    streams = []
    for _ in range(200):
        stream = [
            (rng.randint(0, 30) * 3600, rng.choice("bcdz")) for _ in range(rng.randint(0, 10))
        ]
        if rng.random() < 0.8:
            stream.append((rng.randint(0, 30) * 3600, "a"))
        streams.append(stream)
    rows = ", ".join(
        f"({u}, {ts}, '{name}')" for u, stream in enumerate(streams) for ts, name in stream
    )
    result = chdb.query(
        f"""
        select u, windowFunnel({WINDOW_SECONDS})(toDateTime(ts, 'UTC'), e = 'a', e = 'b', e = 'c',
            e = 'd') as level
        from values('u UInt32, ts UInt32, e String', {rows})
        group by u order by u
        """,
        "CSV",
    )
    levels = {int(u): int(level) for u, level in (line.split(",") for line in str(result).split())}
    journeys = {j.user_key: j for j in journeys_of(_as_events(streams), FOUR)}
    for u, stream in enumerate(streams):
        if not stream:
            continue
        expected = window_funnel_level(stream, WINDOW_SECONDS, FOUR.stage_count)
        assert levels[u] == expected
        journey = journeys.get(f"u{u}")
        assert (journey.furthest_stage if journey else 0) == levels[u]


def test_intent_is_early_for_a_first_journey_and_grows_with_earlier_depth() -> None:
    from tests.reference.funnel import intent_segment

    assert intent_segment(0, 5) == "early"
    assert intent_segment(2, 5) == "mid"
    assert intent_segment(4, 5) == "late"
    # Two-stage funnels: only an earlier conversion makes a returning user late.
    assert intent_segment(1, 2) == "mid"
    assert intent_segment(2, 2) == "late"


# --- optional stages, gaps and modes (docs/funnels.md section 2) -----------------------------

OPT = funnel(
    "[{name: s1, events: [a]}, {name: s2, events: [b], optional: true}, {name: s3, events: [c]}]"
)


def test_an_optional_stage_may_be_skipped_and_is_then_not_reached() -> None:
    (skipped,) = journeys_of([ev("e1", "a", 0), ev("e2", "c", 10), ev("e3", "b", 20)], OPT)
    assert skipped.reached_event_id == ("e1", None, "e2")
    assert (skipped.furthest_stage, skipped.is_converted) == (3, True)
    assert skipped.seconds_to_next == (10.0, None, None)  # to the next REACHED stage
    assert skipped.ended_at == T0 + timedelta(seconds=10)

    (taken,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 5), ev("e3", "c", 10)], OPT)
    assert taken.reached_event_id == ("e1", "e2", "e3")
    assert taken.reached_event_name == ("a", "b", "c")
    assert taken.seconds_to_next == (5.0, 5.0, None)


def test_a_required_stage_cannot_be_skipped() -> None:
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "c", 10)])  # ABC: s2 required
    assert journey.furthest_stage == 1


def test_on_the_same_event_the_highest_candidate_stage_wins() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [x], optional: true},"
        " {name: s3, events: [x, c]}]"
    )
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "x", 10)], f)
    assert journey.reached_event_id == ("e1", None, "e2")
    assert journey.is_converted


def test_the_walk_is_greedy_and_never_goes_back_for_a_skipped_optional_stage() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b], optional: true},"
        " {name: s3, events: [c]}, {name: s4, events: [d]}]"
    )
    events = [ev("e1", "a", 0), ev("e2", "c", 10), ev("e3", "b", 20), ev("e4", "d", 30)]
    (journey,) = journeys_of(events, f)
    assert journey.reached_event_id == ("e1", None, "e2", "e4")
    assert journey.seconds_to_next == (10.0, None, 20.0, None)


def test_max_gap_is_inclusive_and_a_too_late_candidate_stops_the_walk() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b], max_gap: 10m}, {name: s3, events: [c]}]"
    )
    (on_time,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 600)], f)
    assert on_time.furthest_stage == 2
    (late,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 601), ev("e3", "c", 700)], f)
    assert late.furthest_stage == 1
    # A failed gap does not end the journey: it still runs to its deadline.
    assert late.ended_at == late.deadline_at == T0 + timedelta(hours=1)


def test_max_gap_counts_from_the_last_reached_stage_across_a_skipped_optional_one() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b], optional: true},"
        " {name: s3, events: [c], max_gap: 10m}]"
    )
    assert journeys_of([ev("e1", "a", 0), ev("e2", "c", 600)], f)[0].furthest_stage == 3
    assert journeys_of([ev("e1", "a", 0), ev("e2", "c", 601)], f)[0].furthest_stage == 1
    via_b = journeys_of([ev("e1", "a", 0), ev("e2", "b", 300), ev("e3", "c", 900)], f)[0]
    assert via_b.reached_event_id == ("e1", "e2", "e3")


def test_an_optional_candidate_failing_its_gap_is_skipped_for_a_qualifying_required_one() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b], optional: true, max_gap: 1m},"
        " {name: s3, events: [c]}]"
    )
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 100), ev("e3", "c", 200)], f)
    assert journey.reached_event_id == ("e1", None, "e3")


def test_strict_mode_stops_at_any_other_funnel_event_between_two_stages() -> None:
    strict = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]}]",
        extra="    mode: strict\n",
    )
    noise = [ev("e1", "a", 0), ev("e2", "noise", 5), ev("e3", "b", 10), ev("e4", "c", 20)]
    assert journeys_of(noise, strict)[0].is_converted  # non-funnel events do not break it
    interleaved = [ev("e1", "a", 0), ev("e2", "c", 5), ev("e3", "b", 10), ev("e4", "c", 20)]
    assert journeys_of(interleaved, strict)[0].furthest_stage == 1
    assert journeys_of(interleaved)[0].is_converted  # ordered mode allows it
    repeat_hook = [ev("e1", "a", 0), ev("e2", "a", 5), ev("e3", "b", 10)]
    assert journeys_of(repeat_hook, strict)[0].furthest_stage == 1


def test_strict_mode_may_skip_an_optional_stage_with_the_next_event() -> None:
    strict_opt = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b], optional: true},"
        " {name: s3, events: [c]}]",
        extra="    mode: strict\n",
    )
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "c", 10)], strict_opt)
    assert journey.reached_event_id == ("e1", None, "e2")


ANY = funnel(
    "[{name: s1, events: [a]}, {name: s2, events: [b]},"
    " {name: s3, events: [c], optional: true}, {name: s4, events: [d]}]",
    extra="    mode: any_order\n",
)


def test_any_order_reaches_a_stage_when_it_and_every_required_earlier_stage_matched() -> None:
    events = [ev("e1", "a", 0), ev("e2", "d", 10), ev("e3", "c", 20), ev("e4", "b", 30)]
    (journey,) = journeys_of(events, ANY)
    # Everything up to each stage was done when b came, at 30.
    assert journey.reached_event_id == ("e1", "e4", "e4", "e4")
    assert journey.reached_at == tuple(seconds(0, 30, 30, 30))
    assert (journey.is_converted, journey.seconds_to_convert) == (True, 30.0)


def test_any_order_does_not_wait_for_optional_stages() -> None:
    events = [ev("e1", "a", 0), ev("e2", "b", 10), ev("e3", "d", 20), ev("e4", "c", 30)]
    (journey,) = journeys_of(events, ANY)
    assert journey.reached_event_id == ("e1", "e2", "e4", "e3")
    assert journey.ended_at == T0 + timedelta(seconds=20)
    # Stage 3 (optional) was reached after stage 4: the formulas give -10 s and an empty span.
    assert journey.seconds_to_next == (10.0, 20.0, -10.0, None)
    assert journey.engaged_seconds[2] == 0.0


def test_any_order_needs_the_required_stages_and_the_window() -> None:
    (no_b,) = journeys_of([ev("e1", "a", 0), ev("e2", "c", 10), ev("e3", "d", 20)], ANY)
    assert no_b.furthest_stage == 1
    assert no_b.reached_at[2] is None  # c matched, but the required b before it did not
    (late_d,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 10), ev("e3", "d", 3601)], ANY)
    assert late_d.reached_event_id == ("e1", "e2", None, None)


def test_any_order_one_event_may_match_several_stages_but_not_the_entry() -> None:
    f = funnel(
        "[{name: s1, events: [a, x]}, {name: s2, events: [x]}, {name: s3, events: [x, c]}]",
        extra="    mode: any_order\n",
    )
    (journey,) = journeys_of([ev("e1", "x", 0), ev("e2", "x", 10)], f)
    assert journey.reached_event_id == ("e1", "e2", "e2")
    (alone,) = journeys_of([ev("e1", "x", 0)], f)
    assert alone.furthest_stage == 1


# --- exclusions -------------------------------------------------------------------------------


def excl(between: str = "[s1, s3]", more: str = "") -> Funnel:
    return funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]}]",
        extra=f"    exclusions:\n      - {{name: support, events: [s], between: {between}}}\n"
        + more,
    )


def test_an_exclusion_event_between_the_stages_excludes_the_journey() -> None:
    (journey,) = journeys_of([ev("e1", "a", 0), ev("x1", "s", 5), ev("e2", "b", 10)], excl())
    assert (journey.is_excluded, journey.excluded_by, journey.excluded_event_id) == (
        True,
        "support",
        "x1",
    )
    (clean,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 10)], excl())
    assert (clean.is_excluded, clean.excluded_by, clean.excluded_event_id) == (False, None, None)


@pytest.mark.parametrize(
    ("events", "excluded"),
    [
        # [reached(s1), reached(s3)): an event at the conversion itself is outside
        ([ev("e1", "a", 0), ev("e2", "b", 10), ev("x1", "s", 19), ev("e3", "c", 20)], True),
        ([ev("e1", "a", 0), ev("e2", "b", 10), ev("e3", "c", 20), ev("x1", "s", 20)], False),
        # s3 not reached: until ended_at (the deadline), exclusive
        ([ev("e1", "a", 0), ev("x1", "s", 3599)], True),
        ([ev("e1", "a", 0), ev("x1", "s", 3600)], False),
        # before the entry
        ([ev("x1", "s", 0), ev("e1", "a", 1)], False),
    ],
)
def test_the_exclusion_interval_runs_from_reaching_from_until_reaching_to_or_the_end(
    events: list[dict[str, Any]], excluded: bool
) -> None:
    assert journeys_of(events, excl())[0].is_excluded is excluded


def test_only_journeys_that_reached_the_from_stage_can_be_excluded() -> None:
    f = excl("[s2, s3]")
    assert not journeys_of([ev("e1", "a", 0), ev("x1", "s", 5)], f)[0].is_excluded
    assert not journeys_of([ev("e1", "a", 0), ev("x1", "s", 5), ev("e2", "b", 10)], f)[
        0
    ].is_excluded
    assert journeys_of([ev("e1", "a", 0), ev("e2", "b", 10), ev("x1", "s", 10)], f)[0].is_excluded


def test_excluded_by_names_the_earliest_event_then_the_first_exclusion() -> None:
    f = excl("[s2, s3]", "      - {name: bounce, events: [t], between: [s1, s3]}\n")
    earlier = [ev("e1", "a", 0), ev("e2", "b", 10), ev("t1", "t", 5), ev("x1", "s", 11)]
    assert journeys_of(earlier, f)[0].excluded_by == "bounce"
    tie = [ev("e1", "a", 0), ev("e2", "b", 10), ev("t1", "t", 12), ev("x1", "s", 12)]
    (journey,) = journeys_of(tie, f)
    assert (journey.excluded_by, journey.excluded_event_id) == ("support", "x1")


def test_exclusion_filters_apply_and_excluded_journeys_still_occupy_their_window() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}]",
        extra="    exclusions:\n      - {name: refund, events: [r], between: [s1, s2],"
        " where: [{field: value, op: gt, value: 0}]}\n",
    )
    zero = [ev("e1", "a", 0), ev("r1", "r", 5, value=0)]
    assert not journeys_of(zero, f)[0].is_excluded
    events = [
        ev("e1", "a", 0),
        ev("r1", "r", 5, value=9.5),
        ev("e2", "a", 100),
        ev("e3", "a", 3601),
    ]
    first, second = journeys_of(events, f)
    assert first.is_excluded and first.ended_at == T0 + timedelta(hours=1)
    assert second.started_at == T0 + timedelta(seconds=3601) and not second.is_excluded


# --- attribution ------------------------------------------------------------------------------


def attributed(model: str, events: list[dict[str, Any]]) -> tuple[Any, ...]:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]}]",
        extra=f"    attribution: {model}\n",
    )
    (journey,) = journeys_of(events, f)
    return (
        journey.platform,
        journey.campaign_id,
        journey.first_touch_platform,
        journey.first_touch_campaign_id,
        journey.attribution_model,
    )


def test_first_touch_is_the_entry_events_campaign() -> None:
    events = [ev("e1", "a", 0), ev("e2", "b", 10, platform="meta", campaign_id="m2")]
    assert attributed("first_touch", events) == (
        "google_ads",
        "c1",
        "google_ads",
        "c1",
        "first_touch",
    )


def test_last_touch_is_the_last_campaign_event_of_the_journey_matching_or_not() -> None:
    events = [
        ev("e1", "a", 0),
        ev("n1", "noise", 50, platform="meta", campaign_id="m2"),
        ev("e2", "b", 100, platform=None, campaign_id=None),  # no campaign: not a touch
        ev("n2", "noise", 3601, platform="meta", campaign_id="m3"),  # after the end
    ]
    assert attributed("last_touch", events) == ("meta", "m2", "google_ads", "c1", "last_touch")
    converted = [
        ev("e1", "a", 0),
        ev("e2", "b", 10),
        ev("e3", "c", 20, platform="meta", campaign_id="m4"),  # at ended_at: inclusive
        ev("n1", "noise", 30, platform="meta", campaign_id="m5"),
    ]
    assert attributed("last_touch", converted)[:2] == ("meta", "m4")
    tie = [
        ev("e1", "a", 0),
        ev("n2", "noise", 40, campaign_id="k2"),
        ev("n1", "noise", 40, campaign_id="k1"),
    ]
    assert attributed("last_touch", tie)[:2] == ("google_ads", "k2")  # then by event_id


def test_last_touch_without_any_touch_keeps_the_organic_entry() -> None:
    organic = [
        ev("e1", "a", 0, platform=None, campaign_id=None),
        ev("e2", "b", 9, campaign_id=None),
    ]
    assert attributed("last_touch", organic)[:2] == (None, None)


def test_stage_attribution_uses_the_stage_event_when_it_has_a_campaign() -> None:
    with_campaign = [ev("e1", "a", 0), ev("e2", "b", 10, platform="meta", campaign_id="m2")]
    assert attributed("{stage: s2}", with_campaign) == (
        "meta",
        "m2",
        "google_ads",
        "c1",
        "stage",
    )
    without = [ev("e1", "a", 0), ev("e2", "b", 10, platform=None, campaign_id=None)]
    assert attributed("{stage: s2}", without)[:2] == ("google_ads", "c1")
    not_reached = [ev("e1", "a", 0), ev("n1", "noise", 10, platform="meta", campaign_id="m2")]
    assert attributed("{stage: s2}", not_reached)[:2] == ("google_ads", "c1")


# --- drop-off and stall -----------------------------------------------------------------------


def test_dropoff_is_the_last_event_after_the_furthest_stage_within_the_journey() -> None:
    events = [
        ev("e1", "a", 0),
        ev("e2", "b", 10),
        ev("n1", "noise", 20),
        ev("n2", "scroll", 30),
        ev("n3", "noise", 3601),  # after the deadline
    ]
    (journey,) = journeys_of(events)
    assert (journey.dropoff_event_id, journey.dropoff_event_name, journey.dropoff_at) == (
        "n2",
        "scroll",
        T0 + timedelta(seconds=30),
    )
    assert not journey.is_stalled


def test_a_journey_with_nothing_after_its_furthest_stage_is_stalled() -> None:
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 10), ev("n1", "noise", 3601)])
    assert (journey.dropoff_event_id, journey.is_stalled) == ("e2", True)
    # Same instant as the stage event: the last by event_id, still stalled (not strictly after).
    (tied,) = journeys_of([ev("e1", "a", 0), ev("e9", "noise", 0)])
    assert (tied.dropoff_event_id, tied.is_stalled) == ("e9", True)
    (at_end,) = journeys_of([ev("e1", "a", 0), ev("n1", "noise", 3600)])
    assert (at_end.dropoff_event_id, at_end.is_stalled) == ("n1", False)


def test_converted_journeys_have_no_dropoff() -> None:
    (journey,) = journeys_of([ev("e1", "a", 0), ev("e2", "b", 1), ev("e3", "c", 2)])
    assert (journey.dropoff_event_id, journey.dropoff_at, journey.is_stalled) == (
        None,
        None,
        False,
    )


# --- intent -----------------------------------------------------------------------------------


def test_intent_campaign_override_by_attributed_id_or_entry_utm_campaign() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}]",
        extra="    intent: {campaigns: {late: [c1], early: [spring]}}\n",
    )
    (by_id,) = journeys_of([ev("e1", "a", 0)], f)
    assert (by_id.intent_segment, by_id.intent_rule) == ("late", "campaign")
    (by_name,) = journeys_of([ev("e1", "a", 0, campaign_id="c9", utm_campaign="spring")], f)
    assert (by_name.intent_segment, by_name.intent_rule) == ("early", "campaign")
    (other,) = journeys_of([ev("e1", "a", 0, campaign_id="c9")], f)
    assert (other.intent_segment, other.intent_rule) == ("early", "prior_stage")


def _three_journeys() -> list[dict[str, Any]]:
    # With a 1h window: journey 1 reaches stage 2, journey 2 stage 3, journeys 3 and 4 stage 1.
    return [
        ev("j1a", "a", 0),
        ev("j1b", "b", 10),
        ev("j2a", "a", 4000),
        ev("j2b", "b", 4010),
        ev("j2c", "c", 4020),
        ev("j3a", "a", 8000),
        ev("j4a", "a", 12000),
    ]


def test_intent_from_prior_stages_with_default_thresholds() -> None:
    # Four stages: mid from stage 1, late from max(4 - 1, 2) = 3.
    four = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]},"
        " {name: s4, events: [d]}]"
    )
    journeys = journeys_of(_three_journeys(), four)
    assert [(j.intent_segment, j.intent_rule) for j in journeys] == [
        ("early", "prior_stage"),
        ("mid", "prior_stage"),
        ("late", "prior_stage"),
        ("late", "prior_stage"),
    ]


def test_intent_from_prior_stages_with_declared_thresholds() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]},"
        " {name: s4, events: [d]}]",
        extra="    intent: {mid_from_stage: s3, late_from_stage: s4}\n",
    )
    assert [j.intent_segment for j in journeys_of(_three_journeys(), f)] == [
        "early",
        "early",  # prior stage 2 < 3
        "mid",
        "mid",
    ]


def test_intent_helper_with_thresholds() -> None:
    from tests.reference.funnel import intent_segment

    assert intent_segment(2, 5, mid_from_stage=3, late_from_stage=5) == "early"
    assert intent_segment(3, 5, mid_from_stage=3, late_from_stage=5) == "mid"
    assert intent_segment(5, 5, mid_from_stage=3, late_from_stage=5) == "late"


# --- aggregates with optional stages and exclusions --------------------------------------------


def test_aggregates_count_reached_stages_and_leave_excluded_journeys_out() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b], optional: true},"
        " {name: s3, events: [c]}]",
        extra="    exclusions: [{name: support, events: [s], between: [s1, s3]}]\n",
    )
    events = [
        *[
            ev("u1a", "a", 0, user="u1"),
            ev("u1b", "b", 10, user="u1"),
            ev("u1c", "c", 20, user="u1"),
        ],
        *[ev("u2a", "a", 0, user="u2"), ev("u2c", "c", 30, user="u2")],  # skips s2
        *[ev("u3a", "a", 0, user="u3"), ev("u3b", "b", 5, user="u3")],
        *[
            ev("u4a", "a", 0, user="u4"),
            ev("u4s", "s", 1, user="u4"),
            ev("u4c", "c", 40, user="u4"),
        ],
        ev("u5a", "a", 0, user="u5"),
        # a campaign whose only journey is excluded
        *[ev("u6a", "a", 0, user="u6", campaign_id="c2"), ev("u6s", "s", 1, user="u6")],
    ]
    journeys = journeys_of(events, f)
    assert sum(j.is_excluded for j in journeys) == 2
    rows = aggregate_stages(journeys, f, {("google_ads", "c1", date(2024, 3, 1)): 8.0})
    c1 = [r for r in rows if r.campaign_id == "c1"]
    assert [(r.journeys_reached, r.journeys_advanced, r.dropoff_count) for r in c1] == [
        (4, 3, 1),
        (2, 1, 1),  # u2 went deeper without reaching s2: not counted at s2
        (2, None, None),
    ]
    assert [r.journeys_excluded for r in c1] == [1, 0, 1]
    assert [r.users_reached for r in c1] == [4, 2, 2]
    assert [r.step_conversion_rate for r in c1] == [0.75, 0.5, None]
    assert [r.overall_conversion_rate for r in c1] == [1.0, 0.5, 0.5]
    # stage 1 -> next reached stage: u1 10 s, u2 30 s (to s3), u3 5 s
    assert c1[0].median_seconds_to_next_stage == 10.0
    assert c1[1].median_seconds_to_next_stage == 10.0
    assert c1[0].cost_per_journey_reached == 2.0

    c2 = [r for r in rows if r.campaign_id == "c2"]
    assert [(r.journeys_reached, r.journeys_excluded) for r in c2] == [(0, 1), (0, 0), (0, 0)]
    assert [r.overall_conversion_rate for r in c2] == [None, None, None]
    assert c2[0].step_conversion_rate is None


def test_aggregates_group_by_the_attributed_campaign() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}]", extra="    attribution: last_touch\n"
    )
    events = [ev("e1", "a", 0), ev("e2", "b", 10, platform="meta", campaign_id="m2")]
    rows = aggregate_stages(journeys_of(events, f), f, {("meta", "m2", date(2024, 3, 1)): 4.0})
    assert {(r.platform, r.campaign_id, r.spend) for r in rows} == {("meta", "m2", 4.0)}


def test_excluded_earlier_journeys_still_count_for_the_prior_stage_intent() -> None:
    f = funnel(
        "[{name: s1, events: [a]}, {name: s2, events: [b]}, {name: s3, events: [c]}]",
        extra="    exclusions: [{name: support, events: [s], between: [s1, s2]}]\n",
    )
    events = [ev("e1", "a", 0), ev("x1", "s", 5), ev("e2", "b", 10), ev("e3", "a", 4000)]
    first, second = journeys_of(events, f)
    assert first.is_excluded
    assert second.intent_segment == "late"  # prior stage 2 >= max(3 - 1, 2)


STRICT_FOUR = replace(FOUR, mode="strict")
ANY_FOUR = replace(FOUR, mode="any_order")


@settings(max_examples=200, deadline=None)
@given(streams=st.lists(user_streams(), min_size=1, max_size=3))
def test_strict_is_a_prefix_of_ordered_and_any_order_goes_at_least_as_far(
    streams: list[list[tuple[int, str]]],
) -> None:
    events = _as_events(streams)
    ordered = {j.user_key: j for j in journeys_of(events, FOUR)}
    strict = {j.user_key: j for j in journeys_of(events, STRICT_FOUR)}
    any_order = {j.user_key: j for j in journeys_of(events, ANY_FOUR)}
    assert ordered.keys() == strict.keys() == any_order.keys()  # one stage-1 event per user
    for user, journey in ordered.items():
        s = strict[user]
        assert s.furthest_stage <= journey.furthest_stage
        assert (
            s.reached_event_id[: s.furthest_stage] == journey.reached_event_id[: s.furthest_stage]
        )
        assert any_order[user].furthest_stage >= journey.furthest_stage
