"""Pure-Python reference of agg_sequence_comparison and agg_funnel_diagnostics, the test oracle.

Computed from journeys (`tests.reference.funnel.Journey`, or anything with the attributes of
`JourneyLike`), the funnel definitions and the ad spend per (platform, campaign_id, day), with
plain loops, written to be read. The dbt models must give the same rows; their yml
(`dbt_project/models/marts/agg_sequence_comparison.yml`, `agg_funnel_diagnostics.yml`)
documents the rules and wordings below.

Shared rules
------------
- Only journeys of the current definitions count (funnel_id and funnel_version of a funnel in
  `funnels`), and excluded journeys (`is_excluded`) are left out everywhere.
- Statistics: the Wilson score interval and the pooled two-proportion z-test; the normal tail
  comes from math.erfc here and from a rational approximation in SQL (macros/statistics.sql,
  absolute error < 1e-15), so p-values agree to far better than 1e-6.
- Texts: rates as percentages with one decimal ('4.1%'), counts with thousands separators,
  p-values as 'p < 0.001', 'p = 0.012' (three decimals below 0.1) or 'p = 0.21', durations as
  '45 s', '12.5 min', '2.5 h', '1.2 d'. Python's `%` formatting and DuckDB's printf round the
  same binary value the same way.

agg_sequence_comparison
-----------------------
One row per (micro funnel, direct funnel) pair (kind 'micro' x kind 'direct') and scope:
cohort_grain 'day' for each cohort date on which either side has a journey, and 'all'
(cohort_date None) over every cohort. Per side: entries (journeys started), conversions, rate
(None without entries), Wilson 95% bounds, spend = sum over the distinct (platform, campaign_id,
cohort_date) of the side's journeys in scope of that campaign-day's spend (None when none has
spend), cost per conversion (None without conversions or spend). Lifts, z (micro minus direct;
None when a side has no entry or the pooled rate is 0 or 1), p = erfc(|z| / sqrt 2), verdict
(`verdict`), is_final = every journey in scope (both sides) final.

agg_funnel_diagnostics
----------------------
Per funnel, version, platform, campaign (organic: 'organic' / '(none)') and the '(all)' rollup,
over every cohort: the findings of `FINDINGS` (asking_too_much_too_soon only for direct-kind
funnels). A *step* is a stage k < N reached (reached_at set) by >= min_journeys journeys; its
step conversion = journeys that went deeper (furthest_stage > k) / reached, its median = the
linear-interpolation median of seconds_to_next[k] over the journeys that went deeper, its
journeys lost = reached - went deeper. largest_dropoff is the step with the most journeys lost
(ties: the earliest); `journeys_lost` is that count for the step findings, the unconverted
entries for asking_too_much_too_soon and the stalled journeys for stalled_journeys.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from pipelines.lib.funnels.model import Funnel
from tests.reference import journey_groups
from tests.reference.funnel import quantile_cont
from tests.reference.journey_groups import ALL, scopes

Z_95 = 1.959963984540054  # the standard normal's 0.975 quantile
FINDINGS = (
    "largest_dropoff",
    "slowest_step",
    "delay_without_filter",
    "asking_too_much_too_soon",
    "stalled_journeys",
)


class JourneyLike(journey_groups.JourneyLike, Protocol):
    """The journey attributes these marts read (a subset of `tests.reference.funnel.Journey`)."""

    @property
    def seconds_to_next(self) -> tuple[float | None, ...]: ...
    @property
    def is_stalled(self) -> bool: ...


SpendByCampaignDay = Mapping[tuple[str | None, str | None, date], float]


# --- statistics ------------------------------------------------------------------------------


def normal_upper_tail(a: float) -> float:
    """P(Z > a) for the standard normal."""
    return 0.5 * math.erfc(a / math.sqrt(2.0))


def two_sided_p_value(z: float | None) -> float | None:
    """2 * P(Z > |z|)."""
    return None if z is None else math.erfc(abs(z) / math.sqrt(2.0))


def wilson_interval(
    successes: int, trials: int, z: float = Z_95
) -> tuple[float | None, float | None]:
    """Wilson score interval of successes / trials, clipped to [0, 1]; (None, None) if no trial."""
    if trials <= 0:
        return None, None
    p = successes / trials
    denominator = 1.0 + z * z / trials
    center = (p + z * z / (2.0 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / trials + z * z / (4.0 * trials * trials))
    return max(0.0, center - half), min(1.0, center + half)


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Pooled two-proportion z of rate 1 minus rate 2; None without variance or trials."""
    if n1 <= 0 or n2 <= 0 or not 0 < x1 + x2 < n1 + n2:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    return (x1 / n1 - x2 / n2) / se


