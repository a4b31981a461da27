"""What the report shows, as plain values read from the reporting DuckDB (see read_marts.py).

Numbers come from the marts: counts summed over the date range and the rates derived from those
sums, both in SQL. A *scope* is what the page's filter selects: every campaign (``EVERY``), one
platform (``(platform, ALL)``) or one campaign (``(platform, campaign_id)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

# The marts' rollup key over every platform or campaign (docs/funnels.md section 3).
ALL = "(all)"
Scope = tuple[str, str]  # (platform, campaign_id), ALL where rolled up
EVERY: Scope = (ALL, ALL)


@dataclass(frozen=True)
class StageSummary:
    stage_order: int
    stage_name: str
    journeys_reached: int
    step_conversion_rate: float | None
    overall_conversion_rate: float | None
    dropoff_count: int
    median_seconds_to_next_stage: float | None


@dataclass(frozen=True)
class Headline:
    """Entries, conversions and money of one funnel in one scope, over the whole range."""

    entries: int
    conversions: int
    conversion_rate: float | None
    spend: float | None
    cost_per_conversion: float | None


@dataclass(frozen=True)
class DayPoint:
    day: date
    journeys_started: int
    journeys_converted: int
    conversion_rate: float | None
    is_final: bool


@dataclass(frozen=True)
class WeekPoint:
    week_start: date  # the Monday of the ISO week
    iso_year: int
    iso_week: int
    journeys_started: int
    journeys_converted: int
    conversion_rate: float | None
    is_final: bool


@dataclass(frozen=True)
class MomentumPoint:
    """P(final conversion | stage reached)."""

    stage_order: int
    stage_name: str
    journeys_reached: int
    journeys_converted: int
    conversion_probability: float | None
    lift_vs_previous_stage: float | None


@dataclass(frozen=True)
class TimeBucket:
    bucket_order: int
    bucket_label: str
    conversions: int
    share_of_conversions: float | None
    cumulative_share: float | None
    scope_conversions: int  # every bucket of the scope: the conversions the shares are of


@dataclass(frozen=True)
class SegmentSummary:
    """Stage reach of one intent segment (early, mid, late)."""

    intent_segment: str
    reached: tuple[int, ...]  # per stage, in stage order
    overall_conversion_rate: float | None  # last stage reached / entries


@dataclass(frozen=True)
class Finding:
    """A flagged diagnostic; ``evidence`` is the mart's own sentence."""

    finding: str
    stage_order: int | None
    stage_name: str | None
    evidence: str | None


@dataclass(frozen=True)
class FunnelView:
    """Everything a funnel section shows for one scope."""

    scope: Scope
    headline: Headline
    stages: list[StageSummary]
    daily: list[DayPoint] = field(default_factory=list)
    weekly: list[WeekPoint] = field(default_factory=list)
    momentum: list[MomentumPoint] = field(default_factory=list)
    time_to_convert: list[TimeBucket] = field(default_factory=list)
    segments: list[SegmentSummary] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True)
class FunnelReport:
    funnel_id: str
    funnel_version: int | None
    views: dict[Scope, FunnelView]  # EVERY first, then platforms and campaigns
    # Campaigns past the per-funnel view limit, with their entries: in the tables, not drawn.
    undrawn: dict[Scope, int] = field(default_factory=dict)

    @property
    def stages(self) -> list[StageSummary]:
        """The stages over every campaign."""
        return self.views[EVERY].stages


@dataclass(frozen=True)
class Recommendation:
    """A row of agg_funnel_recommendations: what to change, ranked within its scope."""

    scope: str  # 'funnel' (every campaign) or 'campaign'
    priority: int
    funnel_id: str
    platform: str
    campaign_id: str
    recommendation: str
    stage_name: str | None
    action: str
    journeys_at_stake: int
    entries: int
    share_at_stake: float | None
    spend_at_stake: float | None
    evidence: str
    is_final: bool


@dataclass(frozen=True)
class CampaignFunnel:
    """One funnel's journeys of a campaign over the range (from agg_funnel_stages_daily)."""

    funnel_id: str
    journeys: int
    conversions: int
    conversion_rate: float | None
    cost_per_conversion: float | None


@dataclass(frozen=True)
class CampaignRow:
    """Platform numbers of a campaign (agg_campaign_performance) and the journeys of each
    funnel it feeds."""

    platform: str
    campaign_id: str
    campaign_name: str | None
    currency: str | None
    impressions: int | None
    clicks: int | None
    ctr: float | None
    spend: float | None
    cpc: float | None
    platform_conversions: float | None
    funnels: list[CampaignFunnel]


@dataclass(frozen=True)
class ComparisonSide:
    funnel_id: str
    funnel_version: int | None
    entries: int
    conversions: int
    conversion_rate: float | None
    ci_low: float | None
    ci_high: float | None
    spend: float | None
    cost_per_conversion: float | None


@dataclass(frozen=True)
class SequenceComparison:
    """Micro-commitment sequence vs direct ask over every cohort (``cohort_grain = 'all'``)."""

    micro: ComparisonSide
    direct: ComparisonSide
    absolute_lift: float | None
    relative_lift: float | None
    z_score: float | None
    p_value: float | None
    is_significant: bool | None
    verdict: str | None
    is_final: bool | None


@dataclass(frozen=True)
class ReportData:
    source: Path
    funnels: list[FunnelReport]
    campaigns: list[CampaignRow]
    first_day: date | None
    last_day: date | None
    open_cohort_days: int
    notices: list[str] = field(default_factory=list)
    comparisons: list[SequenceComparison] = field(default_factory=list)
    recommendations: list[Recommendation] = field(default_factory=list)
    currency: str | None = None  # the one currency of every campaign, if there is one
    # The filter's choices: every (platform, campaign_id) with journeys or ad numbers.
    campaign_names: dict[Scope, str | None] = field(default_factory=dict)

    @property
    def platforms(self) -> list[str]:
        return sorted({platform for platform, _ in self.campaign_names})
