"""Write simulated site events in the generic event format (docs/event_format.md), as NDJSON.

One JSON object per line with the format's columns; the event's own parameters (the
`properties` JSON object and the page title) become further top-level fields, as a tracker
without an adapter of its own would send them. Times are ISO 8601 UTC with a `Z`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa

from .source_rows import SITE_EVENT_SCHEMA

_LINE = """
    select json_merge_patch(
        coalesce(properties, '{}'),
        json_object(
            'page_title', page_title,
            'event_id', event_id,
            'event_name', event_name,
            'event_at', strftime(timezone('UTC', event_at), '%Y-%m-%dT%H:%M:%S.%fZ'),
            'anonymous_id', anonymous_id,
            'user_id', user_id,
            'session_id', session_id,
            'page_url', page_url,
            'referrer', referrer,
            'engagement_time_ms', engagement_time_ms,
            'value', value,
            'currency', currency
        )
    )::varchar as line
    from events
    order by event_at, event_id"""


def write_generic(folder: Path, day: date, events: pa.Table) -> list[Path]:
    """Write `events` (SITE_EVENT_SCHEMA) as `folder/events_YYYY-MM-DD.ndjson`.

    `folder` is the landing zone's `events` folder. JSON nulls are dropped by the merge, so
    absent values are absent fields.
    """
    table = events.select(SITE_EVENT_SCHEMA.names).cast(SITE_EVENT_SCHEMA)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"events_{day.isoformat()}.ndjson"
    con = duckdb.connect()
    try:
        con.execute("set TimeZone = 'UTC'")
        con.register("events", table)
        # One text column, written unquoted: each line is one JSON object.
        con.execute(
            f"copy ({_LINE}) to ? (format csv, header false, quote '', escape '', "
            "delimiter '\x1f')",
            [str(path)],
        )
    finally:
        con.close()
    return [path]
