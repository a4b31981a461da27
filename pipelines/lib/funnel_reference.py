"""Pure-Python reference of the "ordered" funnel semantics (DESIGN.md section 6).

This module is the test oracle for the dbt SQL: plain loops, no engine, written to be read.
The SQL must produce the same journeys and stage rows on the same events.

Input events are dicts with the canonical event columns (event_id, user_key, event_name,
event_at as a naive UTC datetime, event_date in the reporting timezone, platform, campaign_id,
is_paid_touch, engagement_time_ms, page_url, utm_*, click_id, click_id_type, value, currency)
and `properties` (a dict, or its JSON text). Events without a user_key or event_at are ignored.

Matching
--------
An event matches a stage when one of the stage's matchers matches: same event_name and every
filter of the matcher (stage-level `where` plus the entry's own) is true. Filters are SQL-like:
a comparison on a null field is false (also for `ne` and `not_in`); is_null / not_null test
for null. `param.<key>` reads properties[key] (a missing key or JSON null is null). Filters
with a number (value_number: gt / gte / lt / lte, and eq / ne written with a numeric value)
compare float(field) with it, and a field that is not a number gives false. Otherwise eq / ne /
in / not_in compare the field's text form with the filter's text values (booleans as
'true'/'false', floats in shortest round-trip form, see `model.scalar_text`; like DuckDB's
cast to varchar), and contains is a substring test on the text form.

Rules, per funnel and user_key
------------------------------
1. Take the user's events that match at least one stage of the funnel. A stage-1 match
   additionally requires, when the funnel lists `campaigns`, that the event's campaign_id or
   utm_campaign is in the list. Order them into one sequence by (event_at, the lowest stage the
   event matches, event_id).
2. A journey starts at a stage-1 event. The first stage-1 event starts the first journey.
   Window W: deadline = start.event_at + W (inclusive).
3. Stage k (k >= 2) is reached by the first event after (in the sequence) the event that
   reached stage k-1 that matches stage k and has event_at <= deadline. One event advances at
   most one stage. Events in between are allowed.
4. The journey ends at conversion (stage N reached), end_at = the time stage N was reached, or
   else end_at = deadline. A later stage-1 event starts a new journey only if its
   event_at > end_at of the previous journey; stage-1 events inside an open journey do not
   restart it (they may still reach later stages when they match them).
5. Journey attributes: journey_id = md5 hex of f"{funnel_id}|{user_key}|{start_event_id}";
   platform and campaign_id of the stage-1 event (None for organic); cohort_date = event_date
   of the start event; reached_at[k] / reached_event_id[k] (None when not reached);
   furthest_stage; is_converted = furthest == N; seconds_to_convert (start -> stage N);
   engaged_seconds[k] = sum of engagement_time_ms / 1000 over ALL the user's events (matching
   or not) with reached_at[k] <= event_at < boundary, where boundary = reached_at[k+1] for
   k < furthest and end_at for k == furthest (so a converted journey's last stage is 0);
   None for stages not reached; is_final = cohort_date + window_days (window rounded up to
   whole days) + late_data_days < as_of.
6. One StageRow per (funnel_id, cohort_date, platform, campaign_id, stage_order 1..N) for each
   group with at least one journey: journeys_reached(k) = journeys with furthest >= k;
   users_reached = distinct user_key among them; journeys_advanced = reached(k+1);
   step_conversion_rate = reached(k+1) / reached(k); overall_conversion_rate =
   reached(k) / reached(1); dropoff_count = reached(k) - reached(k+1) (the three "next stage"
   values are None for the last stage; the step rate also when reached(k) = 0);
   median / p90_seconds_to_next_stage = quantile_cont (position (n-1)*q, linear interpolation)
   of reached_at[k+1] - reached_at[k] over journeys that reached k+1 (None when none or last
   stage); avg_engaged_seconds = mean engaged_seconds[k] over journeys that reached k (None
   when none); spend = spend_by_campaign_day[(platform, campaign_id, cohort_date)] (None for
   organic or no data); cost_per_journey_reached = spend / journeys_reached (None when spend is
   None or reached is 0); is_final = every journey of the group is final.
7. intent_segment of a journey, from the deepest stage P the same user reached in earlier
   journeys of the funnel: 'early' when there is none (P = 0), 'late' when P >= max(N-1, 2),
   else 'mid'.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipelines.lib.funnels.model import Filter, Funnel, Stage, scalar_text

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


def event_matches_stage(event: Event, stage: Stage) -> bool:
    """True when any matcher of the stage matches (event name and all its filters)."""
    return any(
        event.get("event_name") == matcher.event_name
        and all(filter_matches(event, flt) for flt in matcher.filters)
        for matcher in stage.matchers
    )


def in_funnel_campaigns(event: Event, funnel: Funnel) -> bool:
    """Whether the event's campaign may start a journey of this funnel (rule 1)."""
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
    platform: str | None
    campaign_id: str | None
    cohort_date: date
    started_at: datetime
    ended_at: datetime  # conversion time, or started_at + window
    reached_at: tuple[datetime | None, ...]
    reached_event_id: tuple[str | None, ...]
    furthest_stage: int
    is_converted: bool
    seconds_to_convert: float | None
    engaged_seconds: tuple[float | None, ...]
    is_final: bool
    # early: no earlier journey of the user in this funnel; late: an earlier one reached stage
    # max(N-1, 2) or beyond; mid: otherwise (rule 7).
    intent_segment: str = "early"

    def reached(self, stage_order: int) -> datetime | None:
        """When stage `stage_order` (1-based) was reached, or None."""
        return self.reached_at[stage_order - 1]


