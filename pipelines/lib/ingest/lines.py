"""Read text files as raw lines with their 1-based physical line numbers, entirely in DuckDB.

DuckDB's CSV reader with a single VARCHAR column, no quote/escape and a delimiter that cannot
occur in text streams large (and gzip) files in parallel while keeping file order, so
`row_number() over ()` over the scan is the line number. Empty lines come back as NULL rows
(kept, so numbering stays exact). DuckDB treats '\\n', '\\r\\n' and a lone '\\r' as line breaks;
a file mixing '\\r\\n' into '\\n' lines is numbered as if the '\\r' were a break of its own.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from .errors import IngestError
from .sql import literal

# Unit/record separators: control characters never valid unescaped in JSON or report text.
_NO_DELIMITER = "\x1f\x1e\x1d"
_MAX_LINE_BYTES = 64 * 1024 * 1024

LINES_COLUMNS = "source_file varchar, source_line bigint, line varchar"


def create_lines_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """An empty temp table for raw lines; `table` must be a code-generated name."""
    con.execute(f"create or replace temp table {table} ({LINES_COLUMNS})")


def append_lines(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, encoding: str = "utf-8"
) -> int:
    """Append every line of `path` (gzip by extension) to `table`; returns the line count."""
    if path.stat().st_size == 0:
        return 0  # DuckDB refuses to sniff an empty file; an empty file is zero lines.
    name = literal(str(path))  # quoted, not bound: see sql.literal
    try:
        inserted = con.execute(
            f"""
            insert into {table}
            select {name}, row_number() over (), line
            from read_csv(
                {name}, columns = {{'line': 'VARCHAR'}}, header = false, auto_detect = false,
                delim = {literal(_NO_DELIMITER)}, quote = '', escape = '', strict_mode = false,
                max_line_size = {_MAX_LINE_BYTES}, encoding = {literal(encoding)},
                compression = 'auto'
            )
            """
        )
    except duckdb.Error as exc:
        raise IngestError(f"{path}: cannot read as {encoding} text lines: {exc}") from exc
    row = inserted.fetchone()
    return int(row[0]) if row else 0
