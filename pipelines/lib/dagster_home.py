"""The Dagster instance folder the command line records runs in (DAGSTER_HOME)."""

from __future__ import annotations

from pathlib import Path

INSTANCE_CONFIG = """\
# Written by microfunnel.
# One writer at a time per pool (the DuckDB files and the lake have one writer each).
concurrency:
  pools:
    default_limit: 1
# Runs launched from the UI: a run worker that dies is marked failed and its pool slots are
# freed. Command-line runs are reclaimed by the next `microfunnel run` (run_recovery).
run_monitoring:
  enabled: true
  free_slots_after_run_end_seconds: 30
telemetry:
  enabled: false
"""


def write_instance_config(home: Path) -> Path:
    """Create `home` with microfunnel's dagster.yaml unless one exists (a user's is kept)."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_CONFIG)
    return config
