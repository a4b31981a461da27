"""A pipeline pointed at a temporary home folder for the length of a block: every MICROFUNNEL_*
variable set, and the session's pseudonymization key. The `pipeline_environment` fixture
(tests/conftest.py) hands out `temporary_pipeline_home`; tests import the type and the key here."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path

import pytest

from pipelines.lib import settings as mf_settings

# Ingestion replaces user ids with a keyed hash: one random key per test session keeps
# pseudonyms stable across the runs a test compares (and no key is written in the repository).
SESSION_KEY = secrets.token_hex(32)

PIPELINE_ENV_VARS = (
    mf_settings.ENV_HOME,
    mf_settings.ENV_LANDING_DIR,
    mf_settings.ENV_WAREHOUSE_DIR,
    mf_settings.ENV_FUNNELS_FILE,
    mf_settings.ENV_TIMEZONE,
    mf_settings.ENV_START_DATE,
    mf_settings.ENV_LATE_DATA_DAYS,
    mf_settings.ENV_POSTGRES_URL,
    mf_settings.ENV_PSEUDONYMIZATION_KEY,
    mf_settings.ENV_ERASURE_FILE,
)

PipelineEnvironment = Callable[..., AbstractContextManager[mf_settings.Settings]]


@contextmanager
def temporary_pipeline_home(
    home: Path,
    start_date: date,
    *,
    timezone: str = "UTC",
    postgres_url: str | None = None,
) -> Iterator[mf_settings.Settings]:
    """Every MICROFUNNEL_* variable set explicitly (nothing inherited) and restored after."""
    with pytest.MonkeyPatch.context() as mp:
        for name in PIPELINE_ENV_VARS:
            mp.delenv(name, raising=False)
        mp.setenv(mf_settings.ENV_HOME, str(home))
        mp.setenv(mf_settings.ENV_LANDING_DIR, str(home / "landing"))
        mp.setenv(mf_settings.ENV_WAREHOUSE_DIR, str(home / "warehouse"))
        mp.setenv(mf_settings.ENV_TIMEZONE, timezone)
        mp.setenv(mf_settings.ENV_START_DATE, start_date.isoformat())
        mp.setenv(mf_settings.ENV_PSEUDONYMIZATION_KEY, SESSION_KEY)
        if postgres_url:
            mp.setenv(mf_settings.ENV_POSTGRES_URL, postgres_url)
        yield mf_settings.Settings.from_env()
