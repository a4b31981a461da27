"""Run the nightly job in this process, recorded in the Dagster instance (visible in the UI)."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.definitions import build_definitions
from pipelines.defs.automation.schedules import NIGHTLY_JOB_NAME
from pipelines.defs.shared import DUCKDB_POOL, LAKE_POOL
from pipelines.lib.pools import wait_for_pools
from pipelines.lib.processes.children import stop_leftover_children
from pipelines.lib.run_lock import run_lock
from pipelines.lib.run_recovery import PID_TAG, WAREHOUSE_TAG, Recovery, recover_interrupted_runs
from pipelines.lib.settings import Settings
from pipelines.run_progress import RunLayout, RunProgress, RunWatcher, StepFailure

PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
POOLS = (DUCKDB_POOL, LAKE_POOL)


@dataclass
class RunOutcome:
    """How a run ended; true when it succeeded."""

    run_id: str
    success: bool
    progress: RunProgress
    recovery: Recovery = field(default_factory=Recovery)

    @property
    def failures(self) -> list[StepFailure]:
        return self.progress.failures

    def __bool__(self) -> bool:
        return self.success


@dataclass
class RunObserver:
    """Callbacks for a caller that shows progress; every one is optional."""

    on_progress: Callable[[RunProgress], None] = lambda progress: None
    on_message: Callable[[str, str], None] = lambda level, text: None
    verbose: bool = False


def run_nightly_job(
    settings: Settings,
    start: date,
    end: date,
    instance: dg.DagsterInstance | None = None,
    observer: RunObserver | None = None,
) -> RunOutcome:
    """One run for the whole range: single-run backfill policy, one dbt invocation.

    Holds the warehouse run lock for the whole run, so two `microfunnel run` processes on one
    warehouse run one after the other (in-process runs bypass the run queue and its pools).
    Before starting, reclaims what a killed earlier run left behind (run_recovery).
    """
    observer = observer or RunObserver()
    instance = instance or dg.DagsterInstance.get()
    warehouse = settings.warehouse_dir
    with run_lock(warehouse, say=lambda text: observer.on_message("wait", text)):
        recovery = recover_interrupted_runs(instance, warehouse)
        if recovery:
            observer.on_message("notice", recovery.describe())
        wait_for_pools(instance, POOLS, lambda text: observer.on_message("wait", text))
        try:
            outcome = _execute(start, end, instance, observer, settings)
        finally:
            stop_leftover_children(warehouse)  # a child that outlived an interrupted step
    outcome.recovery = recovery
    return outcome


@contextlib.contextmanager
def _captured_output(log_file: Path | None) -> Iterator[None]:
    """Quiet runs: what steps print (dbt echoes every log line to stdout) goes to `log_file`.

    The console keeps the real streams it was given, so progress still shows.
    """
    if log_file is None:
        yield
        return
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with (
        log_file.open("a", encoding="utf-8") as sink,
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        yield


def _execute(
    start: date,
    end: date,
    instance: dg.DagsterInstance,
    observer: RunObserver,
    settings: Settings,
) -> RunOutcome:
    defs = build_definitions(settings)
    job = defs.resolve_job_def(NIGHTLY_JOB_NAME)
    run_id = str(uuid.uuid4())
    watcher = RunWatcher(
        instance, run_id, RunLayout.of(defs), observer.on_progress, observer.on_message
    )
    # The console logger prints every Dagster and dbt line; quiet unless asked for. The full
    # event log stays in the instance for the UI either way.
    level = "INFO" if observer.verbose else "CRITICAL"
    with watcher, _captured_output(None if observer.verbose else settings.run_output_log(run_id)):
        result = job.execute_in_process(
            instance=instance,
            run_id=run_id,
            run_config={"loggers": {"console": {"config": {"log_level": level}}}},
            tags={
                PARTITION_RANGE_START_TAG: start.isoformat(),
                PARTITION_RANGE_END_TAG: end.isoformat(),
                "microfunnel/trigger": "cli",
                WAREHOUSE_TAG: str(settings.warehouse_dir),
                PID_TAG: str(os.getpid()),
                "microfunnel/host": socket.gethostname(),
            },
            raise_on_error=False,
        )
    return RunOutcome(run_id, result.success, watcher.progress)
