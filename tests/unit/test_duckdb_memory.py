"""MICROFUNNEL_MEMORY_LIMIT: every DuckDB instance of a run is held to it and spills under the
warehouse instead of failing or growing with the day's volume."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest

from pipelines.lib.dbt_vars import MEMORY_LIMIT_VAR, dbt_build_args, dbt_vars
from pipelines.lib.duckdb_memory import DuckDBMemory
from pipelines.lib.settings import ENV_MEMORY_LIMIT, Settings, SettingsError

# More distinct groups than 100 MB of hash table holds: it must spill to finish.
BIG_GROUP_BY = "select count(*) from (select i, count(*) from range(20000000) t(i) group by i)"


def test_the_default_is_a_share_of_physical_memory_that_duckdb_accepts() -> None:
    settings = Settings.from_env({})
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert settings.memory_limit == f"{int(physical * 0.4) // 2**20}MiB"
    with settings.duckdb_memory.apply(duckdb.connect(), "t") as con:
        (limit,) = con.sql("select current_setting('memory_limit')").fetchone() or ("",)
    assert limit.endswith("GiB") or limit.endswith("MiB")


@pytest.mark.parametrize("value", ["6GB", "512 MiB", "1.5gb"])
def test_a_memory_size_is_accepted_as_written(value: str) -> None:
    assert Settings.from_env({ENV_MEMORY_LIMIT: value}).memory_limit == value.strip()


@pytest.mark.parametrize("value", ["80%", "lots", "4", "1GB'; drop table x; --"])
def test_anything_else_is_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match=ENV_MEMORY_LIMIT):
        Settings.from_env({ENV_MEMORY_LIMIT: value})
    with pytest.raises(ValueError, match="not a size"):
        DuckDBMemory(value, Path("spill"))


def test_a_limited_instance_spills_under_the_warehouse_and_finishes(tmp_path: Path) -> None:
    memory = Settings.from_env(
        {"MICROFUNNEL_HOME": str(tmp_path), ENV_MEMORY_LIMIT: "100MB"}
    ).duckdb_memory
    con = memory.apply(duckdb.connect(config={"threads": 2}), "ingest")
    assert con.sql("select current_setting('temp_directory')").fetchone() == (
        str(tmp_path / "warehouse" / "spill" / f"ingest-{os.getpid()}"),
    )
    assert con.sql(BIG_GROUP_BY).fetchone() == (20_000_000,)
    con.close()
    # Without a place to spill, the same limit cannot hold the query.
    with duckdb.connect(config={"threads": 2}) as bare:
        bare.execute("SET memory_limit = '100MB'")
        bare.execute("SET temp_directory = ''")
        with pytest.raises(duckdb.OutOfMemoryException):
            bare.sql(BIG_GROUP_BY).fetchone()


def test_dbt_gets_the_limit_as_a_var_of_the_run() -> None:
    args = dbt_build_args(dbt_vars(None, 3, Path("/w"), "2GB"))
    assert f'"{MEMORY_LIMIT_VAR}": "2GB"' in args[args.index("--vars") + 1]
    profile = (Path(__file__).parents[2] / "dbt_project" / "profiles.yml").read_text()
    assert f"memory_limit: \"{{{{ var('{MEMORY_LIMIT_VAR}'" in profile
    # DuckDB refuses a new temp_directory once one was used: dbt sets it on every connection.
    assert "temp_directory:" not in profile
