"""Publishing marts to the reporting DuckDB file and Parquet folders."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.lib.publish import (
    PINNED_STORAGE_VERSION,
    MartSpec,
    PublishError,
    duckdb_target,
    postgres_type,
    publish_duckdb,
    publish_parquet,
    publish_postgres,
    redact_url,
)
from tests.mart_tables import create_aggregate_marts

DAYS = [date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)]
STAGES = {
    "micro_commitment": ["hook", "first_action", "engagement", "reinforcement", "conversion"],
    "direct_ask": ["hook", "conversion"],
}
CAMPAIGNS = [("google_ads", "c1", "Spring quiz"), ("google_ads", "c2", "<script>alert(1)</script>")]

MARTS = [
    MartSpec("fct_funnel_journeys", "cohort_date", ("funnel_id", "journey_id")),
    MartSpec(
        "agg_funnel_stages_daily",
        "cohort_date",
        ("funnel_id", "cohort_date", "platform", "campaign_id", "stage_order"),
    ),
    MartSpec("agg_campaign_performance", "report_date", ("report_date", "platform", "campaign_id")),
]


def build_source(path: Path, version: int = 1, days: list[date] = DAYS) -> Path:
    """A transformation DuckDB file with the three marts; ``version`` changes every value."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    con.execute(
        """CREATE TABLE fct_funnel_journeys (funnel_id VARCHAR, journey_id VARCHAR,
        user_key VARCHAR, platform VARCHAR, campaign_id VARCHAR, cohort_date DATE,
        started_at TIMESTAMP, furthest_stage INTEGER, is_converted BOOLEAN,
        seconds_to_convert DOUBLE, intent_segment VARCHAR, is_final BOOLEAN)"""
    )
    create_aggregate_marts(con)
    rows: dict[str, list[list[object]]] = {
        "agg_funnel_stages_daily": [],
        "fct_funnel_journeys": [],
        "agg_campaign_performance": [],
    }
    for day_index, day in enumerate(days):
        for camp_index, (platform, campaign_id, name) in enumerate(CAMPAIGNS):
            spend = Decimal(f"{50 + 10 * version + day_index + camp_index}.25")
            for funnel_id, stages in STAGES.items():
                reached = [
                    max(1, (40 + 5 * version + 3 * day_index + camp_index) >> i)
                    for i in range(len(stages))
                ]
                for order, stage in enumerate(stages, start=1):
                    here = reached[order - 1]
                    nxt = reached[order] if order < len(stages) else 0
                    final = order == len(stages)
                    rows["agg_funnel_stages_daily"].append(
                        [
                            funnel_id,
                            day,
                            platform,
                            campaign_id,
                            order,
                            stage,
                            here,
                            here - 1,
                            nxt,
                            None if final else nxt / here,
                            here / reached[0],
                            here - nxt,
                            None if final else 30.0 * order + version,
                            None if final else 90.0 * order,
                            12.5 * order,
                            spend,
                            float(spend) / here,
                            day_index < 2,
                            0,
                            1,
                        ],
                    )
                for j in range(reached[0]):
                    furthest = sum(1 for r in reached if r > j)
                    converted = furthest == len(stages)
                    rows["fct_funnel_journeys"].append(
                        [
                            funnel_id,
                            f"{funnel_id}-{day}-{campaign_id}-{j}",
                            f"u{j}",
                            platform,
                            campaign_id,
                            day,
                            datetime.combine(day, datetime.min.time()) + timedelta(minutes=j),
                            furthest,
                            converted,
                            600.0 + version if converted else None,
                            ["early", "mid", "late"][j % 3],
                            True,
                        ],
                    )
            impressions = 1000 * (version + day_index + 1)
            clicks = 40 + version + day_index
            rows["agg_campaign_performance"].append(
                [
                    day,
                    platform,
                    campaign_id,
                    name,
                    impressions,
                    clicks,
                    spend,
                    "EUR",
                    clicks / impressions,
                    float(spend) / clicks,
                    clicks - 2,
                    3 + version,
                    float(spend) / (3 + version),
                    4.0 + version,
                    3 + version,
                ],
            )
    for table, values in rows.items():
        # Column-wise Arrow insert: thousands of single-row INSERTs would take seconds.
        batch = pa.table({f"c{i}": list(col) for i, col in enumerate(zip(*values, strict=True))})
        con.register("batch", batch)
        con.execute(f"INSERT INTO {table} SELECT * FROM batch")
        con.unregister("batch")
    con.close()
    return path


