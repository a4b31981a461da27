"""DuckDB column types to PostgreSQL column types for published marts."""

from __future__ import annotations

import re

_SIMPLE: dict[str, str] = {
    "VARCHAR": "text",
    "TINYINT": "bigint",
    "SMALLINT": "bigint",
    "INTEGER": "bigint",
    "BIGINT": "bigint",
    "UTINYINT": "bigint",
    "USMALLINT": "bigint",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "HUGEINT": "numeric(39,0)",
    "UHUGEINT": "numeric(39,0)",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP_S": "timestamp",
    "TIMESTAMP_MS": "timestamp",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BOOLEAN": "boolean",
    "TIME": "time",
    "INTERVAL": "interval",
    "UUID": "uuid",
    "JSON": "jsonb",
}

# Types whose Arrow CSV rendering PostgreSQL would not parse: sent as DuckDB's text form instead.
SEND_AS_TEXT = frozenset({"INTERVAL", "UUID", "JSON"})

# How PostgreSQL's format_type() spells what we create, to detect a changed column type.
_CANONICAL = {
    "timestamp": "timestamp without time zone",
    "timestamptz": "timestamp with time zone",
    "time": "time without time zone",
}

_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def postgres_type(duckdb_type: str, column: str = "?") -> str:
    """The PostgreSQL type for a DuckDB type; ValueError for nested or binary types."""
    normalized = " ".join(duckdb_type.upper().split())
    if normalized in _SIMPLE:
        return _SIMPLE[normalized]
    match = _DECIMAL.fullmatch(normalized)
    if match:
        return f"numeric({match.group(1)},{match.group(2)})"
    raise ValueError(
        f"column {column!r} has DuckDB type {duckdb_type} which is not published to PostgreSQL; "
        "cast it in the mart (nested types to JSON, BLOB to hex VARCHAR)"
    )


def canonical_postgres_type(pg_type: str) -> str:
    """``pg_type`` as PostgreSQL's format_type() would print it."""
    return _CANONICAL.get(pg_type, pg_type)
