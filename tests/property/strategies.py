"""Hypothesis strategies: random funnel definitions (as YAML, through the loader) and random
event streams for many users, built to hit the corners of the counting rules.

Streams use a small event-name alphabet so stages collide and one event matches several
stages, timestamps on a coarse grid so ties happen and events land exactly on window and gap
boundaries, spans long enough for several journeys per user, paid and organic touches, and
attribute values that make filters true, false and null.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from hypothesis import strategies as st

from pipelines.lib.funnels.loader import parse_funnels
from pipelines.lib.funnels.model import FunnelSet

# --- events ----------------------------------------------------------------------------------

STAGE_EVENT_NAMES = ("a", "b", "c", "d", "e")
OTHER_EVENT_NAMES = ("x",)  # never in a stage: only in exclusions, engagement and drop-offs
EVENT_NAMES = STAGE_EVENT_NAMES + OTHER_EVENT_NAMES

GRID = timedelta(minutes=10)  # every window and gap is a multiple of it: boundary hits
BASE_AT = datetime(2024, 5, 1, 20, 0)  # spans cross midnight, so cohorts differ by day

# (platform, campaign_id, utm_campaign, utm_medium, click_id_type): organic and campaigns on
# five platforms. TikTok's "c1" shares Google's campaign id on purpose: ids are only unique per
# platform, so every count keyed by campaign must keep (platform, campaign_id) apart.
TOUCHES: tuple[tuple[str | None, ...], ...] = (
    (None, None, None, None, None),
    (None, None, None, "email", None),
    ("google_ads", "c1", "spring", "cpc", "gclid"),
    ("google_ads", "c2", "brand", "cpc", "gclid"),
    ("meta_ads", "c3", None, "paid_social", "fbclid"),
    ("tiktok_ads", "c1", "spring", "paid_social", "ttclid"),
    ("linkedin_ads", "c4", "webinar", "paid_social", "li_fat_id"),
    ("microsoft_ads", "c5", "brand", "cpc", "msclkid"),
)
ENGAGEMENT_MS = (None, 0, 1500, 10000, 12345)
VALUES = (None, 0.0, 9.99, 10.0, 25.5)
PAGE_URLS = (None, "/", "/pricing", "/pricing/pro", "/blog/post")
PROPERTIES: tuple[dict[str, Any] | None, ...] = (
    None,
    {},
    {"quiz_id": 1, "step": 2},
    {"quiz_id": "a", "step": "3"},
    {"quiz_id": 2.5},
    {"quiz_id": None, "step": 1},
    {"quiz_id": True},
    {"quiz_id": "10", "step": 5},
    {"quiz_id": 1.0, "step": "x"},
)


def _attribute_table() -> tuple[tuple[Any, ...], ...]:
    """A fixed spread of (engagement_ms, value, page_url, properties) combinations: one draw
    per event instead of four keeps generation fast for thousands of events."""
    rnd = random.Random(20240501)
    combos = [(None, None, None, None)]  # index 0: the plain event shrinking goes to
    for _ in range(255):
        combos.append(
            (
                rnd.choice(ENGAGEMENT_MS),
                rnd.choice(VALUES),
                rnd.choice(PAGE_URLS),
                rnd.choice(PROPERTIES),
            )
        )
    return tuple(combos)


ATTRIBUTES = _attribute_table()


def make_event(
    user: str,
    event_id: str,
    name: str,
    at: datetime,
    touch: int,
    attributes: int,
    *,
    event_date: date | None = None,
) -> dict[str, Any]:
    """One event dict in the reference's input form (enriched columns)."""
    platform, campaign_id, utm_campaign, utm_medium, click_id_type = TOUCHES[touch]
    engagement, value, page_url, properties = ATTRIBUTES[attributes]
    return {
        "event_id": event_id,
        "user_key": user,
        "event_name": name,
        "event_at": at,
        "event_date": event_date or at.date(),
        "platform": platform,
        "campaign_id": campaign_id,
        "utm_campaign": utm_campaign,
        "utm_medium": utm_medium,
        "utm_source": None if platform is None else platform.split("_")[0],
        "utm_id": campaign_id,
        "click_id": None if click_id_type is None else f"ck-{event_id}",
        "click_id_type": click_id_type,
        "is_paid_touch": platform is not None,
        "engagement_time_ms": engagement,
        "value": value,
        "currency": None if value is None else "USD",
        "page_url": page_url,
        "properties": None if properties is None else json.dumps(properties),
    }


