"""Write simulated site events as a day's dump of Segment's warehouse tables.

Segment's warehouse connector writes `pages` (page calls), `tracks` (every other track call)
and `identifies` (identify calls) with the message fields and the flattened `context` object as
columns (https://segment.com/docs/connections/storage/warehouses/schema/). One CSV per table,
in the column names and the `YYYY-MM-DD hh:mm:ss[.ffffff]` UTC times of a warehouse export
(like dbt-labs/segment's example_segment_pages seed). analytics.js fills `context.campaign`
from the landing URL's utm_* parameters, so the writer does the same; the first event after
which a person is signed in gets an identify call tying the anonymous id to the user id.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from .source_rows import SITE_EVENT_SCHEMA

TABLES = ("pages", "tracks", "identifies")
_CAMPAIGN = {
    "context_campaign_source": "utm_source",
    "context_campaign_medium": "utm_medium",
    "context_campaign_name": "utm_campaign",
    "context_campaign_term": "utm_term",
    "context_campaign_content": "utm_content",
}


def _query_param(name: str) -> str:
    raw = f"regexp_extract(page_url, '[?&]{name}=([^&#]*)', 1)"
    return f"nullif(url_decode(replace({raw}, '+', ' ')), '')"


_TIMES = """
    timezone('UTC', event_at) as "timestamp",
    timezone('UTC', event_at) as original_timestamp,
    timezone('UTC', event_at) + interval 40 millisecond as sent_at,
    timezone('UTC', event_at) + interval 310 millisecond as received_at"""
_CONTEXT = ",\n".join(
    [
        "page_url as context_page_url",
        "nullif(regexp_extract(page_url, '^[a-z]+://[^/?#]*([^?#]*)', 1), '') as context_page_path",
        "referrer as context_page_referrer",
        "page_title as context_page_title",
        *(f"{_query_param(param)} as {column}" for column, param in _CAMPAIGN.items()),
        "'analytics.js' as context_library_name",
        "'4.15.3' as context_library_version",
    ]
)
_QUERIES = {
    "pages": f"""
        select event_id as id, anonymous_id, user_id, {_TIMES},
            page_url as url,
            nullif(regexp_extract(page_url, '^[a-z]+://[^/?#]*([^?#]*)', 1), '') as path,
            page_title as title,
            nullif(regexp_extract(page_url, '(\\?[^#]*)', 1), '') as search,
            referrer, {_CONTEXT}
        from events
        where event_name = 'page_view'
        order by event_at, event_id""",
    "tracks": f"""
        select event_id as id, anonymous_id, user_id, {_TIMES},
            event_name as event, event_name as event_text, {_CONTEXT}
        from events
        where event_name <> 'page_view'
        order by event_at, event_id""",
    "identifies": f"""
        select 'idf-' || md5(anonymous_id || '|' || user_id) as id, anonymous_id, user_id,
            {_TIMES}, {_CONTEXT}
        from events
        where user_id is not null and anonymous_id is not null
        qualify row_number() over (
            partition by anonymous_id, user_id order by event_at, event_id) = 1
        order by event_at, id""",
}


def write_segment(folder: Path, day: date, events: pa.Table) -> list[Path]:
    """Write `events` (SITE_EVENT_SCHEMA) as `folder/<table>/<table>_YYYYMMDD.csv`.

    `folder` is the landing zone's `segment` folder. Tables without rows are not written.
    """
    table = events.select(SITE_EVENT_SCHEMA.names).cast(SITE_EVENT_SCHEMA)
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("events", table)
        written = []
        for name in TABLES:
            count = con.execute(f"select count(*) from ({_QUERIES[name]})").fetchone()
            if not count or not count[0]:
                continue
            path = folder / name / f"{name}_{day:%Y%m%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"copy ({_QUERIES[name]}) to ? (format csv, header true)", [str(path)])
            written.append(path)
    finally:
        con.close()
    return written
