"""`microfunnel ui` stops completely: after SIGTERM (a service manager, `make` being stopped) or
SIGKILL of the command, no Dagster webserver, daemon or code server is left running."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pipelines.lib.dagster_home import write_instance_config
from pipelines.lib.settings import ENV_PSEUDONYMIZATION_KEY
from tests.pipeline_environment import SESSION_KEY

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, start time) of every process."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        table[int(entry.name)] = (int(fields[1]), fields[0], fields[19])
    return table


def _tree(root: int) -> set[tuple[int, str]]:
    """(pid, start time) of `root` and every process descended from it."""
    table = _processes()
    found, frontier = set(), [root]
    while frontier:
        pid = frontier.pop()
        if pid in table:
            found.add((pid, table[pid][2]))
            frontier += [child for child, (parent, _, _) in table.items() if parent == pid]
    return found


def _still_running(tree: set[tuple[int, str]]) -> list[int]:
    table = _processes()
    return [
        pid
        for pid, started in tree
        if pid in table and table[pid][2] == started and table[pid][1] != "Z"
    ]


def _start_ui(tmp_path: Path) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROFUNNEL_")}
    env.update(
        MICROFUNNEL_HOME=str(tmp_path),
        DAGSTER_HOME=str(tmp_path / "dagster_home"),
    )
    env[ENV_PSEUDONYMIZATION_KEY] = SESSION_KEY
    write_instance_config(tmp_path / "dagster_home")
    process = subprocess.Popen(
        [str(BIN / "microfunnel"), "ui", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 300
    while True:
        assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                break
        except OSError:
            assert time.monotonic() < deadline, "the UI never answered"
            time.sleep(1)
    return process, port


def _wait_until_gone(tree: set[tuple[int, str]], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while (left := _still_running(tree)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


def test_sigterm_to_the_ui_command_stops_every_dagster_process(tmp_path: Path) -> None:
    process, _ = _start_ui(tmp_path)
    tree = _tree(process.pid)
    assert len(tree) >= 4  # microfunnel, dg dev, webserver, daemon, code servers
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert _wait_until_gone(tree, 30) == []
    output = process.stdout.read().decode() if process.stdout else ""
    assert "SupersessionWarning" not in output and "superseded" not in output


def test_sigkill_of_the_ui_command_still_stops_every_dagster_process(tmp_path: Path) -> None:
    process, _ = _start_ui(tmp_path)
    tree = _tree(process.pid)
    assert len(tree) >= 4
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert _wait_until_gone(tree, 60) == []
