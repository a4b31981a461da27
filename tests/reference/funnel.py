"""Pure-Python reference of the funnel engine (docs/funnels.md sections 2-4): the test oracle.

Plain loops, no engine, written to be read: the dbt SQL must produce the same journeys and
stage rows on the same events. docs/funnels.md is the specification; this docstring only says
how the code maps onto it and how it reads the points the page leaves open.

Input events are dicts with the canonical event columns (event_id, user_key, event_name,
event_at as a naive UTC datetime, event_date in the reporting timezone, platform, campaign_id,
is_paid_touch, engagement_time_ms, page_url, utm_*, click_id, click_id_type, value, currency)
and `properties` (a dict, or its JSON text). Events without a user_key or event_at are ignored.

Matching
--------
An event matches a stage (or an exclusion) when one of its matchers matches: same event_name
and every filter of the matcher (the stage-level `where` plus the entry's own) is true.
Filters are SQL-like: a comparison on a null field is false (also for `ne` and `not_in`);
is_null / not_null test for null. `param.<key>` reads properties[key] (a missing key or JSON
null is null). Filters with a number (value_number: gt / gte / lt / lte, and eq / ne written
with a numeric value) compare float(field) with it, and a field that is not a number gives
false. Otherwise eq / ne / in / not_in compare the field's text form with the filter's text
values (booleans as 'true'/'false', floats in shortest round-trip form, see
`model.scalar_text`; like DuckDB's cast to varchar), and contains is a substring test on the
text form. A stage-1 match also needs, when the funnel lists `campaigns`, the event's
campaign_id or utm_campaign in the list.

Where the code is
-----------------
- `_sequence`: the user's sequence, ordered by (event_at, lowest matched stage, event_id).
- `_user_journeys`: journey starts and ends (rules 1-4), then per journey:
  `_walk_ordered` (ordered and strict: anchor, candidates c+1 .. r(c), per-stage max_gap and
  the inclusive deadline, earliest qualifying event wins, the highest stage on a tie, strict =
  the candidate must be the anchor's next sequence event) or `_walk_any_order`;
  `_exclusion`, `_attribution`, `_dropoff`, `_intent`, per-stage seconds_to_next and engaged
  seconds.
- `aggregate_stages`: section 3, one StageRow per (cohort_date, attributed platform,
  attributed campaign_id, stage) of the funnel.

Readings of points docs/funnels.md leaves open
----------------------------------------------
- Event ids compare as text wherever they break a tie (sequence order, last touch, drop-off).
- `attribution_model` on a journey is the table's value: first_touch, last_touch or stage.
- Exclusions: the excluding event is the earliest matching event over all exclusions by
  (event_at, exclusion order, event_id); `excluded_by` is its exclusion's name and
  `excluded_event_id` its id. An exclusion event may be any event of the user (it need not be
  in the funnel's sequence). The interval [reached_at(from), until) may be empty.
- any_order: stage times need not grow with the stage order (an optional stage matched after
  a later required stage): seconds_to_next is then negative and the engaged-seconds interval
  empty (0), exactly as the formulas say.
- Intent: the campaign override looks up the attributed campaign_id first, then the entry's
  utm_campaign. The prior-stage rule takes P = the deepest furthest_stage of ALL the user's
  earlier journeys of the funnel, excluded ones included (P = 0 without one: 'early').
- Aggregates: a group is every (cohort_date, platform, campaign_id) with at least one journey,
  excluded or not, so a group of only excluded journeys still has its rows (reached 0,
  journeys_excluded > 0). Rates whose denominator is 0 are None: step_conversion_rate when
  reached(k) = 0, overall_conversion_rate when reached(1) = 0. users_reached counts distinct
  users among the non-excluded journeys that reached k. spend is looked up by the attributed
  (platform, campaign_id, cohort_date) (None for organic or no data); cost_per_journey_reached
  = spend / journeys_reached (None when either is None or 0). is_final = every journey of the
  group is final.
- is_final of a journey: cohort_date + window_days (window rounded up to whole days) +
  late_data_days < as_of.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipelines.lib.funnels.model import Filter, Funnel, Matcher, Stage, scalar_text

Event = Mapping[str, Any]


# --- matching --------------------------------------------------------------------------------


def _properties(event: Event) -> Mapping[str, Any]:
    props = event.get("properties")
    if props is None:
        return {}
    if isinstance(props, str):  # the canonical table stores JSON text
        parsed = json.loads(props) if props else {}
        return parsed if isinstance(parsed, Mapping) else {}
    return props


def field_value(event: Event, flt: Filter) -> Any:
    """The value a filter reads: a canonical column or properties[param_key]."""
    key = flt.param_key
    if key is not None:
        return _properties(event).get(key)
    return event.get(flt.field)


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None  # SQL: try_cast(true as double) is not a comparison we want to allow
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _as_text(value: Any) -> str:
    """Text form of a field; nested property values as compact JSON (like json_extract_string)."""
    if isinstance(value, str | int | float | bool):
        return scalar_text(value)
    return json.dumps(value, separators=(",", ":"))


def filter_matches(event: Event, flt: Filter) -> bool:
    """One filter, with SQL null semantics (any comparison with null is false)."""
    value = field_value(event, flt)
    if flt.op == "is_null":
        return value is None
    if flt.op == "not_null":
        return value is not None
    if value is None:
        return False
    if flt.value_number is not None:  # numeric ops, and eq / ne given a number
        number = _as_number(value)
        if number is None:
            return False
        target = flt.value_number
        return {
            "eq": number == target,
            "ne": number != target,
            "gt": number > target,
            "gte": number >= target,
            "lt": number < target,
            "lte": number <= target,
        }[flt.op]
    text = _as_text(value)
    if flt.op == "eq":
        return text == flt.value_text
    if flt.op == "ne":
        return text != flt.value_text
    if flt.op == "in":
        return text in (flt.value_list or ())
    if flt.op == "not_in":
        return text not in (flt.value_list or ())
    if flt.op == "contains":
        return flt.value_text is not None and flt.value_text in text
    raise ValueError(f"unknown operator {flt.op!r}")


def event_matches(event: Event, matchers: Iterable[Matcher]) -> bool:
    """True when any matcher matches (event name and all its filters)."""
    return any(
        event.get("event_name") == matcher.event_name
        and all(filter_matches(event, flt) for flt in matcher.filters)
        for matcher in matchers
    )


def event_matches_stage(event: Event, stage: Stage) -> bool:
    """True when any matcher of the stage matches (event name and all its filters)."""
    return event_matches(event, stage.matchers)


def in_funnel_campaigns(event: Event, funnel: Funnel) -> bool:
    """Whether the event's campaign may start a journey of this funnel."""
    if not funnel.campaigns:
        return True
    return event.get("campaign_id") in funnel.campaigns or (
        event.get("utm_campaign") in funnel.campaigns
    )


