"""Step templates: which GA4 events one step of a journey fires, in order.

A journey is a sequence of steps (landing, first action, engagement, ...). Each step kind
expands into a fixed list of events; `navigates` steps open a new page (their first event is a
page_view), the others happen on the page the visitor is already on.
"""

from __future__ import annotations

from dataclasses import dataclass

# Engagement classes: how much engaged time an event reports in engagement_time_msec.
NO_ENGAGEMENT, SHORT, LONG, MEDIUM = 0, 1, 2, 3

EVENT_NAMES: tuple[str, ...] = (
    "first_visit",
    "session_start",
    "page_view",
    "user_engagement",
    "quiz_answer",
    "click",
    "scroll",
    "select_content",
    "video_start",
    "video_progress",
    "video_complete",
    "view_item",
    "view_item_list",
    "add_to_wishlist",
    "begin_checkout",
    "add_payment_info",
    "purchase",
    "sign_up",
    "generate_lead",
)
EVENT = {name: i for i, name in enumerate(EVENT_NAMES)}


@dataclass(frozen=True)
class StepKind:
    name: str
    navigates: bool
    # (event name, engagement class, detail) where detail is quiz_step / video_percent /
    # percent_scrolled, 0 when the event has none.
    events: tuple[tuple[str, int, int], ...]
    page: str | None = None  # fixed page for navigating stage steps; None: decided per journey


_LANDING = (("session_start", NO_ENGAGEMENT, 0), ("page_view", NO_ENGAGEMENT, 0))

STEP_KINDS: tuple[StepKind, ...] = (
    StepKind("land_new", True, (("first_visit", NO_ENGAGEMENT, 0), *_LANDING)),
    StepKind("land_returning", True, _LANDING),
    StepKind("entry", True, _LANDING),
    StepKind("return_visit", True, (*_LANDING, ("user_engagement", SHORT, 0))),
    StepKind("quiz", False, (("quiz_answer", SHORT, 1), ("quiz_answer", SHORT, 2))),
    StepKind("learn_more", False, (("click", SHORT, 0),)),
    StepKind("scroll", False, (("scroll", SHORT, 90),)),
    StepKind("select_content", False, (("select_content", SHORT, 0),)),
    StepKind(
        "video",
        False,
        (
            ("video_start", SHORT, 0),
            ("video_progress", MEDIUM, 25),
            ("video_progress", MEDIUM, 50),
            ("video_progress", MEDIUM, 75),
            ("video_complete", MEDIUM, 100),
            ("user_engagement", LONG, 0),
        ),
    ),
    StepKind(
        "view_item",
        True,
        (("page_view", NO_ENGAGEMENT, 0), ("view_item", SHORT, 0), ("user_engagement", LONG, 0)),
    ),
    StepKind("long_read", False, (("user_engagement", LONG, 0),)),
    StepKind(
        "pricing",
        True,
        (("page_view", NO_ENGAGEMENT, 0), ("user_engagement", SHORT, 0)),
        page="/pricing",
    ),
    StepKind(
        "item_list",
        True,
        (("page_view", NO_ENGAGEMENT, 0), ("view_item_list", SHORT, 0)),
        page="/products",
    ),
    StepKind("wishlist", False, (("add_to_wishlist", SHORT, 0),)),
    StepKind(
        "purchase",
        True,
        (
            ("page_view", NO_ENGAGEMENT, 0),
            ("begin_checkout", SHORT, 0),
            ("add_payment_info", MEDIUM, 0),
            ("purchase", SHORT, 0),
        ),
        page="/checkout",
    ),
    StepKind(
        "sign_up", True, (("page_view", NO_ENGAGEMENT, 0), ("sign_up", MEDIUM, 0)), page="/signup"
    ),
    StepKind("generate_lead", False, (("generate_lead", MEDIUM, 0),)),
    StepKind("browse", False, (("scroll", SHORT, 90), ("user_engagement", SHORT, 0))),
)
KIND = {k.name: i for i, k in enumerate(STEP_KINDS)}

# Variants per funnel stage, in the order of the Campaign.*_mix tuples.
FIRST_ACTION_KINDS = ("quiz", "learn_more", "scroll", "select_content")
ENGAGEMENT_KINDS = ("video", "view_item", "long_read")
REINFORCEMENT_KINDS = ("pricing", "item_list", "wishlist")
CONVERSION_KINDS = ("purchase", "sign_up", "generate_lead")  # catalog.PURCHASE, SIGN_UP, LEAD
ENTRY_KINDS = frozenset({"land_new", "land_returning", "entry", "return_visit"})


@dataclass(frozen=True)
class TemplateTable:
    """Flattened templates so steps expand to events with numpy indexing."""

    offsets: list[int]  # first template row of each step kind
    lengths: list[int]
    event: list[int]  # per template row: index into EVENT_NAMES
    engagement: list[int]
    detail: list[int]
    navigates: list[bool]  # per step kind


def template_table() -> TemplateTable:
    offsets: list[int] = []
    lengths: list[int] = []
    event: list[int] = []
    engagement: list[int] = []
    detail: list[int] = []
    for kind in STEP_KINDS:
        offsets.append(len(event))
        lengths.append(len(kind.events))
        for name, eng, det in kind.events:
            event.append(EVENT[name])
            engagement.append(eng)
            detail.append(det)
    return TemplateTable(
        offsets, lengths, event, engagement, detail, [k.navigates for k in STEP_KINDS]
    )
