"""Meta insights files -> one JSON record per insights row, with its line and any reason.

A file is read as numbered raw lines (lines.py), then split into records in SQL:

- Line-wise (NDJSON): every `.jsonl` / `.ndjson` file, and a `.json` file of several lines
  whose first line is a complete JSON value (NDJSON saved under `.json`). Each non-blank line is
  a response page (`{"data": [...], "paging": ...}`: one record per element of `data`), a single
  insights row (an object without `data`) or a list of rows. Every record of a line gets the
  line's physical number; `item` is its 1-based position in the line's `data`.
- Document: any other `.json` file is one JSON value spread over its lines (a pretty-printed
  saved page). Its records are numbered by their 1-based position in `data`: `source_line` is
  that index, not a physical line (pretty-printing makes physical lines meaningless).

Bad input becomes a record with a reason: an invalid JSON line (its line), an invalid JSON
document (one record for the whole file, no line: it is quarantined whole), a value that is not
an object or list, a `data` that is not a list, a Graph API error response saved as a page.
A document with lines that are not valid text is not parsed: lines.py's rejects name them.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .errors import IngestError
from .lines import MAX_RAW_CHARS
from .sql import literal

LINE_SUFFIXES = (".jsonl", ".ndjson")
DOCUMENT_SUFFIXES = (".json",)
SUFFIXES = LINE_SUFFIXES + DOCUMENT_SUFFIXES

RECORDS_COLUMNS = (
    "source_file varchar, source_line bigint, item bigint, record varchar, "
    "raw_record varchar, reason varchar"
)
_BLANK = "' ' || chr(9) || chr(13)"


def json_kind_sql(json_type: str) -> str:
    """SQL: JSON's own name (object, list, string, number, boolean, null) for a json_type()."""
    return (
        f"case {json_type} when 'OBJECT' then 'object' when 'ARRAY' then 'list' "
        "when 'VARCHAR' then 'string' when 'BOOLEAN' then 'boolean' when 'NULL' then 'null' "
        "else 'number' end"
    )


def json_kind(path: Path) -> str:
    """'lines' or 'document' by suffix (a trailing .gz ignored); IngestError otherwise."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    if kind in LINE_SUFFIXES:
        return "lines"
    if kind in DOCUMENT_SUFFIXES:
        return "document"
    raise IngestError(
        f"{path}: not a Meta insights file type (expected {', '.join(SUFFIXES)}, optionally .gz)"
    )


def split_records(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    rejects: str,
    records: str,
    kinds: dict[str, str],
) -> None:
    """Create `records` (RECORDS_COLUMNS) from the raw lines of the files in `kinds`."""
    files = " union all ".join(
        f"select {literal(name)} as source_file, {literal(kind == 'lines')} as line_wise"
        for name, kind in kinds.items()
    )
    con.execute(f"create temp table {records} ({RECORDS_COLUMNS})")
    if not kinds:
        return
    con.execute(
        f"""
        insert into {records}
        with files as ({files}),
        nonblank as (
            select l.source_file, l.source_line, l.line, f.line_wise
            from {lines} as l join files as f using (source_file)
            where nullif(trim(l.line, {_BLANK}), '') is not null
        ),
        modes as (
            select source_file,
                bool_or(line_wise) or (count(*) > 1 and json_valid(arg_min(line, source_line)))
                    as line_wise
            from nonblank
            group by source_file
        ),
        units as (
            select n.source_file, n.source_line, n.line as text, false as is_document
            from nonblank as n join modes as m using (source_file)
            where m.line_wise
            union all
            select n.source_file, null, string_agg(n.line, chr(10) order by n.source_line), true
            from nonblank as n join modes as m using (source_file)
            where not m.line_wise
                and n.source_file not in (select source_file from {rejects})
            group by n.source_file
        ),
        valid as (
            -- JSON functions only ever see valid text (NULL otherwise): DuckDB may hoist a
            -- repeated expression out of a CASE and run it on every row.
            select *, case when json_valid(text) then text end as doc
            from units
        ),
        shaped as (
            select *,
                json_type(doc) as kind,
                case when json_type(doc) = 'OBJECT' then json_type(doc, '$.data') end
                    as data_kind,
                case when json_type(doc) = 'OBJECT' then json_exists(doc, '$.error') end
                    as is_error
            from valid
        ),
        judged as (
            select *,
                case
                    when kind is null and is_document then
                        'invalid JSON document (truncated or malformed); the file is '
                        || 'quarantined whole (nothing loaded from it): re-deliver it'
                    when kind is null then 'invalid JSON (truncated or malformed line)'
                    when kind not in ('OBJECT', 'ARRAY')
                        then 'not a JSON object (found: ' || {json_kind_sql("kind")} || ')'
                    when is_error and data_kind is null then
                        'Graph API error response saved instead of data (code '
                        || coalesce(json_extract_string(doc, '$.error.code'), '?') || ': '
                        || coalesce(left(json_extract_string(doc, '$.error.message'), 200),
                            'no message')
                        || ')'
                    when data_kind is not null and data_kind <> 'ARRAY'
                        then 'response page whose data is not a list (found: '
                            || {json_kind_sql("data_kind")} || ')'
                end as reason
            from shaped
        ),
        bad_units as (
            select source_file, source_line, null::bigint as item, null as record,
                left(text, {MAX_RAW_CHARS}) as raw_record, reason
            from judged
            where reason is not null
        ),
        listed as (
            select source_file, source_line, is_document,
                case
                    when data_kind = 'ARRAY' then json_extract(doc, '$.data[*]')
                    when kind = 'ARRAY' then json_extract(doc, '$[*]')
                    else [doc]
                end as items
            from judged
            where reason is null
        ),
        good_units as (
            select source_file, source_line, is_document,
                unnest(range(1, len(items) + 1)) as item,
                unnest(items)::varchar as record
            from listed
        )
        select source_file,
            case when is_document then item else source_line end as source_line,
            item, record, left(record, {MAX_RAW_CHARS}) as raw_record,
            case when json_type(record) <> 'OBJECT'
                then 'insights row is not a JSON object (found: '
                    || {json_kind_sql("json_type(record)")} || ')'
            end as reason
        from good_units
        union all by name
        select * from bad_units
        """
    )
