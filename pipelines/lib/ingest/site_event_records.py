"""Site-event files of any row format -> one JSON object per row, with its physical line.

Trackers without a nested export (Segment's warehouse tables, the generic event format) are
delivered as CSV with a header row, NDJSON or Parquet. Each is turned into rows of the shared
`records` table (RECORDS_DDL): the file, the 1-based physical line (Parquet: the row number),
the raw text, the row as a JSON object `j` (NULL when the row cannot be read) and `problem`,
the reason it cannot be read. One SQL mapping (site_event_fields.py) then serves every format,
so the same event delivered as CSV, NDJSON or Parquet gives the same canonical row.

CSV is RFC 4180 with one record per line (a quoted field may not hold a line break): the header
is line 1, values are text, an empty cell is NULL. A row with the wrong number of fields or an
unterminated quote is rejected with the field counts; on the last line of the file the reason
adds that it may be truncated. NDJSON lines must each be a JSON object. Blank lines are skipped
(not data). Lines that are not UTF-8 and truncated .gz files are rejected by lines.py.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from .errors import IngestError, redacted
from .lines import LinesRead, append_lines, create_lines_table
from .sql import literal, quote_literal, temp_name

CSV_SUFFIXES = (".csv",)
JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
ALL_SUFFIXES = CSV_SUFFIXES + JSON_SUFFIXES + PARQUET_SUFFIXES

RECORDS_DDL = "source_file varchar, source_line bigint, line varchar, j varchar, problem varchar"
_TRUNCATED = "case when is_last then ' (the last line of the file: truncated?)' else '' end"
_BLANK = "nullif(trim(line, ' ' || chr(9) || chr(13)), '') is null"


def create_records_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty temp table for records; `table` must be a code-generated name."""
    con.execute(f"create or replace temp table {table} ({RECORDS_DDL})")


def file_kind(path: Path) -> str:
    """'csv', 'json' or 'parquet' from the name (a trailing .gz allowed for text formats)."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    kind = (suffixes[:-1] if gz else suffixes)[-1:] or [""]
    if kind[0] in CSV_SUFFIXES:
        return "csv"
    if kind[0] in JSON_SUFFIXES:
        return "json"
    if kind[0] in PARQUET_SUFFIXES and not gz:
        return "parquet"
    raise IngestError(
        f"{path}: not a site-event file type (expected .csv, {', '.join(JSON_SUFFIXES)} "
        "optionally .gz, or .parquet)"
    )


def append_records(
    con: duckdb.DuckDBPyConnection, records: str, rejects: str, path: Path
) -> LinesRead:
    """Append the rows of one file to `records`; unreadable lines or files go to `rejects`."""
    if not path.exists():
        raise IngestError(f"{path}: file not found")
    kind = file_kind(path)
    if kind == "parquet":
        return _append_parquet(con, records, rejects, path)
    lines = temp_name("site_lines")
    create_lines_table(con, lines)
    try:
        read = append_lines(con, lines, rejects, path)
        if kind == "csv":
            _csv_records(con, lines, records, path)
        else:
            _json_records(con, lines, records)
    finally:
        con.execute(f"drop table if exists {lines}")
    return read


def _json_records(con: duckdb.DuckDBPyConnection, lines: str, records: str) -> None:
    con.execute(
        f"""
        insert into {records}
        select source_file, source_line, line,
            case when ok and is_object then line end,
            case
                when not ok then 'invalid JSON (truncated or malformed line)' || {_TRUNCATED}
                when not is_object then 'not a JSON object'
            end
        from (
            select *, json_valid(line) as ok,
                left(ltrim(line, ' ' || chr(9)), 1) = '{{' as is_object,
                source_line = max(source_line) over () as is_last
            from {lines}
            where not ({_BLANK})
        )
        """
    )


def _header(con: duckdb.DuckDBPyConnection, lines: str, path: Path) -> list[str]:
    row = con.execute(f"select line from {lines} where source_line = 1").fetchone()
    text = (row[0] or "") if row else ""
    names = next(csv.reader([text.lstrip("\ufeff").rstrip("\r")]), [])
    names = [name.strip() for name in names]
    if not any(names):
        return []
    blank = [str(i) for i, name in enumerate(names, 1) if not name]
    if blank:
        raise IngestError(f"{path}: CSV header has empty column name(s) at position {blank}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise IngestError(f"{path}: CSV header repeats column(s): {', '.join(repeated)}")
    return names


def _csv_records(con: duckdb.DuckDBPyConnection, lines: str, records: str, path: Path) -> None:
    """Split data lines (below the header) into fields in SQL and key them by the header."""
    names = _header(con, lines, path)
    if not names:
        return
    pattern = ',("(?:[^"]|"")*"|[^,]*)'
    pairs = ", ".join(
        f"{quote_literal(name)}, nullif(f[{index}], '')" for index, name in enumerate(names, 1)
    )
    expected = len(names)
    con.execute(
        f"""
        insert into {records}
        select source_file, source_line, line,
            case when problem is null then json_object({pairs})::varchar end, problem
        from (
            select *,
                case
                    when open_quote then 'unterminated quoted field' || {_TRUNCATED}
                    when len(f) <> {expected}
                        then 'expected {expected} fields (the header''s), found '
                            || len(f) || {_TRUNCATED}
                end as problem
            from (
                select source_file, source_line, line,
                    list_transform(
                        regexp_extract_all(',' || rtrim(line, chr(13)), {literal(pattern)}, 1),
                        v -> case when v like '"%' then replace(v[2:-2], '""', '"') else v end
                    ) as f,
                    (length(line) - length(replace(line, '"', ''))) % 2 = 1 as open_quote,
                    source_line = max(source_line) over () as is_last
                from {lines}
                where source_line > 1 and not ({_BLANK})
            )
        )
        """
    )


def _append_parquet(
    con: duckdb.DuckDBPyConnection, records: str, rejects: str, path: Path
) -> LinesRead:
    """Parquet rows as JSON objects numbered from 1 (the scan keeps file order); a file DuckDB
    cannot read (truncated: no footer; corrupt pages) is quarantined whole."""
    if path.stat().st_size == 0:
        return LinesRead(path, 0)
    try:
        row = con.execute(
            f"""
            insert into {records}
            select ?, row_number() over (), to_json(p)::varchar, to_json(p)::varchar, null
            from read_parquet(?) as p
            """,
            [str(path), str(path)],
        ).fetchone()
    except duckdb.Error as error:
        con.execute(f"delete from {records} where source_file = ?", [str(path)])
        reason = (
            f"cannot read Parquet ({redacted(error)}); the file is quarantined whole "
            "(nothing loaded from it): re-deliver it"
        )
        con.execute(f"insert into {rejects} values (?, null, ?, null)", [str(path), reason])
        return LinesRead(path, 0, whole_file_reason=reason)
    return LinesRead(path, int(row[0]) if row else 0)


def columns_by_file(con: duckdb.DuckDBPyConnection, records: str) -> dict[str, set[str]]:
    """The field names each file's readable rows carry (CSV: its header; JSON: any row's keys).

    Distinct key lists first (rows of one export share a few shapes), unioned in Python.
    """
    out: dict[str, set[str]] = {}
    rows = con.execute(
        f"select distinct source_file, json_keys(j) from {records} where j is not null"
    ).fetchall()
    for source_file, keys in rows:
        out.setdefault(source_file, set()).update(keys or ())
    return out
