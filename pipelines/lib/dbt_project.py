"""The dbt project as dagster-dbt sees it, and the `dbt parse` that writes its manifest.

The asset definitions are built from `dbt_project/target/manifest.json`. Entry points prepare it
before definitions load: the CLI before a run, `make prepare`, the test session, and `dg dev`
through `prepare_if_dev()`. Loading definitions never parses on its own.
"""

from __future__ import annotations

import fcntl
import functools
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from pipelines.lib.settings import DBT_PROJECT_DIR

PREPARE_LOCK = ".prepare.lock"


def _venv_executable(name: str) -> str:
    # The venv's own scripts: the venv need not be on PATH (`.venv/bin/microfunnel` works).
    return str(Path(sys.executable).with_name(name))


@functools.cache
def dbt_project() -> DbtProject:
    """The dbt project; under `dg dev` its manifest is re-parsed on each load."""
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


def prepare_dbt_project() -> Path:
    """Run `dbt parse` so the manifest matches the models; returns the manifest's path.

    Concurrent callers (two test workers) take turns; one that waited finds the manifest just
    written and does not parse again.
    """
    project = dbt_project()
    manifest = project.manifest_path
    manifest.parent.mkdir(parents=True, exist_ok=True)
    before = manifest.stat().st_mtime if manifest.exists() else 0.0
    with (manifest.parent / PREPARE_LOCK).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and manifest.stat().st_mtime > before:
            return manifest
        subprocess.run(
            [_venv_executable("dbt"), "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
            cwd=DBT_PROJECT_DIR,
            check=True,
        )
    return manifest


def dbt_resource() -> DbtCliResource:
    # dbt through `microfunnel-dbt`, which dies with the run that started it (see dbt_child).
    return DbtCliResource(
        project_dir=dbt_project(),
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=_venv_executable("microfunnel-dbt"),
    )
