"""How a partition range becomes dbt arguments: small pure functions, unit-tested."""

from __future__ import annotations

import itertools
import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

from pipelines.lib.dbt_var_defaults import LATE_DATA_DAYS_VAR


def reprocess_from(first_partition: date, longest_window_days: int, late_data_days: int) -> date:
    """Earliest cohort a run over `first_partition` onwards must rebuild.

    Events of the first exported day can still complete journeys that started one window plus
    the late-data allowance earlier; one more day re-marks the cohort that just became final.
    """
    return first_partition - timedelta(days=longest_window_days + late_data_days + 1)


# The warehouse folder dbt reads the lake from and writes its DuckDB file into (profiles.yml,
# the lake sources); passed with the run's vars, so no process environment is changed.
WAREHOUSE_DIR_VAR = "microfunnel__warehouse_dir"
# DuckDB's memory limit for dbt's connections (profiles.yml); spills go under the warehouse.
MEMORY_LIMIT_VAR = "microfunnel__memory_limit"
# The ISO code all spend is converted to (int_ad_spend_daily).
REPORTING_CURRENCY_VAR = "microfunnel__reporting_currency"
VARS_FLAG = "--vars"


def dbt_vars(
    reprocess_from_date: date | None,
    late_data_days: int,
    warehouse_dir: Path | None = None,
    memory_limit: str | None = None,
    reporting_currency: str | None = None,
) -> dict[str, object]:
    variables: dict[str, object] = {
        "microfunnel__reprocess_from": (
            reprocess_from_date.isoformat() if reprocess_from_date else None
        ),
        LATE_DATA_DAYS_VAR: late_data_days,
    }
    if warehouse_dir is not None:
        variables[WAREHOUSE_DIR_VAR] = str(warehouse_dir)
    if memory_limit is not None:
        variables[MEMORY_LIMIT_VAR] = memory_limit
    if reporting_currency is not None:
        variables[REPORTING_CURRENCY_VAR] = reporting_currency
    return variables


def dbt_build_args(variables: dict[str, object], target: str = "duckdb") -> list[str]:
    """`dbt build` with the run's vars on `target` (profiles.yml: duckdb or spark)."""
    # dbt unit tests check the SQL, not the data: they run in the test suite, not every night.
    return [
        "build",
        VARS_FLAG,
        json.dumps(variables, sort_keys=True),
        "--target",
        target,
        "--exclude-resource-type",
        "unit_test",
    ]


def warehouse_dir_in(args: Sequence[str]) -> Path | None:
    """The warehouse folder named in a dbt command line's --vars, if any."""
    for flag, value in itertools.pairwise(args):
        if flag == VARS_FLAG:
            warehouse = json.loads(value).get(WAREHOUSE_DIR_VAR)
            return Path(warehouse) if warehouse else None
    return None