# --- text ------------------------------------------------------------------------------------


def percent_text(rate: float) -> str:
    return f"{100.0 * rate:.1f}%"


def count_text(n: int) -> str:
    return f"{n:,}"


def p_value_text(p: float) -> str:
    if p < 0.001:
        return "p < 0.001"
    if p < 0.1:
        return f"p = {p:.3f}"
    return f"p = {p:.2f}"


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60.0:.1f} min"
    if seconds < 86400:
        return f"{seconds / 3600.0:.1f} h"
    return f"{seconds / 86400.0:.1f} d"


def _significance(p: float, alpha: float) -> str:
    return f"{'significant' if p < alpha else 'not significant'} ({p_value_text(p)})"


def _ratio_text(higher: float, lower: float) -> str:
    """'2.3x ' (two decimals below 1.1, so 1.04 does not read 1.0); '' when lower is 0."""
    if lower == 0:
        return ""
    ratio = higher / lower
    return f"{ratio:.2f}x " if ratio < 1.1 else f"{ratio:.1f}x "


def verdict(
    micro_entries: int,
    micro_conversions: int,
    direct_entries: int,
    direct_conversions: int,
    *,
    min_entries: int = 30,
    alpha: float = 0.05,
) -> str:
    """The plain-words verdict of agg_sequence_comparison (rules in agg_sequence_comparison.yml)."""
    if micro_entries < min_entries or direct_entries < min_entries:
        return (
            f"no difference measurable yet: fewer than {min_entries} entries on a side "
            f"(micro {count_text(micro_entries)}, direct {count_text(direct_entries)})"
        )
    micro = micro_conversions / micro_entries
    direct = direct_conversions / direct_entries
    if micro == direct:
        return f"no difference: both sides convert {percent_text(micro)} per hook"
    p = two_sided_p_value(
        two_proportion_z(micro_conversions, micro_entries, direct_conversions, direct_entries)
    )
    assert p is not None  # different rates on non-empty sides: the pooled rate is in (0, 1)
    if micro > direct:
        ratio = _ratio_text(micro, direct)
        lead = f"micro sequence converts {ratio}more per hook "
        rates = f"({percent_text(micro)} vs {percent_text(direct)})"
    else:
        ratio = _ratio_text(direct, micro)
        lead = f"direct ask converts {ratio}more per hook "
        rates = f"({percent_text(direct)} vs {percent_text(micro)})"
    return f"{lead}{rates}; {_significance(p, alpha)}"


# --- shared ----------------------------------------------------------------------------------


def _current(journeys: Iterable[JourneyLike], funnels: Sequence[Funnel]) -> list[JourneyLike]:
    """Journeys of the current definitions, excluded ones left out."""
    versions = {(f.id, f.version) for f in funnels}
    return [
        j for j in journeys if (j.funnel_id, j.funnel_version) in versions and not j.is_excluded
    ]


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is not None, value if value is not None else "") for value in key)


# --- agg_sequence_comparison -----------------------------------------------------------------