@dataclass(frozen=True)
class _Step:
    """An event of the sequence (rule 1) and the stages it matches."""

    event: Event
    stages: frozenset[int]

    @property
    def at(self) -> datetime:
        return self.event["event_at"]


def journey_id(funnel_id: str, user_key: str, start_event_id: str) -> str:
    return hashlib.md5(f"{funnel_id}|{user_key}|{start_event_id}".encode()).hexdigest()


def _sequence(user_events: Iterable[Event], funnel: Funnel) -> list[_Step]:
    steps = []
    for event in user_events:
        stages = matched_stages(event, funnel)
        if stages:
            steps.append(_Step(event=event, stages=stages))
    steps.sort(key=lambda s: (s.at, min(s.stages), str(s.event["event_id"])))
    return steps


def _engaged_seconds(user_events: Sequence[Event], start: datetime, boundary: datetime) -> float:
    return sum(
        (e.get("engagement_time_ms") or 0) / 1000
        for e in user_events
        if start <= e["event_at"] < boundary
    )


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
    for i, start in enumerate(steps):
        # Rules 2 and 4: only a stage-1 event after the previous journey's end starts one.
        if 1 not in start.stages:
            continue
        if previous_end is not None and start.at <= previous_end:
            continue
        deadline = start.at + funnel.window
        reached: list[_Step | None] = [start] + [None] * (n - 1)
        current = 1
        # Rule 3: greedy earliest match, one stage per event, within the window.
        for step in steps[i + 1 :]:
            if current == n or step.at > deadline:
                break
            if current + 1 in step.stages:
                reached[current] = step
                current += 1
        converted = current == n
        conversion = reached[n - 1]
        end_at = conversion.at if conversion is not None else deadline
        previous_end = end_at

        reached_at = tuple(s.at if s else None for s in reached)
        engaged: list[float | None] = []
        for k in range(1, n + 1):
            if k > current:
                engaged.append(None)
                continue
            boundary = reached_at[k] if k < current else end_at
            engaged.append(_engaged_seconds(user_events, reached_at[k - 1], boundary))

        cohort_date = start.event["event_date"]
        start_id = str(start.event["event_id"])
        journeys.append(
            Journey(
                funnel_id=funnel.id,
                funnel_version=funnel.version,
                journey_id=journey_id(funnel.id, user_key, start_id),
                user_key=user_key,
                platform=start.event.get("platform"),
                campaign_id=start.event.get("campaign_id"),
                cohort_date=cohort_date,
                started_at=start.at,
                ended_at=end_at,
                reached_at=reached_at,
                reached_event_id=tuple(str(s.event["event_id"]) if s else None for s in reached),
                furthest_stage=current,
                is_converted=converted,
                seconds_to_convert=(end_at - start.at).total_seconds() if converted else None,
                engaged_seconds=tuple(engaged),
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
        user_journeys = _user_journeys(user_key, by_user[user_key], funnel, as_of, late_data_days)
        journeys.extend(_with_intent(user_journeys, funnel.stage_count))
    return journeys


def intent_segment(prior_furthest_stage: int, stage_count: int) -> str:
    """Intent at a journey's start from the deepest stage of the user's earlier journeys."""
    if prior_furthest_stage == 0:
        return "early"
    if prior_furthest_stage >= max(stage_count - 1, 2):
        return "late"
    return "mid"


def _with_intent(journeys: list[Journey], stage_count: int) -> list[Journey]:
    prior = 0
    out = []
    for journey in journeys:  # one user's journeys, in start order
        out.append(dataclasses.replace(journey, intent_segment=intent_segment(prior, stage_count)))
        prior = max(prior, journey.furthest_stage)
    return out


# --- stage aggregates ------------------------------------------------------------------------


@dataclass(frozen=True)
class StageRow:
    """One row of agg_funnel_stages_daily."""

    funnel_id: str
    funnel_version: int
    cohort_date: date
    platform: str | None
    campaign_id: str | None
    stage_order: int
    stage_name: str
    journeys_reached: int
    users_reached: int
    journeys_advanced: int | None
    step_conversion_rate: float | None
    overall_conversion_rate: float
    dropoff_count: int | None
    median_seconds_to_next_stage: float | None
    p90_seconds_to_next_stage: float | None
    avg_engaged_seconds: float | None
    spend: float | None
    cost_per_journey_reached: float | None
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
    return (j.funnel_id, j.cohort_date, j.platform, j.campaign_id)


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    # None sorts first and never compared with a string.
    return tuple((value is not None, value if value is not None else "") for value in key)


def aggregate_stages(
    journeys: Iterable[Journey],
    funnel: Funnel,
    spend_by_campaign_day: Mapping[tuple[str | None, str | None, date], float],
) -> list[StageRow]:
    """Stage rows per (funnel, cohort_date, platform, campaign_id) group, stage 1..N."""
    groups: dict[tuple[Any, ...], list[Journey]] = defaultdict(list)
    for j in journeys:
        if j.funnel_id == funnel.id:
            groups[_group_key(j)].append(j)

    n = funnel.stage_count
    rows: list[StageRow] = []
    for key in sorted(groups, key=_sort_key):
        group = groups[key]
        _, cohort_date, platform, campaign_id = key
        reached = [sum(1 for j in group if j.furthest_stage >= k) for k in range(1, n + 2)]
        spend = (
            spend_by_campaign_day.get((platform, campaign_id, cohort_date))
            if campaign_id is not None
            else None
        )
        for k in range(1, n + 1):
            at_k = [j for j in group if j.furthest_stage >= k]
            last = k == n
            gaps = [
                (j.reached_at[k] - j.reached_at[k - 1]).total_seconds()
                for j in group
                if not last and j.furthest_stage >= k + 1
            ]
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
                    journeys_reached=reached[k - 1],
                    users_reached=len({j.user_key for j in at_k}),
                    journeys_advanced=None if last else reached[k],
                    step_conversion_rate=None
                    if last or reached[k - 1] == 0
                    else reached[k] / reached[k - 1],
                    overall_conversion_rate=reached[k - 1] / reached[0],
                    dropoff_count=None if last else reached[k - 1] - reached[k],
                    median_seconds_to_next_stage=quantile_cont(gaps, 0.5),
                    p90_seconds_to_next_stage=quantile_cont(gaps, 0.9),
                    avg_engaged_seconds=sum(engaged) / len(engaged) if engaged else None,
                    spend=spend,
                    cost_per_journey_reached=spend / reached[k - 1]
                    if spend is not None and reached[k - 1]
                    else None,
                    is_final=all(j.is_final for j in group),
                )
            )
    return rows
