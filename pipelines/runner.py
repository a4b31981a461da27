"""Run the nightly job in this process, recorded in the Dagster instance (visible in the UI)."""

from __future__ import annotations

import sys
from datetime import date

import dagster as dg

from pipelines.defs.automation.schedules import NIGHTLY_JOB_NAME
from pipelines.lib.run_lock import run_lock
from pipelines.lib.settings import REPO_ROOT, Settings

PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def load_definitions() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=REPO_ROOT)


def run_nightly_job(start: date, end: date, instance: dg.DagsterInstance | None = None) -> bool:
    """One run for the whole range: single-run backfill policy, one dbt invocation.

    Holds the warehouse run lock for the whole run, so two `microfunnel run` processes on one
    warehouse run one after the other (in-process runs bypass the run queue and its pools).
    """
    with run_lock(Settings.from_env().warehouse_dir, say=_say):
        return _execute(start, end, instance)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _execute(start: date, end: date, instance: dg.DagsterInstance | None) -> bool:
    job = load_definitions().resolve_job_def(NIGHTLY_JOB_NAME)
    result = job.execute_in_process(
        instance=instance or dg.DagsterInstance.get(),
        # Step progress at INFO; the full event log stays in the instance for the UI.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        tags={
            PARTITION_RANGE_START_TAG: start.isoformat(),
            PARTITION_RANGE_END_TAG: end.isoformat(),
            "microfunnel/trigger": "cli",
        },
        raise_on_error=False,
    )
    return result.success
