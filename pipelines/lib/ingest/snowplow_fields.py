"""The Snowplow canonical event model: field order of the enriched TSV, the `atomic.events`
columns, and the names the adapter maps.

The enriched event TSV (what Snowplow Enrich writes to its "good" stream and the S3 loader
stores) has no header: 131 tab-separated fields in a fixed order. The order here is the
`ENRICHED_EVENT_FIELD_TYPES` list of the Snowplow Python Analytics SDK
(snowplow/snowplow-python-analytics-sdk, snowplow_analytics_sdk/event_transformer.py, 0.2.3),
with one name changed: the SDK calls field 122 `refr_device_tstamp`, the `atomic.events` table
(and the public warehouse samples) call it `refr_dvce_tstamp`; the table's name is used.

The warehouse table `atomic.events` (Snowflake, BigQuery, Databricks; exported as CSV or Parquet)
carries the same columns by name, minus the three JSON columns that the loaders shred into
columns of their own (`contexts`, `unstruct_event`, `derived_contexts` become e.g.
`contexts_com_snowplowanalytics_snowplow_web_page_1_0_0`), plus `load_tstamp`.
"""

from __future__ import annotations

ENRICHED_FIELDS: tuple[str, ...] = (
    "app_id",
    "platform",
    "etl_tstamp",
    "collector_tstamp",
    "dvce_created_tstamp",
    "event",
    "event_id",
    "txn_id",
    "name_tracker",
    "v_tracker",
    "v_collector",
    "v_etl",
    "user_id",
    "user_ipaddress",
    "user_fingerprint",
    "domain_userid",
    "domain_sessionidx",
    "network_userid",
    "geo_country",
    "geo_region",
    "geo_city",
    "geo_zipcode",
    "geo_latitude",
    "geo_longitude",
    "geo_region_name",
    "ip_isp",
    "ip_organization",
    "ip_domain",
    "ip_netspeed",
    "page_url",
    "page_title",
    "page_referrer",
    "page_urlscheme",
    "page_urlhost",
    "page_urlport",
    "page_urlpath",
    "page_urlquery",
    "page_urlfragment",
    "refr_urlscheme",
    "refr_urlhost",
    "refr_urlport",
    "refr_urlpath",
    "refr_urlquery",
    "refr_urlfragment",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_term",
    "mkt_content",
    "mkt_campaign",
    "contexts",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "unstruct_event",
    "tr_orderid",
    "tr_affiliation",
    "tr_total",
    "tr_tax",
    "tr_shipping",
    "tr_city",
    "tr_state",
    "tr_country",
    "ti_orderid",
    "ti_sku",
    "ti_name",
    "ti_category",
    "ti_price",
    "ti_quantity",
    "pp_xoffset_min",
    "pp_xoffset_max",
    "pp_yoffset_min",
    "pp_yoffset_max",
    "useragent",
    "br_name",
    "br_family",
    "br_version",
    "br_type",
    "br_renderengine",
    "br_lang",
    "br_features_pdf",
    "br_features_flash",
    "br_features_java",
    "br_features_director",
    "br_features_quicktime",
    "br_features_realplayer",
    "br_features_windowsmedia",
    "br_features_gears",
    "br_features_silverlight",
    "br_cookies",
    "br_colordepth",
    "br_viewwidth",
    "br_viewheight",
    "os_name",
    "os_family",
    "os_manufacturer",
    "os_timezone",
    "dvce_type",
    "dvce_ismobile",
    "dvce_screenwidth",
    "dvce_screenheight",
    "doc_charset",
    "doc_width",
    "doc_height",
    "tr_currency",
    "tr_total_base",
    "tr_tax_base",
    "tr_shipping_base",
    "ti_currency",
    "ti_price_base",
    "base_currency",
    "geo_timezone",
    "mkt_clickid",
    "mkt_network",
    "etl_tags",
    "dvce_sent_tstamp",
    "refr_domain_userid",
    "refr_dvce_tstamp",
    "derived_contexts",
    "domain_sessionid",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
    "event_fingerprint",
    "true_tstamp",
)
FIELD_COUNT = len(ENRICHED_FIELDS)  # 131