@dataclass(frozen=True)
class ComparisonRow:
    """One row of agg_sequence_comparison."""

    micro_funnel_id: str
    micro_funnel_version: int
    direct_funnel_id: str
    direct_funnel_version: int
    cohort_grain: str
    cohort_date: date | None
    micro_entries: int
    micro_conversions: int
    micro_conversion_rate: float | None
    micro_ci_low: float | None
    micro_ci_high: float | None
    micro_spend: float | None
    micro_cost_per_conversion: float | None
    direct_entries: int
    direct_conversions: int
    direct_conversion_rate: float | None
    direct_ci_low: float | None
    direct_ci_high: float | None
    direct_spend: float | None
    direct_cost_per_conversion: float | None
    absolute_lift: float | None
    relative_lift: float | None
    z_score: float | None
    p_value: float | None
    is_significant: bool
    verdict: str
    is_final: bool


@dataclass(frozen=True)
class _Side:
    entries: int
    conversions: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    spend: float | None
    cost_per_conversion: float | None


def _side(journeys: Sequence[JourneyLike], spend_by_campaign_day: SpendByCampaignDay) -> _Side:
    entries = len(journeys)
    conversions = sum(1 for j in journeys if j.is_converted)
    campaign_days = {
        (j.platform, j.campaign_id, j.cohort_date) for j in journeys if j.campaign_id is not None
    }
    spends = [spend_by_campaign_day[key] for key in campaign_days if key in spend_by_campaign_day]
    spend = sum(spends) if spends else None
    low, high = wilson_interval(conversions, entries)
    return _Side(
        entries=entries,
        conversions=conversions,
        rate=conversions / entries if entries else None,
        ci_low=low,
        ci_high=high,
        spend=spend,
        cost_per_conversion=spend / conversions if spend is not None and conversions else None,
    )


def sequence_comparison(
    journeys: Iterable[JourneyLike],
    funnels: Sequence[Funnel],
    spend_by_campaign_day: SpendByCampaignDay,
    *,
    min_entries: int = 30,
    alpha: float = 0.05,
) -> list[ComparisonRow]:
    """agg_sequence_comparison rows, sorted by pair, grain and cohort date."""
    counted = _current(journeys, funnels)
    by_funnel: dict[str, list[JourneyLike]] = defaultdict(list)
    for j in counted:
        by_funnel[j.funnel_id].append(j)
    rows = []
    for micro in (f for f in funnels if f.kind == "micro"):
        for direct in (f for f in funnels if f.kind == "direct"):
            micro_journeys, direct_journeys = by_funnel[micro.id], by_funnel[direct.id]
            days = sorted({j.cohort_date for j in micro_journeys + direct_journeys})
            scopes: list[tuple[str, date | None]] = [("day", day) for day in days]
            if days:
                scopes.append(("all", None))
            for grain, day in scopes:
                m = [j for j in micro_journeys if day is None or j.cohort_date == day]
                d = [j for j in direct_journeys if day is None or j.cohort_date == day]
                rows.append(
                    _comparison_row(
                        (micro, direct),
                        grain,
                        day,
                        (m, d),
                        spend_by_campaign_day,
                        min_entries,
                        alpha,
                    )
                )
    return sorted(
        rows,
        key=lambda r: _sort_key(
            (r.micro_funnel_id, r.direct_funnel_id, r.cohort_grain, r.cohort_date)
        ),
    )


