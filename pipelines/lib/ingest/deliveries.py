"""Which landed files to read: the landed-files manifest, duplicate deliveries, empty days.

An export file delivered twice (same content, same or new name) must change nothing. Each
ingest hashes its files and records them in the lake table `landed_files` (one partition per
day, both sources in it). A file is skipped as a duplicate when its SHA-256 equals:

- an earlier file of the same call (sorted path order), or
- a file recorded as `loaded` in another day's manifest (GA4 only: Ads files carry no day).

A day's own earlier manifest never flags its files (a re-run is not a second delivery); it only
decides which copy of a same-content pair is kept, so a re-run keeps the file loaded before.
Zero-byte files are never duplicates: every empty file has the same hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from .lake import PART_FILE, partition_dir, read_partitions_sql, write_partition
from .sql import quote_literal, temp_name

MANIFEST_TABLE = "landed_files"
LOADED = "loaded"
DUPLICATE = "duplicate"
LANDED_FILES_COLUMNS: dict[str, str] = {
    "source": "VARCHAR",
    "source_file": "VARCHAR",
    "sha256": "VARCHAR",
    "bytes": "BIGINT",
    "partition_date": "DATE",
    "first_seen_file": "VARCHAR",
    "status": "VARCHAR",
    "loaded_at": "TIMESTAMP",
}


@dataclass(frozen=True)
class Delivery:
    """One landed file as the manifest records it."""

    source: str
    source_file: str
    sha256: str
    bytes: int
    partition_date: date
    first_seen_file: str | None  # the file with the same content that was kept; None if kept
    status: str  # LOADED | DUPLICATE

    @property
    def is_duplicate(self) -> bool:
        return self.status == DUPLICATE


@dataclass(frozen=True)
class DeliveryPlan:
    """The files of one ingest call, in sorted path order, each loaded or skipped."""

    source: str
    deliveries: tuple[Delivery, ...]

    @property
    def to_load(self) -> list[Path]:
        return [Path(d.source_file) for d in self.deliveries if not d.is_duplicate]

    @property
    def duplicates(self) -> tuple[Delivery, ...]:
        return tuple(d for d in self.deliveries if d.is_duplicate)

    def warnings(self) -> list[str]:
        return [
            f"{self.source}: {d.source_file} skipped: same content (sha256 {d.sha256[:12]}) as "
            f"{d.first_seen_file}, already delivered"
            for d in self.duplicates
        ]

    def for_day(self, day: date) -> DeliveryPlan:
        """The same decisions recorded under another partition day (Ads files span days)."""
        return DeliveryPlan(
            self.source,
            tuple(
                Delivery(
                    d.source, d.source_file, d.sha256, d.bytes, day, d.first_seen_file, d.status
                )
                for d in self.deliveries
            ),
        )


def sha256_file(path: Path) -> str:
    """Streaming SHA-256 of the bytes as delivered (a .gz file is hashed compressed)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def plan_deliveries(
    source: str,
    files: Iterable[Path],
    partition_date: date,
    loaded_elsewhere: dict[str, str],
    kept_before: set[str] | None = None,
) -> DeliveryPlan:
    """Decide, per file, load or skip as a duplicate.

    `loaded_elsewhere`: sha256 -> file loaded under another day. `kept_before`: files this
    day's previous run loaded; among same-content files they win over sorted order, so a copy
    whose name sorts first does not displace the original on a re-run.
    """
    kept_before = kept_before or set()
    hashed = [(p, sha256_file(p), p.stat().st_size) for p in sorted(Path(f) for f in files)]
    keeper: dict[str, str] = {}
    for path, digest, _ in hashed:
        keeper.setdefault(digest, str(path))
    for path, digest, _ in reversed(hashed):
        if str(path) in kept_before:
            keeper[digest] = str(path)  # the earliest file loaded before wins
    deliveries = []
    for path, digest, size in hashed:
        first = None
        if size:
            first = loaded_elsewhere.get(digest) or keeper[digest]
            first = None if first == str(path) else first
        status = DUPLICATE if first else LOADED
        deliveries.append(Delivery(source, str(path), digest, size, partition_date, first, status))
    return DeliveryPlan(source, tuple(deliveries))


