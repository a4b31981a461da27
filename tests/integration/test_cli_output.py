"""A quiet `microfunnel run` through the real CLI, Dagster and dbt: progress and a summary on
the console, everything the steps print in the run's folder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pipelines.lib.settings import ENV_PSEUDONYMIZATION_KEY
from tests.cli_runner import run_cli
from tests.pipeline_environment import SESSION_KEY

pytestmark = pytest.mark.slow


def _cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return run_cli(home, *args, **env)


def test_quiet_run_output_has_no_dbt_lines_or_colour_codes_and_stays_short(tmp_path: Path) -> None:
    """A real one-day run through the CLI prints progress and a summary, not dbt's log."""
    landing = tmp_path / "landing"
    generate = _cli(
        tmp_path, "generate", "--start", "2024-03-01", "--end", "2024-03-01",
        "--events-per-day", "500",
    )  # fmt: skip
    assert generate.returncode == 0, generate.stderr
    assert landing.is_dir()
    result = _cli(
        tmp_path, "run", "--start", "2024-03-01", "--end", "2024-03-01",
        MICROFUNNEL_START_DATE="2024-03-01", **{ENV_PSEUDONYMIZATION_KEY: SESSION_KEY},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "\x1b[" not in output
    assert "START sql" not in output and "Running with dbt" not in output
    assert "Warning" not in output  # library warnings are not the operator's business
    assert len(output.splitlines()) < 60
    for phase in ("ingest", "transform", "publish"):
        assert any(line.startswith(f"  ✓ {phase}") for line in result.stdout.splitlines())
    run_folders = list((tmp_path / "warehouse" / "runs").iterdir())
    assert len(run_folders) == 1
    assert "START sql" in (run_folders[0] / "output.log").read_text()
    assert (run_folders[0] / "dbt.log").is_file()