def _comparison_row(
    pair: tuple[Funnel, Funnel],
    grain: str,
    day: date | None,
    sides: tuple[Sequence[JourneyLike], Sequence[JourneyLike]],
    spend_by_campaign_day: SpendByCampaignDay,
    min_entries: int,
    alpha: float,
) -> ComparisonRow:
    micro, direct = pair
    micro_journeys, direct_journeys = sides
    m = _side(micro_journeys, spend_by_campaign_day)
    d = _side(direct_journeys, spend_by_campaign_day)
    z = two_proportion_z(m.conversions, m.entries, d.conversions, d.entries)
    p = two_sided_p_value(z)
    both = m.rate is not None and d.rate is not None
    return ComparisonRow(
        micro_funnel_id=micro.id,
        micro_funnel_version=micro.version,
        direct_funnel_id=direct.id,
        direct_funnel_version=direct.version,
        cohort_grain=grain,
        cohort_date=day,
        micro_entries=m.entries,
        micro_conversions=m.conversions,
        micro_conversion_rate=m.rate,
        micro_ci_low=m.ci_low,
        micro_ci_high=m.ci_high,
        micro_spend=m.spend,
        micro_cost_per_conversion=m.cost_per_conversion,
        direct_entries=d.entries,
        direct_conversions=d.conversions,
        direct_conversion_rate=d.rate,
        direct_ci_low=d.ci_low,
        direct_ci_high=d.ci_high,
        direct_spend=d.spend,
        direct_cost_per_conversion=d.cost_per_conversion,
        absolute_lift=m.rate - d.rate if both else None,  # type: ignore[operator]
        relative_lift=m.rate / d.rate - 1.0 if both and d.rate else None,  # type: ignore[operator]
        z_score=z,
        p_value=p,
        is_significant=p is not None and p < alpha,
        verdict=verdict(
            m.entries,
            m.conversions,
            d.entries,
            d.conversions,
            min_entries=min_entries,
            alpha=alpha,
        ),
        is_final=all(j.is_final for j in [*micro_journeys, *direct_journeys]),
    )


# --- agg_funnel_diagnostics ------------------------------------------------------------------


@dataclass(frozen=True)
class Thresholds:
    """The dbt vars microfunnel__diagnostics_* and their defaults."""

    min_journeys: int = 30
    pass_through: float = 0.9
    delay_seconds: float = 3600
    p_value: float = 0.05
    stalled_share: float = 0.5


@dataclass(frozen=True)
class DiagnosticRow:
    """One row of agg_funnel_diagnostics."""

    funnel_id: str
    funnel_version: int
    platform: str
    campaign_id: str
    finding: str
    stage_order: int | None
    stage_name: str | None
    next_stage_name: str | None
    metric_name: str
    metric_value: float | None
    threshold: float | None
    journeys: int
    journeys_lost: int | None
    is_flagged: bool
    evidence: str
    is_final: bool


@dataclass(frozen=True)
class _StepStats:
    stage_order: int
    stage_name: str
    next_stage_name: str
    reached: int
    advanced: int
    lost: int
    step_conversion_rate: float
    dropoff_share: float
    median_seconds: float | None


def _steps(group: Sequence[JourneyLike], funnel: Funnel, min_journeys: int) -> list[_StepStats]:
    steps = []
    for k in range(1, funnel.stage_count):
        reached = [j for j in group if j.reached_at[k - 1] is not None]
        if len(reached) < min_journeys:
            continue
        advanced = sum(1 for j in reached if j.furthest_stage > k)
        seconds = [
            j.seconds_to_next[k - 1] for j in reached if j.seconds_to_next[k - 1] is not None
        ]
        steps.append(
            _StepStats(
                stage_order=k,
                stage_name=funnel.stage(k).name,
                next_stage_name=funnel.stage(k + 1).name,
                reached=len(reached),
                advanced=advanced,
                lost=len(reached) - advanced,
                step_conversion_rate=advanced / len(reached),
                dropoff_share=(len(reached) - advanced) / len(reached),
                median_seconds=quantile_cont(seconds, 0.5),  # type: ignore[arg-type]
            )
        )
    return steps


