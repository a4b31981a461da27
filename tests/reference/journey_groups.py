"""Journey grouping shared by the Python references of the analysis marts (analysis_marts,
comparison_marts), as the dbt models share fct_funnel_journeys_counted: organic journeys
are grouped under named placeholders, and '(all)' keys a rollup (over a platform's campaigns, or
over every campaign)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

ORGANIC_PLATFORM = "organic"
ORGANIC_CAMPAIGN = "(none)"
ALL = "(all)"


class JourneyLike(Protocol):
    """The journey attributes every analysis mart reads (a subset of
    `tests.reference.funnel.Journey`); each reference extends it with the ones its marts add."""

    @property
    def funnel_id(self) -> str: ...
    @property
    def funnel_version(self) -> int: ...
    @property
    def platform(self) -> str | None: ...
    @property
    def campaign_id(self) -> str | None: ...
    @property
    def cohort_date(self) -> date: ...
    @property
    def reached_at(self) -> tuple[datetime | None, ...]: ...
    @property
    def furthest_stage(self) -> int: ...
    @property
    def is_converted(self) -> bool: ...
    @property
    def is_excluded(self) -> bool: ...
    @property
    def is_final(self) -> bool: ...


def group_key(j: JourneyLike) -> tuple[str, str]:
    """The journey's (platform, campaign_id), organic ones as ('organic', '(none)')."""
    platform = ORGANIC_PLATFORM if j.platform is None else j.platform
    return platform, ORGANIC_CAMPAIGN if j.campaign_id is None else j.campaign_id


def scopes(j: JourneyLike) -> tuple[tuple[str, str], tuple[str, str]]:
    """The journey's own (platform, campaign_id) and the ('(all)', '(all)') rollup."""
    return group_key(j), (ALL, ALL)


def scope_keys(platform: str, campaign_id: str) -> tuple[tuple[str, str], ...]:
    """A campaign's own (platform, campaign_id), its platform's (platform, '(all)') and the
    ('(all)', '(all)') rollup: the scopes of the dbt macro scoped_rows."""
    return (platform, campaign_id), (platform, ALL), (ALL, ALL)


def rollup_scopes(j: JourneyLike) -> tuple[tuple[str, str], ...]:
    """The scope_keys of the journey's group."""
    return scope_keys(*group_key(j))
