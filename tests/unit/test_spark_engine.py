"""The Spark engine's Python side without Spark: the setting, the resource that carries it into
a run, the preflight, the publish source over Spark-laid-out Parquet, and the mart comparison.
(The build itself on Spark: tests/integration/test_spark_build.py.)"""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from pipelines.cli.preflight import spark_problems
from pipelines.defs.shared import MicrofunnelResource
from pipelines.lib.publish import MartSpec, PublishError, publish_duckdb
from pipelines.lib.publish.compare import compare_marts
from pipelines.lib.publish.source import attach_source, connect_memory, source_ref
from pipelines.lib.settings import ENV_ENGINE, Settings, SettingsError

STAGES = MartSpec(
    "agg_stages",
    "cohort_date",
    ("funnel_id", "cohort_date", "stage_order"),
    ("funnel_id", "cohort_date", "stage_order", "reached_at", "rate"),
)


def home(tmp_path: Path) -> dict[str, str]:
    return {"MICROFUNNEL_HOME": str(tmp_path)}


def test_the_engine_setting_is_duckdb_unless_set_and_names_itself_when_wrong(
    tmp_path: Path,
) -> None:
    default = Settings.from_env(home(tmp_path))
    assert default.engine == "duckdb"
    assert default.marts_source == default.duckdb_path
    spark = Settings.from_env({**home(tmp_path), ENV_ENGINE: " Spark "})
    assert spark.engine == "spark"
    assert spark.marts_source == tmp_path / "warehouse" / "spark" / "tables" / "microfunnel.db"
    assert spark.environ()[ENV_ENGINE] == "spark"
    with pytest.raises(SettingsError, match=f"{ENV_ENGINE}='flink' must be one of duckdb, spark"):
        Settings.from_env({**home(tmp_path), ENV_ENGINE: "flink"})


def test_the_run_resource_carries_the_engine_currency_and_quality_engine(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            **home(tmp_path),
            ENV_ENGINE: "spark",
            "MICROFUNNEL_REPORTING_CURRENCY": "EUR",
            "MICROFUNNEL_QUALITY_ENGINE": "gx",
        }
    )
    carried = MicrofunnelResource.from_settings(settings).settings()
    assert (carried.engine, carried.reporting_currency, carried.quality_engine) == (
        "spark",
        "EUR",
        "gx",
    )


def test_preflight_names_what_the_spark_engine_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "pyspark" else real_find_spec(name, *a),
    )
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    problems = spark_problems()
    assert any("make install-spark" in p for p in problems)
    assert any("scripts/ensure_java.sh" in p for p in problems)


def write_spark_table(tables: Path) -> None:
    """agg_stages as Spark writes it: partition folders, the day column last and absent from
    the files, timestamps as UTC instants, a null day in Spark's own folder name."""
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        for day, rows in {
            "2024-03-01": "('f', 1, TIMESTAMPTZ '2024-03-01 10:00:00.123456+00', 0.5), "
            "('f', 2, TIMESTAMPTZ '2024-03-01 11:00:00+00', 0.25)",
            "2024-03-02": "('f', 1, TIMESTAMPTZ '2024-03-02 09:30:00+00', 1.0)",
        }.items():
            folder = tables / "agg_stages" / f"cohort_date={day}"
            folder.mkdir(parents=True)
            con.execute(
                f"COPY (SELECT * FROM (VALUES {rows}) AS t(funnel_id, stage_order, reached_at, "
                f"rate)) TO '{folder}/part-00000-x.c000.snappy.parquet' (FORMAT parquet)"
            )
        (tables / "agg_stages" / "_SUCCESS").touch()


