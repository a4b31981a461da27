"""Bounded DuckDB memory: every DuckDB instance of a run gets the same memory limit and spills
what does not fit to its own folder under the warehouse, instead of growing with the day's
volume (or spilling into the current folder, DuckDB's default for in-memory instances)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

# DuckDB's own spelling of a memory size ("4GB", "6.5 GiB"); percentages are not accepted.
MEMORY_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class DuckDBMemory:
    """A memory limit in DuckDB's spelling and the folder to spill under."""

    limit: str
    spill_dir: Path

    def __post_init__(self) -> None:
        # The limit is written into a SET statement: only a plain memory size gets there.
        if not MEMORY_SIZE.fullmatch(self.limit):
            raise ValueError(f"memory limit {self.limit!r} is not a size such as 4GB or 6GiB")

    def folder(self, user: str) -> Path:
        """A spill folder per DuckDB user and process: instances never share spill files."""
        return self.spill_dir / f"{user}-{os.getpid()}"

    def apply(self, con: duckdb.DuckDBPyConnection, user: str) -> duckdb.DuckDBPyConnection:
        """Set `con`'s memory limit and spill folder; returns `con`."""
        # DuckDB creates its spill folder when it first spills, but not the folders above it.
        self.spill_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET memory_limit = '{self.limit}'")
        con.execute("SET temp_directory = $folder", {"folder": str(self.folder(user))})
        return con
