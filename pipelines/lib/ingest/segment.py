"""Segment warehouse tables (tracks, pages, identifies) -> canonical `events` rows + quarantine.

Segment's warehouse connector writes one table per call type, with the message fields and the
flattened `context` object as columns (`context_page_url`, `context_campaign_source`, ...;
https://segment.com/docs/connections/storage/warehouses/schema/). A dump of those tables (CSV
with a header row, NDJSON or Parquet) lands as `<landing>/segment/<table>/...` with the export
day (YYYYMMDD or YYYY-MM-DD) in the file name. The table is the file's folder name (or, failing
that, the start of its file name).

- tracks: event_name = the `event` column as written (Segment's "Order Completed" style names
  are kept; funnels match them as written).
- pages: event_name `page_view`; page_url = `url`, referrer = `referrer`.
- identifies: event_name `identify`: they tie `anonymous_id` to `user_id` for the identity map.
  Trait columns (a person's email, name, ...) are not copied into `properties`.

event_id = Segment's message `id`; event_at = `timestamp` (Segment's skew-corrected time, UTC).
UTMs come from `context_campaign_*`, else the page URL's query; click ids from
`context_campaign_<gclid|fbclid|...>` when a source sets them, else the URL. `properties` holds
the other columns, without warehouse bookkeeping (`uuid_ts`, `loaded_at`, `event_text`) and the
IP address (`context_ip`: personal data the pipeline does not keep).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .click_ids import CLICK_ID_TYPES, typed
from .errors import IngestError
from .result import IngestResult
from .site_event_fields import TEXT, TIMESTAMP, Mapping, text
from .site_events import FileGroup, load_site_events

__all__ = ["LANDING_DIR", "SOURCE", "TABLES", "load_segment_day"]

SOURCE = "segment"
LANDING_DIR = "segment"
TABLES = ("tracks", "pages", "identifies")

# Canonical utm column -> Segment's context.campaign column.
CAMPAIGN = {
    "utm_source": "context_campaign_source",
    "utm_medium": "context_campaign_medium",
    "utm_campaign": "context_campaign_name",
    "utm_content": "context_campaign_content",
    "utm_term": "context_campaign_term",
    "utm_id": "context_campaign_id",
}
CAMPAIGN_CLICK_IDS = {f"context_campaign_{kind}": kind for kind in CLICK_ID_TYPES}
# Columns every Segment table has (or may have) besides the context ones.
_COMMON = {
    "id": TEXT,
    "anonymous_id": TEXT,
    "user_id": TEXT,
    "timestamp": TIMESTAMP,
    "context_page_url": TEXT,
    "context_page_referrer": TEXT,
    "context_session_id": TEXT,
    **dict.fromkeys(CAMPAIGN.values(), TEXT),
    **dict.fromkeys(CAMPAIGN_CLICK_IDS, TEXT),
}
_BOOKKEEPING = frozenset({"uuid_ts", "loaded_at", "event_text"})
_PERSONAL = frozenset({"context_ip"})
_STANDARD = frozenset({"received_at", "sent_at", "original_timestamp", "channel", "type"})
_TABLE_FIELDS = {
    "tracks": {"event": TEXT},
    "pages": {"url": TEXT, "referrer": TEXT},
    "identifies": {},
}
_PAGE_STANDARD = frozenset({"path", "search", "title", "name", "category", "keywords"})


def _mapping(table: str) -> Mapping:
    fields = {**_COMMON, **_TABLE_FIELDS[table]}
    event_name = {"tracks": text("event"), "pages": "'page_view'", "identifies": "'identify'"}
    page_url = text("context_page_url")
    referrer = text("context_page_referrer")
    if table == "pages":
        page_url = f"coalesce({text('url')}, {page_url})"
        referrer = f"coalesce({text('referrer')}, {referrer})"
    return Mapping(
        label=f"Segment {table} table",
        fields=fields,
        timestamp_field="timestamp",
        required=("id", "timestamp", *(("event",) if table == "tracks" else ())),
        one_of=("anonymous_id", "user_id"),
        columns={
            "event_name": event_name[table],
            "anonymous_id": text("anonymous_id"),
            "user_id": text("user_id"),
            "session_id": text("context_session_id"),
            "page_url": page_url,
            "referrer": referrer,
        },
        utm={column: text(field) for column, field in CAMPAIGN.items()},
        click_fields=[(text(name), typed(kind)) for name, kind in CAMPAIGN_CLICK_IDS.items()],
        event_id=text("id"),
        not_properties=frozenset(fields) | _BOOKKEEPING | _PERSONAL,
        copy_unknown=table != "identifies",  # identify traits are personal data
        known=_BOOKKEEPING
        | _PERSONAL
        | _STANDARD
        | (_PAGE_STANDARD if table == "pages" else set()),
        known_prefixes=("context_",),
    )


MAPPINGS = {table: _mapping(table) for table in TABLES}


def table_of(path: Path) -> str:
    """The Segment table a file holds: its nearest folder named after one, else its name."""
    for folder in reversed(path.parent.parts):
        if folder.lower() in TABLES:
            return folder.lower()
    for table in TABLES:
        if path.name.lower().startswith(table):
            return table
    raise IngestError(
        f"{path}: not in a Segment table folder ({', '.join(TABLES)}) and not named after one"
    )


def load_segment_day(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest one export day's Segment table files into two temp tables named in the result.

    `timezone` (IANA) is the reporting timezone of `event_date`. Every file must sit in (or be
    named after) a tracks, pages or identifies table.
    """
    paths = sorted(Path(p) for p in files)
    by_table = {table: tuple(p for p in paths if table_of(p) == table) for table in TABLES}
    groups = [FileGroup(MAPPINGS[table], group) for table, group in by_table.items() if group]
    return load_site_events(con, SOURCE, groups, export_date, timezone, loaded_at)
