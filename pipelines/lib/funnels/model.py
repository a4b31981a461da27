"""Validated funnel definitions (docs/funnels.md section 1) as frozen dataclasses.

The loader builds these; the table compiler and the reference implementation read them. Filter
values are stored already normalised (text / number / list of text) so that the Python
reference and the SQL compare against exactly the same values.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from types import MappingProxyType

# \Z, not $: `$` also matches before a trailing newline, so "abc\n" would pass.
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}\Z")
PARAM_KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}\Z")
PARAM_PREFIX = "param."

FUNNEL_KINDS: tuple[str, ...] = ("micro", "direct")
# How stages are reached (docs/funnels.md section 2); the first one is the default.
FUNNEL_MODES: tuple[str, ...] = ("ordered", "strict", "any_order")
DEFAULT_WINDOW = "7d"
# Which event sets a journey's platform and campaign; "stage" is written {stage: <name>}.
ATTRIBUTION_MODELS: tuple[str, ...] = ("first_touch", "last_touch", "stage")
DEFAULT_ATTRIBUTION = "first_touch"
INTENT_SEGMENTS: tuple[str, ...] = ("early", "mid", "late")

# Canonical event columns a filter may read, by how they compare. `is_paid_touch`, `platform`
# and `campaign_id` are derived by the pipeline before matching.
NUMERIC_FIELDS: frozenset[str] = frozenset({"engagement_time_ms", "value"})
BOOLEAN_FIELDS: frozenset[str] = frozenset({"is_paid_touch"})
EVENT_FIELDS: tuple[str, ...] = (
    "page_url",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
    "utm_id",
    "click_id",
    "click_id_type",
    "engagement_time_ms",
    "value",
    "currency",
    "event_name",
    "is_paid_touch",
    "platform",
    "campaign_id",
)

# Operators by the kind of value they take.
SCALAR_OPS: tuple[str, ...] = ("eq", "ne")
LIST_OPS: tuple[str, ...] = ("in", "not_in")
NUMERIC_OPS: tuple[str, ...] = ("gt", "gte", "lt", "lte")
TEXT_OPS: tuple[str, ...] = ("contains",)
NULL_OPS: tuple[str, ...] = ("is_null", "not_null")
OPERATORS: tuple[str, ...] = SCALAR_OPS + LIST_OPS + NUMERIC_OPS + TEXT_OPS + NULL_OPS

Scalar = str | int | float | bool


def scalar_text(value: Scalar) -> str:
    """The text form used for eq / ne / in / not_in comparisons, on both sides.

    Booleans are 'true' / 'false' and floats use the shortest round-trip form, which is what
    DuckDB's cast(... as varchar) gives, so Python and SQL agree.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class Filter:
    """One condition on an event: `field op value`, already normalised.

    value_text is set for eq, ne and contains; value_number for gt, gte, lt, lte, and also for
    eq / ne when the YAML value is a number (those then compare numerically); value_list for
    in / not_in; none for is_null / not_null.
    """

    field: str  # as written: a canonical column name or "param.<key>"
    op: str
    value_text: str | None = None
    value_number: float | None = None
    value_list: tuple[str, ...] | None = None

    @property
    def param_key(self) -> str | None:
        """The `properties` key for param.<key> fields, else None."""
        if self.field.startswith(PARAM_PREFIX):
            return self.field[len(PARAM_PREFIX) :]
        return None


@dataclass(frozen=True)
class EventMatcher:
    """One `events` entry of a stage as declared: an event name plus its own filters."""

    name: str
    where: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Matcher:
    """An event name and every filter that applies to it (stage-level first, then its own)."""

    matcher_id: int  # 1-based position within the stage
    event_name: str
    filters: tuple[Filter, ...]


def _matchers(events: tuple[EventMatcher, ...], where: tuple[Filter, ...]) -> tuple[Matcher, ...]:
    return tuple(
        Matcher(matcher_id=i, event_name=entry.name, filters=where + entry.where)
        for i, entry in enumerate(events, start=1)
    )


