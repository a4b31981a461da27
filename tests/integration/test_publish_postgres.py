"""Publishing marts to a real PostgreSQL server (MICROFUNNEL_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pytest
from psycopg import sql

from pipelines.lib.publish import MartSpec, PublishError, publish_postgres

pytestmark = pytest.mark.postgres

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
DAYS = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]
STAGES = MartSpec(
    "agg_funnel_stages_daily",
    "cohort_date",
    ("funnel_id", "cohort_date", "platform", "campaign_id", "stage_order"),
)
CAMPAIGNS = MartSpec(
    "agg_campaign_performance", "report_date", ("report_date", "platform", "campaign_id")
)
MARTS = [STAGES, CAMPAIGNS]


def build_source(path: Path, version: int = 1, days: list[date] = DAYS) -> Path:
    """Two marts, many rows per day (so a half-written day would be visible), every type."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    day_list = pa.table({"d": pa.array(days, pa.date32())})
    con.register("day_list", day_list)
    con.execute(
        f"""CREATE TABLE agg_funnel_stages_daily AS
        SELECT f.funnel_id, d.d AS cohort_date, 'google_ads' AS platform,
               'c' || lpad(c.i::VARCHAR, 4, '0') AS campaign_id,
               s.stage_order::INTEGER AS stage_order, 'stage ' || s.stage_order AS stage_name,
               (1000 + {version} * 10 + c.i - s.stage_order * 50)::BIGINT AS journeys_reached,
               (c.i / 3.0 + {version})::DOUBLE AS step_conversion_rate,
               CASE WHEN s.stage_order = 5 THEN NULL ELSE 31.5 * s.stage_order END
                   AS median_seconds_to_next_stage,
               (12.25 + c.i + {version})::DECIMAL(18, 2) AS spend,
               CASE WHEN c.i % 7 = 0 THEN '' ELSE 'note "' || c.i || '", ok' END AS note,
               TIMESTAMP '2024-03-01 10:00:00.123456' + INTERVAL (c.i) SECOND AS computed_at,
               TIMESTAMPTZ '2024-03-01 10:00:00+00' + INTERVAL (c.i) MINUTE AS loaded_at,
               c.i % 2 = 0 AS is_final
        FROM day_list d,
             (VALUES ('micro_commitment'), ('direct_ask')) f(funnel_id),
             range(300) c(i), range(1, 6) s(stage_order)"""
    )
    con.execute(
        f"""CREATE TABLE agg_campaign_performance AS
        SELECT d.d AS report_date, 'google_ads' AS platform,
               'c' || lpad(c.i::VARCHAR, 4, '0') AS campaign_id,
               CASE WHEN c.i = 0 THEN '<script>alert(1)</script>' ELSE 'Campaign ' || c.i END
                   AS campaign_name,
               (1000 * {version} + c.i)::BIGINT AS impressions, (c.i + 1)::INTEGER AS clicks,
               (5.5 * {version} + c.i)::DECIMAL(18, 2) AS spend, 'EUR' AS currency,
               (c.i + 1) / (1000.0 * {version} + c.i) AS ctr
        FROM day_list d, range(300) c(i)"""
    )
    con.close()
    return path


def source_rows(db: Path, table: str, day: date | None = None) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS db (READ_ONLY)")
    con.execute("SET TimeZone = 'UTC'")
    rows = con.execute(f"SELECT * FROM db.main.{table} ORDER BY ALL").fetchall()
    con.close()
    if day is None:
        return rows
    at = 1 if table == STAGES.table else 0
    return [r for r in rows if r[at] == day]


def all_rows(url: str, schema: str, table: str) -> list[tuple]:
    """Every row in a stable order (sorted in Python: avoids PostgreSQL collation differences)."""
    with psycopg.connect(url) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        ).fetchall()
    return sorted(rows, key=_sort_key)


def _sort_key(row: tuple) -> tuple:
    return tuple((v is None, v if v is not None else 0) for v in row)


