"""The same dbt project on Apache Spark (local mode) over the same lake as DuckDB.

One generated lake with several trackers and every funnel mode (tests/funnel_modes.py) is built
by `microfunnel run` on each engine, first as a backfill, then as a nightly run (Spark's
incremental models replace date partitions where DuckDB deletes and appends). After each, every
mart of the Spark build equals the DuckDB build row for row, and the reporting DuckDB that the
Spark run published holds the same rows. dbt's unit tests run on Spark too.

Needs dbt-spark, pyspark and Java (`make install-spark`; `make test` installs them): skipped
with the reason when they are missing, except under CI, where that is a failure.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from pipelines.cli.preflight import spark_problems
from pipelines.lib.dbt_project import dbt_project
from pipelines.lib.dbt_vars import WAREHOUSE_DIR_VAR
from pipelines.lib.publish.compare import MartComparison, compare_marts
from pipelines.lib.publish.marts import published_marts
from pipelines.lib.settings import (
    DBT_PROJECT_DIR,
    DEFAULT_FUNNELS_FILE,
    ENV_FUNNELS_FILE,
    ENV_PSEUDONYMIZATION_KEY,
    ENV_START_DATE,
    Settings,
)
from tests.cli_runner import run_cli
from tests.funnel_modes import EVERY_MODE_FUNNELS
from tests.pipeline_environment import SESSION_KEY

pytestmark = [pytest.mark.slow, pytest.mark.spark]

START = date(2024, 3, 1)
BACKFILL_END = date(2024, 3, 4)
NIGHT = date(2024, 3, 5)
EVENTS_PER_DAY = 1500
SPARK_RUN_TIMEOUT = 1500


@dataclass
class Lake:
    home: Path
    env: dict[str, str]
    settings: Settings


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    problems = spark_problems()
    if problems:
        message = "Spark is not installed here: " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("spark_lake")
    funnels = home / "funnels.yml"
    funnels.write_text(DEFAULT_FUNNELS_FILE.read_text(encoding="utf-8") + EVERY_MODE_FUNNELS)
    env = {
        ENV_START_DATE: START.isoformat(),
        ENV_PSEUDONYMIZATION_KEY: SESSION_KEY,
        ENV_FUNNELS_FILE: str(funnels),
        # Two Spark drivers never run at once here; keep the JVM small beside the test workers.
        "MICROFUNNEL_SPARK_DRIVER_MEMORY": "2g",
    }
    generated = run_cli(
        home,
        "generate",
        "--start",
        START.isoformat(),
        "--end",
        NIGHT.isoformat(),
        "--events-per-day",
        str(EVENTS_PER_DAY),
        "--trackers",
        "ga4,segment:0.2,snowplow:0.1",
        **env,
    )
    assert generated.returncode == 0, generated.stderr
    settings = Settings(
        landing_dir=home / "landing",
        warehouse_dir=home / "warehouse",
        funnels_file=funnels,
        start_date=START,
    )
    return Lake(home, env, settings)


def run_both_engines(lake: Lake, first: date, last: date) -> None:
    for engine in ("duckdb", "spark"):
        result = run_cli(
            lake.home,
            "run",
            "--start",
            first.isoformat(),
            "--end",
            last.isoformat(),
            "--engine",
            engine,
            timeout=SPARK_RUN_TIMEOUT,
            **lake.env,
        )
        assert result.returncode == 0, f"{engine} run failed:\n{result.stdout}\n{result.stderr}"


def differences(comparisons: list[MartComparison]) -> list[str]:
    return [c.describe() for c in comparisons if not c.equal]


def marts() -> tuple:
    return published_marts(dbt_project().manifest_path)


@pytest.fixture(scope="module")
def backfill(lake: Lake) -> list[MartComparison]:
    run_both_engines(lake, START, BACKFILL_END)
    return compare_marts(lake.settings.duckdb_path, lake.settings.spark_marts_dir, marts())


@pytest.fixture(scope="module")
def nightly(lake: Lake, backfill: list[MartComparison]) -> list[MartComparison]:
    run_both_engines(lake, NIGHT, NIGHT)
    return compare_marts(lake.settings.duckdb_path, lake.settings.spark_marts_dir, marts())


def test_a_spark_backfill_builds_every_mart_equal_to_the_duckdb_build(
    backfill: list[MartComparison],
) -> None:
    assert {c.table for c in backfill} == {spec.table for spec in marts()}
    assert differences(backfill) == []
    journeys = next(c for c in backfill if c.table == "fct_funnel_journeys")
    assert journeys.left_rows > 500  # a real lake, not two empty builds


def test_a_spark_nightly_run_keeps_every_mart_equal_to_the_duckdb_build(
    nightly: list[MartComparison],
) -> None:
    assert differences(nightly) == []
    stages = next(c for c in nightly if c.table == "agg_funnel_stages_daily")
    assert stages.left_rows > 0


def test_the_reporting_duckdb_published_from_spark_holds_the_same_marts(
    lake: Lake, nightly: list[MartComparison]
) -> None:
    published = compare_marts(lake.settings.duckdb_path, lake.settings.reporting_db_path, marts())
    assert differences(published) == []


def run_dbt_on_spark(lake: Lake, *args: str) -> subprocess.CompletedProcess:
    """`dbt <args> --target spark` on the lake's warehouse, artifacts and logs in its home."""
    return subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            *args,
            "--target",
            "spark",
            "--vars",
            f'{{"{WAREHOUSE_DIR_VAR}": "{lake.settings.warehouse_dir}"}}',
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(lake.home / "dbt_target"),
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **lake.env, "DBT_LOG_PATH": str(lake.home / "dbt_logs")},
        capture_output=True,
        text=True,
        timeout=SPARK_RUN_TIMEOUT,
    )


