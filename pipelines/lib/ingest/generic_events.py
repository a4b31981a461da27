"""The generic event format (docs/event_format.md) -> canonical `events` rows plus quarantine.

For every tracker without an adapter of its own: one event per row, CSV with a header row or
NDJSON (Parquet with the same columns also reads), columns named like the canonical `events`
table. Columns not in the format go to `properties`. Files sit under `<landing>/events/` with
the export day (YYYYMMDD or YYYY-MM-DD) in the file name.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .click_ids import CLICK_ID_TYPES
from .result import IngestResult
from .site_event_fields import INTEGER, NUMBER, TEXT, TIMESTAMP, Mapping, text
from .site_events import UTM_COLUMNS, FileGroup, load_site_events

__all__ = ["FIELDS", "LANDING_DIR", "SOURCE", "load_generic_events_day"]

SOURCE = "generic_events"
LANDING_DIR = "events"

FIELDS: dict[str, str] = {
    "event_id": TEXT,
    "event_name": TEXT,
    "event_at": TIMESTAMP,
    "anonymous_id": TEXT,
    "user_id": TEXT,
    "session_id": TEXT,
    "page_url": TEXT,
    "referrer": TEXT,
    **dict.fromkeys(UTM_COLUMNS, TEXT),
    "click_id": TEXT,
    "click_id_type": TEXT,
    "engagement_time_ms": INTEGER,
    "value": NUMBER,
    "currency": TEXT,
}

_TYPES = ", ".join(f"'{t}'" for t in CLICK_ID_TYPES)
_CLICK_TYPE = f"lower({text('click_id_type')})"
MAPPING = Mapping(
    label="generic event format",
    fields=FIELDS,
    timestamp_field="event_at",
    required=("event_name", "event_at"),
    one_of=("anonymous_id", "user_id"),
    columns={
        "event_name": text("event_name"),
        "anonymous_id": text("anonymous_id"),
        "user_id": text("user_id"),
        "session_id": text("session_id"),
        "page_url": text("page_url"),
        "referrer": text("referrer"),
        "engagement_time_ms": f"try_cast(try_cast({text('engagement_time_ms')} as double) "
        "as bigint)",
        "value": f"try_cast({text('value')} as double)",
        "currency": f"upper({text('currency')})",
    },
    utm={name: text(name) for name in UTM_COLUMNS},
    click_fields=[(text("click_id"), _CLICK_TYPE)],
    event_id=text("event_id"),  # NULL -> derived from the content (coalesced below)
    not_properties=frozenset(FIELDS),
    epoch_ms=True,
    known_prefixes=("",),  # any other column is a documented property, not drift
    checks=(
        (
            f"{text('click_id')} is not null and {text('click_id_type')} is null",
            "'missing required field: click_id_type (click_id is given)'",
        ),
        (
            f"{text('click_id_type')} is not null and {_CLICK_TYPE} not in ({_TYPES})",
            f"'unknown click_id_type: ' || left({text('click_id_type')}, 50) || "
            f"' (known: {', '.join(CLICK_ID_TYPES)})'",
        ),
    ),
)


def load_generic_events_day(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest one export day's generic event files into two temp tables named in the result.

    `timezone` (IANA) is the reporting timezone of `event_date`. A row without `event_id` gets
    one derived from its content, so a re-delivered copy carries the same id.
    """
    group = FileGroup(MAPPING, tuple(sorted(Path(p) for p in files)))
    return load_site_events(con, SOURCE, [group], export_date, timezone, loaded_at)