@pytest.fixture(scope="module")
def pg_url() -> str:
    url = os.environ.get("MICROFUNNEL_TEST_POSTGRES_URL", DEFAULT_URL)
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL test server not reachable ({exc.__class__.__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message}; CI=true requires it")
        pytest.skip(message)
    return url


@pytest.fixture
def schema(pg_url: str) -> Iterator[str]:
    name = f"mf_test_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_published_rows_equal_the_duckdb_source(tmp_path: Path, pg_url: str, schema: str) -> None:
    source = build_source(tmp_path / "src.duckdb")
    result = publish_postgres(source, MARTS, pg_url, schema, None)
    for spec in MARTS:
        expected = sorted(source_rows(source, spec.table), key=_sort_key)
        assert all_rows(pg_url, schema, spec.table) == expected
        assert result.mart(spec.table).rows_written == len(expected)
    assert result.mart(STAGES.table).partitions_replaced == tuple(DAYS)


def test_tables_get_mapped_types_and_the_primary_key(
    tmp_path: Path, pg_url: str, schema: str
) -> None:
    publish_postgres(build_source(tmp_path / "src.duckdb"), MARTS, pg_url, schema, None)
    with psycopg.connect(pg_url) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                [schema, STAGES.table],
            ).fetchall()
        )
        key = conn.execute(
            "SELECT array_agg(a.attname ORDER BY k.ord) FROM pg_index i "
            "CROSS JOIN unnest(i.indkey) WITH ORDINALITY k(attnum, ord) "
            "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
            "WHERE i.indisprimary AND i.indrelid = %s::regclass",
            [f"{schema}.{STAGES.table}"],
        ).fetchone()
    assert types["funnel_id"] == "text"
    assert types["cohort_date"] == "date"
    assert types["stage_order"] == "bigint"
    assert types["journeys_reached"] == "bigint"
    assert types["step_conversion_rate"] == "double precision"
    assert types["spend"] == "numeric"
    assert types["computed_at"] == "timestamp without time zone"
    assert types["loaded_at"] == "timestamp with time zone"
    assert types["is_final"] == "boolean"
    assert key is not None and key[0] == list(STAGES.primary_key)


def test_publishing_twice_gives_identical_rows(tmp_path: Path, pg_url: str, schema: str) -> None:
    source = build_source(tmp_path / "src.duckdb")
    publish_postgres(source, MARTS, pg_url, schema, None)
    first = {spec.table: all_rows(pg_url, schema, spec.table) for spec in MARTS}
    publish_postgres(source, MARTS, pg_url, schema, DAYS)
    assert {spec.table: all_rows(pg_url, schema, spec.table) for spec in MARTS} == first


def test_replacing_one_day_leaves_other_days_untouched(
    tmp_path: Path, pg_url: str, schema: str
) -> None:
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    v2 = build_source(tmp_path / "v2.duckdb", version=2)
    publish_postgres(v1, MARTS, pg_url, schema, None)
    result = publish_postgres(v2, MARTS, pg_url, schema, [DAYS[1]])
    expected = sorted(
        source_rows(v1, STAGES.table, DAYS[0])
        + source_rows(v2, STAGES.table, DAYS[1])
        + source_rows(v1, STAGES.table, DAYS[2]),
        key=_sort_key,
    )
    assert all_rows(pg_url, schema, STAGES.table) == expected
    assert result.mart(STAGES.table).partitions_replaced == (DAYS[1],)
    assert not result.mart(STAGES.table).full_refresh