def read_table(db: Path, table: str) -> list[tuple]:
    """Rows of ``table`` through a fresh instance (bypasses DuckDB's per-process file cache)."""
    con = duckdb.connect()
    try:
        con.execute(f"ATTACH '{db}' AS db (READ_ONLY)")
        return con.execute(f"SELECT * FROM db.main.{table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def rows_for_day(rows: list[tuple], db: Path, table: str, column: str, day: date) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS db (READ_ONLY)")
    names = [r[0] for r in con.execute(f"DESCRIBE db.main.{table}").fetchall()]
    con.close()
    at = names.index(column)
    return [r for r in rows if r[at] == day]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def leftovers(folder: Path) -> list[str]:
    """Anything a publish may leave behind besides the target itself and its lock file."""
    return sorted(
        p.name
        for p in folder.rglob("*")
        if p.name.endswith((".tmp", ".wal", ".spill")) or p.name.startswith(".staging")
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return build_source(tmp_path / "microfunnel.duckdb")


@pytest.fixture
def reporting(tmp_path: Path) -> Path:
    folder = tmp_path / "reporting"
    folder.mkdir()
    return folder / "reporting.duckdb"


# --- MartSpec ---------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Agg", "agg-daily", "1st", 'x"; drop table y; --', "a" * 64, ""])
def test_mart_spec_rejects_an_unsafe_table_name_and_names_it(bad: str) -> None:
    with pytest.raises(ValueError, match="table name"):
        MartSpec(bad, "cohort_date", ("funnel_id",))


def test_mart_spec_rejects_unsafe_partition_and_key_columns() -> None:
    with pytest.raises(ValueError, match="'Cohort'"):
        MartSpec("agg", "Cohort", ("funnel_id",))
    with pytest.raises(ValueError, match="'id;'"):
        MartSpec("agg", "cohort_date", ("funnel_id", "id;"))
    with pytest.raises(ValueError, match="at least one"):
        MartSpec("agg", "cohort_date", ())


def test_mart_spec_stores_the_key_as_a_tuple_and_quotes_identifiers() -> None:
    spec = MartSpec("agg", "cohort_date", ["a", "b"])  # type: ignore[arg-type]
    assert spec.primary_key == ("a", "b")
    assert spec.quoted_table == '"agg"'
    assert spec.quoted_key == '"a", "b"'


# --- DuckDB target ----------------------------------------------------------------------------


def test_first_duckdb_publish_copies_every_mart_with_source_types(
    source: Path, reporting: Path
) -> None:
    result = publish_duckdb(source, MARTS, reporting, DAYS[:1])
    for spec in MARTS:
        assert read_table(reporting, spec.table) == read_table(source, spec.table)
        mart = result.mart(spec.table)
        assert mart.full_refresh  # the table did not exist yet: copied whole
        assert mart.partitions_replaced == tuple(DAYS)
        assert mart.rows_written == len(read_table(source, spec.table))
    con = duckdb.connect()
    con.execute(f"ATTACH '{reporting}' AS r (READ_ONLY)")
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() "
            "WHERE database_name = 'r' AND table_name = 'agg_campaign_performance'"
        ).fetchall()
    )
    con.close()
    assert types["spend"] == "DECIMAL(18,2)"
    assert types["report_date"] == "DATE"
    assert leftovers(reporting.parent) == []


def test_publishing_twice_gives_identical_duckdb_contents(source: Path, reporting: Path) -> None:
    publish_duckdb(source, MARTS, reporting, None)
    first = {s.table: read_table(reporting, s.table) for s in MARTS}
    result = publish_duckdb(source, MARTS, reporting, DAYS)
    assert {s.table: read_table(reporting, s.table) for s in MARTS} == first
    assert not result.mart("agg_funnel_stages_daily").full_refresh
    assert result.mart("agg_funnel_stages_daily").partitions_replaced == tuple(DAYS)


