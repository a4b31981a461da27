"""One pipeline run at a time per warehouse, across processes.

`microfunnel run` executes the job in-process (`execute_in_process`), which does not go through
Dagster's run queue, so the instance's pool limits do not stop two CLI runs from writing the same
lake and DuckDB files at once. `run_lock` takes an exclusive `fcntl.flock` on
`<warehouse>/.microfunnel.lock` for the whole run: a second run waits (and says so) until the
first finishes. The kernel releases the lock when the holder exits, even on SIGKILL, so a crashed
run never blocks the next one. Daemon-launched runs are serialized by the pools in dagster.yaml.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None
try:  # POSIX only; elsewhere runs are not serialized across processes (documented).
    import fcntl as _posix_fcntl

    fcntl = _posix_fcntl
except ImportError:  # pragma: no cover
    fcntl = None

LOCK_NAME = ".microfunnel.lock"
log = logging.getLogger(__name__)


@contextlib.contextmanager
def run_lock(warehouse_dir: Path, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's run lock; wait for the run that holds it, telling `say` first."""
    say = say or log.warning
    warehouse_dir = Path(warehouse_dir)
    warehouse_dir.mkdir(parents=True, exist_ok=True)
    lock_path = warehouse_dir / LOCK_NAME
    with lock_path.open("a+") as handle:
        if fcntl is not None:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                say(f"waiting for another microfunnel run on {warehouse_dir} ({holder}) to finish")
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}\n")
            handle.flush()
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