@dataclass
class Stream:
    """Events of many users, plus the newest export day and the ad spend the marts join."""

    events: list[dict[str, Any]]
    as_of: date
    spend: dict[tuple[str, str, date], float] = field(default_factory=dict)

    def by_user(self) -> dict[str, list[dict[str, Any]]]:
        users: dict[str, list[dict[str, Any]]] = {}
        for event in self.events:
            users.setdefault(event["user_key"], []).append(event)
        return users


@st.composite
def user_events(
    draw: st.DrawFn,
    user: str,
    guide: Guide | None = None,
    *,
    max_slot: int = 48,
    base_at: datetime = BASE_AT,
    timezone: str | None = None,
) -> list[dict[str, Any]]:
    """One user's events: names from a small alphabet, times on a 10-minute grid (ties), a
    few with a sub-second or one-second offset, mostly one touch per user (like a real visit)
    with occasional switches so last-touch attribution has something to pick.

    With a `guide` (a funnel's stage event names, gaps and window), the user mostly walks the
    stages in order with short steps, so journeys go deep and convert, and often steps exactly
    onto the next stage's max_gap or the window's end; otherwise names and times are
    uniform. `event_date` is the date in `timezone` (UTC when None)."""
    count = draw(st.integers(1, 14))
    start_day = draw(st.integers(0, 2))
    base = base_at + timedelta(days=start_day)
    zone = ZoneInfo(timezone) if timezone else None
    main_touch = draw(st.integers(0, len(TOUCHES) - 1))
    ids = draw(st.permutations(range(count)))  # ids in no relation to time: ties by event_id
    events = []
    stage = 0
    # A precise walker hits every stage in turn: boundaries then decide deep stages too.
    precise = guide is not None and draw(st.integers(0, 2)) == 0
    slot = entry_slot = draw(st.integers(0, max_slot // 4))
    for i in range(count):
        if guide is None:
            name = draw(st.sampled_from(EVENT_NAMES))
            slot = draw(st.integers(0, max_slot))
        else:
            steps: tuple[Any, ...] = (0, 0, 1, 1, 2, 3, 6, 12, "gap", "gap+1", "deadline")
            if precise and stage == len(guide.names) - 1:  # the last stage: on the boundaries
                steps = ("deadline", "deadline", "gap", 1)
            step = draw(st.sampled_from(steps))
            if step == "deadline":  # exactly at the end of the window of the last entry
                slot = max(slot, entry_slot + guide.window_slots)
            elif isinstance(step, str):
                gap = guide.gap_slots[stage] or 1
                slot += gap + (step == "gap+1")
            else:
                slot += step
            if not precise and draw(st.integers(0, 3)) == 0:  # noise: any name, stage stays
                name = draw(st.sampled_from(EVENT_NAMES))
            else:
                if stage == 0:
                    entry_slot = slot
                name = draw(st.sampled_from(guide.names[stage]))
                advance = 1 if precise else draw(st.sampled_from((0, 1, 1, 1, 2)))
                stage = (stage + advance) % len(guide.names)
        offset = draw(st.sampled_from((0,) * 10 + (1_000_000, 500_000)))
        touch = draw(st.integers(0, len(TOUCHES) - 1)) if draw(st.booleans()) else main_touch
        attributes = draw(st.integers(0, len(ATTRIBUTES) - 1))
        at = base + slot * GRID + timedelta(microseconds=offset)
        day = local_date(at, zone) if zone else at.date()
        events.append(
            make_event(user, f"{user}-e{ids[i]:02d}", name, at, touch, attributes, event_date=day)
        )
    return events


def local_date(at: datetime, zone: ZoneInfo) -> date:
    """The calendar date in `zone` of a naive UTC timestamp."""
    return at.replace(tzinfo=UTC).astimezone(zone).date()


@dataclass(frozen=True)
class Guide:
    """What a guided user walks: per stage its event names and max_gap (in grid slots)."""

    names: tuple[tuple[str, ...], ...]
    gap_slots: tuple[int | None, ...]
    window_slots: int


def stage_guides(funnel_set: FunnelSet) -> list[Guide]:
    """One guide per funnel of the set."""
    return [
        Guide(
            names=tuple(tuple(sorted({e.name for e in stage.events})) for stage in funnel.stages),
            gap_slots=tuple(
                None if getattr(stage, "max_gap", None) is None else int(stage.max_gap / GRID)  # type: ignore[attr-defined]
                for stage in funnel.stages
            ),
            window_slots=int(funnel.window / GRID),
        )
        for funnel in funnel_set.funnels
    ]


@st.composite
def streams(
    draw: st.DrawFn,
    funnel_set: FunnelSet | None = None,
    *,
    min_users: int = 40,
    max_users: int = 150,
    base_at: datetime = BASE_AT,
    timezone: str | None = None,
) -> Stream:
    """Events of many users; with a funnel set, about half of them walk one of its funnels."""
    guides = stage_guides(funnel_set) if funnel_set is not None else []
    users = draw(st.integers(min_users, max_users))
    events: list[dict[str, Any]] = []
    for u in range(users):
        guide = draw(st.sampled_from(guides)) if guides and draw(st.booleans()) else None
        events.extend(draw(user_events(f"u{u:03d}", guide, base_at=base_at, timezone=timezone)))
    as_of = base_at.date() + timedelta(days=draw(st.integers(1, 9)))
    spend = {}
    for platform, campaign_id, *_ in TOUCHES:
        if campaign_id is None:
            continue
        for day in range(5):
            if draw(st.booleans()):
                spend[(platform, campaign_id, base_at.date() + timedelta(days=day - 1))] = draw(
                    st.sampled_from((0.0, 1.25, 10.0, 123.45))
                )
    return Stream(events=events, as_of=as_of, spend=spend)


# --- funnel definitions ----------------------------------------------------------------------

# Windows and gaps in minutes, all multiples of GRID.
WINDOWS = {"20m": 20, "30m": 30, "1h": 60, "90m": 90, "2h": 120, "4h": 240, "1d": 1440}
GAPS = {"10m": 10, "20m": 20, "30m": 30, "1h": 60, "2h": 120}
FUNNEL_MODES = ("ordered", "strict", "any_order")


@dataclass(frozen=True)
class Options:
    """Which optional parts of the definition language a generated funnel may use."""

    gaps: bool = False
    optional_stages: bool = False
    exclusions: bool = False
    attribution: bool = False
    intent: bool = False

    @classmethod
    def all(cls) -> Options:
        return cls(True, True, True, True, True)


@st.composite
def filters(draw: st.DrawFn) -> dict[str, Any]:
    """One `where` condition over fields the streams make true, false or null."""
    kind = draw(
        st.sampled_from(
            (
                "engagement",
                "value",
                "page_url",
                "utm_medium",
                "paid",
                "platform",
                "campaign",
                "quiz",
                "step",
            )
        )
    )
    if kind == "engagement":
        op = draw(st.sampled_from(("gt", "gte", "lt", "lte", "eq", "ne", "not_null", "is_null")))
        if op in ("is_null", "not_null"):
            return {"field": "engagement_time_ms", "op": op}
        return {
            "field": "engagement_time_ms",
            "op": op,
            "value": draw(st.sampled_from((0, 1500, 10000))),
        }
    if kind == "value":
        op = draw(st.sampled_from(("gt", "gte", "lt", "lte", "eq", "ne")))
        return {"field": "value", "op": op, "value": draw(st.sampled_from((0, 9.99, 10, 10.0)))}
    if kind == "page_url":
        op = draw(st.sampled_from(("eq", "ne", "in", "not_in", "contains", "is_null")))
        if op == "is_null":
            return {"field": "page_url", "op": op}
        if op in ("in", "not_in"):
            return {"field": "page_url", "op": op, "value": ["/", "/pricing"]}
        if op == "contains":
            return {"field": "page_url", "op": op, "value": draw(st.sampled_from(("pric", "/")))}
        return {"field": "page_url", "op": op, "value": draw(st.sampled_from(("/", "/pricing")))}
    if kind == "utm_medium":
        op = draw(st.sampled_from(("eq", "ne", "in", "not_in")))
        if op in ("in", "not_in"):
            return {"field": "utm_medium", "op": op, "value": ["cpc", "email"]}
        return {"field": "utm_medium", "op": op, "value": "cpc"}
    if kind == "paid":
        return {"field": "is_paid_touch", "op": draw(st.sampled_from(("eq", "ne"))), "value": True}
    if kind == "platform":
        op = draw(st.sampled_from(("eq", "is_null", "not_null")))
        if op == "eq":
            return {"field": "platform", "op": op, "value": "google_ads"}
        return {"field": "platform", "op": op}
    if kind == "campaign":
        return {"field": "campaign_id", "op": "in", "value": ["c1", "c3"]}
    if kind == "quiz":
        op = draw(st.sampled_from(("eq", "ne", "in", "gte", "is_null", "not_null", "contains")))
        if op in ("is_null", "not_null"):
            return {"field": "param.quiz_id", "op": op}
        if op == "in":
            return {"field": "param.quiz_id", "op": op, "value": ["1", "a", True]}
        if op == "gte":
            return {"field": "param.quiz_id", "op": op, "value": 1}
        if op == "contains":
            return {"field": "param.quiz_id", "op": op, "value": "1"}
        return {"field": "param.quiz_id", "op": op, "value": draw(st.sampled_from((1, "a", 2.5)))}
    op = draw(st.sampled_from(("gt", "lte", "eq")))
    return {"field": "param.step", "op": op, "value": draw(st.sampled_from((1, 2, 3)))}


@st.composite
def stage_events(draw: st.DrawFn, names: tuple[str, ...] = STAGE_EVENT_NAMES) -> list[Any]:
    """The `events` list of a stage or exclusion: names, some with their own filters."""
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True))
    entries: list[Any] = []
    for name in chosen:
        if draw(st.integers(0, 3)) == 0:
            where = draw(st.lists(filters(), min_size=1, max_size=2))
            entries.append({"name": name, "where": where})
        else:
            entries.append(name)
    return entries


