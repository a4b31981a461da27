"""Defaults set once, as dbt vars in dbt_project.yml, that Python needs too: the most stages a
funnel may have and the late-data allowance. Read from that file, never repeated here."""

from __future__ import annotations

import functools
from typing import Any

import yaml

MAX_STAGES_VAR = "microfunnel__max_stages"
LATE_DATA_DAYS_VAR = "microfunnel__late_data_days"


@functools.cache
def _project_vars() -> dict[str, Any]:
    # Imported here: settings takes its late-data default from this module.
    from pipelines.lib.settings import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return dict(project["vars"])


def max_stages() -> int:
    """Stage columns the journey marts have: a funnel may have this many stages at most."""
    return int(_project_vars()[MAX_STAGES_VAR])


def default_late_data_days() -> int:
    """Days after a cohort's window during which late events are still expected."""
    return int(_project_vars()[LATE_DATA_DAYS_VAR])
