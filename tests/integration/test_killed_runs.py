"""A run killed with SIGKILL (OOM killer, reboot, lost terminal) at ingest, dbt or publish never
blocks the next one: its dbt child dies with it, the next run reclaims its pool slots and marks
it failed (saying so), and the marts after recovery equal those of a run that was never killed.

Everything is real: `microfunnel run` processes, SIGKILL from outside, the Dagster instance.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.lib.dagster_home import write_instance_config
from pipelines.lib.generator import generate_exports
from pipelines.lib.processes import is_alive
from pipelines.lib.settings import ENV_PSEUDONYMIZATION_KEY
from tests.pipeline_environment import SESSION_KEY

pytestmark = pytest.mark.slow

START, END = date(2024, 3, 1), date(2024, 3, 2)
BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[2]
RECOVERED = "Recovered from an interrupted run"
# Columns stamped with the time of the run that wrote them.
VOLATILE_COLUMNS = {"loaded_at", "published_at", "built_at"}


def _env(root: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROFUNNEL_")}
    env.update(
        MICROFUNNEL_LANDING_DIR=str(landing),
        MICROFUNNEL_WAREHOUSE_DIR=str(root / "warehouse"),
        MICROFUNNEL_START_DATE=START.isoformat(),
        DAGSTER_HOME=str(root / "dagster_home"),
        PYTHONUNBUFFERED="1",
    )
    env[ENV_PSEUDONYMIZATION_KEY] = SESSION_KEY
    write_instance_config(root / "dagster_home")
    return env


def _command() -> list[str]:
    return [str(BIN / "microfunnel"), "run", "--start", str(START), "--end", str(END)]


def _run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(), env=env, cwd=REPO, capture_output=True, text=True, timeout=900
    )


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2 :].split()[1]) == pid:
            found.append((int(entry.name), cmdline))
    return found


def _dbt_child(pid: int) -> int | None:
    return next((child for child, cmd in _children(pid) if " build " in cmd), None)


def _step_started(dagster_home: Path, steps: set[str]) -> bool:
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        runs = instance.get_runs(limit=1)
        if not runs or runs[0].is_finished:
            return False
        records = instance.get_records_for_run(
            runs[0].run_id, of_type=dg.DagsterEventType.STEP_START
        ).records
    return any(r.event_log_entry.step_key in steps for r in records)


def _kill_when(
    env: dict[str, str], ready: Callable[[subprocess.Popen], bool]
) -> tuple[subprocess.Popen, str]:
    """Start a run, SIGKILL it once `ready(process)` holds; return it and its output."""
    process = subprocess.Popen(
        _command(), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 600
    while not ready(process):
        assert process.poll() is None, f"the run ended before the kill:\n{process.stdout.read()}"
        assert time.monotonic() < deadline, "the run never reached the phase to kill it in"
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=60)
    return process, output


def _marts(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse / "reporting" / "reporting.duckdb"), read_only=True) as con:
        tables = [
            row[0] for row in con.execute("select table_name from duckdb_tables()").fetchall()
        ]
        marts = {}
        for table in tables:
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from duckdb_columns() where table_name = ?", [table]
                ).fetchall()
                if row[0] not in VOLATILE_COLUMNS
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            marts[table] = con.execute(f'select {select} from "{table}" order by all').fetchall()
    return marts


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("killed_runs_landing")
    generate_exports(root, START, END, events_per_day=4000, seed=11)
    return root


@pytest.fixture(scope="module")
def clean_marts(tmp_path_factory: pytest.TempPathFactory, landing: Path) -> dict[str, list]:
    root = tmp_path_factory.mktemp("clean_run")
    result = _run(_env(root, landing))
    assert result.returncode == 0, result.stdout + result.stderr
    return _marts(root / "warehouse")


def test_runs_killed_at_ingest_dbt_and_publish_leave_nothing_that_blocks_or_changes_the_marts(
    tmp_path: Path, landing: Path, clean_marts: dict[str, list]
) -> None:
    env = _env(tmp_path, landing)
    home = tmp_path / "dagster_home"

    # 1. Killed while ingesting.
    _, output = _kill_when(
        env, lambda p: _step_started(home, {"ingest_site_events", "ingest_ad_reports"})
    )
    assert RECOVERED not in output

    # 2. Killed while dbt builds: the dbt child goes with it, before anything else can start.
    dbt_pids: list[int] = []

    def dbt_running(process: subprocess.Popen) -> bool:
        child = _dbt_child(process.pid)
        if child:
            dbt_pids.append(child)
            time.sleep(1.0)  # let dbt get going: it is writing when the run dies
        return bool(child)

    _, output = _kill_when(env, dbt_running)
    assert RECOVERED in output, output  # the ingest kill was reclaimed by this run
    deadline = time.monotonic() + 10
    while is_alive(dbt_pids[0]) and _state(dbt_pids[0]) != "Z":
        assert time.monotonic() < deadline, "dbt outlived the run that was killed"
        time.sleep(0.1)

    # 3. Killed while publishing.
    _, output = _kill_when(
        env, lambda p: _step_started(home, {"reporting_duckdb", "reporting_parquet"})
    )
    assert RECOVERED in output, output

    # 4. The next run reclaims, says so, completes; the marts equal a clean run's.
    result = _run(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert RECOVERED in result.stdout
    assert "released the pool slots" in result.stdout
    with dg.DagsterInstance.from_config(str(home)) as instance:
        statuses = [run.status for run in instance.get_runs()]
        assert not instance.event_log_storage.get_concurrency_run_ids()
    assert statuses.count(dg.DagsterRunStatus.FAILURE) == 3
    assert statuses[0] == dg.DagsterRunStatus.SUCCESS
    assert _marts(tmp_path / "warehouse") == clean_marts


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "gone"
    return stat[stat.rindex(")") + 2 :].split()[0]


def test_a_run_waiting_for_a_pool_names_the_run_that_holds_it_and_stops_on_sigterm(
    tmp_path: Path, landing: Path
) -> None:
    """A live run of the same instance holding the DuckDB pool (as one launched from the UI
    would) makes the next CLI run wait and say which run it waits for; SIGTERM ends the wait
    at once and leaves the holder's slot alone."""
    env = _env(tmp_path, landing)
    home = tmp_path / "dagster_home"
    holder_id = "feedface-0000-4000-8000-000000000000"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_run(
            dg.DagsterRun(
                job_name="ui_launched", run_id=holder_id, status=dg.DagsterRunStatus.STARTED
            )
        )
        # What a UI-launched run's step does when it takes the pool.
        instance.event_log_storage.initialize_concurrency_limit_to_default("microfunnel_duckdb")
        instance.event_log_storage.claim_concurrency_slot("microfunnel_duckdb", holder_id, "step")
    process = subprocess.Popen(
        _command(), env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = ""
    deadline = time.monotonic() + 120
    try:
        while "to release pool microfunnel_duckdb" not in output:
            assert time.monotonic() < deadline and process.poll() is None, output
            output += process.stdout.readline()
    except AssertionError:
        process.kill()
        raise
    assert "waiting for run feedface" in output
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 130
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.event_log_storage.get_concurrency_run_ids() == {holder_id}
        assert [run.run_id for run in instance.get_runs()] == [holder_id]
