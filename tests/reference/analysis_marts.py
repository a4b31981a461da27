"""Pure-Python reference of the analysis marts (docs/funnels.md section 6), the test oracle.

Computed from journeys (`tests.reference.funnel.Journey`, or anything with the attributes of
`JourneyLike`) and the funnel definitions, with plain loops, written to be read. The dbt models
`agg_funnel_trends`, `agg_time_to_convert`, `agg_momentum_curve` and `agg_intent_segments` must
give the same rows.

Shared rules
------------
- Excluded journeys (`is_excluded`) are left out of every count; only `agg_funnel_trends`
  reports them, in `journeys_excluded`.
- Organic journeys (no platform / campaign) are grouped as platform 'organic', campaign
  '(none)'. Trends, time to convert, the momentum curve and the totals marts add a rollup per
  platform (campaign_id = '(all)') and one over every campaign (organic included) with
  platform = campaign_id = '(all)'.
- `funnel_version` is part of every grain.
- A stage k is reached when `reached_at[k-1]` is set (an optional stage that was skipped is not
  reached, even when the journey went deeper). Stage rows cover stages 1..N of the funnel.
- Rates are None when their denominator is 0; quantiles are continuous (linear interpolation,
  like DuckDB quantile_cont).

Per mart
--------
- trends: a row per (funnel, version, grain, cohort start, platform, campaign) with at least
  one journey, excluded or not; grain 'day' (cohort_start = cohort_date) and 'week' (the
  Monday of the ISO week). is_final = every cohort day of the period is final: every journey
  in the group is final and the period's last day is final, known from the funnel version's
  journeys (`is_final` only moves forward in time, so a final journey on or after the last
  day proves it).
- time to convert: groups with at least one converted journey; every bucket (BUCKETS) per
  group; share = conversions / group conversions; cumulative_share = conversions up to and
  including the bucket / group conversions.
- momentum curve: groups with at least one journey; journeys_converted = reached and
  converted; conversion_probability = converted / reached; lift = probability / the previous
  stage's probability (None for stage 1, for the last stage, where the probability is 1 by
  definition, and when either is None or the previous is 0).
- intent segments: a row per (funnel, version, cohort date, platform, campaign, intent
  segment, stage) for groups with at least one journey: journeys_advanced = reached k and
  furthest_stage > k (None for the last stage); step = advanced / reached; overall =
  reached(k) / reached(1); is_final = every journey of the group is final.
- intent segment totals: the same over every cohort date, per scope (campaign, platform, all).
- stage totals: per funnel version, scope and stage 1..N for scopes with any journey (excluded
  ones too): reach, advance, drop-off and the exact median / p90 seconds to the next stage of
  the journeys that advanced, over every cohort date; entries = reached(1), conversions =
  reached(N); spend = the campaigns' spend on each cohort day with a journey of the scope, once
  per campaign and day (None when no campaign day has spend); provisional_cohort_days = cohort
  days with a journey that is not final.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from pipelines.lib.funnels.model import Funnel
from tests.reference import journey_groups
from tests.reference.funnel import quantile_cont
from tests.reference.journey_groups import group_key, rollup_scopes, scope_keys

# (bucket_order, bucket_label, lower_seconds inclusive, upper_seconds exclusive or None).
BUCKETS: tuple[tuple[int, str, int, int | None], ...] = (
    (1, "< 1 min", 0, 60),
    (2, "1-5 min", 60, 300),
    (3, "5-15 min", 300, 900),
    (4, "15-60 min", 900, 3600),
    (5, "1-6 h", 3600, 21600),
    (6, "6-24 h", 21600, 86400),
    (7, "1-3 d", 86400, 259200),
    (8, "3-7 d", 259200, 604800),
    (9, ">= 7 d", 604800, None),
)


class JourneyLike(journey_groups.JourneyLike, Protocol):
    """The journey attributes these marts read (a subset of `tests.reference.funnel.Journey`)."""

    @property
    def seconds_to_convert(self) -> float | None: ...
    @property
    def intent_segment(self) -> str: ...
    @property
    def seconds_to_next(self) -> tuple[float | None, ...]: ...


@dataclass(frozen=True)
class TrendRow:
    funnel_id: str
    funnel_version: int
    cohort_grain: str
    cohort_start: date
    iso_year: int
    iso_week: int
    platform: str
    campaign_id: str
    journeys_started: int
    journeys_converted: int
    conversion_rate: float | None
    median_seconds_to_convert: float | None
    journeys_excluded: int
    is_final: bool


@dataclass(frozen=True)
class TimeToConvertRow:
    funnel_id: str
    funnel_version: int
    platform: str
    campaign_id: str
    bucket_order: int
    bucket_label: str
    lower_seconds: int
    upper_seconds: int | None
    conversions: int
    total_conversions: int
    share_of_conversions: float
    cumulative_share: float


@dataclass(frozen=True)
class MomentumRow:
    funnel_id: str
    funnel_version: int
    platform: str
    campaign_id: str
    stage_order: int
    stage_name: str
    journeys_reached: int
    journeys_converted: int
    conversion_probability: float | None
    lift_vs_previous_stage: float | None


@dataclass(frozen=True)
class IntentSegmentRow:
    funnel_id: str
    funnel_version: int
    cohort_date: date
    platform: str
    campaign_id: str
    intent_segment: str
    stage_order: int
    stage_name: str
    journeys_reached: int
    journeys_advanced: int | None
    step_conversion_rate: float | None
    overall_conversion_rate: float | None
    is_final: bool


@dataclass(frozen=True)
class IntentSegmentTotalRow:
    funnel_id: str
    funnel_version: int
    platform: str
    campaign_id: str
    intent_segment: str
    stage_order: int
    stage_name: str
    journeys_reached: int
    journeys_advanced: int | None
    step_conversion_rate: float | None
    overall_conversion_rate: float | None
    is_final: bool


@dataclass(frozen=True)
class StageTotalRow:
    funnel_id: str
    funnel_version: int
    platform: str
    campaign_id: str
    stage_order: int
    stage_name: str
    first_cohort_date: date
    last_cohort_date: date
    journeys_reached: int
    journeys_advanced: int | None
    step_conversion_rate: float | None
    overall_conversion_rate: float | None
    dropoff_count: int | None
    median_seconds_to_next_stage: float | None
    p90_seconds_to_next_stage: float | None
    journeys_excluded: int
    entries: int
    conversions: int
    conversion_rate: float | None
    spend: float | None
    cost_per_conversion: float | None
    provisional_cohort_days: int
    is_final: bool


# --- helpers ---------------------------------------------------------------------------------


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def _reached(j: JourneyLike, k: int) -> bool:
    return k <= len(j.reached_at) and j.reached_at[k - 1] is not None


def _funnels_by_id(funnels: Iterable[Funnel]) -> dict[str, Funnel]:
    return {f.id: f for f in funnels}


def _of_funnels(journeys: Iterable[JourneyLike], funnels: Mapping[str, Funnel]) -> list[Any]:
    return [j for j in journeys if j.funnel_id in funnels]


# --- agg_funnel_trends -----------------------------------------------------------------------


def week_start(day: date) -> date:
    """Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def funnel_trends(journeys: Iterable[JourneyLike], funnels: Iterable[Funnel]) -> list[TrendRow]:
    by_id = _funnels_by_id(funnels)
    selected = _of_funnels(journeys, by_id)
    # The newest final cohort day per funnel version: every day up to it is final.
    final_through: dict[tuple[str, int], date] = {}
    for j in selected:
        key = (j.funnel_id, j.funnel_version)
        if j.is_final and (key not in final_through or j.cohort_date > final_through[key]):
            final_through[key] = j.cohort_date

    groups: dict[tuple[Any, ...], list[JourneyLike]] = defaultdict(list)
    for j in selected:
        periods = (("day", j.cohort_date), ("week", week_start(j.cohort_date)))
        for grain, start in periods:
            for platform, campaign in rollup_scopes(j):
                groups[(j.funnel_id, j.funnel_version, grain, start, platform, campaign)].append(j)

    rows = []
    for trend_key in sorted(groups):
        funnel_id, version, grain, start, platform, campaign = trend_key
        group = groups[trend_key]
        counted = [j for j in group if not j.is_excluded]
        converted = [j for j in counted if j.is_converted]
        last_day = start if grain == "day" else start + timedelta(days=6)
        through = final_through.get((funnel_id, version))
        iso = start.isocalendar()
        rows.append(
            TrendRow(
                funnel_id=funnel_id,
                funnel_version=version,
                cohort_grain=grain,
                cohort_start=start,
                iso_year=iso.year,
                iso_week=iso.week,
                platform=platform,
                campaign_id=campaign,
                journeys_started=len(counted),
                journeys_converted=len(converted),
                conversion_rate=_rate(len(converted), len(counted)),
                median_seconds_to_convert=quantile_cont(
                    [j.seconds_to_convert for j in converted if j.seconds_to_convert is not None],
                    0.5,
                ),
                journeys_excluded=len(group) - len(counted),
                is_final=all(j.is_final for j in group)
                and through is not None
                and last_day <= through,
            )
        )
    return rows


