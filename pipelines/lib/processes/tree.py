"""Stop a process group politely, then firmly: nothing it started is left running."""

from __future__ import annotations

import os
import signal
import subprocess
import time

# Ask first (the Dagster UI shuts its webserver, daemon and code servers down on SIGINT),
# then insist, then kill whatever still runs in the group.
_STEPS = ((signal.SIGINT, 15.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0))


def stop_process_group(process: subprocess.Popen, steps=_STEPS) -> int | None:
    """Stop `process`, started with `start_new_session=True`, and every process in its group.

    Returns the leader's exit code (None if it could not be reaped).
    """
    group = process.pid  # the session leader's pid is its group id
    for sig, grace in steps:
        if not _group_alive(group):
            break
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(group):
            process.poll()  # reap the leader so its pid does not linger as a zombie
            time.sleep(0.1)
    try:
        return process.wait(timeout=1)
    except subprocess.TimeoutExpired:
        return None


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
