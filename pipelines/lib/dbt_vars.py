"""How a partition range becomes dbt arguments: small pure functions, unit-tested."""

from __future__ import annotations

import json
from datetime import date, timedelta


def reprocess_from(first_partition: date, longest_window_days: int, late_data_days: int) -> date:
    """Earliest cohort a run over `first_partition` onwards must rebuild.

    Events of the first exported day can still complete journeys that started one window plus
    the late-data allowance earlier; one more day re-marks the cohort that just became final.
    """
    return first_partition - timedelta(days=longest_window_days + late_data_days + 1)


def dbt_vars(reprocess_from_date: date | None, late_data_days: int) -> dict[str, object]:
    return {
        "microfunnel__reprocess_from": (
            reprocess_from_date.isoformat() if reprocess_from_date else None
        ),
        "microfunnel__late_data_days": late_data_days,
    }


def dbt_build_args(variables: dict[str, object]) -> list[str]:
    return ["build", "--vars", json.dumps(variables, sort_keys=True)]
