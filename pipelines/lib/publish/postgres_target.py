"""Publish marts to PostgreSQL: one transaction per publish, rows streamed with COPY.

Per publish, in one transaction: take an advisory lock (one publisher per schema), create the
schema and tables if missing, delete the given days (all rows of a whole-table mart, see
``MartSpec``) and COPY the new rows in. PostgreSQL's MVCC
gives every reader the old days or the new days, never a mix. DELETE is used rather than TRUNCATE
even for a full publish, because TRUNCATE would block readers and is not MVCC-safe.

Rows leave DuckDB as Arrow record batches, are rendered to CSV by Arrow (C++) and are written to
``COPY ... FROM STDIN (FORMAT csv)``: no per-row Python work. Arrow always quotes strings and
leaves NULL unquoted, which is exactly how PostgreSQL's CSV format tells '' from NULL.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pyarrow.csv as pa_csv
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from pipelines.lib.duckdb_memory import DuckDBMemory
from pipelines.lib.publish.pg_types import SEND_AS_TEXT, canonical_postgres_type, postgres_type
from pipelines.lib.publish.result import MartPublishResult, PublishError, PublishResult
from pipelines.lib.publish.source import (
    SourceColumn,
    attach_source,
    check_source_rows,
    connect_memory,
    normalize_partitions,
    partition_filter,
    source_columns,
    source_days,
    source_ref,
)
from pipelines.lib.publish.spec import MartSpec, quote_ident, validate_identifier
from pipelines.lib.publish.urls import describe_target, redact_url, scrub

log = logging.getLogger(__name__)

BATCH_ROWS = 100_000
CONNECT_TIMEOUT_SECONDS = 10
_CSV_OPTIONS = pa_csv.WriteOptions(include_header=False)

BeforeCommit = Callable[[psycopg.Connection], None]


def publish_postgres(
    source_db: Path,
    marts: Sequence[MartSpec],
    url: str,
    schema: str,
    partitions: Sequence[date] | None,
    *,
    retries: int = 3,
    backoff_seconds: float = 1.0,
    before_commit: BeforeCommit | None = None,
    memory: DuckDBMemory | None = None,
) -> PublishResult:
    """Replace ``partitions`` (every day when None) of each mart in ``schema`` at ``url``.

    Connection failures (``psycopg.OperationalError``) retry the whole transaction up to
    ``retries`` more times, waiting ``backoff_seconds * 2**n``; the publish is idempotent, so a
    retry after an unknown commit outcome is safe. ``before_commit`` runs inside the open
    transaction just before COMMIT (tests use it to look from another connection).
    """
    source_db = Path(source_db)
    validate_identifier(schema, "schema name")
    days = normalize_partitions(partitions)
    if len({m.table for m in marts}) != len(marts):
        raise ValueError("a mart is listed twice")
    if retries < 0 or backoff_seconds < 0:
        raise ValueError("retries and backoff_seconds must not be negative")
    target = describe_target(url, schema)
    conninfo = _conninfo(url)

    duck = connect_memory(memory)
    try:
        attach_source(duck, source_db, marts)
        columns = {spec.table: source_columns(duck, spec) for spec in marts}
        for spec in marts:
            check_source_rows(duck, spec, days)
            for column in columns[spec.table]:
                postgres_type(column.duckdb_type, f"{spec.table}.{column.name}")

        attempts = retries + 1
        for attempt in range(1, attempts + 1):
            try:
                results = _publish_once(duck, conninfo, schema, marts, columns, days, before_commit)
                return PublishResult(kind="postgres", target=target, marts=tuple(results))
            except psycopg.OperationalError as exc:
                reason = scrub(str(exc).strip(), url)
                if attempt == attempts:
                    raise PublishError(
                        f"publish to {target} failed after {attempts} attempts "
                        f"(connection error): {reason}"
                    ) from None
                wait = backoff_seconds * 2 ** (attempt - 1)
                log.warning(
                    "publish to %s: attempt %d/%d failed (%s); retrying in %.1fs",
                    target,
                    attempt,
                    attempts,
                    reason,
                    wait,
                )
                time.sleep(wait)
            except psycopg.Error as exc:
                # Not a connection problem (bad data, permissions): retrying would not help.
                raise PublishError(f"publish to {target} failed: {scrub(str(exc), url)}") from None
    except duckdb.Error as exc:
        raise PublishError(f"publish to {target} failed reading {source_db}: {exc}") from exc
    finally:
        duck.close()
    raise AssertionError("unreachable")  # pragma: no cover


def _conninfo(url: str) -> str:
    """`url` plus the application name, and a connect timeout unless the URL sets one."""
    try:
        given = conninfo_to_dict(url)
    except psycopg.Error:
        # The driver's message may quote the URL; ours never does.
        raise PublishError(f"invalid PostgreSQL URL {redact_url(url)}") from None
    kwargs: dict[str, str | int] = {"application_name": "microfunnel-publish"}
    if "connect_timeout" not in given:
        kwargs["connect_timeout"] = CONNECT_TIMEOUT_SECONDS  # fail (and retry) instead of hanging
    return make_conninfo(url, **kwargs)


def _publish_once(
    duck: duckdb.DuckDBPyConnection,
    conninfo: str,
    schema: str,
    marts: Sequence[MartSpec],
    columns: dict[str, list[SourceColumn]],
    days: list[date] | None,
    before_commit: BeforeCommit | None,
) -> list[MartPublishResult]:
    # autocommit: conn.transaction() then issues an explicit BEGIN ... COMMIT.
    with (
        psycopg.connect(conninfo, autocommit=True) as conn,
        conn.transaction(),
    ):
        # One publisher per schema at a time; released at commit or rollback.
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"microfunnel:{schema}"])
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        results = []
        for spec in marts:
            full = (
                _ensure_table(conn, schema, spec, columns[spec.table])
                or days is None
                or spec.is_whole_table
            )
            results.append(_replace(conn, duck, schema, spec, columns[spec.table], days, full))
        if before_commit is not None:
            before_commit(conn)
    return results


def _table(schema: str, spec: MartSpec) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(spec.table))


def _ensure_table(
    conn: psycopg.Connection, schema: str, spec: MartSpec, columns: list[SourceColumn]
) -> bool:
    """Create the table or add new source columns; True when every day must be rewritten."""
    existing: dict[str, str] = dict(
        conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped",
            [schema, spec.table],
        ).fetchall()
    )
    wanted = {c.name: postgres_type(c.duckdb_type, f"{spec.table}.{c.name}") for c in columns}
    if not existing:
        column_defs = [
            sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(pg_type))
            for name, pg_type in wanted.items()
        ]
        key = sql.SQL(", ").join(sql.Identifier(c) for c in spec.primary_key)
        conn.execute(
            sql.SQL("CREATE TABLE {} ({}, {} ({}))").format(
                _table(schema, spec),
                sql.SQL(", ").join(column_defs),
                _key_constraint(conn, spec),
                key,
            )
        )
        if spec.partition_column is not None:
            conn.execute(
                sql.SQL("CREATE INDEX ON {} ({})").format(
                    _table(schema, spec), sql.Identifier(spec.partition_column)
                )
            )
        return True
    extra = sorted(set(existing) - set(wanted))
    if extra:
        raise PublishError(
            f"{schema}.{spec.table} has columns the source no longer has: {extra}; "
            "drop them (or the table) before publishing"
        )
    for name, pg_type in wanted.items():
        if name in existing and existing[name] != canonical_postgres_type(pg_type):
            raise PublishError(
                f"{schema}.{spec.table}.{name} is {existing[name]} but the source now needs "
                f"{pg_type}; migrate or drop the table before publishing"
            )
    added = [name for name in wanted if name not in existing]
    for name in added:
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                _table(schema, spec), sql.Identifier(name), sql.SQL(wanted[name])
            )
        )
    # Older days have no values for new columns: rewrite them all from the source.
    return bool(added)


def _key_constraint(conn: psycopg.Connection, spec: MartSpec) -> sql.SQL:
    """PRIMARY KEY for day-partitioned marts. Whole-table marts may have a null in their key
    (e.g. the all-cohorts row of a comparison), which a primary key refuses: they get a unique
    constraint where nulls are equal (PostgreSQL 15+), or a plain one on older servers."""
    if not spec.is_whole_table:
        return sql.SQL("PRIMARY KEY")
    if conn.info.server_version >= 150000:
        return sql.SQL("UNIQUE NULLS NOT DISTINCT")
    return sql.SQL("UNIQUE")


def _replace(
    conn: psycopg.Connection,
    duck: duckdb.DuckDBPyConnection,
    schema: str,
    spec: MartSpec,
    columns: list[SourceColumn],
    days: list[date] | None,
    full: bool,
) -> MartPublishResult:
    table = _table(schema, spec)
    if full or spec.partition_column is None:  # None: a whole-table mart, always full
        conn.execute(sql.SQL("DELETE FROM {}").format(table))
        replaced = source_days(duck, spec, None)
        where, params = partition_filter(spec, None)
    else:
        conn.execute(
            sql.SQL("DELETE FROM {} WHERE {} = ANY(%s)").format(
                table, sql.Identifier(spec.partition_column)
            ),
            [days],
        )
        replaced = list(days or [])
        where, params = partition_filter(spec, days)

    names = sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(table, names)
    rows = 0
    reader = duck.execute(_select(spec, columns, where), params).to_arrow_reader(BATCH_ROWS)
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, _CSV_OPTIONS)
            copy.write(buffer.getbuffer())
            rows += batch.num_rows
    return MartPublishResult(
        table=spec.table, rows_written=rows, partitions_replaced=tuple(replaced), full_refresh=full
    )


def _select(spec: MartSpec, columns: list[SourceColumn], where: str) -> str:
    exprs = []
    for column in columns:
        name = quote_ident(column.name)
        if column.duckdb_type.upper() in SEND_AS_TEXT:
            exprs.append(f"CAST({name} AS VARCHAR) AS {name}")
        else:
            exprs.append(name)
    return f"SELECT {', '.join(exprs)} FROM {source_ref(spec)} {where} ORDER BY {spec.quoted_key}"