# --- agg_time_to_convert ---------------------------------------------------------------------


def bucket_of(seconds: float) -> int:
    """bucket_order of a time to convert."""
    for order, _label, lower, upper in BUCKETS:
        if seconds >= lower and (upper is None or seconds < upper):
            return order
    raise ValueError(f"negative time to convert: {seconds}")


def time_to_convert(
    journeys: Iterable[JourneyLike], funnels: Iterable[Funnel]
) -> list[TimeToConvertRow]:
    by_id = _funnels_by_id(funnels)
    counts: dict[tuple[Any, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for j in _of_funnels(journeys, by_id):
        if j.is_excluded or not j.is_converted or j.seconds_to_convert is None:
            continue
        bucket = bucket_of(j.seconds_to_convert)
        for platform, campaign in rollup_scopes(j):
            counts[(j.funnel_id, j.funnel_version, platform, campaign)][bucket] += 1

    rows = []
    for key in sorted(counts):
        funnel_id, version, platform, campaign = key
        total = sum(counts[key].values())
        running = 0
        for order, label, lower, upper in BUCKETS:
            here = counts[key].get(order, 0)
            running += here
            rows.append(
                TimeToConvertRow(
                    funnel_id=funnel_id,
                    funnel_version=version,
                    platform=platform,
                    campaign_id=campaign,
                    bucket_order=order,
                    bucket_label=label,
                    lower_seconds=lower,
                    upper_seconds=upper,
                    conversions=here,
                    total_conversions=total,
                    share_of_conversions=here / total,
                    cumulative_share=running / total,
                )
            )
    return rows


# --- agg_momentum_curve ----------------------------------------------------------------------


def momentum_curve(journeys: Iterable[JourneyLike], funnels: Iterable[Funnel]) -> list[MomentumRow]:
    by_id = _funnels_by_id(funnels)
    groups: dict[tuple[Any, ...], list[JourneyLike]] = defaultdict(list)
    for j in _of_funnels(journeys, by_id):
        if j.is_excluded:
            continue
        for platform, campaign in rollup_scopes(j):
            groups[(j.funnel_id, j.funnel_version, platform, campaign)].append(j)

    rows = []
    for key in sorted(groups):
        funnel_id, version, platform, campaign = key
        funnel = by_id[funnel_id]
        previous: float | None = None
        for k in range(1, funnel.stage_count + 1):
            at_k = [j for j in groups[key] if _reached(j, k)]
            converted = sum(1 for j in at_k if j.is_converted)
            probability = _rate(converted, len(at_k))
            # At the last stage P(convert | converted) = 1: a lift there only restates the
            # previous stage's odds, so it is left out.
            is_step = 1 < k < funnel.stage_count
            lift = (
                probability / previous if is_step and probability is not None and previous else None
            )
            rows.append(
                MomentumRow(
                    funnel_id=funnel_id,
                    funnel_version=version,
                    platform=platform,
                    campaign_id=campaign,
                    stage_order=k,
                    stage_name=funnel.stage(k).name,
                    journeys_reached=len(at_k),
                    journeys_converted=converted,
                    conversion_probability=probability,
                    lift_vs_previous_stage=lift,
                )
            )
            previous = probability
    return rows


# --- agg_intent_segments ---------------------------------------------------------------------


def intent_segments(
    journeys: Iterable[JourneyLike], funnels: Iterable[Funnel]
) -> list[IntentSegmentRow]:
    by_id = _funnels_by_id(funnels)
    groups: dict[tuple[Any, ...], list[JourneyLike]] = defaultdict(list)
    for j in _of_funnels(journeys, by_id):
        if j.is_excluded:
            continue
        key = (
            j.funnel_id,
            j.funnel_version,
            j.cohort_date,
            *group_key(j),
            j.intent_segment,
        )
        groups[key].append(j)

    rows = []
    for key in sorted(groups):
        funnel_id, version, cohort_date, platform, campaign, segment = key
        funnel = by_id[funnel_id]
        group = groups[key]
        n = funnel.stage_count
        entries = sum(1 for j in group if _reached(j, 1))
        for k in range(1, n + 1):
            reached = sum(1 for j in group if _reached(j, k))
            advanced = (
                None if k == n else sum(1 for j in group if _reached(j, k) and j.furthest_stage > k)
            )
            rows.append(
                IntentSegmentRow(
                    funnel_id=funnel_id,
                    funnel_version=version,
                    cohort_date=cohort_date,
                    platform=platform,
                    campaign_id=campaign,
                    intent_segment=segment,
                    stage_order=k,
                    stage_name=funnel.stage(k).name,
                    journeys_reached=reached,
                    journeys_advanced=advanced,
                    step_conversion_rate=None if advanced is None else _rate(advanced, reached),
                    overall_conversion_rate=_rate(reached, entries),
                    is_final=all(j.is_final for j in group),
                )
            )
    return rows


def intent_segment_totals(
    journeys: Iterable[JourneyLike], funnels: Iterable[Funnel]
) -> list[IntentSegmentTotalRow]:
    """agg_intent_segments summed over every cohort date, per scope."""
    groups: dict[tuple[Any, ...], list[IntentSegmentRow]] = defaultdict(list)
    for row in intent_segments(journeys, funnels):
        for platform, campaign in scope_keys(row.platform, row.campaign_id):
            key = (row.funnel_id, row.funnel_version, platform, campaign, row.intent_segment)
            groups[(*key, row.stage_order)].append(row)

    rows = []
    entries: dict[tuple[Any, ...], int] = {}
    for key in sorted(groups):
        daily = groups[key]
        reached = sum(r.journeys_reached for r in daily)
        advanced_days = [r.journeys_advanced for r in daily if r.journeys_advanced is not None]
        advanced = sum(advanced_days) if advanced_days else None
        entries.setdefault(key[:-1], reached)  # stage 1 sorts first
        funnel_id, version, platform, campaign, segment, stage_order = key
        rows.append(
            IntentSegmentTotalRow(
                funnel_id=funnel_id,
                funnel_version=version,
                platform=platform,
                campaign_id=campaign,
                intent_segment=segment,
                stage_order=stage_order,
                stage_name=daily[0].stage_name,
                journeys_reached=reached,
                journeys_advanced=advanced,
                step_conversion_rate=None if advanced is None else _rate(advanced, reached),
                overall_conversion_rate=_rate(reached, entries[key[:-1]]),
                is_final=all(r.is_final for r in daily),
            )
        )
    return rows


# --- agg_funnel_stage_totals -----------------------------------------------------------------


def stage_totals(
    journeys: Iterable[JourneyLike],
    funnels: Iterable[Funnel],
    spend_by_campaign_day: Mapping[tuple[str, str, date], float],
) -> list[StageTotalRow]:
    by_id = _funnels_by_id(funnels)
    groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for j in _of_funnels(journeys, by_id):
        for platform, campaign in rollup_scopes(j):
            groups[(j.funnel_id, j.funnel_version, platform, campaign)].append(j)

    rows = []
    for key in sorted(groups):
        funnel_id, version, platform, campaign = key
        funnel = by_id[funnel_id]
        n = funnel.stage_count
        group = groups[key]
        counted = [j for j in group if not j.is_excluded]
        campaign_days = {(*group_key(j), j.cohort_date) for j in group}
        day_spend = [spend_by_campaign_day.get(day) for day in campaign_days]
        paid = [s for s in day_spend if s is not None]
        spend = sum(paid) if paid else None
        entries = sum(1 for j in counted if _reached(j, 1))
        conversions = sum(1 for j in counted if _reached(j, n))
        for k in range(1, n + 1):
            last = k == n
            at_k = [j for j in counted if _reached(j, k)]
            advanced = [j for j in at_k if j.furthest_stage > k]
            gaps = [g for j in advanced if (g := j.seconds_to_next[k - 1]) is not None]
            rows.append(
                StageTotalRow(
                    funnel_id=funnel_id,
                    funnel_version=version,
                    platform=platform,
                    campaign_id=campaign,
                    stage_order=k,
                    stage_name=funnel.stage(k).name,
                    first_cohort_date=min(j.cohort_date for j in group),
                    last_cohort_date=max(j.cohort_date for j in group),
                    journeys_reached=len(at_k),
                    journeys_advanced=None if last else len(advanced),
                    step_conversion_rate=None if last else _rate(len(advanced), len(at_k)),
                    overall_conversion_rate=_rate(len(at_k), entries),
                    dropoff_count=None if last else len(at_k) - len(advanced),
                    median_seconds_to_next_stage=quantile_cont(gaps, 0.5),
                    p90_seconds_to_next_stage=quantile_cont(gaps, 0.9),
                    journeys_excluded=sum(1 for j in group if j.is_excluded and _reached(j, k)),
                    entries=entries,
                    conversions=conversions,
                    conversion_rate=_rate(conversions, entries),
                    spend=spend,
                    cost_per_conversion=(
                        spend / conversions if spend is not None and conversions else None
                    ),
                    provisional_cohort_days=len({j.cohort_date for j in group if not j.is_final}),
                    is_final=all(j.is_final for j in group),
                )
            )
    return rows


def all_marts(journeys: Sequence[JourneyLike], funnels: Sequence[Funnel]) -> dict[str, list[Any]]:
    """Every mart of this module computed from journeys alone, by dbt model name
    (stage_totals also needs the ad spend)."""
    return {
        "agg_funnel_trends": funnel_trends(journeys, funnels),
        "agg_time_to_convert": time_to_convert(journeys, funnels),
        "agg_momentum_curve": momentum_curve(journeys, funnels),
        "agg_intent_segments": intent_segments(journeys, funnels),
        "agg_intent_segment_totals": intent_segment_totals(journeys, funnels),
    }
