"""A ledger of the child processes a run starts, so the next run can stop any left behind.

Each child writes `<warehouse>/.microfunnel-children/<pid>` with its kernel start time. A child
of a run that was killed outright should already be dead (`die_with_parent`); where the kernel
cannot guarantee that, the next run finds it here and stops it before touching the files.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from pipelines.lib.processes.lifetime import is_alive, process_started_at

LEDGER_DIR = ".microfunnel-children"


def record_child(warehouse_dir: Path, pid: int | None = None) -> Path:
    pid = pid or os.getpid()
    ledger = Path(warehouse_dir) / LEDGER_DIR
    ledger.mkdir(parents=True, exist_ok=True)
    entry = ledger / str(pid)
    entry.write_text(process_started_at(pid) or "")
    return entry


def stop_leftover_children(warehouse_dir: Path) -> list[int]:
    """SIGKILL every recorded child that still runs; clear the ledger. Returns the pids killed.

    Call it only while holding the warehouse run lock: no live run owns these children then.
    """
    ledger = Path(warehouse_dir) / LEDGER_DIR
    killed = []
    for entry in sorted(ledger.glob("*")) if ledger.is_dir() else []:
        if entry.name.isdigit() and is_alive(int(entry.name), entry.read_text().strip() or None):
            try:
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
            except ProcessLookupError:
                pass
        entry.unlink(missing_ok=True)
    return killed
