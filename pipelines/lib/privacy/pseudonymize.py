"""Keyed pseudonyms for user ids and IP addresses, computed in DuckDB at ingest.

pseudonym(v) = sha256(key || '|' || sha256(key || '|' || v)) as 64 hex characters: the same
value and key give the same pseudonym on every run (idempotent re-runs, identity stitching and
joins keep working), and without the key a pseudonym cannot be recomputed from a guessed id.
The nested form is the HMAC idea without the byte-level padding: the outer keyed hash stops
length-extension of the inner one.

The key comes only from the environment (MICROFUNNEL_PSEUDONYMIZATION_KEY). It reaches DuckDB as
a bound parameter into a session variable that is reset afterwards; it never appears in SQL
text, so it cannot show up in a DuckDB error message, a log line or metadata. SQL reads it with
`getvariable(...)`: a projection, no join, so row order is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from ..ingest.result import IngestResult
from ..ingest.sql import temp_name
from ..settings import ENV_PSEUDONYMIZATION_KEY

MIN_KEY_LENGTH = 16
KEY_VARIABLE = "microfunnel_pseudonymization_key"
KEY_SQL = f"getvariable('{KEY_VARIABLE}')"
# Canonical columns holding a user id; every one is replaced by its pseudonym.
USER_ID_COLUMNS = ("user_key", "anonymous_id", "user_id")
# IP address columns, for sources that carry one (the GA4 BigQuery export does not).
IP_COLUMNS = ("ip_address", "client_ip", "ip")
# `session_id` is `<anonymous_id>.<session number>`: its id prefix is replaced.
SESSION_COLUMN = "session_id"
# Fields of a raw record (quarantine `raw_record`) whose values are replaced by pseudonyms.
RAW_ID_FIELDS = ("user_pseudo_id", "user_id", "anonymous_id", "user_key", "session_id", *IP_COLUMNS)
# A JSON value after `"field":` — a string (possibly cut off by a truncated line), a number, or
# an object or array (nested up to two levels; cut off: to the end of the line), so an id sent
# with the wrong JSON type (`"user_pseudo_id": {"id": "..."}`) is replaced whole too.
_NESTED = r"(?:[^{}\[\]]|\{[^{}]*\}|\[[^\[\]]*\])*"
_RAW_VALUE = (
    r'("(?:[^"\\]|\\.)*"?|-?[0-9][0-9.eE+-]*'
    rf"|\{{{_NESTED}\}}?|\[{_NESTED}\]?)"
)


class PseudonymizationKeyError(RuntimeError):
    """The key is missing or too short: ingestion must not write raw ids, so it stops."""


def require_key(key: str | None) -> str:
    """The key, or a clear error naming the variable (the key itself is never echoed)."""
    if not key:
        raise PseudonymizationKeyError(
            f"{ENV_PSEUDONYMIZATION_KEY} is not set: ingestion replaces user ids with a keyed "
            "hash and needs this secret key from the environment (e.g. "
            f"`export {ENV_PSEUDONYMIZATION_KEY}=$(openssl rand -hex 32)`; keep it: a new key "
            "gives every user a new pseudonym)"
        )
    if len(key) < MIN_KEY_LENGTH:
        raise PseudonymizationKeyError(
            f"{ENV_PSEUDONYMIZATION_KEY} is too short ({len(key)} characters; at least "
            f"{MIN_KEY_LENGTH} required)"
        )
    return key


@contextmanager
def pseudonymization_key(con: duckdb.DuckDBPyConnection, key: str | None) -> Iterator[None]:
    """The key in the connection's session variable for the length of the block."""
    con.execute(f"set variable {KEY_VARIABLE} = ?", [require_key(key)])
    try:
        yield
    finally:
        con.execute(f"reset variable {KEY_VARIABLE}")


def pseudonym_sql(value_sql: str, key_sql: str = KEY_SQL) -> str:
    """SQL for the pseudonym of a text expression (NULL stays NULL; '' is treated as NULL)."""
    inner = f"sha256({key_sql} || '|' || nullif({value_sql}::varchar, ''))"
    return f"sha256({key_sql} || '|' || {inner})"


def pseudonymize_table(
    con: duckdb.DuckDBPyConnection, table: str, prefix: str = "pseudonymized"
) -> str:
    """A new temp table: `table` with every id / IP column replaced; same columns, same order.

    Call inside `pseudonymization_key(con, key)`.
    """
    columns = [row[0] for row in con.execute(f"describe {table}").fetchall()]
    replaced = [
        f"{pseudonym_sql('t.' + c)} as {c}" for c in columns if c in USER_ID_COLUMNS + IP_COLUMNS
    ]
    if SESSION_COLUMN in columns:
        replaced.append(_session_sql(columns))
    if "raw_record" in columns:
        replaced.append(f"{redact_raw_sql('t.raw_record')} as raw_record")
    out = temp_name(prefix)
    select = f"t.* replace ({', '.join(replaced)})" if replaced else "t.*"
    con.execute(f"create temp table {out} as select {select} from {table} as t")
    return out


def _session_sql(columns: list[str]) -> str:
    """`<anonymous id>.<n>` -> `<pseudonym>.<n>`; a session id of another shape is hashed whole."""
    whole = pseudonym_sql("t.session_id")
    if "anonymous_id" not in columns:
        return f"{whole} as session_id"
    return (
        "case when t.session_id is null then null "
        "when t.anonymous_id is not null and starts_with(t.session_id, t.anonymous_id || '.') "
        f"then {pseudonym_sql('t.anonymous_id')} || "
        "substr(t.session_id, length(t.anonymous_id) + 1) "
        f"else {whole} end as session_id"
    )


def redact_raw_sql(raw_sql: str, key_sql: str = KEY_SQL) -> str:
    """SQL replacing the value of every id field of a raw JSON line with its pseudonym.

    Works on broken lines too (a truncated string value is replaced up to the end of the line):
    the quarantine keeps the line for diagnosis, but never the raw id. Each field's values are
    replaced with the pseudonym of its first value in the line.
    """
    sql = raw_sql
    for field in RAW_ID_FIELDS:
        pattern = f'"{field}"\\s*:\\s*{_RAW_VALUE}'
        value = f"trim(regexp_extract({raw_sql}, '{pattern}', 1), '\"')"
        replacement = f"'\"{field}\":\"' || coalesce({pseudonym_sql(value, key_sql)}, '') || '\"'"
        sql = f"regexp_replace({sql}, '{pattern}', {replacement}, 'g')"
    return sql


def pseudonymize_result(
    con: duckdb.DuckDBPyConnection, result: IngestResult, key: str | None
) -> IngestResult:
    """Replace ids in both temp tables of an ingestion result (the old tables are dropped)."""
    with pseudonymization_key(con, key):
        table = pseudonymize_table(con, result.table, "events_pseudonymized")
        quarantine = pseudonymize_table(con, result.quarantine_table, "quarantine_pseudonymized")
    result.drop(con)
    return dataclasses.replace(result, table=table, quarantine_table=quarantine)
