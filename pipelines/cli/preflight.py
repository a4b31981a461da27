"""Check the settings a run needs before starting it, so a mistake costs a second, not a run."""

from __future__ import annotations

import importlib.util
import os
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pipelines.lib.funnels import FunnelConfigError, load_funnels
from pipelines.lib.privacy import PseudonymizationKeyError
from pipelines.lib.privacy.pseudonymize import require_key
from pipelines.lib.settings import (
    ENV_END_DATE,
    ENV_ENGINE,
    ENV_LANDING_DIR,
    ENV_START_DATE,
    ENV_TIMEZONE,
    ENV_WAREHOUSE_DIR,
    Settings,
)


class PreflightError(ValueError):
    """Settings a run cannot start with; one line per problem, each naming its setting."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(["cannot start the run:", *(f"  - {p}" for p in problems)]))


def check_run_settings(
    settings: Settings, start: date, end: date, today: date | None = None
) -> None:
    """Raise PreflightError listing every problem found; return quietly when all is well."""
    problems: list[str] = []
    if end < start:
        problems.append(f"--end {end} is before --start {start} (both days are included)")
    try:
        require_key(settings.pseudonymization_key)
    except PseudonymizationKeyError as exc:
        problems.append(str(exc))
    zone = _zone(settings.timezone, problems)
    if start < settings.start_date:
        problems.append(
            f"--start {start} is before {ENV_START_DATE}={settings.start_date}, the first daily "
            f"partition (set {ENV_START_DATE} to the first export day)"
        )
    if settings.end_date and end > settings.end_date:
        problems.append(
            f"--end {end} is after {ENV_END_DATE}={settings.end_date}, the last daily partition"
        )
    if zone is not None:
        today = today or datetime.now(zone).date()
        if end >= today:
            problems.append(
                f"--end {end} has not ended yet in {settings.timezone} (today is {today}): the "
                f"last day a run can take is {today - timedelta(days=1)}"
            )
    _check_folder(settings.landing_dir, ENV_LANDING_DIR, problems, writable=False)
    _check_folder(settings.warehouse_dir, ENV_WAREHOUSE_DIR, problems, writable=True)
    if settings.engine == "spark":
        problems += spark_problems()
    try:
        load_funnels(settings.funnels_file)
    except FunnelConfigError as exc:
        problems += [f"{exc.source}: {problem}" for problem in exc.problems]
    if problems:
        raise PreflightError(problems)


def spark_problems() -> list[str]:
    """What the Spark engine lacks on this machine: dbt-spark with pyspark, and Java."""
    problems = []
    if (
        importlib.util.find_spec("pyspark") is None
        or importlib.util.find_spec("dbt.adapters.spark") is None
    ):
        problems.append(
            f"{ENV_ENGINE}=spark needs dbt-spark and pyspark in this environment: run "
            "`make install-spark` (README: Spark)"
        )
    java_home = os.environ.get("JAVA_HOME")
    if not (java_home and (Path(java_home) / "bin" / "java").is_file()) and not shutil.which(
        "java"
    ):
        problems.append(
            f"{ENV_ENGINE}=spark needs Java 17: run `sh scripts/ensure_java.sh` (Debian's "
            "openjdk-17-jre-headless) or set JAVA_HOME"
        )
    return problems


def _zone(name: str, problems: list[str]) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{ENV_TIMEZONE}={name!r} is not a timezone name (e.g. UTC, Europe/Berlin)")
        return None


def _check_folder(path: Path, variable: str, problems: list[str], *, writable: bool) -> None:
    if not path.exists():
        if writable and _creatable(path):
            return
        problems.append(f"{variable}={path}: no such folder")
    elif not path.is_dir():
        problems.append(f"{variable}={path}: not a folder")
    elif not os.access(path, os.R_OK | os.X_OK | (os.W_OK if writable else 0)):
        problems.append(f"{variable}={path}: not {'writable' if writable else 'readable'}")


def _creatable(path: Path) -> bool:
    """The nearest existing parent can hold a new folder."""
    parent = path
    while not parent.exists():
        parent = parent.parent
    return parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