# JSON columns of the TSV that warehouse loaders shred into columns of their own.
SHREDDED_FIELDS = ("contexts", "unstruct_event", "derived_contexts")
# Every column a warehouse `atomic.events` table has before the shredded ones.
ATOMIC_COLUMNS: tuple[str, ...] = (
    *(name for name in ENRICHED_FIELDS if name not in SHREDDED_FIELDS),
    "load_tstamp",
)
# Shredded entity / self-describing event columns of warehouse tables (ignored, reported).
SHREDDED_PREFIXES = ("contexts_", "unstruct_event_", "derived_contexts_")

# An `atomic.events` file without one of these is not Snowplow events (or lost a column).
REQUIRED_COLUMNS = ("event_id", "collector_tstamp", "event", "domain_userid")

# The fields the adapter reads (all others are ignored). Read as text, typed in SQL.
MAPPED_FIELDS: tuple[str, ...] = (
    "app_id",
    "platform",
    "collector_tstamp",
    "event",
    "event_id",
    "user_id",
    "domain_userid",
    "domain_sessionidx",
    "network_userid",
    "page_url",
    "page_title",
    "page_referrer",
    "page_urlscheme",
    "page_urlhost",
    "page_urlport",
    "page_urlpath",
    "page_urlquery",
    "page_urlfragment",
    "refr_medium",
    "refr_source",
    "refr_term",
    "mkt_medium",
    "mkt_source",
    "mkt_term",
    "mkt_content",
    "mkt_campaign",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
    "unstruct_event",
    "tr_orderid",
    "tr_affiliation",
    "tr_total",
    "tr_tax",
    "tr_shipping",
    "ti_orderid",
    "ti_sku",
    "ti_name",
    "ti_category",
    "ti_price",
    "ti_quantity",
    "tr_currency",
    "ti_currency",
    "mkt_clickid",
    "mkt_network",
    "domain_sessionid",
    "derived_tstamp",
    "event_vendor",
    "event_name",
    "event_format",
    "event_version",
)

# Fields copied into `properties` (JSON), with their JSON type. Personal data (IP address,
# fingerprint, user agent, geo position) is left out on purpose.
PROPERTY_FIELDS: dict[str, str] = {
    "app_id": "string",
    "platform": "string",
    "event": "string",
    "event_vendor": "string",
    "event_format": "string",
    "event_version": "string",
    "page_title": "string",
    "domain_sessionidx": "integer",
    "network_userid": "string",
    "refr_medium": "string",
    "refr_source": "string",
    "refr_term": "string",
    "se_category": "string",
    "se_action": "string",
    "se_label": "string",
    "se_property": "string",
    "se_value": "number",
    "tr_orderid": "string",
    "tr_affiliation": "string",
    "tr_tax": "number",
    "tr_shipping": "number",
    "ti_orderid": "string",
    "ti_sku": "string",
    "ti_name": "string",
    "ti_category": "string",
    "ti_price": "number",
    "ti_quantity": "integer",
    "ti_currency": "string",
    "mkt_network": "string",
}

# `event` values -> event name when the `event_name` column is empty (older pipelines, hand
# made files). The short forms are the tracker protocol's `e` parameter values.
EVENT_TYPE_NAMES = {
    "page_view": "page_view",
    "pv": "page_view",
    "page_ping": "page_ping",
    "pp": "page_ping",
    "transaction": "transaction",
    "tr": "transaction",
    "transaction_item": "transaction_item",
    "ti": "transaction_item",
}
STRUCT_EVENT_TYPES = ("struct", "se")

# Snowplow's campaign attribution enrichment fills mkt_clickid / mkt_network. Built in:
# gclid -> "Google", msclkid -> "Microsoft", dclid -> "DoubleClick"; other click ids are added
# in the enrichment's `clickId` config under a network name the operator picks: the usual
# names for the other ad platforms are listed. Matched case-insensitively.
NETWORK_CLICK_ID_TYPES = {
    "google": "gclid",
    "microsoft": "msclkid",
    "doubleclick": "dclid",
    "facebook": "fbclid",
    "meta": "fbclid",
    "tiktok": "ttclid",
    "linkedin": "li_fat_id",
}

# The JavaScript tracker's activity tracking sends a page_ping every `heartbeatDelay` seconds of
# engagement; 10 s is the setting Snowplow's docs and the dbt-snowplow-web package
# (`snowplow__heartbeat`) use. Each page_ping counts that much engaged time.
HEARTBEAT_SECONDS = 10
