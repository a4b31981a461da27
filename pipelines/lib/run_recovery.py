"""Reclaim what a killed run left behind, before the next run starts.

A run killed with SIGKILL (the OOM killer, a reboot, a closed terminal) never reports its end:
Dagster keeps it "started" and keeps the pool slots it claimed, so every later run waits on the
pool forever. The warehouse run lock proves such a run is dead (a live run holds the lock), so
while holding the lock the next run marks it failed, releases its slots and stops any child
process it left (see processes.children), and says what it did.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from pipelines.lib.processes.children import stop_leftover_children

WAREHOUSE_TAG = "microfunnel/warehouse"
PID_TAG = "microfunnel/pid"
_UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class Recovery:
    """What was reclaimed: runs marked failed, runs whose pool slots were released, pids killed."""

    failed_runs: tuple[str, ...] = ()
    released_slots_of: tuple[str, ...] = ()
    killed_children: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.failed_runs or self.released_slots_of or self.killed_children)

    def describe(self) -> str:
        parts = []
        if self.failed_runs:
            runs = ", ".join(run_id[:8] for run_id in self.failed_runs)
            parts.append(f"marked interrupted run(s) {runs} as failed")
        if self.released_slots_of:
            runs = ", ".join(run_id[:8] for run_id in self.released_slots_of)
            parts.append(f"released the pool slots held by {runs}")
        if self.killed_children:
            pids = ", ".join(str(pid) for pid in self.killed_children)
            parts.append(f"stopped leftover process(es) {pids}")
        return "Recovered from an interrupted run: " + "; ".join(parts) + "."


def recover_interrupted_runs(instance: dg.DagsterInstance, warehouse_dir: Path) -> Recovery:
    """Call with the warehouse run lock held. Runs of other warehouses are left alone."""
    killed = stop_leftover_children(warehouse_dir)
    dead = instance.get_runs(
        filters=dg.RunsFilter(statuses=_UNFINISHED, tags={WAREHOUSE_TAG: str(warehouse_dir)})
    )
    for run in dead:
        instance.report_run_failed(
            run,
            message=(
                f"The process running this run (pid {run.tags.get(PID_TAG, '?')}) stopped "
                "without finishing (killed?); marked failed by the next microfunnel run."
            ),
        )
    released = []
    storage = instance.event_log_storage
    for run_id in sorted(storage.get_concurrency_run_ids()):
        holder = instance.get_run_by_id(run_id)
        # Slots of this warehouse's dead runs, and of any run that has ended (a leak).
        ours = holder is not None and holder.tags.get(WAREHOUSE_TAG) == str(warehouse_dir)
        if holder is None or holder.is_finished or ours:
            storage.free_concurrency_slots_for_run(run_id)
            released.append(run_id)
    return Recovery(
        failed_runs=tuple(run.run_id for run in dead),
        released_slots_of=tuple(released),
        killed_children=tuple(killed),
    )