@dataclass(frozen=True)
class Stage:
    order: int  # 1-based
    name: str
    events: tuple[EventMatcher, ...]
    where: tuple[Filter, ...] = ()
    optional: bool = False  # a journey may skip it (never the first or the last stage)
    max_gap: timedelta | None = None  # at most this long after the previous reached stage

    @cached_property  # read per event by the reference: build once
    def matchers(self) -> tuple[Matcher, ...]:
        """The stage as OR-ed matchers with stage-level filters copied into each."""
        return _matchers(self.events, self.where)

    @property
    def max_gap_seconds(self) -> int | None:
        return None if self.max_gap is None else int(self.max_gap.total_seconds())


@dataclass(frozen=True)
class Exclusion:
    """Events that disqualify a journey between reaching `from_stage` and `to_stage`."""

    order: int  # 1-based position within the funnel's exclusions
    name: str
    events: tuple[EventMatcher, ...]
    from_stage: int  # stage orders, from_stage < to_stage
    to_stage: int
    where: tuple[Filter, ...] = ()

    @cached_property  # read per event by the reference: build once
    def matchers(self) -> tuple[Matcher, ...]:
        """Like Stage.matchers: OR-ed entries with the exclusion-level filters copied in."""
        return _matchers(self.events, self.where)


@dataclass(frozen=True)
class Attribution:
    """first_touch | last_touch | stage (then `stage` is the stage order that attributes)."""

    model: str = DEFAULT_ATTRIBUTION
    stage: int | None = None


@dataclass(frozen=True)
class Intent:
    """Intent rule overrides; None means the default (mid: stage 1, late: max(N-1, 2))."""

    mid_from_stage: int | None = None
    late_from_stage: int | None = None
    # (campaign id or utm_campaign name, segment) in file order; a campaign appears once
    campaigns: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Funnel:
    id: str
    version: int
    label: str
    kind: str  # one of FUNNEL_KINDS
    is_primary: bool
    mode: str  # one of FUNNEL_MODES
    window: timedelta
    stages: tuple[Stage, ...]
    campaigns: tuple[str, ...] = ()  # empty = every campaign (and organic traffic)
    attribution: Attribution = Attribution()
    exclusions: tuple[Exclusion, ...] = ()
    intent: Intent = Intent()

    @property
    def window_seconds(self) -> int:
        return int(self.window.total_seconds())

    @property
    def window_days(self) -> int:
        """The window rounded up to whole days, for deciding when a cohort is final."""
        return math.ceil(self.window_seconds / 86400)

    @property
    def stage_count(self) -> int:
        return len(self.stages)

    def stage(self, order: int) -> Stage:
        """Stage by 1-based order."""
        return self.stages[order - 1]

    def next_required_stage(self, order: int) -> int | None:
        """r(k): the first non-optional stage after `order` (None after the last stage)."""
        for stage in self.stages[order:]:
            if not stage.optional:
                return stage.order
        return None

    @property
    def intent_mid_from_stage(self) -> int:
        return self.intent.mid_from_stage or 1

    @property
    def intent_late_from_stage(self) -> int:
        return self.intent.late_from_stage or max(self.stage_count - 1, 2)

    @property
    def intent_campaigns(self) -> MappingProxyType[str, str]:
        """Campaign id or name -> intent segment."""
        return MappingProxyType(dict(self.intent.campaigns))


@dataclass(frozen=True)
class FunnelSet:
    funnels: tuple[Funnel, ...]
    source: str = field(default="<memory>", compare=False)

    @property
    def primary(self) -> Funnel:
        return next(f for f in self.funnels if f.is_primary)

    @property
    def by_id(self) -> MappingProxyType[str, Funnel]:
        return MappingProxyType({f.id: f for f in self.funnels})

    @property
    def max_stages(self) -> int:
        return max(f.stage_count for f in self.funnels)

    def __iter__(self) -> Iterator[Funnel]:
        return iter(self.funnels)

    def __len__(self) -> int:
        return len(self.funnels)