def matched_stages(event: Event, funnel: Funnel) -> frozenset[int]:
    """The stage orders (1-based) the event matches, with the campaign rule on stage 1."""
    orders = set()
    for stage in funnel.stages:
        if not event_matches_stage(event, stage):
            continue
        if stage.order == 1 and not in_funnel_campaigns(event, funnel):
            continue
        orders.add(stage.order)
    return frozenset(orders)


# --- journeys --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Journey:
    """One journey of one user through one funnel. Per-stage tuples are indexed k-1."""

    funnel_id: str
    funnel_version: int
    journey_id: str
    user_key: str
    platform: str | None  # attributed (docs/funnels.md "Attribution")
    campaign_id: str | None
    first_touch_platform: str | None  # always the entry event's
    first_touch_campaign_id: str | None
    attribution_model: str  # first_touch | last_touch | stage
    cohort_date: date
    started_at: datetime
    ended_at: datetime  # conversion time, or the deadline
    deadline_at: datetime  # started_at + window
    reached_at: tuple[datetime | None, ...]
    reached_event_id: tuple[str | None, ...]
    reached_event_name: tuple[str | None, ...]
    seconds_to_next: tuple[float | None, ...]
    engaged_seconds: tuple[float | None, ...]
    furthest_stage: int
    is_converted: bool
    seconds_to_convert: float | None
    is_excluded: bool
    excluded_by: str | None
    excluded_event_id: str | None
    dropoff_event_id: str | None
    dropoff_event_name: str | None
    dropoff_at: datetime | None
    is_stalled: bool
    intent_segment: str  # early | mid | late
    intent_rule: str  # campaign | prior_stage
    is_final: bool

    def reached(self, stage_order: int) -> datetime | None:
        """When stage `stage_order` (1-based) was reached, or None."""
        return self.reached_at[stage_order - 1]


