"""Read text files as raw lines with their 1-based physical line numbers, entirely in DuckDB.

DuckDB's CSV reader with a single VARCHAR column, no quote/escape and a delimiter that cannot
occur in text streams large (and gzip) files in parallel while keeping file order, so
`row_number() over ()` over the scan is the line number. Empty lines come back as NULL rows
(kept, so numbering stays exact). DuckDB treats '\\n', '\\r\\n' and a lone '\\r' as line breaks;
a file mixing '\\r\\n' into '\\n' lines is numbered as if the '\\r' were a break of its own.

Bad input never fails the whole file when only some lines are bad:

- Fast path: DuckDB reads the file strictly. Most files take only this path.
- Fallback, per file, when the strict read fails (a line that is not valid UTF-8, e.g. Latin-1
  bytes, or longer than the maximum line size): the file is read again skipping the bad lines,
  which DuckDB reports with their line numbers. They go to the rejects table with a reason and
  a safe copy of the line (invalid bytes replaced, cut to `MAX_RAW_CHARS`); the good lines keep
  their physical numbers.
- A gzip file is verified in a thread while DuckDB reads it (compression.py). A truncated or
  corrupt one is rejected whole: one rejects row with no line number, nothing loaded from it.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .compression import checked_in_background, is_gzip, named_gzip
from .errors import IngestError, redacted
from .sql import literal, temp_name

# Unit/record separators: control characters never valid unescaped in JSON or report text.
_NO_DELIMITER = "\x1f\x1e\x1d"
MAX_LINE_BYTES = 64 * 1024 * 1024
# DuckDB's CSV reader buffers 16 x max_line_size per read by default (1 GiB here): two lines'
# worth holds any line and keeps a day's read within a small memory limit (and is faster).
READ_BUFFER_BYTES = 2 * MAX_LINE_BYTES
# A rejected line is kept for diagnosis up to this many characters.
MAX_RAW_CHARS = 64 * 1024

LINES_COLUMNS = "source_file varchar, source_line bigint, line varchar"
# Lines (or whole files: source_line NULL) that could not be read, with the reason.
REJECTS_COLUMNS = "source_file varchar, source_line bigint, reason varchar, raw_record varchar"

_REJECT_REASONS = {
    "INVALID ENCODING": "line is not valid {encoding} (undecodable bytes, e.g. Latin-1 text)",
    "LINE SIZE OVER MAXIMUM": "line longer than the maximum of {max_bytes:,} bytes",
}


@dataclass(frozen=True)
class LinesRead:
    """What one file gave: lines appended, lines rejected, or the reason it was rejected whole."""

    path: Path
    lines: int
    rejected_lines: int = 0
    whole_file_reason: str | None = None


def create_lines_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty temp table for raw lines; `table` must be a code-generated name."""
    con.execute(f"create or replace temp table {table} ({LINES_COLUMNS})")


def create_rejects_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty temp table for unreadable lines and files; a code-generated name."""
    con.execute(f"create or replace temp table {table} ({REJECTS_COLUMNS})")


def append_lines(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rejects: str,
    path: Path,
    encoding: str = "utf-8",
) -> LinesRead:
    """Append every readable line of `path` to `table`, unreadable ones to `rejects`."""
    if path.stat().st_size == 0:
        return LinesRead(path, 0)  # DuckDB refuses to sniff an empty file: zero lines.
    gzipped = is_gzip(path)
    if named_gzip(path) and not gzipped:
        return _reject_file(con, rejects, path, "named .gz but not gzip data")
    with checked_in_background(path, gzipped) as verdict:  # while DuckDB reads the file
        try:
            count, failure = _read(con, table, path, encoding, gzipped), None
        except duckdb.Error as error:
            count, failure = 0, error
        problem = verdict.result()
    if problem:
        con.execute(f"delete from {table} where source_file = ?", [str(path)])
        return _reject_file(con, rejects, path, problem)
    if failure is None:
        return LinesRead(path, count)
    return _read_skipping_bad_lines(con, table, rejects, path, encoding, gzipped)


def leading_bytes(path: Path, size: int) -> bytes:
    """The first `size` bytes of the file's content (decompressed when gzip); b'' if unreadable."""
    try:
        if is_gzip(path):
            with gzip.open(path, "rb") as handle:
                return handle.read(size)
        with path.open("rb") as handle:
            return handle.read(size)
    except (OSError, EOFError, zlib.error):
        return b""


