"""The README's own-exports walkthrough works when pasted into a shell, as written."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- walkthrough:start -->\n```sh\n(.*?)```\n<!-- walkthrough:end -->", re.S)


def test_the_readme_walkthrough_runs_as_pasted(tmp_path: Path) -> None:
    if Path(sys.executable).parent != REPO / ".venv" / "bin":
        pytest.skip("the walkthrough calls .venv/bin/microfunnel: run the tests from .venv")
    if shutil.which("openssl") is None:
        pytest.skip("the walkthrough generates its key with openssl, which is not installed")
    match = BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no walkthrough block"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROFUNNEL_")}
    env.update(HOME=str(tmp_path), DAGSTER_HOME=str(tmp_path / "dagster_home"))
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", match.group(1)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = tmp_path / "microfunnel" / "warehouse" / "reporting" / "funnel_report.html"
    assert result.stdout.rstrip().endswith(str(report))
    assert report.is_file()
    reporting = report.parent / "reporting.duckdb"
    with duckdb.connect(str(reporting), read_only=True) as con:
        first, last, days = con.execute(
            "select min(cohort_date), max(cohort_date), count(distinct cohort_date) "
            "from agg_funnel_stages_daily"
        ).fetchone()
    # The exports are days in UTC, cut in Europe/Berlin: the last hours of May 7 are May 8 there.
    assert str(first) >= "2024-05-01" and str(last) <= "2024-05-08" and days >= 7