@dataclass(frozen=True)
class _Step:
    """An event of the sequence and the stages it matches."""

    event: Event
    stages: frozenset[int]

    @property
    def at(self) -> datetime:
        return self.event["event_at"]

    @property
    def event_id(self) -> str:
        return str(self.event["event_id"])


def journey_id(funnel_id: str, user_key: str, start_event_id: str) -> str:
    return hashlib.md5(f"{funnel_id}|{user_key}|{start_event_id}".encode()).hexdigest()


def _event_order(event: Event) -> tuple[datetime, str]:
    """(event_at, event_id): the order of 'last touch' and 'last event'."""
    return (event["event_at"], str(event["event_id"]))


def _sequence(user_events: Iterable[Event], funnel: Funnel) -> list[_Step]:
    """The user's events that match a stage, by (event_at, lowest stage matched, event_id)."""
    steps = []
    for event in user_events:
        stages = matched_stages(event, funnel)
        if stages:
            steps.append(_Step(event=event, stages=stages))
    steps.sort(key=lambda s: (s.at, min(s.stages), s.event_id))
    return steps


def _walk_ordered(
    steps: Sequence[_Step], entry: int, deadline: datetime, funnel: Funnel
) -> dict[int, int]:
    """ordered / strict: stage order -> position in `steps` of the event that reached it."""
    n = funnel.stage_count
    strict = funnel.mode == "strict"
    reached = {1: entry}
    anchor_stage, anchor_pos = 1, entry
    while anchor_stage < n:
        last_candidate = funnel.next_required_stage(anchor_stage)
        assert last_candidate is not None  # the last stage is never optional
        best: tuple[int, int] | None = None  # (position, stage)
        for m in range(anchor_stage + 1, last_candidate + 1):
            # The candidate event: the first event after the anchor that matches m.
            position = next(
                (p for p in range(anchor_pos + 1, len(steps)) if m in steps[p].stages), None
            )
            if position is None:
                continue
            at = steps[position].at
            if at > deadline:
                continue
            gap = funnel.stage(m).max_gap
            if gap is not None and at > steps[anchor_pos].at + gap:
                continue
            if strict and position != anchor_pos + 1:
                continue
            # The earliest qualifying event wins; on the same event, the highest stage.
            if best is None or position < best[0] or (position == best[0] and m > best[1]):
                best = (position, m)
        if best is None:
            break
        anchor_pos, anchor_stage = best
        reached[anchor_stage] = anchor_pos
    return reached


def _walk_any_order(
    steps: Sequence[_Step], entry: int, deadline: datetime, funnel: Funnel
) -> dict[int, int]:
    """any_order: stage order -> position of the event at which the stage counts as reached."""
    matched = {1: entry}
    for m in range(2, funnel.stage_count + 1):
        for p in range(entry + 1, len(steps)):
            if steps[p].at > deadline:
                break
            if m in steps[p].stages:
                matched[m] = p
                break
    reached = {1: entry}
    for k in range(2, funnel.stage_count + 1):
        needed = [j for j in range(2, k) if not funnel.stage(j).optional] + [k]
        if all(j in matched for j in needed):
            # Reached when everything up to k was done: the latest of those events.
            reached[k] = max([entry] + [matched[j] for j in needed])
    return reached