def test_replacing_one_day_leaves_other_days_untouched(tmp_path: Path, reporting: Path) -> None:
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    v2 = build_source(tmp_path / "v2.duckdb", version=2)
    publish_duckdb(v1, MARTS, reporting, None)
    result = publish_duckdb(v2, MARTS, reporting, [DAYS[1]])

    for spec in MARTS:
        got = read_table(reporting, spec.table)
        col = spec.partition_column
        assert rows_for_day(got, reporting, spec.table, col, DAYS[1]) == rows_for_day(
            read_table(v2, spec.table), v2, spec.table, col, DAYS[1]
        )
        for day in (DAYS[0], DAYS[2]):
            assert rows_for_day(got, reporting, spec.table, col, day) == rows_for_day(
                read_table(v1, spec.table), v1, spec.table, col, day
            )
        assert result.mart(spec.table).partitions_replaced == (DAYS[1],)


def test_a_day_missing_from_the_source_is_removed_from_the_target(
    tmp_path: Path, reporting: Path
) -> None:
    publish_duckdb(build_source(tmp_path / "v1.duckdb"), MARTS, reporting, None)
    shorter = build_source(tmp_path / "v2.duckdb", days=DAYS[:2])
    publish_duckdb(shorter, MARTS, reporting, [DAYS[2]])
    days = {r[1] for r in read_table(reporting, "agg_funnel_stages_daily")}
    assert days == set(DAYS[:2])


def test_reader_opened_before_a_publish_keeps_reading_the_old_complete_file(
    tmp_path: Path, reporting: Path
) -> None:
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    v2 = build_source(tmp_path / "v2.duckdb", version=2)
    publish_duckdb(v1, MARTS, reporting, None)

    reader = duckdb.connect(str(reporting), read_only=True)
    query = "SELECT * FROM agg_funnel_stages_daily ORDER BY ALL"
    before = reader.execute(query).fetchall()
    publish_duckdb(v2, MARTS, reporting, [DAYS[0]])

    assert reader.execute(query).fetchall() == before == read_table(v1, "agg_funnel_stages_daily")
    reader.close()
    expected_new = read_table(reporting, "agg_funnel_stages_daily")
    assert expected_new != before
    assert rows_for_day(
        expected_new, reporting, "agg_funnel_stages_daily", "cohort_date", DAYS[0]
    ) == rows_for_day(
        read_table(v2, "agg_funnel_stages_daily"),
        v2,
        "agg_funnel_stages_daily",
        "cohort_date",
        DAYS[0],
    )


def test_new_reader_in_another_process_sees_the_new_data(tmp_path: Path, reporting: Path) -> None:
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    v2 = build_source(tmp_path / "v2.duckdb", version=2)
    publish_duckdb(v1, MARTS, reporting, None)
    holder = duckdb.connect(str(reporting), read_only=True)  # a BI tool with the file open
    publish_duckdb(v2, MARTS, reporting, None)
    script = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute('SELECT sum(impressions) FROM agg_campaign_performance').fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(reporting)], capture_output=True, text=True, check=True
    )
    new_total = sum(r[4] for r in read_table(v2, "agg_campaign_performance"))
    old_total = holder.execute("SELECT sum(impressions) FROM agg_campaign_performance").fetchone()
    holder.close()
    assert int(out.stdout) == new_total
    assert old_total is not None and old_total[0] == sum(
        r[4] for r in read_table(v1, "agg_campaign_performance")
    )


def test_failure_mid_publish_leaves_the_previous_file_and_no_temp_files(
    source: Path, reporting: Path
) -> None:
    publish_duckdb(source, MARTS, reporting, None)
    before = digest(reporting)
    missing = MartSpec("agg_sequence_comparison", "cohort_date", ("funnel_id",))
    with pytest.raises(PublishError, match="agg_sequence_comparison"):
        publish_duckdb(source, [*MARTS, missing], reporting, [DAYS[0]])
    assert digest(reporting) == before
    assert leftovers(reporting.parent) == []


