"""Render site events as a Snowplow enriched event TSV (what Snowplow Enrich writes and the S3
loader stores, gzip-compressed), one file per export day.

Every SITE_EVENT_SCHEMA event becomes one enriched event, in the 131-field order of
`ingest.snowplow_fields.ENRICHED_FIELDS`:
- page_view -> a `page_view` event; every other name -> a self-describing (`unstruct`) event
  `iglu:com.microfunnel/<name>/jsonschema/1-0-0` whose data is the event's properties, so
  `event_name` carries the name as Snowplow does for custom events;
- value / currency -> tr_total / tr_currency (the shape of the conversion event in Snowplow's own
  fractribution sample data);
- engaged time -> page_ping events, one per full heartbeat (HEARTBEAT_SECONDS) of the event's
  engagement_time_ms, in the seconds before it (the JS tracker's activity tracking); their
  event ids are UUIDs derived from the event's id, so a re-render gives the same ids;
- the campaign attribution enrichment's fields from the page URL's query: mkt_* from utm_*,
  mkt_clickid / mkt_network for the click ids the enrichment knows without configuration
  (gclid -> Google, msclkid -> Microsoft, dclid -> DoubleClick).
Timestamps have Snowplow's millisecond precision; collector, device and derived timestamps are
the event time. Values never contain tabs or newlines (Enrich replaces them with spaces).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from ..ingest.snowplow_fields import ENRICHED_FIELDS, HEARTBEAT_SECONDS
from .ndjson import write_lines
from .source_rows import SITE_EVENT_SCHEMA

VENDOR = "com.microfunnel"
TRACKER = {
    "app_id": "'microfunnel'",
    "platform": "'web'",
    "name_tracker": "'sp'",
    "v_tracker": "'js-3.17.0'",
    "v_collector": "'ssc-2.9.0-kinesis'",
    "v_etl": "'snowplow-enrich-kinesis-3.8.0'",
    "event_format": "'jsonschema'",
    "event_version": "'1-0-0'",
    "doc_charset": "'UTF-8'",
}
# Click ids the campaign attribution enrichment recognises out of the box.
BUILT_IN_CLICK_IDS = (("gclid", "Google"), ("msclkid", "Microsoft"), ("dclid", "DoubleClick"))
_MKT = {
    "mkt_source": "utm_source",
    "mkt_medium": "utm_medium",
    "mkt_campaign": "utm_campaign",
    "mkt_content": "utm_content",
    "mkt_term": "utm_term",
}


def snowplow_path(folder: Path, day: date) -> Path:
    """`<folder>/enriched_YYYYMMDD.tsv.gz`; `folder` is the landing zone's `snowplow/`."""
    return folder / f"enriched_{day:%Y%m%d}.tsv.gz"


def write_snowplow(folder: Path, day: date, events: pa.Table) -> list[Path]:
    """Write `events` (SITE_EVENT_SCHEMA) as the day's enriched TSV; returns the file written."""
    table = events.select(SITE_EVENT_SCHEMA.names).cast(SITE_EVENT_SCHEMA)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("site_events", table)
        lines = con.execute(_lines_sql()).to_arrow_table().column("line")
    finally:
        con.close()
    path = snowplow_path(folder, day)
    write_lines(path, lines.chunks, compress=True)
    return [path]


def _param(name: str) -> str:
    raw = f"regexp_extract(page_url, '[?&#]{name}=([^&#]*)', 1)"
    return f"nullif(url_decode(replace({raw}, '+', ' ')), '')"


def _lines_sql() -> str:
    heartbeat_ms = HEARTBEAT_SECONDS * 1000
    clickid = "coalesce(" + ", ".join(_param(p) for p, _ in BUILT_IN_CLICK_IDS) + ")"
    network = (
        "case "
        + " ".join(f"when {_param(p)} is not null then '{n}'" for p, n in BUILT_IN_CLICK_IDS)
        + " end"
    )
    values = {
        **TRACKER,
        "etl_tstamp": "stamp",
        "collector_tstamp": "stamp",
        "dvce_created_tstamp": "stamp",
        "dvce_sent_tstamp": "stamp",
        "derived_tstamp": "stamp",
        "event": "kind",
        "event_id": "id",
        "user_id": "user_id",
        "domain_userid": "anonymous_id",
        "domain_sessionid": "session_id",
        "page_url": "page_url",
        "page_title": "page_title",
        "page_referrer": "referrer",
        "page_urlscheme": "regexp_extract(page_url, '^([a-zA-Z][a-zA-Z0-9+.-]*)://', 1)",
        "page_urlhost": "regexp_extract(page_url, '^[a-zA-Z][a-zA-Z0-9+.-]*://([^/?#:]+)', 1)",
        "page_urlpath": "regexp_extract(page_url, '^[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#]*([^?#]*)', 1)",
        "page_urlquery": "regexp_extract(page_url, '\\?([^#]*)', 1)",
        "page_urlfragment": "regexp_extract(page_url, '#(.*)$', 1)",
        **{field: _param(param) for field, param in _MKT.items()},
        "mkt_clickid": clickid,
        "mkt_network": network,
        "unstruct_event": "unstruct_event",
        "tr_total": "case when not is_ping then value::varchar end",
        "tr_currency": "case when not is_ping and value is not null then currency end",
        "event_vendor": "vendor",
        "event_name": "name",
    }
    columns = [
        f"coalesce(({values[f]})::varchar, '')" if f in values else "''" for f in ENRICHED_FIELDS
    ]
    # Enrich replaces tabs and newlines inside values with spaces.
    clean = ", ".join(f"translate({c}, chr(9) || chr(10) || chr(13), '   ')" for c in columns)
    return f"""
        with pings as (
            select e.*, true as is_ping, k,
                e.event_at - to_milliseconds(k * {heartbeat_ms}) as ts
            from site_events as e, range(1, e.engagement_time_ms // {heartbeat_ms} + 1) as r(k)
            where e.engagement_time_ms >= {heartbeat_ms}
        ),
        rows as (
            select *, false as is_ping, 0::bigint as k, event_at as ts from site_events
            union all by name
            select * from pings
        ),
        rendered as (
            select *,
                strftime(ts, '%Y-%m-%d %H:%M:%S.%g') as stamp,
                case when is_ping then
                    regexp_replace(md5(event_id || ':page_ping:' || k),
                        '^(.{{8}})(.{{4}}).(.{{3}}).(.{{3}})(.{{12}})$', '\\1-\\2-4\\3-8\\4-\\5')
                    else event_id end as id,
                case when is_ping then 'page_ping' else event_name end as name,
                case when is_ping or event_name = 'page_view' then 'com.snowplowanalytics.snowplow'
                    else '{VENDOR}' end as vendor,
                case when is_ping then 'page_ping' when event_name = 'page_view' then 'page_view'
                    else 'unstruct' end as kind,
                case when not is_ping and event_name <> 'page_view' then
                    '{{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/'
                    || '1-0-0","data":{{"schema":"iglu:{VENDOR}/' || event_name
                    || '/jsonschema/1-0-0","data":'
                    || coalesce(nullif(json(properties)::varchar, ''), '{{}}') || '}}}}'
                end as unstruct_event
            from rows
        )
        select array_to_string([{clean}], chr(9)) || chr(10) as line
        from rendered
        order by ts, is_ping desc, event_id, k
        """