def _engaged_seconds(user_events: Sequence[Event], start: datetime, boundary: datetime) -> float:
    return sum(
        (e.get("engagement_time_ms") or 0) / 1000
        for e in user_events
        if start <= e["event_at"] < boundary
    )


def _exclusion(
    user_events: Sequence[Event],
    funnel: Funnel,
    reached_at: Sequence[datetime | None],
    ended_at: datetime,
) -> tuple[str, str] | None:
    """(exclusion name, event id) of the earliest excluding event, or None."""
    found: list[tuple[datetime, int, str, str]] = []
    for exclusion in funnel.exclusions:
        start = reached_at[exclusion.from_stage - 1]
        if start is None:
            continue  # only journeys that reached `from` can be excluded
        until = reached_at[exclusion.to_stage - 1] or ended_at
        for event in user_events:
            if start <= event["event_at"] < until and event_matches(event, exclusion.matchers):
                found.append(
                    (event["event_at"], exclusion.order, str(event["event_id"]), exclusion.name)
                )
    if not found:
        return None
    _, _, event_id, name = min(found)
    return name, event_id


def _attribution(
    user_events: Sequence[Event],
    funnel: Funnel,
    entry: Event,
    reached_events: Sequence[Event | None],
    started_at: datetime,
    ended_at: datetime,
) -> Event:
    """The event whose platform and campaign_id the journey is attributed to."""
    rule = funnel.attribution
    if rule.model == "last_touch":
        touches = [
            e
            for e in user_events
            if e.get("campaign_id") is not None and started_at <= e["event_at"] <= ended_at
        ]
        return max(touches, key=_event_order) if touches else entry
    if rule.model == "stage":
        assert rule.stage is not None
        event = reached_events[rule.stage - 1]
        if event is not None and event.get("campaign_id") is not None:
            return event
    return entry


def _dropoff(
    user_events: Sequence[Event], since: datetime, ended_at: datetime
) -> tuple[Event, bool]:
    """The user's last event in [since, ended_at] and whether none came after `since`."""
    window = [e for e in user_events if since <= e["event_at"] <= ended_at]
    last = max(window, key=_event_order)
    stalled = not any(e["event_at"] > since for e in window)
    return last, stalled


def intent_segment(
    prior_furthest_stage: int,
    stage_count: int,
    mid_from_stage: int = 1,
    late_from_stage: int | None = None,
) -> str:
    """Intent from the deepest stage of the user's earlier journeys (0 = none), section 4."""
    late = late_from_stage if late_from_stage is not None else max(stage_count - 1, 2)
    if prior_furthest_stage >= late:
        return "late"
    if prior_furthest_stage >= mid_from_stage:
        return "mid"
    return "early"


def _intent(
    funnel: Funnel, campaign_id: str | None, entry: Event, prior_furthest_stage: int
) -> tuple[str, str]:
    """(intent_segment, intent_rule) of a journey."""
    overrides = funnel.intent_campaigns
    for campaign in (campaign_id, entry.get("utm_campaign")):
        if campaign is not None and campaign in overrides:
            return overrides[campaign], "campaign"
    segment = intent_segment(
        prior_furthest_stage,
        funnel.stage_count,
        funnel.intent_mid_from_stage,
        funnel.intent_late_from_stage,
    )
    return segment, "prior_stage"


