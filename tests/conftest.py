"""Fixtures every test folder shares: the pipeline pointed at a temporary home folder for the
length of a block, and the dbt project compiled once per session for the in-memory SQL runs."""

from __future__ import annotations

import sys

import pytest

from harness.dbt_sql import SqlHarness
from pipelines.lib.dbt_project import prepare_dbt_project
from tests.pipeline_environment import PipelineEnvironment, temporary_pipeline_home

# pyspark (installed for the Spark target) decides it is running its own doctests when
# `__main__` has neither a spec nor a file, as in an xdist worker, and exits the process
# (sys.exit(0)) when great_expectations imports pyspark.sql.connect. Give it a file name.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__file__ = "<pytest worker>"


def pytest_configure(config: pytest.Config) -> None:
    """Parse the dbt project once per session, before collection: the definitions and the
    marts' grains are read from its manifest (a fresh clone has none; the CLI parses before
    each run the same way). xdist workers use the one their controller wrote."""
    if not hasattr(config, "workerinput"):
        prepare_dbt_project()


@pytest.fixture(scope="session")
def pipeline_environment() -> PipelineEnvironment:
    """`with pipeline_environment(home, start_date) as settings:` configures a pipeline run."""
    return temporary_pipeline_home


@pytest.fixture(scope="session")
def sql_harness(tmp_path_factory: pytest.TempPathFactory) -> SqlHarness:
    """The dbt project compiled once per session; `sql_harness.run(...)` builds models in memory."""
    return SqlHarness.compile(tmp_path_factory.mktemp("sql_harness"))