def test_concurrent_reader_sees_all_old_or_all_new_rows_of_a_day(
    tmp_path: Path, pg_url: str, schema: str
) -> None:
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    v2 = build_source(tmp_path / "v2.duckdb", version=2)
    publish_postgres(v1, MARTS, pg_url, schema, None)
    count_sql = sql.SQL(
        "SELECT count(*), sum(journeys_reached) FROM {}.{} WHERE cohort_date = %s"
    ).format(sql.Identifier(schema), sql.Identifier(STAGES.table))

    def day_state(conn: psycopg.Connection) -> tuple:
        row = conn.execute(count_sql, [DAYS[0]]).fetchone()
        assert row is not None
        return tuple(row)

    with psycopg.connect(pg_url, autocommit=True) as reader:
        old = day_state(reader)
        seen: list[tuple] = []
        stop = threading.Event()

        def poll() -> None:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                while not stop.is_set():
                    seen.append(day_state(conn))

        def before_commit(_: psycopg.Connection) -> None:
            # The old rows are deleted and the new ones copied, but not yet committed.
            assert day_state(reader) == old
            time.sleep(0.3)  # let the poller look at the open transaction a few times
            assert day_state(reader) == old

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            publish_postgres(v2, MARTS, pg_url, schema, [DAYS[0]], before_commit=before_commit)
            time.sleep(0.1)
        finally:
            stop.set()
            poller.join()
        new = day_state(reader)

    assert new != old
    assert new[0] == old[0]  # same number of rows, other values
    assert set(seen) <= {old, new}
    assert old in seen


def test_failed_publish_rolls_back_to_the_old_day(tmp_path: Path, pg_url: str, schema: str) -> None:
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    publish_postgres(v1, MARTS, pg_url, schema, None)
    before = all_rows(pg_url, schema, STAGES.table)

    def fail(_: psycopg.Connection) -> None:
        raise RuntimeError("injected failure before commit")

    v2 = build_source(tmp_path / "v2.duckdb", version=2)
    with pytest.raises(RuntimeError, match="injected"):
        publish_postgres(v2, MARTS, pg_url, schema, [DAYS[0]], before_commit=fail)
    assert all_rows(pg_url, schema, STAGES.table) == before


def test_a_new_source_column_is_added_and_every_day_rewritten(
    tmp_path: Path, pg_url: str, schema: str
) -> None:
    source = build_source(tmp_path / "src.duckdb")
    publish_postgres(source, MARTS, pg_url, schema, None)
    con = duckdb.connect(str(source))
    con.execute("ALTER TABLE agg_campaign_performance ADD COLUMN conversions BIGINT DEFAULT 3")
    con.close()
    result = publish_postgres(source, MARTS, pg_url, schema, [DAYS[0]])
    assert result.mart(CAMPAIGNS.table).full_refresh
    rows = all_rows(pg_url, schema, CAMPAIGNS.table)
    assert {r[-1] for r in rows} == {3}
    assert len(rows) == 300 * len(DAYS)


def test_unreachable_server_raises_after_retries_without_the_password(tmp_path: Path) -> None:
    source = build_source(tmp_path / "src.duckdb")
    url = f"postgresql://postgres:hunter2-secret@127.0.0.1:{closed_port()}/test"
    started = time.monotonic()
    with pytest.raises(PublishError) as info:
        publish_postgres(source, MARTS, url, "mf_never", None, retries=2, backoff_seconds=0.05)
    message = str(info.value)
    assert "hunter2-secret" not in message
    assert "127.0.0.1" in message and "/test" in message
    assert "3 attempts" in message
    assert time.monotonic() - started >= 0.05 + 0.1  # backoff doubled between attempts


def test_decimal_and_empty_strings_survive_the_copy(
    tmp_path: Path, pg_url: str, schema: str
) -> None:
    source = build_source(tmp_path / "src.duckdb")
    publish_postgres(source, [STAGES], pg_url, schema, None)
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            sql.SQL(
                "SELECT spend, note FROM {}.{} WHERE campaign_id = 'c0007' AND stage_order = 1 "
                "AND cohort_date = %s AND funnel_id = 'direct_ask'"
            ).format(sql.Identifier(schema), sql.Identifier(STAGES.table)),
            [DAYS[0]],
        ).fetchone()
    assert row == (Decimal("20.25"), "")
