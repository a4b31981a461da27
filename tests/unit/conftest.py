"""Fixtures the unit tests share: an in-memory DuckDB and an empty landing folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh in-memory DuckDB, closed after the test."""
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """An empty landing folder with the two sources' subfolders (ga4, google_ads)."""
    root = tmp_path / "landing"
    (root / "ga4").mkdir(parents=True)
    (root / "google_ads").mkdir()
    return root