def write_duckdb_table(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(
            "CREATE TABLE agg_stages AS SELECT * FROM (VALUES "
            "('f', DATE '2024-03-01', 1, TIMESTAMP '2024-03-01 10:00:00.123456', 0.5), "
            "('f', DATE '2024-03-01', 2, TIMESTAMP '2024-03-01 11:00:00', 0.25), "
            "('f', DATE '2024-03-02', 1, TIMESTAMP '2024-03-02 09:30:00', 1.0)"
            ") AS t(funnel_id, cohort_date, stage_order, reached_at, rate)"
        )


def test_spark_tables_are_read_in_the_marts_order_with_dates_and_plain_timestamps(
    tmp_path: Path,
) -> None:
    write_spark_table(tmp_path / "tables")
    with connect_memory() as con:
        attach_source(con, tmp_path / "tables", [STAGES])
        relation = con.sql(f"SELECT * FROM {source_ref(STAGES)} ORDER BY ALL")
        assert relation.columns == list(STAGES.columns)
        assert [str(t) for t in relation.types] == [
            "VARCHAR",
            "DATE",
            "INTEGER",
            "TIMESTAMP",
            "DECIMAL(3,2)",
        ]
        first = relation.fetchone()
    assert first == ("f", date(2024, 3, 1), 1, datetime(2024, 3, 1, 10, 0, 0, 123456), 0.5)


def test_a_publish_from_spark_tables_equals_one_from_the_duckdb_file(tmp_path: Path) -> None:
    write_spark_table(tmp_path / "tables")
    write_duckdb_table(tmp_path / "dbt.duckdb")
    publish_duckdb(tmp_path / "tables", [STAGES], tmp_path / "from_spark.duckdb", None)
    publish_duckdb(tmp_path / "dbt.duckdb", [STAGES], tmp_path / "from_duckdb.duckdb", None)
    comparison = compare_marts(tmp_path / "from_spark.duckdb", tmp_path / "dbt.duckdb", [STAGES])
    assert [c.describe() for c in comparison] == ["agg_stages: 3 rows, equal"]


def test_a_spark_row_without_a_day_is_refused_naming_the_column(tmp_path: Path) -> None:
    write_spark_table(tmp_path / "tables")
    null_day = tmp_path / "tables" / "agg_stages" / "cohort_date=__HIVE_DEFAULT_PARTITION__"
    null_day.mkdir()
    with duckdb.connect() as con:
        con.execute(
            "COPY (SELECT 'g' AS funnel_id, 1 AS stage_order, "
            "TIMESTAMPTZ '2024-03-01 00:00:00+00' AS reached_at, 0.5 AS rate) "
            f"TO '{null_day}/part-0.parquet' (FORMAT parquet)"
        )
    with pytest.raises(PublishError, match="rows with a NULL cohort_date"):
        publish_duckdb(tmp_path / "tables", [STAGES], tmp_path / "out.duckdb", None)


def test_a_spark_table_without_files_is_named(tmp_path: Path) -> None:
    (tmp_path / "tables" / "agg_stages").mkdir(parents=True)
    with pytest.raises(PublishError, match="Spark table agg_stages has no rows"):
        publish_duckdb(tmp_path / "tables", [STAGES], tmp_path / "out.duckdb", None)


def test_the_comparison_names_a_differing_row_and_tolerates_float_noise(tmp_path: Path) -> None:
    write_duckdb_table(tmp_path / "a.duckdb")
    write_duckdb_table(tmp_path / "b.duckdb")
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        con.execute("UPDATE agg_stages SET rate = rate + 1e-13 WHERE stage_order = 1")
    assert compare_marts(tmp_path / "a.duckdb", tmp_path / "b.duckdb", [STAGES])[0].equal
    with duckdb.connect(str(tmp_path / "b.duckdb")) as con:
        con.execute(
            "UPDATE agg_stages SET reached_at = reached_at + INTERVAL 1 SECOND "
            "WHERE cohort_date = DATE '2024-03-02'"
        )
        con.execute("INSERT INTO agg_stages VALUES ('g', DATE '2024-03-02', 1, NULL, 0.1)")
    [comparison] = compare_marts(tmp_path / "a.duckdb", tmp_path / "b.duckdb", [STAGES])
    assert not comparison.equal
    assert (comparison.unmatched_rows, comparison.differing_rows) == (1, 1)
    assert "reached_at" in comparison.example and "2024-03-02" in comparison.example
