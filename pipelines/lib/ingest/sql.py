"""Small SQL helpers shared by the adapters. Every identifier they emit is a code constant."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import duckdb

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}\Z")


def quote_literal(text: str) -> str:
    """A SQL string literal; for places where DuckDB does not accept a bound parameter."""
    return "'" + text.replace("'", "''") + "'"


def literal(value: str | int | float | date | datetime | list[str] | None) -> str:
    """A typed SQL literal. Used instead of bound parameters: DuckDB plans prepared
    statements with parameters in table functions (read_csv) several times slower.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"timestamp {quote_literal(value.isoformat(sep=' '))}"
    if isinstance(value, date):
        return f"date {quote_literal(value.isoformat())}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    return quote_literal(str(value))


def temp_name(prefix: str) -> str:
    """A fresh temp table name: a code-constant prefix plus a random suffix."""
    if not _IDENTIFIER.match(prefix):
        raise ValueError(f"not a safe identifier prefix: {prefix!r}")
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def url_param(url_sql: str, name: str) -> str:
    """SQL for one decoded query-string parameter of a URL expression, NULL when absent/empty.

    `name` must be a code constant ([a-z_]+); '+' means space in query strings.
    """
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a safe parameter name: {name!r}")
    raw = f"regexp_extract({url_sql}, '[?&#]{name}=([^&#]*)', 1)"
    return f"nullif(url_decode(replace({raw}, '+', ' ')), '')"


def use_utc(con: duckdb.DuckDBPyConnection) -> None:
    """Timestamps are stored naive-UTC; casts to timestamptz must not pick up the host zone."""
    con.execute("set TimeZone = 'UTC'")