def funnel_diagnostics(
    journeys: Iterable[JourneyLike],
    funnels: Sequence[Funnel],
    thresholds: Thresholds = Thresholds(),
) -> list[DiagnosticRow]:
    """agg_funnel_diagnostics rows, sorted by funnel, platform, campaign and finding."""
    counted = _current(journeys, funnels)
    groups: dict[tuple[str, str, str], list[JourneyLike]] = defaultdict(list)
    for j in counted:
        for platform, campaign in scopes(j):
            groups[(j.funnel_id, platform, campaign)].append(j)
    by_id = {f.id: f for f in funnels}

    # The micro funnel a direct ask is held against: the primary one, else the first by id,
    # among micro funnels with journeys.
    micros = sorted(
        (f for f in funnels if f.kind == "micro" and (f.id, ALL, ALL) in groups),
        key=lambda f: (not f.is_primary, f.id),
    )
    reference = micros[0] if micros else None
    reference_group = groups[(reference.id, ALL, ALL)] if reference else []

    rows: list[DiagnosticRow] = []
    for (funnel_id, platform, campaign_id), group in groups.items():
        funnel = by_id[funnel_id]
        base = {
            "funnel_id": funnel_id,
            "funnel_version": funnel.version,
            "platform": platform,
            "campaign_id": campaign_id,
            "is_final": all(j.is_final for j in group),
        }
        steps = _steps(group, funnel, thresholds.min_journeys)
        rows.append(_largest_dropoff(base, steps, len(group), thresholds))
        rows.append(_slowest_step(base, steps, len(group), thresholds))
        rows.append(_delay_without_filter(base, steps, len(group), thresholds))
        if funnel.kind == "direct":
            rows.append(_asking_too_much(base, group, reference, reference_group, thresholds))
        rows.append(_stalled(base, group, funnel, thresholds))
    return sorted(
        rows,
        key=lambda r: (r.funnel_id, r.funnel_version, r.platform, r.campaign_id, r.finding),
    )


def _step_row(
    base: Mapping[str, Any],
    finding: str,
    step: _StepStats | None,
    group_size: int,
    metric_name: str,
    metric_value: float | None,
    threshold: float | None,
    evidence: str,
) -> DiagnosticRow:
    return DiagnosticRow(
        **base,
        finding=finding,
        stage_order=step.stage_order if step else None,
        stage_name=step.stage_name if step else None,
        next_stage_name=step.next_stage_name if step else None,
        metric_name=metric_name,
        metric_value=metric_value,
        threshold=threshold,
        journeys=step.reached if step else group_size,
        journeys_lost=step.lost if step else None,
        is_flagged=step is not None,
        evidence=evidence,
    )


def _largest_dropoff(
    base: Mapping[str, Any], steps: Sequence[_StepStats], group_size: int, t: Thresholds
) -> DiagnosticRow:
    # Most people lost, not the lowest rate; ties: the earliest step.
    step = min(steps, key=lambda s: (-s.lost, s.stage_order), default=None)
    if step is None:
        evidence = f"no step reached by at least {t.min_journeys} journeys yet"
    else:
        evidence = (
            f"{count_text(step.lost)} journeys ({percent_text(step.dropoff_share)} of "
            f"{count_text(step.reached)}) that reached {step.stage_name} stopped there, before "
            f"{step.next_stage_name}"
        )
    return _step_row(
        base,
        "largest_dropoff",
        step,
        group_size,
        "dropoff_count",
        float(step.lost) if step else None,
        None,
        evidence,
    )


def _slowest(steps: Iterable[_StepStats]) -> _StepStats | None:
    timed = [s for s in steps if s.median_seconds is not None]
    return min(timed, key=lambda s: (-s.median_seconds, s.stage_order), default=None)  # type: ignore[operator]


def _slowest_step(
    base: Mapping[str, Any], steps: Sequence[_StepStats], group_size: int, t: Thresholds
) -> DiagnosticRow:
    step = _slowest(steps)
    if step is None:
        evidence = (
            f"no timing yet: no step reached by at least {t.min_journeys} journeys had one go on"
        )
    else:
        evidence = (
            f"from {step.stage_name}, the next stage took a median of "
            f"{duration_text(step.median_seconds)} ({count_text(step.advanced)} of "  # type: ignore[arg-type]
            f"{count_text(step.reached)} journeys went on)"
        )
    return _step_row(
        base,
        "slowest_step",
        step,
        group_size,
        "median_seconds_to_next_stage",
        step.median_seconds if step else None,
        None,
        evidence,
    )