@st.composite
def funnel_definition(
    draw: st.DrawFn, funnel_id: str, mode: str, options: Options
) -> dict[str, Any]:
    """One funnel as the YAML mapping a user would write."""
    n = draw(st.integers(2, 5))
    window = draw(st.sampled_from(sorted(WINDOWS)))
    names = [f"s{k}_{draw(st.sampled_from(('hook', 'step', 'go')))}" for k in range(1, n + 1)]
    stages: list[dict[str, Any]] = []
    for k, name in enumerate(names, start=1):
        stage: dict[str, Any] = {"name": name, "events": draw(stage_events())}
        if draw(st.integers(0, 4)) == 0:
            stage["where"] = [draw(filters())]
        if options.optional_stages and 1 < k < n and draw(st.booleans()):
            stage["optional"] = True
        if options.gaps and mode != "any_order" and k > 1 and draw(st.booleans()):
            allowed = [g for g, minutes in GAPS.items() if minutes <= WINDOWS[window]]
            stage["max_gap"] = draw(st.sampled_from(sorted(allowed)))
        stages.append(stage)
    funnel: dict[str, Any] = {
        "id": funnel_id,
        "version": draw(st.integers(1, 3)),
        "kind": draw(st.sampled_from(("micro", "direct"))),
        "mode": mode,
        "window": window,
        "stages": stages,
    }
    if draw(st.integers(0, 3)) == 0:
        campaigns = st.sampled_from(("c1", "c2", "spring", "c3"))
        funnel["campaigns"] = draw(st.lists(campaigns, min_size=1, max_size=2, unique=True))
    if options.exclusions and draw(st.booleans()):
        exclusions = []
        for i in range(draw(st.integers(1, 2))):
            first = draw(st.integers(1, n - 1))
            last = draw(st.integers(first + 1, n))
            exclusion: dict[str, Any] = {
                "name": f"ex{i + 1}",
                "events": draw(stage_events(EVENT_NAMES)),
                "between": [names[first - 1], names[last - 1]],
            }
            if draw(st.integers(0, 3)) == 0:
                exclusion["where"] = [draw(filters())]
            exclusions.append(exclusion)
        funnel["exclusions"] = exclusions
    if options.attribution:
        choice = draw(st.sampled_from(("default", "first_touch", "last_touch", "stage")))
        if choice == "stage":
            funnel["attribution"] = {"stage": draw(st.sampled_from(names))}
        elif choice != "default":
            funnel["attribution"] = choice
    if options.intent and draw(st.booleans()):
        intent: dict[str, Any] = {}
        if draw(st.booleans()):
            mid = draw(st.integers(1, n))
            late = draw(st.integers(mid, n))
            intent["mid_from_stage"] = names[mid - 1]
            intent["late_from_stage"] = names[late - 1]
        if draw(st.booleans()):
            pool = draw(st.permutations(("c1", "c2", "spring", "brand", "c3")))
            cut = draw(st.integers(0, 3))
            segments: dict[str, list[str]] = {}
            for campaign in pool[:cut]:
                segments.setdefault(draw(st.sampled_from(("early", "mid", "late"))), []).append(
                    campaign
                )
            if segments:
                intent["campaigns"] = segments
        if intent:
            funnel["intent"] = intent
    return funnel


@dataclass(frozen=True)
class GeneratedFunnels:
    yaml_text: str
    funnel_set: FunnelSet


@st.composite
def funnel_sets(draw: st.DrawFn, mode: str, options: Options | None = None) -> GeneratedFunnels:
    """One or two funnels of `mode`, written as YAML and validated by the loader."""
    options = options or Options()
    count = draw(st.integers(1, 2))
    doc = {"funnels": [draw(funnel_definition(f"f{i + 1}", mode, options)) for i in range(count)]}
    text = yaml.safe_dump(doc, sort_keys=False)
    return GeneratedFunnels(yaml_text=text, funnel_set=parse_funnels(text, "generated.yml"))