def _scan(path: Path, encoding: str, gzipped: bool, extra: str = "") -> str:
    name = literal(str(path))  # quoted, not bound: see sql.literal
    return f"""
        read_csv(
            {name}, columns = {{'line': 'VARCHAR'}}, header = false, auto_detect = false,
            delim = {literal(_NO_DELIMITER)}, quote = '', escape = '', strict_mode = false,
            max_line_size = {MAX_LINE_BYTES}, buffer_size = {READ_BUFFER_BYTES},
            encoding = {literal(encoding)},
            compression = {literal("gzip" if gzipped else "none")}{extra}
        )"""


def _read(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, encoding: str, gzipped: bool
) -> int:
    inserted = con.execute(
        f"""
        insert into {table}
        select {literal(str(path))}, row_number() over (), line
        from {_scan(path, encoding, gzipped)}
        """
    )
    row = inserted.fetchone()
    return int(row[0]) if row else 0


def _read_skipping_bad_lines(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rejects: str,
    path: Path,
    encoding: str,
    gzipped: bool,
) -> LinesRead:
    """The fallback: DuckDB skips and reports bad lines; good lines get their physical number.

    Good line k is the k-th line number that was not rejected (a rejected line still counts).
    """
    scan_table, errors_table = temp_name("rejects_scan"), temp_name("rejects_errors")
    good = temp_name("good_lines")
    options = (
        f", ignore_errors = true, store_rejects = true, "
        f"rejects_scan = {literal(scan_table)}, rejects_table = {literal(errors_table)}"
    )
    source = literal(str(path))
    reasons = " ".join(
        f"when {literal(kind)} "
        f"then {literal(text.format(encoding=encoding.upper(), max_bytes=MAX_LINE_BYTES))}"
        for kind, text in _REJECT_REASONS.items()
    )
    try:
        con.execute(
            f"create temp table {good} as select row_number() over () as k, line "
            f"from {_scan(path, encoding, gzipped, options)}"
        )
        con.execute(
            f"""
            insert into {rejects}
            select {source}, line, any_value(reason), any_value(raw_record)
            from (
                select line::bigint as line,
                    case error_type::varchar {reasons}
                        else 'unreadable line (' || lower(error_type::varchar) || ')' end
                        as reason,
                    left(csv_line, {MAX_RAW_CHARS}) as raw_record
                from {errors_table}
            )
            group by line
            """
        )
        inserted = con.execute(
            f"""
            insert into {table}
            with bad as (
                select source_line from {rejects} where source_file = {source}
            ),
            total as (
                select (select count(*) from {good}) + (select count(*) from bad) as lines
            ),
            numbered as (
                select number as source_line, row_number() over (order by number) as k
                from total, range(1, total.lines + 1) as r(number)
                where number not in (select source_line from bad)
            )
            select {source}, numbered.source_line, {good}.line
            from {good} join numbered using (k)
            """
        ).fetchone()
        rejected = con.execute(
            f"select count(*) from {rejects} where source_file = {source}"
        ).fetchone()
    except duckdb.Error as error:
        message = f"{path}: cannot read as {encoding} text lines: {redacted(error)}"
        raise IngestError(message) from None
    finally:
        for name in (good, scan_table, errors_table):
            con.execute(f"drop table if exists {name}")
    return LinesRead(path, int(inserted[0]) if inserted else 0, int(rejected[0]) if rejected else 0)


def _reject_file(
    con: duckdb.DuckDBPyConnection, rejects: str, path: Path, reason: str
) -> LinesRead:
    whole = f"{reason}; the file is quarantined whole (nothing loaded from it): re-deliver it"
    con.execute(f"insert into {rejects} values (?, null, ?, null)", [str(path), whole])
    return LinesRead(path, 0, whole_file_reason=whole)