def plan_day(
    con: duckdb.DuckDBPyConnection,
    manifest_dir: Path,
    source: str,
    files: Iterable[Path],
    day: date,
    planned: Mapping[date, Iterable[DeliveryPlan]] | None = None,
) -> DeliveryPlan:
    """Plan one export day's files against the other days' manifests (GA4).

    `planned`: the plans of earlier days of the same run, not recorded yet (a backfill plans
    every day before it loads any, so days can load in parallel); they stand in for those
    days' manifests, as if each had been recorded before this one was planned.
    """
    ours = {day: [p for p in plans if p.source == source] for day, plans in (planned or {}).items()}
    # A planned day's manifest rows of this source are replaced when it is recorded.
    replaced = {day for day, plans in ours.items() if plans}
    recorded = [row for row in _recorded(con, manifest_dir, source) if row[2] not in replaced]
    recorded += [
        (d.sha256, d.source_file, d.partition_date)
        for plans in ours.values()
        for plan in plans
        for d in plan.deliveries
        if not d.is_duplicate
    ]
    recorded.sort(key=lambda row: (row[2], row[1]))
    elsewhere: dict[str, str] = {}
    for digest, source_file, when in recorded:
        if when != day:
            elsewhere.setdefault(digest, source_file)
    kept = {source_file for _, source_file, when in recorded if when == day}
    return plan_deliveries(source, files, day, elsewhere, kept)


def plan_files(
    con: duckdb.DuckDBPyConnection, manifest_dir: Path, source: str, files: Iterable[Path]
) -> DeliveryPlan:
    """Plan files that are not tied to one day (Ads reports): duplicates among themselves only.

    The partition date of the result is a placeholder; record it per day with `for_day`.
    """
    kept = {source_file for _, source_file, _ in _recorded(con, manifest_dir, source)}
    return plan_deliveries(source, files, date.min, {}, kept)


def _recorded(
    con: duckdb.DuckDBPyConnection, manifest_dir: Path, source: str
) -> list[tuple[str, str, date]]:
    """(sha256, source_file, day) of every file recorded as loaded, earliest day first."""
    relation = read_partitions_sql(manifest_dir, LANDED_FILES_COLUMNS)
    rows = con.execute(
        f"""
        select sha256, source_file, date from {relation}
        where source = ? and status = '{LOADED}'
        order by date, source_file
        """,
        [source],
    ).fetchall()
    return [(digest, source_file, when) for digest, source_file, when in rows]


def record_deliveries(
    con: duckdb.DuckDBPyConnection,
    manifest_dir: Path,
    plan: DeliveryPlan,
    day: date,
    loaded_at: datetime,
) -> int:
    """Replace this source's rows in the day's manifest partition, keeping other sources' rows.

    Read-modify-write: safe because every ingest asset runs in the one-writer lake pool.
    """
    merged = temp_name("landed_files")
    columns = ", ".join(f"{name} {dtype}" for name, dtype in LANDED_FILES_COLUMNS.items())
    con.execute(f"create temp table {merged} ({columns})")
    try:
        existing = partition_dir(manifest_dir, day) / PART_FILE
        if existing.exists():
            con.execute(
                f"""
                insert into {merged}
                select {", ".join(LANDED_FILES_COLUMNS)}
                from read_parquet({quote_literal(str(existing))})
                where source <> ?
                """,
                [plan.source],
            )
        rows = [
            [
                d.source,
                d.source_file,
                d.sha256,
                d.bytes,
                day,
                d.first_seen_file,
                d.status,
                loaded_at,
            ]
            for d in plan.deliveries
        ]
        if rows:  # a day with no file still gets its (empty) manifest partition
            con.executemany(f"insert into {merged} values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return write_partition(
            con, f"select * from {merged} order by source, source_file", manifest_dir, day
        )
    finally:
        con.execute(f"drop table if exists {merged}")


def empty_day_warning(
    source: str, day: date, files: list[Path], rows_landed: int, skipped: int = 0
) -> str | None:
    """The warning for a day with no file or no rows; None when rows landed."""
    if rows_landed:
        return None
    written = "the partition is written with zero rows; downstream runs on"
    if not files:
        extra = f" ({skipped} duplicate delivery(ies) skipped)" if skipped else ""
        return f"{source} {day}: no new export file{extra}; {written}"
    names = ", ".join(p.name for p in files)
    return f"{source} {day}: export file(s) {names} hold no rows; {written}"
