"""Run the installed `microfunnel` command the way a user does, in a home folder of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run_cli(
    home: Path, *args: str, timeout: float = 900, **env: str
) -> subprocess.CompletedProcess:
    """`microfunnel *args` with MICROFUNNEL_HOME=home and no other MICROFUNNEL_* inherited."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("MICROFUNNEL_")}
    base.update(MICROFUNNEL_HOME=str(home), DAGSTER_HOME=str(home / "dagster_home"))
    base.update(env)
    return subprocess.run(
        [str(BIN / "microfunnel"), *args], env=base, capture_output=True, text=True, timeout=timeout
    )