def _delay_without_filter(
    base: Mapping[str, Any], steps: Sequence[_StepStats], group_size: int, t: Thresholds
) -> DiagnosticRow:
    step = _slowest(
        s
        for s in steps
        if s.step_conversion_rate >= t.pass_through
        and s.median_seconds is not None
        and s.median_seconds >= t.delay_seconds
    )
    if step is None:
        evidence = (
            f"no step of at least {t.min_journeys} journeys lets "
            f"{percent_text(t.pass_through)} or more through yet takes a median of "
            f"{duration_text(t.delay_seconds)} or more"
        )
    else:
        evidence = (
            f"{percent_text(step.step_conversion_rate)} of {count_text(step.reached)} journeys "
            f"that reached {step.stage_name} went on, after a median of "
            f"{duration_text(step.median_seconds)}: the step delays without filtering anyone"  # type: ignore[arg-type]
        )
    return _step_row(
        base,
        "delay_without_filter",
        step,
        group_size,
        "median_seconds_to_next_stage",
        step.median_seconds if step else None,
        float(t.delay_seconds),
        evidence,
    )


def _asking_too_much(
    base: Mapping[str, Any],
    group: Sequence[JourneyLike],
    micro: Funnel | None,
    micro_group: Sequence[JourneyLike],
    t: Thresholds,
) -> DiagnosticRow:
    entries = len(group)
    conversions = sum(1 for j in group if j.is_converted)
    micro_entries = len(micro_group)
    micro_conversions = sum(1 for j in micro_group if j.is_converted)
    p = (
        two_sided_p_value(two_proportion_z(conversions, entries, micro_conversions, micro_entries))
        if micro
        else None
    )
    flagged = False
    if micro is None:
        evidence = "no micro funnel to compare with"
    elif entries < t.min_journeys or micro_entries < t.min_journeys:
        evidence = (
            f"not measurable yet: fewer than {t.min_journeys} entries on a side "
            f"({base['funnel_id']} {count_text(entries)}, {micro.id} {count_text(micro_entries)})"
        )
    else:
        rate, micro_rate = conversions / entries, micro_conversions / micro_entries
        if rate >= micro_rate:
            outcome = "not worse"
        else:
            assert p is not None
            flagged = p < t.p_value
            outcome = f"worse, {_significance(p, t.p_value)}"
        evidence = (
            f"{base['funnel_id']} converts {percent_text(rate)} of {count_text(entries)} entries "
            f"vs {percent_text(micro_rate)} of {count_text(micro_entries)} for {micro.id} "
            f"(all campaigns): {outcome}"
        )
    return DiagnosticRow(
        **base,
        finding="asking_too_much_too_soon",
        stage_order=None,
        stage_name=None,
        next_stage_name=None,
        metric_name="p_value",
        metric_value=p,
        threshold=t.p_value,
        journeys=entries,
        journeys_lost=entries - conversions,
        is_flagged=flagged,
        evidence=evidence,
    )


def _stalled(
    base: Mapping[str, Any], group: Sequence[JourneyLike], funnel: Funnel, t: Thresholds
) -> DiagnosticRow:
    stalled = Counter(j.furthest_stage for j in group if j.is_stalled)
    total = sum(stalled.values())
    share = total / len(group)
    stage = min(stalled, key=lambda k: (-stalled[k], k)) if stalled else None
    if stage is None:
        evidence = f"none of {count_text(len(group))} journeys stalled"
    else:
        evidence = (
            f"{percent_text(share)} of {count_text(len(group))} journeys stalled (the user did "
            f"nothing after reaching a stage), most at {funnel.stage(stage).name} "
            f"({count_text(stalled[stage])})"
        )
    return DiagnosticRow(
        **base,
        finding="stalled_journeys",
        stage_order=stage,
        stage_name=funnel.stage(stage).name if stage else None,
        next_stage_name=funnel.stage(stage + 1).name
        if stage and stage < funnel.stage_count
        else None,
        metric_name="stalled_share",
        metric_value=share,
        threshold=t.stalled_share,
        journeys=len(group),
        journeys_lost=total,
        is_flagged=len(group) >= t.min_journeys and share >= t.stalled_share,
        evidence=evidence,
    )