def test_failure_at_the_swap_leaves_the_previous_file_and_no_temp_files(
    tmp_path: Path, reporting: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_duckdb(build_source(tmp_path / "v1.duckdb"), MARTS, reporting, None)
    before = digest(reporting)

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(duckdb_target.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        publish_duckdb(build_source(tmp_path / "v2.duckdb", version=2), MARTS, reporting, None)
    assert digest(reporting) == before
    assert leftovers(reporting.parent) == []


def test_duplicate_primary_keys_in_the_source_are_refused(source: Path, reporting: Path) -> None:
    con = duckdb.connect(str(source))
    con.execute(
        "INSERT INTO agg_campaign_performance SELECT * FROM agg_campaign_performance LIMIT 1"
    )
    con.close()
    with pytest.raises(PublishError, match="repeats primary key"):
        publish_duckdb(source, MARTS, reporting, None)
    assert not reporting.exists()


def test_partition_column_must_be_a_date(source: Path, reporting: Path) -> None:
    spec = MartSpec("agg_campaign_performance", "campaign_id", ("report_date",))
    with pytest.raises(PublishError, match="must be a DATE"):
        publish_duckdb(source, [spec], reporting, None)


def test_reporting_file_is_pinned_to_a_storage_version_duckdb_1_reads(
    source: Path, reporting: Path
) -> None:
    publish_duckdb(source, MARTS, reporting, None)
    assert storage_tag(reporting) == PINNED_STORAGE_VERSION + "+"


def test_a_target_written_with_a_newer_storage_version_is_migrated(
    source: Path, reporting: Path
) -> None:
    con = duckdb.connect()
    con.execute(f"ATTACH '{reporting}' AS r (STORAGE_VERSION 'v1.5.0')")
    con.execute("CREATE TABLE r.keep_me AS SELECT 42 AS answer")
    con.execute("DETACH r")
    con.close()
    assert storage_tag(reporting) == "v1.5.0+"
    publish_duckdb(source, MARTS, reporting, [DAYS[0]])
    assert storage_tag(reporting) == PINNED_STORAGE_VERSION + "+"
    assert read_table(reporting, "keep_me") == [(42,)]
    assert read_table(reporting, "agg_funnel_stages_daily") == read_table(
        source, "agg_funnel_stages_daily"
    )


def test_a_changed_source_schema_rebuilds_the_table(source: Path, reporting: Path) -> None:
    publish_duckdb(source, MARTS, reporting, None)
    con = duckdb.connect(str(source))
    con.execute("ALTER TABLE agg_campaign_performance ADD COLUMN video_views BIGINT DEFAULT 7")
    con.close()
    result = publish_duckdb(source, MARTS, reporting, [DAYS[0]])
    assert result.mart("agg_campaign_performance").full_refresh
    assert {r[-1] for r in read_table(reporting, "agg_campaign_performance")} == {7}


def test_result_metadata_is_flat(source: Path, reporting: Path) -> None:
    meta = publish_duckdb(source, MARTS, reporting, None).to_metadata()
    assert meta["target_kind"] == "duckdb"
    assert meta["agg_campaign_performance.partitions_replaced"] == 3
    assert meta["agg_campaign_performance.first_partition"] == "2024-03-01"
    assert meta["rows_written"] == sum(len(read_table(source, s.table)) for s in MARTS)
    assert all(isinstance(v, str | int | bool) for v in meta.values())


def storage_tag(db: Path) -> str:
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS r (READ_ONLY)")
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() WHERE database_name = 'r'"
    ).fetchone()
    con.close()
    assert row is not None
    return row[0]


# --- Parquet target ---------------------------------------------------------------------------


def read_parquet(folder: Path, spec: MartSpec) -> list[tuple]:
    """The mart read back the way BI tools read it: Hive partitioning from folder names."""
    con = duckdb.connect()
    source_order = f"SELECT * FROM read_parquet('{folder / spec.table}/*/*.parquet', "
    rows = con.execute(f"{source_order} hive_partitioning = true) ORDER BY ALL").fetchall()
    con.close()
    return rows


def source_rows_partition_last(db: Path, spec: MartSpec) -> list[tuple]:
    con = duckdb.connect()
    con.execute(f"ATTACH '{db}' AS db (READ_ONLY)")
    rows = con.execute(
        f"SELECT * EXCLUDE ({spec.partition_column}), {spec.partition_column} "
        f"FROM db.main.{spec.table} ORDER BY ALL"
    ).fetchall()
    con.close()
    return rows


def test_parquet_layout_is_hive_partitioned_by_day(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    result = publish_parquet(source, MARTS, out, None)
    for spec in MARTS:
        folders = sorted(p.name for p in (out / spec.table).iterdir())
        assert folders == [f"{spec.partition_column}={d.isoformat()}" for d in DAYS]
        for folder in (out / spec.table).iterdir():
            assert [p.name for p in folder.iterdir()] == ["part-0.parquet"]
        assert read_parquet(out, spec) == source_rows_partition_last(source, spec)
        assert result.mart(spec.table).rows_written == len(read_table(source, spec.table))
    assert leftovers(out) == []


def test_publishing_parquet_twice_gives_identical_files(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    publish_parquet(source, MARTS, out, None)
    first = {p.relative_to(out): digest(p) for p in out.rglob("*.parquet")}
    publish_parquet(source, MARTS, out, DAYS)
    assert {p.relative_to(out): digest(p) for p in out.rglob("*.parquet")} == first


def test_parquet_day_is_replaced_and_empty_days_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    v1 = build_source(tmp_path / "v1.duckdb", version=1)
    publish_parquet(v1, MARTS, out, None)
    spec = MARTS[1]
    untouched = digest(out / spec.table / "cohort_date=2024-03-01" / "part-0.parquet")

    v2 = build_source(tmp_path / "v2.duckdb", version=2, days=DAYS[:2])
    result = publish_parquet(v2, MARTS, out, DAYS[1:])

    table_dir = out / spec.table
    assert sorted(p.name for p in table_dir.iterdir()) == [
        "cohort_date=2024-03-01",
        "cohort_date=2024-03-02",
    ]
    assert digest(table_dir / "cohort_date=2024-03-01" / "part-0.parquet") == untouched
    day2 = pq.read_table(table_dir / "cohort_date=2024-03-02" / "part-0.parquet")
    assert "cohort_date" not in day2.column_names  # Hive convention: the day is the folder name
    expected = [r for r in source_rows_partition_last(v2, spec) if r[-1] == DAYS[1]]
    got = [r for r in read_parquet(out, spec) if r[-1] == DAYS[1]]
    assert got == expected
    assert result.mart(spec.table).partitions_replaced == tuple(DAYS[1:])
    assert leftovers(out) == []


def test_parquet_failure_leaves_existing_days_and_no_staging(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    publish_parquet(source, MARTS, out, None)
    before = {p.relative_to(out): digest(p) for p in out.rglob("*.parquet")}
    missing = MartSpec("agg_sequence_comparison", "cohort_date", ("funnel_id",))
    with pytest.raises(PublishError, match="agg_sequence_comparison"):
        publish_parquet(source, [*MARTS, missing], out, DAYS)
    assert {p.relative_to(out): digest(p) for p in out.rglob("*.parquet")} == before
    assert leftovers(out) == []


# --- helpers that need no server --------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "postgresql://app:s3cret@db.internal:5432/reporting",
            "postgresql://app:***@db.internal:5432/reporting",
        ),
        (
            "postgresql://app@db/reporting?password=s3cret&sslmode=require",
            "postgresql://app@db/reporting?password=***&sslmode=require",
        ),
        ("postgresql://app:p@ss:w0rd@db/reporting", "postgresql://app:***@db/reporting"),
        ("host=db user=app password=s3cret dbname=r", "host=db user=app password=*** dbname=r"),
        ("host=db password='s3 cret' dbname=r", "host=db password=*** dbname=r"),
        ("postgresql://app@db/reporting", "postgresql://app@db/reporting"),
    ],
)
def test_redact_url_hides_every_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


@pytest.mark.parametrize(
    ("duckdb_type", "pg_type"),
    [
        ("VARCHAR", "text"),
        ("BIGINT", "bigint"),
        ("INTEGER", "bigint"),
        ("DOUBLE", "double precision"),
        ("DECIMAL(18,2)", "numeric(18,2)"),
        ("DATE", "date"),
        ("TIMESTAMP", "timestamp"),
        ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
        ("BOOLEAN", "boolean"),
    ],
)
def test_postgres_type_mapping(duckdb_type: str, pg_type: str) -> None:
    assert postgres_type(duckdb_type) == pg_type


def test_nested_types_are_not_published_to_postgres() -> None:
    with pytest.raises(ValueError, match="'props'"):
        postgres_type("STRUCT(a INTEGER)", "props")


def test_no_publish_leaves_a_lock_visible_to_table_globs(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    publish_parquet(source, MARTS, out, None)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        s.table for s in MARTS
    )
    assert os.listdir(out / "agg_campaign_performance")


# --- whole-table marts (no day column) --------------------------------------------------------

TRENDS = MartSpec(
    "agg_funnel_trends",
    None,
    ("funnel_id", "funnel_version", "cohort_grain", "cohort_start", "platform", "campaign_id"),
)
# A key with a null (the all-cohorts row of a comparison): whole-table marts must accept it.
COMPARISON = MartSpec(
    "agg_sequence_comparison", None, ("micro_funnel_id", "cohort_grain", "cohort_date")
)
WHOLE = [TRENDS, COMPARISON]


def build_whole_marts(path: Path, version: int = 1, weeks: int = 3) -> Path:
    """Add two whole-table marts to a source file: a trend by day and week (rows span days and
    weeks, no day column to cut by) and a comparison whose 'all' row has a null cohort_date."""
    con = duckdb.connect(str(path))
    con.execute("DROP TABLE IF EXISTS agg_funnel_trends")
    con.execute("DROP TABLE IF EXISTS agg_sequence_comparison")
    con.execute(
        f"""CREATE TABLE agg_funnel_trends AS
        SELECT f.funnel_id, 1 AS funnel_version, g.grain AS cohort_grain,
               DATE '2024-03-04' + INTERVAL (7 * w.i + d.i) DAY AS cohort_start,
               'google_ads' AS platform, 'c' || c.i AS campaign_id,
               (100 * {version} + w.i + c.i)::BIGINT AS journeys_started,
               (w.i + {version})::DOUBLE / 100 AS conversion_rate,
               w.i < 1 AS is_final
        FROM (VALUES ('micro_commitment'), ('direct_ask')) f(funnel_id),
             (VALUES ('day'), ('week')) g(grain), range({weeks}) w(i), range(7) d(i),
             range(3) c(i)
        WHERE g.grain = 'day' OR d.i = 0"""
    )
    con.execute("ALTER TABLE agg_funnel_trends ALTER cohort_start TYPE DATE")
    con.execute(
        f"""CREATE TABLE agg_sequence_comparison AS
        SELECT 'micro_commitment' AS micro_funnel_id, s.grain AS cohort_grain,
               CASE WHEN s.grain = 'day' THEN DATE '2024-03-01' + INTERVAL (s.i) DAY END::DATE
                   AS cohort_date,
               (0.1 * {version} + s.i / 100)::DOUBLE AS absolute_lift,
               'micro converts better' AS verdict
        FROM (VALUES ('all', 0), ('day', 0), ('day', 1), ('day', 2)) s(grain, i)"""
    )
    con.close()
    return path


def test_mart_spec_without_a_day_column_is_a_whole_table_mart() -> None:
    assert TRENDS.is_whole_table
    assert not MARTS[0].is_whole_table
    with pytest.raises(ValueError, match="no partition column"):
        _ = TRENDS.quoted_partition


def test_a_whole_table_mart_is_replaced_whole_even_when_one_day_is_published(
    tmp_path: Path, reporting: Path
) -> None:
    v1 = build_whole_marts(build_source(tmp_path / "v1.duckdb", version=1), version=1)
    v2 = build_whole_marts(build_source(tmp_path / "v2.duckdb", version=2), version=2, weeks=2)
    publish_duckdb(v1, [*MARTS, *WHOLE], reporting, None)
    result = publish_duckdb(v2, [*MARTS, *WHOLE], reporting, [DAYS[1]])

    for spec in WHOLE:
        # Every row of v2, and v1's third week (gone from the source) gone from the target.
        assert read_table(reporting, spec.table) == read_table(v2, spec.table)
        mart = result.mart(spec.table)
        assert mart.full_refresh
        assert mart.partitions_replaced == ()
        assert mart.rows_written == len(read_table(v2, spec.table))
    # Day-partitioned marts in the same publish still only replace the given day.
    stages = read_table(reporting, "agg_funnel_stages_daily")
    assert rows_for_day(
        stages, reporting, "agg_funnel_stages_daily", "cohort_date", DAYS[0]
    ) == rows_for_day(
        read_table(v1, "agg_funnel_stages_daily"),
        v1,
        "agg_funnel_stages_daily",
        "cohort_date",
        DAYS[0],
    )
    assert result.mart("agg_funnel_stages_daily").partitions_replaced == (DAYS[1],)
    meta = result.to_metadata()
    assert meta["agg_funnel_trends.partitions_replaced"] == 0
    assert meta["agg_funnel_trends.full_refresh"] is True
    assert leftovers(reporting.parent) == []


def test_a_whole_table_mart_needs_no_date_column_but_still_a_unique_key(
    tmp_path: Path, reporting: Path
) -> None:
    source = build_whole_marts(build_source(tmp_path / "src.duckdb"))
    con = duckdb.connect(str(source))
    con.execute("CREATE TABLE agg_time_to_convert AS SELECT 1 AS bucket_order, 0.5 AS share")
    con.close()
    buckets = MartSpec("agg_time_to_convert", None, ("bucket_order",))
    publish_duckdb(source, [buckets], reporting, DAYS)
    assert read_table(reporting, "agg_time_to_convert") == [(1, Decimal("0.5"))]

    con = duckdb.connect(str(source))
    con.execute(
        "INSERT INTO agg_sequence_comparison SELECT * FROM agg_sequence_comparison "
        "WHERE cohort_date IS NULL"
    )
    con.close()
    before = digest(reporting)
    # Two 'all' rows: a null in the key is a value like any other, so they repeat the key.
    with pytest.raises(PublishError, match="repeats primary key"):
        publish_duckdb(source, [COMPARISON], reporting, None)
    assert digest(reporting) == before


def test_a_whole_table_mart_is_one_parquet_file_renamed_into_place(tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    v1 = build_whole_marts(build_source(tmp_path / "v1.duckdb", version=1), version=1)
    v2 = build_whole_marts(build_source(tmp_path / "v2.duckdb", version=2), version=2, weeks=2)
    publish_parquet(v1, [*MARTS, *WHOLE], out, None)
    part = out / "agg_funnel_trends" / "part-0.parquet"
    assert [p.name for p in part.parent.iterdir()] == ["part-0.parquet"]
    old_inode = part.stat().st_ino
    reader = pq.ParquetFile(part)  # a reader with the old file open

    result = publish_parquet(v2, [*MARTS, *WHOLE], out, [DAYS[0]])
    for spec in WHOLE:
        table_dir = out / spec.table
        assert [p.name for p in table_dir.iterdir()] == ["part-0.parquet"]
        con = duckdb.connect()
        got = con.execute(
            f"SELECT * FROM read_parquet('{table_dir}/*.parquet') ORDER BY ALL"
        ).fetchall()
        con.close()
        assert got == read_table(v2, spec.table)
        assert result.mart(spec.table).full_refresh
        assert result.mart(spec.table).rows_written == len(got)
    # Renamed over, not rewritten in place: the open reader still sees the complete old file.
    assert part.stat().st_ino != old_inode
    assert reader.read().num_rows == len(read_table(v1, "agg_funnel_trends"))
    assert leftovers(out) == []


def test_an_empty_whole_table_mart_still_gets_a_parquet_file_with_its_columns(
    tmp_path: Path,
) -> None:
    source = build_whole_marts(build_source(tmp_path / "src.duckdb"), weeks=0)
    out = tmp_path / "parquet"
    result = publish_parquet(source, [TRENDS], out, None)
    table = pq.read_table(out / "agg_funnel_trends" / "part-0.parquet")
    assert table.num_rows == 0 == result.mart("agg_funnel_trends").rows_written
    assert "journeys_started" in table.column_names


def test_a_whole_table_publish_removes_an_earlier_day_layout_of_the_mart(tmp_path: Path) -> None:
    out = tmp_path / "parquet"
    stale = out / "agg_funnel_trends" / "cohort_start=2024-03-04"
    stale.mkdir(parents=True)
    (stale / "part-0.parquet").write_bytes(b"old layout")
    (out / "agg_funnel_trends" / "README.txt").write_text("not ours", encoding="utf-8")
    publish_parquet(build_whole_marts(build_source(tmp_path / "s.duckdb")), [TRENDS], out, None)
    assert sorted(p.name for p in (out / "agg_funnel_trends").iterdir()) == [
        "README.txt",
        "part-0.parquet",
    ]


# --- the marts the pipeline publishes ---------------------------------------------------------


def test_every_mart_of_the_dbt_project_is_published_with_its_contract_key() -> None:
    import yaml

    from pipelines.lib.dbt_project import dbt_project
    from pipelines.lib.publish.marts import published_marts

    PUBLISHED = published_marts(dbt_project().manifest_path)

    marts_dir = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"
    columns: dict[str, dict[str, str]] = {}
    for yml in marts_dir.glob("*.yml"):
        for model in yaml.safe_load(yml.read_text(encoding="utf-8"))["models"]:
            columns[model["name"]] = {c["name"]: c["data_type"] for c in model["columns"]}
    published = {spec.table: spec for spec in PUBLISHED}
    assert set(published) == {p.stem for p in marts_dir.glob("*.sql")}
    for table, spec in published.items():
        assert set(spec.primary_key) <= set(columns[table]), table
        if spec.partition_column is not None:
            assert columns[table][spec.partition_column] == "date", table
    assert published["agg_funnel_trends"].is_whole_table
    assert published["agg_time_to_convert"].is_whole_table
    assert published["agg_momentum_curve"].is_whole_table
    assert published["agg_intent_segments"].partition_column == "cohort_date"


# --- whole-table marts in PostgreSQL (skipped without a server, like the integration tests) ---

PG_DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    import psycopg
    from psycopg import sql

    url = os.environ.get("MICROFUNNEL_TEST_POSTGRES_URL", PG_DEFAULT_URL)
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"PostgreSQL test server not reachable ({exc}); CI=true requires it")
        pytest.skip("PostgreSQL test server not reachable")
    name = f"mf_test_{uuid.uuid4().hex[:12]}"
    yield url, name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def pg_rows(url: str, schema: str, table: str) -> list[tuple]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        ).fetchall()
    return sorted(rows, key=none_first)


