"""Fixtures every test folder shares: the pipeline pointed at a temporary home folder for the
length of a block, and the dbt project compiled once per session for the in-memory SQL runs."""

from __future__ import annotations

import pytest

from harness.dbt_sql import SqlHarness
from tests.pipeline_environment import PipelineEnvironment, temporary_pipeline_home


@pytest.fixture(scope="session")
def pipeline_environment() -> PipelineEnvironment:
    """`with pipeline_environment(home, start_date) as settings:` configures a pipeline run."""
    return temporary_pipeline_home


@pytest.fixture(scope="session")
def sql_harness(tmp_path_factory: pytest.TempPathFactory) -> SqlHarness:
    """The dbt project compiled once per session; `sql_harness.run(...)` builds models in memory."""
    return SqlHarness.compile(tmp_path_factory.mktemp("sql_harness"))