def _user_journeys(
    user_key: str,
    user_events: Sequence[Event],
    funnel: Funnel,
    as_of: date,
    late_data_days: int,
) -> list[Journey]:
    n = funnel.stage_count
    steps = _sequence(user_events, funnel)
    journeys: list[Journey] = []
    previous_end: datetime | None = None
    prior_furthest = 0
    for i, start in enumerate(steps):
        # Rules 1 and 3: only a stage-1 event after the previous journey's end starts one.
        if 1 not in start.stages:
            continue
        if previous_end is not None and start.at <= previous_end:
            continue
        deadline = start.at + funnel.window
        walk = _walk_any_order if funnel.mode == "any_order" else _walk_ordered
        positions = walk(steps, i, deadline, funnel)
        reached: list[_Step | None] = [
            steps[positions[k]] if k in positions else None for k in range(1, n + 1)
        ]
        furthest = max(positions)
        converted = furthest == n
        # Rule 2: a journey ends at conversion, or when its window closes.
        ended_at = reached[n - 1].at if converted else deadline  # type: ignore[union-attr]
        previous_end = ended_at

        reached_at = tuple(s.at if s else None for s in reached)
        # The next reached stage after each stage (None for the furthest or unreached).
        next_reached: list[datetime | None] = []
        for k in range(1, n + 1):
            later = [reached_at[j - 1] for j in range(k + 1, n + 1) if reached_at[j - 1]]
            next_reached.append(later[0] if reached_at[k - 1] and later else None)
        seconds_to_next = tuple(
            (nxt - at).total_seconds() if at is not None and nxt is not None else None
            for at, nxt in zip(reached_at, next_reached, strict=True)
        )
        engaged = tuple(
            None
            if at is None
            else _engaged_seconds(user_events, at, nxt if nxt is not None else ended_at)
            for at, nxt in zip(reached_at, next_reached, strict=True)
        )

        exclusion = _exclusion(user_events, funnel, reached_at, ended_at)
        touch = _attribution(
            user_events,
            funnel,
            start.event,
            [s.event if s else None for s in reached],
            start.at,
            ended_at,
        )
        platform, campaign_id = touch.get("platform"), touch.get("campaign_id")

        dropoff: Event | None = None
        stalled = False
        if not converted:
            dropoff, stalled = _dropoff(user_events, reached_at[furthest - 1], ended_at)  # type: ignore[arg-type]

        segment, rule = _intent(funnel, campaign_id, start.event, prior_furthest)
        prior_furthest = max(prior_furthest, furthest)

        cohort_date = start.event["event_date"]
        journeys.append(
            Journey(
                funnel_id=funnel.id,
                funnel_version=funnel.version,
                journey_id=journey_id(funnel.id, user_key, start.event_id),
                user_key=user_key,
                platform=platform,
                campaign_id=campaign_id,
                first_touch_platform=start.event.get("platform"),
                first_touch_campaign_id=start.event.get("campaign_id"),
                attribution_model=funnel.attribution.model,
                cohort_date=cohort_date,
                started_at=start.at,
                ended_at=ended_at,
                deadline_at=deadline,
                reached_at=reached_at,
                reached_event_id=tuple(s.event_id if s else None for s in reached),
                reached_event_name=tuple(s.event.get("event_name") if s else None for s in reached),
                seconds_to_next=seconds_to_next,
                engaged_seconds=engaged,
                furthest_stage=furthest,
                is_converted=converted,
                seconds_to_convert=(ended_at - start.at).total_seconds() if converted else None,
                is_excluded=exclusion is not None,
                excluded_by=exclusion[0] if exclusion else None,
                excluded_event_id=exclusion[1] if exclusion else None,
                dropoff_event_id=str(dropoff["event_id"]) if dropoff else None,
                dropoff_event_name=dropoff.get("event_name") if dropoff else None,
                dropoff_at=dropoff["event_at"] if dropoff else None,
                is_stalled=stalled,
                intent_segment=segment,
                intent_rule=rule,
                is_final=(cohort_date.toordinal() + funnel.window_days + late_data_days)
                < as_of.toordinal(),
            )
        )
    return journeys


def compute_journeys(
    events: Iterable[Event], funnel: Funnel, *, as_of: date, late_data_days: int
) -> list[Journey]:
    """All journeys of `funnel` in `events` (any number of users), by user_key then start."""
    by_user: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.get("user_key") is None or event.get("event_at") is None:
            continue
        by_user[event["user_key"]].append(event)
    journeys: list[Journey] = []
    for user_key in sorted(by_user):
        journeys.extend(_user_journeys(user_key, by_user[user_key], funnel, as_of, late_data_days))
    return journeys


