"""What one ingestion produced, with per-file reconciliation (landed = loaded + quarantined)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb

from .drift import SchemaDrift
from .errors import IngestError


@dataclass(frozen=True)
class FileCounts:
    """Row counts for one input file. `landed` counts data rows only (no blank/title/total)."""

    source_file: str
    landed: int
    loaded: int
    quarantined: int

    def __post_init__(self) -> None:
        # A hard invariant, checked even under `python -O`.
        if self.landed != self.loaded + self.quarantined:
            raise IngestError(
                f"{self.source_file}: reconciliation failed: landed {self.landed} != "
                f"loaded {self.loaded} + quarantined {self.quarantined}"
            )


@dataclass(frozen=True)
class IngestResult:
    """Canonical rows in temp table `table`, bad rows in `quarantine_table` (same connection)."""

    source: str
    table: str
    quarantine_table: str
    files: tuple[FileCounts, ...]
    rows: int
    min_date: date | None
    max_date: date | None
    notes: tuple[str, ...] = field(default=())
    drift: SchemaDrift = field(default_factory=SchemaDrift)
    # (file, reason) of files quarantined whole: truncated/corrupt compressed, unreadable.
    unreadable_files: tuple[tuple[str, str], ...] = field(default=())
    # Things an operator must see (logged as warnings, listed in the metadata).
    warnings: tuple[str, ...] = field(default=())

    @property
    def files_read(self) -> int:
        return len(self.files)

    @property
    def landed(self) -> int:
        return sum(f.landed for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    def for_file(self, path: Path | str) -> FileCounts:
        for counts in self.files:
            if counts.source_file == str(path):
                return counts
        raise KeyError(str(path))

    def describe(self) -> str:
        span = f"{self.min_date} .. {self.max_date}" if self.min_date else "no dates"
        lines = [
            f"{self.source}: {self.files_read} file(s), landed {self.landed}, "
            f"loaded {self.loaded}, quarantined {self.quarantined}, {self.rows} row(s) out, "
            f"dates {span}"
        ]
        lines += [
            f"  {f.source_file}: landed {f.landed} = loaded {f.loaded} + "
            f"quarantined {f.quarantined}"
            for f in self.files
        ]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [
            f"  quarantined whole: {name}: {reason}" for name, reason in self.unreadable_files
        ]
        lines += [f"  warning: {warning}" for warning in self.warnings]
        return "\n".join(lines)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Free the temp tables once their rows are written to the lake."""
        con.execute(f"drop table if exists {self.table}")
        con.execute(f"drop table if exists {self.quarantine_table}")


def count_by_file(
    con: duckdb.DuckDBPyConnection, table: str, files: list[Path], only_good: bool = False
) -> dict[str, int]:
    """Rows per source_file in a temp table (zero for files with none).

    `only_good` counts rows whose `reason` is NULL, for staging tables holding both kinds.
    """
    counts = dict.fromkeys((str(p) for p in files), 0)
    where = "where reason is null" if only_good else ""
    rows = con.execute(
        f"select source_file, count(*) from {table} {where} group by source_file"
    ).fetchall()
    counts.update({name: int(n) for name, n in rows})
    return counts


def date_span(
    con: duckdb.DuckDBPyConnection, table: str, column: str
) -> tuple[date | None, date | None]:
    """min/max of a date column (a code constant) in a temp table."""
    row = con.execute(f"select min({column}), max({column}) from {table}").fetchone()
    return (row[0], row[1]) if row else (None, None)
