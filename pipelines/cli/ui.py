"""`microfunnel ui`: the Dagster UI (`dg dev`) that stops completely when it is stopped.

`dg dev` starts a webserver, a daemon and code servers. It runs in a session of its own, so that
however this command ends (Ctrl-C, SIGTERM from a service manager, a closed terminal), the whole
group is asked to stop, then made to; and the kernel signals it if this process is killed
outright, so nothing is left listening on the port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from pipelines.lib.processes import die_with_parent, stop_process_group
from pipelines.lib.settings import REPO_ROOT

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: object) -> None:
    raise _Stop(signum)


def _child_setup() -> None:
    """In the child before exec: default signal handling (a shell's `&` starts programs with
    SIGINT ignored, and Dagster hands SIGTERM to SIGINT's handler), and die with this process."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    die_with_parent(signal.SIGINT)


def serve_ui(port: int, host: str, env: Mapping[str, str]) -> int:
    """Run the UI until it exits or this process is asked to stop; return its exit code.

    `env` is the UI's whole environment: its code servers read their settings from it.
    """
    venv_bin = Path(sys.executable).parent
    dg = str(venv_bin / "dg")
    # dagster-dbt finds dbt on PATH when `dg dev` re-parses the project (prepare_if_dev).
    env = {**env, "PATH": os.pathsep.join([str(venv_bin), env.get("PATH", os.defpath)])}
    command = [
        dg,
        "dev",
        "--workspace",
        str(REPO_ROOT / "workspace.yaml"),
        "--port",
        str(port),
        "--host",
        host,
    ]
    previous = {sig: signal.signal(sig, _raise_stop) for sig in _STOP_SIGNALS}
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,  # our signals reach it through stop_process_group only
        preexec_fn=_child_setup,
    )
    try:
        return process.wait()
    except _Stop:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_process_group(process)
