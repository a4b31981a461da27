"""Errors a user can act on print as a clear message without a traceback (`--debug` shows it)."""

from __future__ import annotations

from pipelines.cli.preflight import PreflightError
from pipelines.lib.funnels import FunnelConfigError
from pipelines.lib.ingest.errors import IngestError
from pipelines.lib.landing_files import LandingPathError
from pipelines.lib.privacy import PseudonymizationKeyError
from pipelines.lib.settings import SettingsError

EXIT_USAGE = 2  # bad settings or arguments: nothing was started
EXIT_FAILED = 1  # a run or command started and failed


class UserError(ValueError):
    """A mistake in the command's arguments that the user can fix."""


# Exceptions whose message is written for the user (names the file, field or setting).
USER_ERRORS: tuple[type[BaseException], ...] = (
    UserError,
    PreflightError,
    SettingsError,
    FunnelConfigError,
    PseudonymizationKeyError,
    IngestError,
    LandingPathError,
)


def describe(exc: BaseException) -> tuple[str, bool]:
    """The message to print and whether it is a known, user-facing error."""
    if isinstance(exc, USER_ERRORS):
        return str(exc), True
    return f"unexpected {type(exc).__name__}: {exc}", False
