"""Load the reviewed GX suites in `expectations/` and refuse any that GX would quietly shrink.

`gx.ExpectationSuite(...)` drops an invalid expectation with only a log line, and a pydantic
error on bad kwargs escapes it unlabelled. Here every expectation is built on its own first, so
a broken file fails loudly with the file, the index and the type.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipelines.lib.settings import EXPECTATIONS_DIR

if TYPE_CHECKING:
    # Importing GX takes seconds; Dagster loads this package, so GX is imported on first use.
    import great_expectations as gx
    from great_expectations.expectations.expectation import Expectation

Severity = Literal["error", "warning"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

# GX 1.x has its own severity field; keep it in step with ours so Data Docs agree.
NATIVE_SEVERITY: dict[str, str] = {"error": "critical", "warning": "warning"}


class SuiteLoadError(ValueError):
    """A suite file is missing, malformed, or holds an expectation GX cannot build."""


def suite_path(name: str, expectations_dir: Path = EXPECTATIONS_DIR) -> Path:
    return Path(expectations_dir) / f"{name}.json"


def suite_names(expectations_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    """Every suite kept in the folder, by file stem."""
    return sorted(path.stem for path in Path(expectations_dir).glob("*.json"))


def read_suite_configs(
    name: str, expectations_dir: Path = EXPECTATIONS_DIR
) -> list[dict[str, Any]]:
    """The suite file's expectations, each checked for a severity and a reason (no GX needed)."""
    return _read_suite(name, expectations_dir)[1]


def _read_suite(name: str, expectations_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The suite file's top level and its checked expectations."""
    path = suite_path(name, expectations_dir)
    raw = _read_json(path)
    if raw.get("name") != name:
        raise SuiteLoadError(f"{path}: suite name {raw.get('name')!r} does not match file {name!r}")
    configs = raw.get("expectations")
    if not isinstance(configs, list) or not configs:
        raise SuiteLoadError(f"{path}: 'expectations' must be a non-empty list")
    return raw, [_checked(path, index, config) for index, config in enumerate(configs)]


def expectation_label(path: Path, index: int, type_: Any) -> str:
    """How errors name one expectation: the file, its 0-based index in the list, its type."""
    return f"{path}: expectation #{index} ({type_})"


def load_suite(name: str, expectations_dir: Path = EXPECTATIONS_DIR) -> gx.ExpectationSuite:
    """Read `<expectations_dir>/<name>.json` into a GX suite with every expectation intact."""
    path = suite_path(name, expectations_dir)
    raw, configs = _read_suite(name, expectations_dir)

    import great_expectations as gx

    built = [_build(path, index, config) for index, config in enumerate(configs)]
    suite = gx.ExpectationSuite(
        name=name, expectations=built, meta=raw.get("meta") or None, notes=raw.get("notes")
    )
    # The constructor may still drop (or a future GX may dedupe); never run a shrunken suite.
    if len(suite.expectations) != len(configs):
        raise SuiteLoadError(
            f"{path}: {len(configs)} expectations in the file, {len(suite.expectations)} loaded"
        )
    return suite


def _read_json(path: Path) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SuiteLoadError(f"{path}: suite file not found") from exc
    except json.JSONDecodeError as exc:
        raise SuiteLoadError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise SuiteLoadError(f"{path}: top level must be a JSON object")
    return raw


def _checked(path: Path, index: int, config: Any) -> dict[str, Any]:
    """The expectation with its native severity filled in from meta.severity."""
    if not isinstance(config, dict):
        raise SuiteLoadError(f"{path}: expectation #{index}: must be a JSON object")
    where = expectation_label(path, index, config.get("type"))
    meta = config.get("meta") or {}
    severity = meta.get("severity")
    if severity not in SEVERITIES:
        raise SuiteLoadError(f"{where}: meta.severity must be error or warning, not {severity!r}")
    if not isinstance(meta.get("why"), str) or not meta["why"].strip():
        raise SuiteLoadError(f"{where}: meta.why must be a non-empty string")
    native = config.get("severity", NATIVE_SEVERITY[severity])
    if native != NATIVE_SEVERITY[severity]:
        raise SuiteLoadError(
            f"{where}: severity {native!r} disagrees with meta.severity {severity!r} "
            f"(expected {NATIVE_SEVERITY[severity]!r})"
        )
    return {**config, "severity": native}


def _build(path: Path, index: int, config: dict[str, Any]) -> Expectation:
    from great_expectations.expectations.expectation_configuration import (
        ExpectationConfiguration,
    )

    try:
        return ExpectationConfiguration(**config).to_domain_obj()
    # GX raises its own errors for unknown types and pydantic errors for bad kwargs.
    except Exception as exc:
        where = expectation_label(path, index, config.get("type"))
        raise SuiteLoadError(f"{where}: {type(exc).__name__}: {exc}") from exc