# --- stage aggregates ------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """One row of agg_funnel_stages_daily (docs/funnels.md section 3)."""

    funnel_id: str
    funnel_version: int
    cohort_date: date
    platform: str | None  # attributed; None = organic
    campaign_id: str | None
    stage_order: int
    stage_name: str
    journeys_reached: int
    users_reached: int
    journeys_advanced: int | None
    step_conversion_rate: float | None
    overall_conversion_rate: float | None
    dropoff_count: int | None
    median_seconds_to_next_stage: float | None
    p90_seconds_to_next_stage: float | None
    avg_engaged_seconds: float | None
    spend: float | None
    cost_per_journey_reached: float | None
    journeys_excluded: int
    is_final: bool


def quantile_cont(values: Sequence[float], q: float) -> float | None:
    """Like DuckDB quantile_cont: sort, position (n-1)*q, linear interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    lower = math.floor(position)
    upper = math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _group_key(j: Journey) -> tuple[Any, ...]:
    return (j.cohort_date, j.platform, j.campaign_id)


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    # None sorts first and never compared with a string.
    return tuple((value is not None, value if value is not None else "") for value in key)


def aggregate_stages(
    journeys: Iterable[Journey],
    funnel: Funnel,
    spend_by_campaign_day: Mapping[tuple[str | None, str | None, date], float],
) -> list[StageRow]:
    """Stage rows per (cohort_date, platform, campaign_id) group of the funnel, stage 1..N."""
    groups: dict[tuple[Any, ...], list[Journey]] = defaultdict(list)
    for j in journeys:
        if j.funnel_id == funnel.id:
            groups[_group_key(j)].append(j)

    n = funnel.stage_count
    rows: list[StageRow] = []
    for key in sorted(groups, key=_sort_key):
        group = groups[key]
        cohort_date, platform, campaign_id = key
        counted = [j for j in group if not j.is_excluded]
        reached_1 = sum(1 for j in counted if j.reached(1) is not None)
        spend = (
            spend_by_campaign_day.get((platform, campaign_id, cohort_date))
            if campaign_id is not None
            else None
        )
        for k in range(1, n + 1):
            last = k == n
            at_k = [j for j in counted if j.reached(k) is not None]
            advanced = [j for j in at_k if j.furthest_stage > k]
            reached = len(at_k)
            gaps = [j.seconds_to_next[k - 1] for j in advanced]
            engaged = [j.engaged_seconds[k - 1] for j in at_k]
            rows.append(
                StageRow(
                    funnel_id=funnel.id,
                    funnel_version=funnel.version,
                    cohort_date=cohort_date,
                    platform=platform,
                    campaign_id=campaign_id,
                    stage_order=k,
                    stage_name=funnel.stage(k).name,
                    journeys_reached=reached,
                    users_reached=len({j.user_key for j in at_k}),
                    journeys_advanced=None if last else len(advanced),
                    step_conversion_rate=None if last or reached == 0 else len(advanced) / reached,
                    overall_conversion_rate=reached / reached_1 if reached_1 else None,
                    dropoff_count=None if last else reached - len(advanced),
                    median_seconds_to_next_stage=quantile_cont(gaps, 0.5),  # type: ignore[arg-type]
                    p90_seconds_to_next_stage=quantile_cont(gaps, 0.9),  # type: ignore[arg-type]
                    avg_engaged_seconds=sum(engaged) / len(engaged) if engaged else None,  # type: ignore[arg-type]
                    spend=spend,
                    cost_per_journey_reached=spend / reached
                    if spend is not None and reached
                    else None,
                    journeys_excluded=sum(
                        1 for j in group if j.is_excluded and j.reached(k) is not None
                    ),
                    is_final=all(j.is_final for j in group),
                )
            )
    return rows