def test_dbt_unit_tests_pass_on_spark(lake: Lake, nightly: list[MartComparison]) -> None:
    """The walk's state machine and its list lambdas, on Spark's SQL (fixtures in the yml)."""
    result = run_dbt_on_spark(lake, "test", "--select", "test_type:unit")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "PASS=" in result.stdout and " ERROR=0 " in result.stdout


FORMATS = ("'%.1f%%'", "'p = %.3f'", "'%.0f s'", "'%.2fx '")


def test_numbers_print_in_text_as_on_duckdb_ties_included(lake: Lake) -> None:
    """format_number on Spark rounds like C's printf (DuckDB, Python), not like Java's %f:
    31.25 -> 31.2, 0.285 -> 0.28, over exact ties, near-ties and random values."""
    from pyspark.sql import SparkSession

    selected = ", ".join(
        f"{{{{ format_number(\"{fmt}\", 'x') }}}} as c{n}" for n, fmt in enumerate(FORMATS)
    )
    compiled = run_dbt_on_spark(
        lake, "compile", "--quiet", "--inline", f"select x, {selected} from values_to_format"
    )
    assert compiled.returncode == 0, compiled.stdout[-4000:]
    sql = compiled.stdout[compiled.stdout.index("select x,") :]
    rng = random.Random(5)
    values = [31.25, 0.285, 2.5, 3.5, 0.125, 1.005, 99.95, 0.0005, 0.0015, 59.5, 0.0]
    values += [100.0 * a / b for a in range(40) for b in range(1, 40)]
    values += [rng.random() * 10 ** rng.randint(-3, 5) for _ in range(3000)]
    spark = (
        SparkSession.builder.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .getOrCreate()
    )
    try:
        spark.createDataFrame([(v,) for v in values], "x double").createOrReplaceTempView(
            "values_to_format"
        )
        printed = {row[0]: tuple(row[1:]) for row in spark.sql(sql).collect()}
    finally:
        spark.stop()
    mismatches = [
        (v, printed[v])
        for v in values
        if printed[v] != (f"{v:.1f}%", f"p = {v:.3f}", f"{v:.0f} s", f"{v:.2f}x ")
    ]
    assert mismatches == []
