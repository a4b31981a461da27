"""Tie a child's life to its parent's, and tell a live process from a recycled pid.

A run killed with SIGKILL cannot clean up after itself: the kernel must do it. On Linux,
`prctl(PR_SET_PDEATHSIG)` makes the kernel signal the child the moment its parent dies, which
is the only guarantee that survives SIGKILL of the parent. Elsewhere this is a no-op and the
next run reclaims what is left (see run_recovery).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send `sig` to this process when its parent dies; True if it will.

    Call it first thing in the child (before exec: the setting survives exec). If the parent is
    already gone (adopted by init or a subreaper), exit at once instead of running orphaned.
    """
    if not sys.platform.startswith("linux"):
        return False
    parent = os.getppid()
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    if os.getppid() != parent or parent == 1:
        os._exit(1)  # the parent died before the request took effect
    return True


def process_started_at(pid: int) -> str | None:
    """The kernel's start time of `pid` (clock ticks since boot), or None if it is gone.

    Stored beside a pid, it tells the process that was recorded from a later one that reused
    the number. Linux only; None elsewhere.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[19]  # field 22 of proc(5): starttime


def is_alive(pid: int, started_at: str | None = None) -> bool:
    """True if `pid` runs (and, when given, is the process that started at `started_at`)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if started_at is None:
        return True
    return process_started_at(pid) in (started_at, None)
