"""The dbt `unit_tests:` of the counting rules run here (the nightly build excludes them): each
passes on the project as it is, and a wrong expectation makes dbt fail."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.dbt_sql import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow
UNIT_TEST_FILE = Path("models/marts/fct_funnel_journeys.yml")


def _dbt_unit_tests(project_dir: Path, work_dir: Path) -> subprocess.CompletedProcess[str]:
    warehouse = work_dir / "warehouse"
    warehouse.mkdir(parents=True, exist_ok=True)
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
            "--vars",
            json.dumps({"microfunnel__warehouse_dir": str(warehouse)}),
            "--no-partial-parse",
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def _unit_test_names(project_dir: Path) -> list[str]:
    spec = yaml.safe_load((project_dir / UNIT_TEST_FILE).read_text())
    return [test["name"] for test in spec.get("unit_tests", [])]


def test_every_counting_rule_unit_test_passes(tmp_path: Path) -> None:
    result = _dbt_unit_tests(DBT_PROJECT_DIR, tmp_path)
    assert result.returncode == 0, result.stdout[-4000:]
    names = _unit_test_names(DBT_PROJECT_DIR)
    assert len(names) >= 9
    for name in names:
        assert name in result.stdout


def test_a_wrong_expectation_fails_the_unit_tests(tmp_path: Path) -> None:
    project = tmp_path / "dbt_project"
    shutil.copytree(
        DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages")
    )
    spec_path = project / UNIT_TEST_FILE
    spec = yaml.safe_load(spec_path.read_text())
    first = spec["unit_tests"][0]
    rows = first["expect"]["rows"]
    rows.append(dict(rows[0]))  # one journey more than the rule produces
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False))
    result = _dbt_unit_tests(project, tmp_path)
    assert result.returncode != 0
    assert first["name"] in result.stdout
