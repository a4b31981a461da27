"""Cohort events as the tracker-neutral table every non-GA4 writer receives (SITE_EVENT_SCHEMA).

The same people, sessions and landing URLs as the GA4 rows, without GA4's encoding: plain URLs
(the landing's query string with UTMs and click id), UUIDs for the tracker's cookie, session and
event ids, and the GA4-only parameters folded into a JSON `properties` object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import bq_json as bq
from . import catalog as cat
from .cohort import TRACKER_IDS, Cohort, day_rng, hex_ids
from .params import join_masked
from .templates import EVENT, EVENT_NAMES

VALUE_EVENTS = ("begin_checkout", "add_payment_info", "purchase", "generate_lead")
ITEM_EVENTS = ("view_item", "add_to_wishlist", "begin_checkout", "add_payment_info", "purchase")


@dataclass(frozen=True)
class SiteIds:
    """A cohort's tracker ids: drawn once, so a re-delivered event keeps its event_id."""

    anonymous: pa.Array  # per journey
    session: pa.Array  # per step (the session's is its opening step's)
    event: pa.Array  # per event
    step_url: pa.Array  # plain page URL per step


def site_ids(seed: int, cohort: Cohort) -> SiteIds:
    rng = day_rng(seed, cohort.day, TRACKER_IDS)
    return SiteIds(
        anonymous=hex_ids(rng, len(cohort.journeys), uuid=True),
        session=hex_ids(rng, len(cohort.steps), uuid=True),
        event=hex_ids(rng, len(cohort.events.ts_us), uuid=True),
        step_url=cohort.step_url_plain(),
    )


def _is(names: np.ndarray, *which: str) -> np.ndarray:
    return np.isin(names, [EVENT[w] for w in which])


def _step_referrer(cohort: Cohort, ids: SiteIds) -> pa.Array:
    """Referrer of each step's page: the previous page inside a session, the referring site on
    a session's first page (the ad platform, the search engine, the linking site)."""
    j, s, t = cohort.journeys, cohort.steps, cohort.times
    n = len(s)
    idx = np.arange(n)
    prev_page = t.page_step[np.maximum(idx - 1, 0)]
    opens_journey = (idx == 0) | (s.journey[np.maximum(idx - 1, 0)] != s.journey)
    campaigns = cohort.lineup.campaigns
    organic = j.organic_source[s.journey]
    # Codes: 0..C-1 the campaign's platform, C.. the unpaid sources, -1 none.
    external = np.where(
        s.is_paid_entry,
        np.maximum(j.campaign[s.journey], 0),
        np.where(opens_journey & (organic >= 0), len(campaigns) + organic, -1),
    )
    ext_urls = [c.account.referrer for c in campaigns]
    ext_urls += [src[4] or "" for src in cat.ORGANIC_SOURCES]
    has_ext = (external >= 0) & (np.array([*ext_urls, ""])[external] != "")
    internal = ~s.is_session_start
    text = pc.if_else(
        pa.array(internal),
        ids.step_url.take(pa.array(prev_page)),
        bq.pick(ext_urls, np.maximum(external, 0)),
    )
    return pc.if_else(pa.array(internal | has_ext), text, pa.scalar(None, pa.string()))


def site_event_table(cohort: Cohort, ids: SiteIds, idx: np.ndarray) -> pa.Table:
    """One SITE_EVENT_SCHEMA row per event index in `idx`, in the order given."""
    from .source_rows import SITE_EVENT_SCHEMA

    j, s, t, ev = cohort.journeys, cohort.steps, cohort.times, cohort.events
    st, jn, name, ts = ev.step[idx], ev.journey[idx], ev.name[idx], ev.ts_us[idx]
    ps = t.page_step[st]
    n = len(idx)
    product = j.product[jn]
    price = np.array([p[3] for p in cat.PRODUCTS])[product]
    value = np.where(name == EVENT["generate_lead"], cat.LEAD_VALUE, price)
    has_value = _is(name, *VALUE_EVENTS)
    eng = ev.engagement_ms[idx]
    null_str = pa.scalar(None, pa.string())

    user_id = pc.if_else(
        pa.array(t.logged_in[st]), bq.concat("u", bq.digits(j.user_number[jn])), null_str
    )
    titles = [title for _, title in cat.PAGES]
    referrer = _step_referrer(cohort, ids).take(pa.array(ps))

    def text(values: pa.Array | str, mask: np.ndarray) -> pa.Array:
        if isinstance(values, str):
            return pa.array([values]).take(pa.array(np.zeros(int(mask.sum()), np.int64)))
        return values.filter(pa.array(mask))

    def field(key: str, mask: np.ndarray, value: pa.Array | str, quoted: bool = True):
        q = '"' if quoted else ""
        return mask, lambda: bq.concat(f'"{key}":{q}', text(value, mask), q)

    detail = bq.digits(ev.detail[idx])
    item_ids = bq.pick([bq.escape(p[0]) for p in cat.PRODUCTS], product)
    item_names = bq.pick([bq.escape(p[1]) for p in cat.PRODUCTS], product)
    video = _is(name, "video_start", "video_progress", "video_complete")
    tx = bq.concat("T", bq.digits(cohort.transaction[jn]))
    method = bq.pick(["email", "google"], j.pseudo_id[jn] % 2)
    all_rows = np.ones(n, bool)
    properties = join_masked(
        [
            field("session_number", all_rows, bq.digits(t.session_number[st]), quoted=False),
            field("quiz_id", _is(name, "quiz_answer"), "find-your-fit"),
            field("quiz_step", _is(name, "quiz_answer"), detail, quoted=False),
            field("video_title", video, "Trail-ready in 30 days"),
            field("video_provider", video, "youtube"),
            field("video_percent", _is(name, "video_progress", "video_complete"), detail, False),
            field("percent_scrolled", _is(name, "scroll"), "90", quoted=False),
            field("link_text", _is(name, "click"), "Learn more"),
            field("link_url", _is(name, "click"), bq.escape(cat.SITE + "/how-it-works")),
            field("content_type", _is(name, "select_content"), "customer_story"),
            field("content_id", _is(name, "select_content"), "story-alpine-club"),
            field("item_id", _is(name, *ITEM_EVENTS), item_ids),
            field("item_name", _is(name, *ITEM_EVENTS), item_names),
            field("transaction_id", name == EVENT["purchase"], tx),
            field("method", name == EVENT["sign_up"], method),
        ],
        n,
    )
    columns = {
        "event_id": ids.event.take(pa.array(idx)),
        "event_name": bq.pick(list(EVENT_NAMES), name),
        "event_at": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "anonymous_id": ids.anonymous.take(pa.array(jn)),
        "user_id": user_id,
        "session_id": ids.session.take(pa.array(t.session_step[st])),
        "page_url": ids.step_url.take(pa.array(ps)),
        "page_title": bq.pick(titles, s.page[ps]),
        "referrer": referrer,
        "engagement_time_ms": pa.array(np.where(eng > 0, eng, 0), mask=eng <= 0),
        "value": pa.array(np.where(has_value, value, 0.0), mask=~has_value),
        "currency": pc.if_else(pa.array(has_value), cat.CURRENCY, null_str),
        "properties": bq.concat("{", properties, "}"),
    }
    return pa.table(columns, schema=SITE_EVENT_SCHEMA)
