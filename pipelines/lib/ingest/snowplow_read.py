"""Reading Snowplow files into one `fields` table: a row per event record with its physical
line, the mapped fields as text, and a reason when the record itself is malformed.

Three shapes, told apart by the file name:
- `.tsv[.gz]`: the enriched event TSV. No header, 131 tab-separated fields (snowplow_fields),
  one event a line (Enrich replaces tabs and newlines inside values). A line with another field
  count is quarantined; when it is the file's last line it is most likely a truncated write.
- `.csv[.gz]`: the warehouse table `atomic.events` exported with a header row of column names
  (any case, any order, shredded `contexts_*` columns ignored). RFC 4180 quoting; a quoted value
  may span lines (JSON contexts), so records are rebuilt from the raw lines by quote parity and
  keep the physical line they start on.
- `.parquet`: the same table as Parquet; rows are numbered from 1 in file order.

Everything is read through lines.py (undecodable lines, truncated .gz quarantined) or, for
Parquet, as JSON text per row, so the quarantine can always show the raw record.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .errors import IngestError, redacted
from .lines import LinesRead, append_lines
from .snowplow_fields import (
    ATOMIC_COLUMNS,
    ENRICHED_FIELDS,
    FIELD_COUNT,
    MAPPED_FIELDS,
    REQUIRED_COLUMNS,
)
from .sql import literal

TSV, CSV, PARQUET = "tsv", "csv", "parquet"
_KINDS = {".tsv": TSV, ".csv": CSV, ".parquet": PARQUET}

FIELDS_DDL = ", ".join(
    [
        "source_file varchar",
        "source_line bigint",
        "line_count bigint",  # physical lines of the record (CSV values may span lines)
        "reason varchar",
    ]
    + [f"{name} varchar" for name in MAPPED_FIELDS]
)


@dataclass(frozen=True)
class FileRead:
    """What one file gave: its lines (or the whole-file reject), shape and ignored columns."""

    read: LinesRead
    kind: str
    extra_columns: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())


def file_kind(path: Path) -> str:
    """tsv | csv | parquet from the name (`.gz` allowed on text files)."""
    suffixes = [s.lower() for s in path.suffixes]
    gz = bool(suffixes) and suffixes[-1] == ".gz"
    kind = _KINDS.get(
        suffixes[-2] if gz and len(suffixes) > 1 else suffixes[-1] if suffixes else ""
    )
    if kind is None or (gz and kind == PARQUET):
        raise IngestError(
            f"{path}: not a Snowplow file type (expected .tsv enriched events or .csv "
            "atomic.events, optionally .gz, or .parquet)"
        )
    return kind


def add_file(
    con: duckdb.DuckDBPyConnection, lines: str, rejects: str, fields: str, path: Path
) -> FileRead:
    """Append the file's raw lines to `lines` and its records to `fields` (FIELDS_DDL)."""
    if not path.exists():
        raise IngestError(f"{path}: file not found")
    kind = file_kind(path)
    if kind == PARQUET:
        read, columns = _append_parquet(con, lines, rejects, path)
    else:
        read = append_lines(con, lines, rejects, path)
        columns = None
    if read.whole_file_reason or read.lines == 0:
        return FileRead(read, kind)
    if kind == TSV:
        return FileRead(read, kind, warnings=_add_tsv(con, lines, fields, path))
    if kind == CSV:
        header_line, columns = _csv_header(con, lines, path)
    else:
        header_line = 0
    assert columns is not None
    extra = _check_columns(path, columns)
    if kind == CSV:
        _add_csv(con, lines, fields, path, header_line, columns)
    else:
        _add_parquet(con, lines, fields, path, columns)
    return FileRead(read, kind, extra_columns=extra)


def _check_columns(path: Path, columns: list[str]) -> tuple[str, ...]:
    """Fail on a missing required column; the columns the adapter ignores, for drift."""
    names = [c.lower() for c in columns]
    for name in REQUIRED_COLUMNS:
        if name not in names:
            raise IngestError(
                f"{path}: missing required column {name} (is this a Snowplow atomic.events export?)"
            )
    known = set(ATOMIC_COLUMNS) | set(ENRICHED_FIELDS)
    return tuple(sorted({n for n in names if n not in known}))


def _positions(columns: list[str]) -> dict[str, int]:
    """Mapped field -> 1-based position among `columns` (first match, case-insensitive)."""
    found: dict[str, int] = {}
    for index, name in enumerate(columns, start=1):
        found.setdefault(name.strip().lower(), index)
    return {name: found[name] for name in MAPPED_FIELDS if name in found}


def _select_fields(positions: dict[str, int], item: str) -> str:
    """`nullif(trim(item(i)), '') as name` for every mapped field; NULL for absent ones."""
    parts = []
    for name in MAPPED_FIELDS:
        if name in positions:
            value = item.format(positions[name])
            parts.append(f"nullif(trim({value}), '') as {name}")
        else:
            parts.append(f"null as {name}")
    return ",\n".join(parts)