def none_first(row: tuple) -> tuple:
    return tuple((v is not None, v if v is not None else 0) for v in row)


@pytest.mark.postgres
def test_a_whole_table_mart_is_replaced_in_one_postgres_transaction(
    tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    import psycopg

    url, schema = pg_schema
    v1 = build_whole_marts(build_source(tmp_path / "v1.duckdb", version=1), version=1)
    v2 = build_whole_marts(build_source(tmp_path / "v2.duckdb", version=2), version=2, weeks=2)
    publish_postgres(v1, [MARTS[1], *WHOLE], url, schema, None)
    old = {spec.table: pg_rows(url, schema, spec.table) for spec in WHOLE}
    assert old["agg_sequence_comparison"] == sorted(
        read_table(v1, "agg_sequence_comparison"), key=none_first
    )
    seen_during: dict[str, list[tuple]] = {}

    def look_from_outside(conn: psycopg.Connection) -> None:
        # Inside the open transaction every row is already replaced; others still see v1.
        for spec in WHOLE:
            seen_during[spec.table] = pg_rows(url, schema, spec.table)

    result = publish_postgres(
        v2, [MARTS[1], *WHOLE], url, schema, [DAYS[0]], before_commit=look_from_outside
    )
    assert seen_during == old
    for spec in WHOLE:
        assert pg_rows(url, schema, spec.table) == sorted(
            read_table(v2, spec.table), key=none_first
        )
        assert result.mart(spec.table).full_refresh
        assert result.mart(spec.table).partitions_replaced == ()
    assert result.mart("agg_funnel_stages_daily").partitions_replaced == (DAYS[0],)

    def fail(conn: psycopg.Connection) -> None:
        raise psycopg.errors.QueryCanceled("cancelled by the test")

    v3 = build_whole_marts(build_source(tmp_path / "v3.duckdb", version=3), version=3, weeks=1)
    with pytest.raises(PublishError):
        publish_postgres(v3, WHOLE, url, schema, None, before_commit=fail)
    assert pg_rows(url, schema, "agg_funnel_trends") == sorted(
        read_table(v2, "agg_funnel_trends"), key=none_first
    )


@pytest.mark.postgres
def test_a_whole_table_mart_key_with_a_null_is_unique_in_postgres(
    tmp_path: Path, pg_schema: tuple[str, str]
) -> None:
    import psycopg
    from psycopg import sql

    url, schema = pg_schema
    source = build_whole_marts(build_source(tmp_path / "src.duckdb"))
    publish_postgres(source, [COMPARISON], url, schema, None)
    table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(COMPARISON.table))
    with (
        psycopg.connect(url) as conn,
        pytest.raises(psycopg.errors.UniqueViolation),
    ):
        conn.execute(
            sql.SQL("INSERT INTO {} SELECT * FROM {} WHERE cohort_date IS NULL").format(
                table, table
            )
        )
