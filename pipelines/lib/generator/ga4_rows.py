"""Render cohort events as GA4 BigQuery export rows (newline-delimited JSON text).

Field order and types follow the `events_YYYYMMDD` export schema; NULL fields are left out, as
BigQuery's JSON extract does. Optional records (user_id, ecommerce, collected_traffic_source,
event_value_in_usd) appear only on the events that carry them.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa

from . import bq_json as bq
from . import catalog as cat
from .cohort import EPOCH, Cohort
from .journeys import US
from .params import DOUBLE, INT, STRING, Param, render_event_params
from .templates import EVENT, EVENT_NAMES

PRIVACY = bq.record(
    {"analytics_storage": "Yes", "ads_storage": "Yes", "uses_transient_token": "No"}
)
ITEM_EVENTS = ("view_item", "add_to_wishlist", "begin_checkout", "add_payment_info", "purchase")
VALUE_EVENTS = ("begin_checkout", "add_payment_info", "purchase", "generate_lead")
LANDING_EVENTS = ("first_visit", "session_start", "page_view")


def _is(names: np.ndarray, *which: str) -> np.ndarray:
    return np.isin(names, [EVENT[w] for w in which])


def _item(product: int, index: int | None = None) -> dict[str, object]:
    item_id, item_name, category, price, _ = cat.PRODUCTS[product]
    return {
        "item_id": item_id,
        "item_name": item_name,
        "item_brand": "Northwind",
        "item_category": category,
        "price_in_usd": price,
        "price": price,
        "quantity": 1,
        "item_list_index": None if index is None else str(index + 1),
    }


def _items_vocab() -> list[str]:
    """Code 0: no items; 1..P: one product; P+1: the product list."""
    single = [f',"items":[{bq.record(_item(p))}]' for p in range(len(cat.PRODUCTS))]
    listing = ",".join(bq.record(_item(p, p)) for p in range(len(cat.PRODUCTS)))
    return [',"items":[]', *single, f',"items":[{listing}]']


def _device_vocab() -> list[str]:
    out = []
    for _, d in cat.DEVICES:
        mobile = d["category"] != "desktop"
        out.append(
            ',"device":'
            + bq.record(
                {
                    "category": d["category"],
                    "mobile_brand_name": d["mobile_brand_name"],
                    "mobile_model_name": d["mobile_model_name"],
                    "mobile_marketing_name": "<Other>" if mobile else None,
                    "operating_system": d["operating_system"],
                    "operating_system_version": d["operating_system_version"],
                    "language": "en-us",
                    "is_limited_ad_tracking": "No",
                    "browser": d["browser"],
                    "browser_version": d["browser_version"],
                    "web_info": {
                        "browser": d["browser"],
                        "browser_version": d["browser_version"],
                        "hostname": cat.HOSTNAME,
                    },
                }
            )
        )
    return out


def _geo_vocab() -> list[str]:
    names = ("city", "country", "continent", "region", "sub_continent", "metro")
    return [',"geo":' + bq.record(dict(zip(names, g[1:], strict=True))) for g in cat.GEOS]


def _traffic_source_vocab(campaigns: tuple[cat.Campaign, ...]) -> list[str]:
    """Codes 0..C-1: acquired by a campaign; C..: the unpaid sources."""
    sources = [(c.name, c.account.utm_medium, c.account.utm_source) for c in campaigns]
    sources += [(s[1], s[2], s[3]) for s in cat.ORGANIC_SOURCES]
    tail = f',"stream_id":{bq.quote(cat.STREAM_ID)},"platform":"WEB"'
    return [
        ',"traffic_source":' + bq.record({"name": n, "medium": m, "source": s}) + tail
        for n, m, s in sources
    ]


def _collected_prefix(campaigns: tuple[cat.Campaign, ...]) -> list[str]:
    """The open collected_traffic_source record per campaign; Google's gets its gclid field
    appended (GA4 has no field for the other platforms' click ids: they stay in the URL)."""
    out = []
    for c in campaigns:
        head = bq.record(
            {
                "manual_campaign_id": str(c.id),
                "manual_campaign_name": c.name,
                "manual_source": c.account.utm_source,
                "manual_medium": c.account.utm_medium,
            }
        )
        out.append(',"collected_traffic_source":' + head[:-1])
    return out


def _ecommerce_prefix() -> list[str]:
    out = []
    for _, _, _, price, _ in cat.PRODUCTS:
        body = bq.record(
            {
                "total_item_quantity": 1,
                "purchase_revenue_in_usd": price,
                "purchase_revenue": price,
                "shipping_value_in_usd": 0.0,
                "shipping_value": 0.0,
                "tax_value_in_usd": 0.0,
                "tax_value": 0.0,
                "unique_items": 1,
            }
        )
        out.append(',"ecommerce":' + body[:-1] + ',"transaction_id":"T')
    return out


def render_rows(cohort: Cohort, idx: np.ndarray) -> pa.Array:
    """One JSON line (with its newline) per event index in `idx`."""
    j, s, t, ev = cohort.journeys, cohort.steps, cohort.times, cohort.events
    n = len(idx)
    st, jn, name, ts = ev.step[idx], ev.journey[idx], ev.name[idx], ev.ts_us[idx]
    ps = t.page_step[st]
    page = s.page[ps]
    campaigns = cohort.lineup.campaigns
    campaign = np.maximum(j.campaign[jn], 0)
    is_google = np.array([c.platform == "google_ads" for c in campaigns])[campaign]
    product = j.product[jn]
    price = np.array([p[3] for p in cat.PRODUCTS])[product]

    # Where the visitor came from: on page_views, the previous page or the referring site.
    is_pv = name == EVENT["page_view"]
    prev = np.maximum(st - 1, 0)
    opens_journey = (st == 0) | (s.journey[prev] != s.journey[st])
    # Codes: 0 Google's referrer, 1.. the unpaid sources', then one per campaign of the others.
    paid_ref = np.array(
        [0 if c.platform == "google_ads" else 1 + len(cat.ORGANIC_SOURCES) + i
         for i, c in enumerate(campaigns)]
    )  # fmt: skip
    external = np.where(
        s.is_paid_entry[st],
        paid_ref[campaign],
        np.where(opens_journey & (j.organic_source[jn] >= 0), 1 + j.organic_source[jn], -1),
    )
    ext_urls = ["https://www.google.com/"] + [src[4] or "" for src in cat.ORGANIC_SOURCES]
    ext_urls += [c.account.referrer for c in campaigns]
    has_ext = (external >= 0) & (np.array([bq.escape(u) for u in ext_urls])[external] != "")
    internal = ~s.is_session_start[st]
    ref_mask = is_pv & (internal | has_ext)
    prev_page_url = cohort.step_url.take(pa.array(t.page_step[prev][ref_mask]))
    ext_text = bq.pick([bq.escape(u) for u in ext_urls], np.maximum(external[ref_mask], 0))
    ref_text = bq.concat(
        bq.optional(internal[ref_mask], prev_page_url),
        bq.optional(~internal[ref_mask], ext_text),
    )

    tagged = s.is_paid_entry[st] & (st == ps)  # the hits that carried the ad click's URL
    landing_hit = tagged & _is(name, *LANDING_EVENTS)
    gclid_of = cohort.step_gclid.take(pa.array(ps))
    value = np.where(name == EVENT["generate_lead"], cat.LEAD_VALUE, price)
    has_value = _is(name, *VALUE_EVENTS)
    is_purchase = name == EVENT["purchase"]
    tx = bq.digits(cohort.transaction[jn])
    session_id = t.start_us[t.session_step[st]] // US
    titles = [bq.escape(title) for _, title in cat.PAGES]
    campaign_names = [bq.escape(c.name) for c in campaigns]
    sources = [c.account.utm_source for c in campaigns]
    mediums = [c.account.utm_medium for c in campaigns]
    google_hit = landing_hit & is_google
    video = _is(name, "video_start", "video_progress", "video_complete")
    eng = ev.engagement_ms[idx]

    def m(text: pa.Array, mask: np.ndarray) -> pa.Array:
        return text.filter(pa.array(mask))

    params = [
        Param("ga_session_id", INT, np.ones(n, bool), bq.digits(session_id)),
        Param("ga_session_number", INT, np.ones(n, bool), bq.digits(t.session_number[st])),
        Param("page_location", STRING, np.ones(n, bool), cohort.step_url.take(pa.array(ps))),
        Param("page_title", STRING, np.ones(n, bool), bq.pick(titles, page)),
        Param("page_referrer", STRING, ref_mask, ref_text),
        Param("entrances", INT, is_pv & s.is_session_start[st], "1"),
        Param("engagement_time_msec", INT, eng > 0, bq.digits(eng[eng > 0])),
        Param("source", STRING, landing_hit, bq.pick(sources, campaign[landing_hit])),
        Param("medium", STRING, landing_hit, bq.pick(mediums, campaign[landing_hit])),
        Param("campaign", STRING, landing_hit, bq.pick(campaign_names, campaign[landing_hit])),
        Param("gclid", STRING, google_hit, m(gclid_of, google_hit)),
        Param("quiz_id", STRING, _is(name, "quiz_answer"), "find-your-fit"),
        Param("quiz_step", INT, _is(name, "quiz_answer"), m(bq.digits(ev.detail[idx]),
                                                             _is(name, "quiz_answer"))),
        Param("video_title", STRING, video, "Trail-ready in 30 days"),
        Param("video_provider", STRING, video, "youtube"),
        Param("video_percent", INT, _is(name, "video_progress", "video_complete"),
              m(bq.digits(ev.detail[idx]), _is(name, "video_progress", "video_complete"))),
        Param("percent_scrolled", INT, _is(name, "scroll"), "90"),
        Param("link_text", STRING, _is(name, "click"), "Learn more"),
        Param("link_url", STRING, _is(name, "click"), bq.escape(cat.SITE + "/how-it-works")),
        Param("content_type", STRING, _is(name, "select_content"), "customer_story"),
        Param("content_id", STRING, _is(name, "select_content"), "story-alpine-club"),
        Param("value", DOUBLE, has_value, bq.number(value[has_value])),
        Param("currency", STRING, has_value, cat.CURRENCY),
        Param("transaction_id", STRING, is_purchase, bq.concat("T", m(tx, is_purchase))),
        Param("method", STRING, _is(name, "sign_up"),
              bq.pick(["email", "google"], j.pseudo_id[jn][_is(name, "sign_up")] % 2)),
    ]  # fmt: skip

    day = ts // (86_400 * US)
    first_day = int(day.min()) if n else 0
    days = range(first_day, int(day.max()) + 1 if n else 1)
    heads = [
        f'{{"event_date":"{(EPOCH + timedelta(d)).strftime("%Y%m%d")}","event_timestamp":"'
        for d in days
    ]
    names = [f'","event_name":{bq.quote(nm)},"event_params":[' for nm in EVENT_NAMES]
    event_value = bq.optional(
        is_purchase | (name == EVENT["generate_lead"]),
        bq.concat(',"event_value_in_usd":', bq.number(value)),
    )
    organic_code = len(campaigns) + np.maximum(j.organic_source[jn], 0)
    acquired = np.where(
        j.is_returning[jn],
        len(campaigns) + j.pseudo_id[jn] % len(cat.ORGANIC_SOURCES),
        np.where(j.campaign[jn] >= 0, campaign, organic_code),
    )
    item_code = np.where(_is(name, *ITEM_EVENTS), 1 + product, 0)
    item_code = np.where(name == EVENT["view_item_list"], 1 + len(cat.PRODUCTS), item_code)
    first_touch = j.first_touch_us[jn]
    return bq.concat(
        bq.pick(heads, day - first_day),
        bq.digits(ts),
        bq.pick(names, name),
        render_event_params(params, n),
        "]",
        event_value,
        ',"event_bundle_sequence_id":"',
        bq.digits(st - t.session_step[st] + 1),
        '","event_server_timestamp_offset":"',
        bq.digits(cohort.server_offset_us[idx]),
        '"',
        bq.optional(t.logged_in[st], bq.concat(',"user_id":"u', bq.digits(j.user_number[jn]), '"')),
        ',"user_pseudo_id":"',
        bq.digits(j.pseudo_id[jn]),
        ".",
        bq.digits(first_touch // US),
        f'","privacy_info":{PRIVACY},"user_properties":[],"user_first_touch_timestamp":"',
        bq.digits(first_touch),
        '"',
        bq.pick(_device_vocab(), j.device[jn]),
        bq.pick(_geo_vocab(), j.geo[jn]),
        bq.pick(_traffic_source_vocab(campaigns), acquired),
        bq.optional(is_purchase, bq.concat(bq.pick(_ecommerce_prefix(), product), tx, '"}')),
        bq.pick(_items_vocab(), item_code),
        bq.optional(
            tagged,
            bq.concat(
                bq.pick(_collected_prefix(campaigns), campaign),
                bq.optional(is_google, bq.concat(',"gclid":"', gclid_of, '"')),
                "}",
            ),
        ),
        ',"is_active_user":true,"batch_event_index":"',
        bq.digits(ev.position[idx]),
        '","batch_page_id":"',
        bq.digits(t.start_us[ps] // 1000),
        '","batch_ordering_id":"',
        bq.digits(st - ps + 1),
        '"}\n',
    )
