"""Follow a run's Dagster event log and turn it into phase progress a person can read.

The run executes in the main thread (Dagster needs it for interrupts); a watcher thread reads the
run's events from the instance as they are stored and keeps a `RunProgress`: per phase (ingest,
transform, publish) the steps done, dbt models built out of the total, checks evaluated, warnings
and failures. The console decides how to draw it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dagster as dg
from dagster._utils.error import SerializableErrorInfo

INGEST, TRANSFORM, PUBLISH = "ingest", "transform", "publish"
PHASES = (INGEST, TRANSFORM, PUBLISH)
# Asset group -> phase; dbt's layers (staging, intermediate, marts) are the transform phase.
_GROUP_PHASES = {"landing": INGEST, "ingest": INGEST, "publish": PUBLISH}
_POLL_SECONDS = 0.5


@dataclass
class PhaseProgress:
    name: str
    steps_total: int = 0
    steps_done: int = 0
    models_total: int = 0
    models_done: int = 0
    checks_done: int = 0
    checks_failed: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    rows_loaded: int = 0
    rows_quarantined: int = 0
    files_read: int = 0

    @property
    def is_running(self) -> bool:
        return self.started_at is not None and self.finished_at is None

    @property
    def seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        return (self.finished_at or time.monotonic()) - self.started_at


@dataclass
class StepFailure:
    step: str
    phase: str
    message: str


@dataclass
class RunProgress:
    phases: dict[str, PhaseProgress]
    failures: list[StepFailure] = field(default_factory=list)


@dataclass(frozen=True)
class RunLayout:
    """Which phase each step belongs to and how many dbt models the transform step builds."""

    step_phases: dict[str, str]
    dbt_model_keys: frozenset[dg.AssetKey]

    @classmethod
    def of(cls, defs: dg.Definitions) -> RunLayout:
        step_phases: dict[str, str] = {}
        models = set()
        for spec in defs.resolve_all_asset_specs():
            assets_def = defs.resolve_assets_def(spec.key)
            if not assets_def.is_executable:
                continue
            phase = _GROUP_PHASES.get(spec.group_name or "", TRANSFORM)
            step_phases[assets_def.node_def.name] = phase
            if phase == TRANSFORM:
                models.add(spec.key)
        return cls(step_phases, frozenset(models))

    def new_progress(self) -> RunProgress:
        phases = {name: PhaseProgress(name) for name in PHASES}
        for phase in self.step_phases.values():
            phases[phase].steps_total += 1
        phases[TRANSFORM].models_total = len(self.dbt_model_keys)
        return RunProgress(phases)


class RunWatcher:
    """Polls the instance for a run's new events in a thread; calls `on_change` after each batch
    and `on_message(level, text)` for warnings and pool waits worth showing."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        run_id: str,
        layout: RunLayout,
        on_change: Callable[[RunProgress], None],
        on_message: Callable[[str, str], None],
    ) -> None:
        self._instance = instance
        self._run_id = run_id
        self._layout = layout
        self._on_change = on_change
        self._on_message = on_message
        self.progress = layout.new_progress()
        self._cursor: str | None = None
        self._blocked: set[str | None] = set()
        self._materialized: set[dg.AssetKey] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="microfunnel-progress", daemon=True)

    def __enter__(self) -> RunWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._drain()  # the events stored after the last poll

    def _loop(self) -> None:
        while not self._stop.wait(_POLL_SECONDS):
            self._drain()

    def _drain(self) -> None:
        changed = False
        while True:
            result = self._instance.get_records_for_run(self._run_id, cursor=self._cursor)
            for record in result.records:
                changed = self._apply(record.event_log_entry) or changed
            self._cursor = result.cursor
            if not result.has_more:
                break
        if changed or any(p.is_running for p in self.progress.phases.values()):
            self._on_change(self.progress)

    def _apply(self, entry: dg.EventLogEntry) -> bool:
        event = entry.dagster_event
        if event is None:
            # logging.WARNING and above: what the assets warn about (empty day...)
            if isinstance(entry.level, int) and entry.level >= logging.WARNING:
                self._on_message("warning", entry.user_message)
            return False
        phase_name = self._layout.step_phases.get(event.step_key or "")
        phase = self.progress.phases.get(phase_name) if phase_name else None
        kind = event.event_type
        now = time.monotonic()
        if kind == dg.DagsterEventType.ENGINE_EVENT and "blocked by limit for pool" in (
            entry.user_message or ""
        ):
            if event.step_key not in self._blocked:  # Dagster repeats it every few seconds
                self._blocked.add(event.step_key)
                self._on_message("wait", f"step {event.step_key}: {entry.user_message}")
            return False
        if phase is None:
            return False
        if kind == dg.DagsterEventType.STEP_START:
            phase.started_at = phase.started_at or now
        elif kind in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            phase.steps_done += 1
            if phase.steps_done >= phase.steps_total:
                phase.finished_at = now
            if kind == dg.DagsterEventType.STEP_FAILURE:
                error = event.step_failure_data.error
                message = _first_line(_user_error(error).message if error else entry.user_message)
                self.progress.failures.append(
                    StepFailure(event.step_key or "?", phase.name, message)
                )
        elif kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            self._count_materialization(phase, event)
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            phase.checks_done += 1
            if not event.asset_check_evaluation_data.passed:
                phase.checks_failed += 1
        else:
            return False
        return True

    def _count_materialization(self, phase: PhaseProgress, event: dg.DagsterEvent) -> None:
        # A range run stores one materialization per asset and partition, each with the same
        # metadata: count each asset once.
        key = event.asset_key
        if key is None or key in self._materialized:
            return
        self._materialized.add(key)
        if key in self._layout.dbt_model_keys:
            phase.models_done += 1
        if key.path[-1].endswith("_quarantine"):
            return  # a quarantine table reports the same per-file counts as its table
        metadata = event.step_materialization_data.materialization.metadata
        for name in ("rows_loaded", "rows_quarantined", "files_read"):
            entry = metadata.get(name)
            if entry is not None and isinstance(entry.value, int):
                setattr(phase, name, getattr(phase, name) + entry.value)


def _user_error(error: SerializableErrorInfo) -> SerializableErrorInfo:
    """The error the asset raised, not Dagster's "Error occurred while executing op" wrapper."""
    while error.cause is not None and (error.cls_name or "").startswith("Dagster"):
        error = error.cause
    return error


def _first_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[0] if lines else "(no message)"