def _add_tsv(
    con: duckdb.DuckDBPyConnection, lines: str, fields: str, path: Path
) -> tuple[str, ...]:
    """Enriched TSV lines -> fields. A header line of field names (not written by Enrich, but
    added by some exports) is skipped, not landed."""
    positions = {name: index for index, name in enumerate(ENRICHED_FIELDS, start=1)}
    mapped = _select_fields({n: positions[n] for n in MAPPED_FIELDS}, "f[{}]")
    con.execute(
        f"""
        insert into {fields}
        with split as (
            select source_file, source_line, string_split(line, chr(9)) as f
            from {lines}
            where source_file = {literal(str(path))}
                and nullif(trim(line, ' ' || chr(9) || chr(13)), '') is not null
        ),
        data as (
            select *, source_line = max(source_line) over () as is_last
            from split
            where not (source_line = (select min(source_line) from split)
                and f[1] = 'app_id' and f[7] = 'event_id')
        )
        select source_file, source_line, 1,
            case when len(f) <> {FIELD_COUNT} then
                'wrong field count: ' || len(f) || ' tab-separated fields, expected '
                || '{FIELD_COUNT} (enriched event TSV)'
                || case when is_last and len(f) < {FIELD_COUNT}
                    then ' - the last line of the file: truncated?' else '' end
            end,
            {mapped}
        from data
        """
    )
    row = con.execute(
        f"""
        select count(*), count(*) filter (where reason is null)
        from {fields} where source_file = {literal(str(path))}
        """
    ).fetchone()
    total, good = row if row else (0, 0)
    if total and not good:
        return (
            f"{path}: none of its {total} line(s) has the {FIELD_COUNT} fields of a Snowplow "
            "enriched event: all quarantined (another format or an older Enrich version?)",
        )
    return ()


def _csv_header(con: duckdb.DuckDBPyConnection, lines: str, path: Path) -> tuple[int, list[str]]:
    """The first non-blank line, split as CSV: the column names."""
    row = con.execute(
        f"""
        select source_line, line from {lines}
        where source_file = ? and nullif(trim(line), '') is not null
        order by source_line limit 1
        """,
        [str(path)],
    ).fetchone()
    if row is None:
        raise IngestError(f"{path}: no header row (is this a Snowplow atomic.events export?)")
    names = next(csv.reader([row[1].lstrip("\ufeff")]))
    return int(row[0]), [n.strip().lower() for n in names]


def _add_csv(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    fields: str,
    path: Path,
    header_line: int,
    columns: list[str],
) -> None:
    """Records rebuilt from lines by quote parity (a line continues the record while an odd
    number of quotes has been seen), then split into fields with RFC 4180 quoting."""
    mapped = _select_fields(_positions(columns), "f[{}]")
    pattern = ',("(?:[^"]|"")*"|[^,]*)'
    con.execute(
        f"""
        insert into {fields}
        with raw as (
            select source_file, source_line, coalesce(line, '') as line,
                length(coalesce(line, '')) - length(replace(coalesce(line, ''), '"', ''))
                    as quotes
            from {lines}
            where source_file = {literal(str(path))} and source_line > {header_line}
        ),
        parity as (
            select *,
                coalesce(sum(quotes) over (order by source_line
                    rows between unbounded preceding and 1 preceding), 0) % 2 = 1 as inside
            from raw
        ),
        grouped as (
            select *, sum(case when inside then 0 else 1 end) over (order by source_line) as rec
            from parity
        ),
        records as (
            select any_value(source_file) as source_file, min(source_line) as source_line,
                count(*) as line_count,
                string_agg(line, chr(10) order by source_line) as record,
                sum(quotes) % 2 = 1 as open_quote
            from grouped
            group by rec
        ),
        split as (
            select *,
                list_transform(
                    regexp_extract_all(',' || record, '{pattern}', 1),
                    lambda v: case when v like '"%' then replace(v[2:-2], '""', '"') else v end
                ) as f,
                source_line = max(source_line) over () as is_last
            from records
            where nullif(trim(record, ' ' || chr(9) || chr(13) || chr(10)), '') is not null
        )
        select source_file, source_line, line_count,
            case
                when open_quote then 'unterminated quoted value: the record starting here runs '
                    || 'to the end of the file (' || line_count || ' line(s)): truncated?'
                when len(f) <> {len(columns)} then
                    'wrong field count: ' || len(f) || ' fields, the header has {len(columns)}'
                    || case when is_last and len(f) < {len(columns)}
                        then ' - the last line of the file: truncated?' else '' end
            end,
            {mapped}
        from split
        """
    )


def _append_parquet(
    con: duckdb.DuckDBPyConnection, lines: str, rejects: str, path: Path
) -> tuple[LinesRead, list[str] | None]:
    """Parquet rows as JSON text lines numbered from 1; an unreadable file quarantined whole."""
    if path.stat().st_size == 0:
        return LinesRead(path, 0), None
    try:
        columns = [
            str(row[0])
            for row in con.execute(
                "select column_name from (describe select * from read_parquet(?))", [str(path)]
            ).fetchall()
        ]
        _check_columns(path, columns)
        inserted = con.execute(
            f"""
            insert into {lines}
            select ?, row_number() over (), to_json(p)::varchar
            from read_parquet(?) as p
            """,
            [str(path), str(path)],
        ).fetchone()
    except duckdb.Error as error:
        con.execute(f"delete from {lines} where source_file = ?", [str(path)])
        reason = (
            f"cannot read Parquet ({redacted(error)}); the file is quarantined whole "
            "(nothing loaded from it): re-deliver it"
        )
        con.execute(f"insert into {rejects} values (?, null, ?, null)", [str(path), reason])
        return LinesRead(path, 0, whole_file_reason=reason), None
    return LinesRead(path, int(inserted[0]) if inserted else 0), columns


def _add_parquet(
    con: duckdb.DuckDBPyConnection, lines: str, fields: str, path: Path, columns: list[str]
) -> None:
    """Mapped columns out of each row's JSON text, in one extraction per row."""
    positions = _positions(columns)
    paths = [f'$."{columns[i - 1]}"' for i in positions.values()]
    index = {name: k for k, name in enumerate(positions, start=1)}
    mapped = _select_fields(index, "j[{}]")
    con.execute(
        f"""
        insert into {fields}
        select source_file, source_line, 1, null, {mapped}
        from (
            select source_file, source_line,
                json_extract_string(line, {literal(paths)}) as j
            from {lines}
            where source_file = {literal(str(path))}
        )
        """
    )
