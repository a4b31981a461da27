"""What the command line prints: short lines, one live progress line on a terminal.

On a terminal the running phase is one line redrawn in place; elsewhere (CI, a pipe, a log file)
each phase prints when it ends, with a heartbeat line every so often while it runs. Warnings and
notices always print on their own line. Nothing here knows about Dagster.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from pipelines.run_progress import INGEST, PUBLISH, TRANSFORM, PhaseProgress, RunProgress

_HEARTBEAT_SECONDS = 20.0
_SPINNER = "|/-\\"
_LABELS = {INGEST: "ingest", TRANSFORM: "transform", PUBLISH: "publish"}


def _supports_unicode(stream: TextIO) -> bool:
    return (getattr(stream, "encoding", "") or "").lower().replace("-", "") in ("utf8", "utf8sig")


class Console:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.live = self.out.isatty()
        self._lock = threading.Lock()
        self._live_line = ""
        self._spin = 0
        self._reported: set[str] = set()
        self._last_heartbeat = time.monotonic()
        self._heartbeat_phase = ""
        unicode = _supports_unicode(self.out)
        self._ok, self._fail = ("✓", "✗") if unicode else ("ok", "FAILED")

    # --- plain lines -------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        with self._lock:
            self._clear()
            print(text, file=self.out, flush=True)

    def warn(self, text: str) -> None:
        with self._lock:
            self._clear()
            print(f"  ! {text}", file=self.out, flush=True)

    def error(self, text: str) -> None:
        with self._lock:
            self._clear()
            print(f"microfunnel: error: {text}", file=self.err, flush=True)

    # --- run progress ------------------------------------------------------------------------

    def message(self, level: str, text: str) -> None:
        """Messages from a run: warnings from the assets, pool waits, recovery notices."""
        self.warn(text) if level == "warning" else self.say(f"  ~ {text}")

    def progress(self, progress: RunProgress) -> None:
        with self._lock:
            for phase in progress.phases.values():
                if phase.finished_at is not None and phase.name not in self._reported:
                    self._reported.add(phase.name)
                    self._clear()
                    failed = any(f.phase == phase.name for f in progress.failures)
                    mark = self._fail if failed else self._ok
                    print(f"  {mark} {_line(phase)}", file=self.out, flush=True)
            running = [p for p in progress.phases.values() if p.is_running]
            if not running:
                self._clear()
                return
            phase = running[0]
            if phase.name != self._heartbeat_phase:
                self._heartbeat_phase = phase.name
                self._last_heartbeat = time.monotonic()
            if self.live:
                self._spin = (self._spin + 1) % len(_SPINNER)
                self._draw(f"  {_SPINNER[self._spin]} {_line(phase)}")
            elif time.monotonic() - self._last_heartbeat >= _HEARTBEAT_SECONDS:
                self._last_heartbeat = time.monotonic()
                print(f"  . {_line(phase)}", file=self.out, flush=True)

    def finish_run(self, progress: RunProgress) -> None:
        """Close the live line; phases cut short by a failure are shown as not finished."""
        with self._lock:
            self._clear()
            for phase in progress.phases.values():
                if phase.name in self._reported or phase.steps_total == 0:
                    continue
                if phase.started_at is not None:
                    print(f"  {self._fail} {_line(phase)} (stopped)", file=self.out, flush=True)
                else:
                    label = _LABELS[phase.name]
                    print(f"  - {label:<10} not run", file=self.out, flush=True)
                self._reported.add(phase.name)

    def _draw(self, text: str) -> None:
        pad = max(len(self._live_line) - len(text), 0)
        self.out.write("\r" + text + " " * pad)
        self.out.flush()
        self._live_line = text

    def _clear(self) -> None:
        if self.live and self._live_line:
            self.out.write("\r" + " " * len(self._live_line) + "\r")
            self.out.flush()
            self._live_line = ""


def _line(phase: PhaseProgress) -> str:
    label = _LABELS[phase.name]
    if phase.name == TRANSFORM:
        detail = f"{phase.models_done}/{phase.models_total} dbt models"
    else:
        detail = f"{phase.steps_done}/{phase.steps_total} steps"
    if phase.name == INGEST and phase.files_read:
        detail += (
            f", {phase.files_read:,} files: {phase.rows_loaded:,} rows loaded, "
            f"{phase.rows_quarantined:,} quarantined"
        )
    if phase.checks_done:
        failed = f", {phase.checks_failed} failed" if phase.checks_failed else ""
        detail += f" · {phase.checks_done} checks{failed}"
    return f"{label:<10} {detail}  ({phase.seconds:.1f} s)"
