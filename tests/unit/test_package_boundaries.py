"""Who may import whom: the production package ships no test code (nothing under pipelines/
imports `tests`, where the Python oracles live, or an oracle module by its old name), and the
benchmarks and the shared harness/ stand apart from the tests."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PIPELINES = REPO / "pipelines"
ORACLE_NAMES = {"funnel_reference", "mart_reference", "comparison_reference", "journey_groups"}


def imported_modules(path: Path) -> set[str]:
    """Every module an import statement of the file names, with `from x import y` giving both x
    and x.y (y may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def is_test_code(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "tests" or not ORACLE_NAMES.isdisjoint(parts)


def test_no_pipelines_module_imports_tests_or_the_oracles() -> None:
    offenders = {
        f"{path.relative_to(PIPELINES.parent)}: {module}"
        for path in sorted(PIPELINES.rglob("*.py"))
        for module in imported_modules(path)
        if is_test_code(module)
    }
    assert not offenders, sorted(offenders)


def test_the_oracles_are_not_in_the_package() -> None:
    stray = [p.name for p in PIPELINES.rglob("*.py") if p.stem in ORACLE_NAMES]
    assert not stray


@pytest.mark.parametrize("folder", ["benchmarks", "harness"])
def test_benchmarks_and_harness_do_not_import_tests(folder: str) -> None:
    offenders = {
        f"{path.relative_to(REPO)}: {module}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[0] == "tests"
    }
    assert not offenders, sorted(offenders)


def test_tests_import_no_test_module_nor_conftest() -> None:
    """Shared fixtures live in a conftest.py, shared helpers in plain modules (tests/*.py)."""
    offenders = {
        f"{path.relative_to(REPO)}: {module}"
        for path in sorted((REPO / "tests").rglob("*.py"))
        for module in imported_modules(path)
        if module.split(".")[-1].startswith("test_") or "conftest" in module.split(".")
    }
    assert not offenders, sorted(offenders)


def test_the_check_sees_a_test_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import os\nfrom tests.reference import funnel\nfrom pipelines.lib import mart_reference\n"
    )
    found = {m for m in imported_modules(module) if is_test_code(m)}
    assert found == {"tests.reference", "tests.reference.funnel", "pipelines.lib.mart_reference"}
