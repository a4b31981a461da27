"""The one exception type for bad input, and the one helper that keeps raw input out of errors.

DuckDB error messages quote the data they choke on ("Original Line: {...user_pseudo_id...}",
"Could not convert string '...'", "Input: {...}"). Any such message that reaches an exception,
a log line or Dagster's event log leaks personal data, so every adapter turns DuckDB errors into
`IngestError`s through `redacted` and raises them `from None` (Dagster records an exception's
cause chain too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

# Where DuckDB starts quoting input: everything after these markers is data.
_DATA_MARKERS = ("Original Line:", "Input:")
# Quoted strings and JSON objects/arrays inside a message: replaced whole.
_QUOTED = re.compile(r"""'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|\{.*\}?|\[.*\]?""", re.S)
_MAX_MESSAGE = 300


class IngestError(Exception):
    """Input that cannot be ingested. The message names the file and the line or column."""


def redacted(error: BaseException) -> str:
    """The error's kind and first line with every quoted value removed: safe to log.

    Only the first line is kept (DuckDB puts the offending line and the reader options on the
    following lines), cut at the first data marker, and quoted strings, objects and arrays are
    replaced by `<redacted>`.
    """
    text = str(error).strip()
    first = text.splitlines()[0] if text else ""
    for marker in _DATA_MARKERS:
        first = first.split(marker, 1)[0]
    first = _QUOTED.sub("<redacted>", first).strip()
    if len(first) > _MAX_MESSAGE:
        first = first[:_MAX_MESSAGE] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


@contextmanager
def duckdb_errors_redacted(where: str) -> Iterator[None]:
    """Re-raise any DuckDB error inside the block as an IngestError that quotes no input.

    `where` names what was being done (a file, a source and day); it must not hold data.
    """
    try:
        yield
    except duckdb.Error as error:
        raise IngestError(f"{where}: {redacted(error)}") from None
