"""The erasure list: user ids to forget, honoured at ingest and by `microfunnel purge`.

The file holds raw ids (a GA4 `user_id` or `user_pseudo_id`), one per line; blank lines and
lines starting with `#` are ignored. They are hashed with the pseudonymization key and compared
with the pseudonymized columns, so raw ids are never compared with (or written to) the lake.

A row belongs to an erased user when its `user_id`, `anonymous_id` or `user_key` is listed, or
when its `anonymous_id` carried a listed `user_id` anywhere in the same batch (one export day at
ingest, one lake partition in a purge: the same rule, so a backfill drops exactly what a purge
removed). A quarantine row is erased when its (pseudonymized) raw record names a listed id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..ingest.errors import IngestError
from ..ingest.result import FileCounts, IngestResult
from ..ingest.sql import temp_name
from .pseudonymize import pseudonym_sql

ID_COLUMNS = ("user_id", "anonymous_id", "user_key")


@dataclass(frozen=True)
class ErasedFileCounts(FileCounts):
    """FileCounts of a file some of whose rows belonged to erased users.

    Landed = loaded + quarantined + erased; erased rows are dropped, not quarantined.
    """

    erased: int = 0

    def __post_init__(self) -> None:
        if self.landed != self.loaded + self.quarantined + self.erased:
            raise IngestError(
                f"{self.source_file}: reconciliation failed: landed {self.landed} != "
                f"loaded {self.loaded} + quarantined {self.quarantined} + erased {self.erased}"
            )


def erased_rows(result: IngestResult) -> int:
    """Rows of erased users an ingestion dropped (0 when no erasure was applied)."""
    return sum(getattr(f, "erased", 0) for f in result.files)


def read_erasure_list(path: Path) -> list[str]:
    """Raw ids in the file, de-duplicated in file order; a missing file is an empty list."""
    if not path.exists():
        return []
    ids: dict[str, None] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        value = line.strip()
        if value and not value.startswith("#"):
            ids[value] = None
    return list(ids)


def create_erased_table(con: duckdb.DuckDBPyConnection, raw_ids: list[str]) -> str:
    """A temp table `(h)` of the listed ids' pseudonyms. Call inside `pseudonymization_key`."""
    name = temp_name("erased_ids")
    con.execute(
        f"create temp table {name} as "
        f"select distinct {pseudonym_sql('raw')} as h from unnest(?::varchar[]) as u(raw) "
        "where nullif(trim(raw), '') is not null",
        [raw_ids],
    )
    return name


def erased_events_predicate(table: str, erased: str, columns: list[str]) -> str:
    """SQL condition (over alias `t` of `table`) true for rows of erased users."""
    present = [c for c in ID_COLUMNS if c in columns]
    if not present:
        return "false"
    direct = " or ".join(f"t.{c} in (select h from {erased})" for c in present)
    if "anonymous_id" in columns and "user_id" in columns:
        linked = (
            f"t.anonymous_id in (select anonymous_id from {table} "
            f"where user_id in (select h from {erased}))"
        )
        return f"({direct} or {linked})"
    return f"({direct})"


def erased_quarantine_predicate(erased: str) -> str:
    """SQL condition (over alias `t`) true for quarantine rows whose raw record names one."""
    return f"exists (select 1 from {erased} as e where contains(t.raw_record, e.h))"


def remove_erased(con: duckdb.DuckDBPyConnection, table: str, predicate: str) -> dict[str, int]:
    """Delete matching rows from a temp table; returns the count per source_file."""
    counts = dict(
        con.execute(
            f"select source_file, count(*) from {table} as t where {predicate} group by 1"
        ).fetchall()
    )
    if counts:
        con.execute(f"delete from {table} as t where {predicate}")
    return {str(k): int(v) for k, v in counts.items()}


def erase_from_result(
    con: duckdb.DuckDBPyConnection, result: IngestResult, erased: str
) -> IngestResult:
    """Drop erased users' rows from both temp tables of a (pseudonymized) ingestion result."""
    columns = [row[0] for row in con.execute(f"describe {result.table}").fetchall()]
    from_events = remove_erased(
        con, result.table, erased_events_predicate(result.table, erased, columns)
    )
    from_quarantine = remove_erased(
        con, result.quarantine_table, erased_quarantine_predicate(erased)
    )
    if not from_events and not from_quarantine:
        return result
    files = tuple(
        ErasedFileCounts(
            source_file=f.source_file,
            landed=f.landed,
            loaded=f.loaded - from_events.get(f.source_file, 0),
            quarantined=f.quarantined - from_quarantine.get(f.source_file, 0),
            erased=getattr(f, "erased", 0)
            + from_events.get(f.source_file, 0)
            + from_quarantine.get(f.source_file, 0),
        )
        for f in result.files
    )
    total = sum(from_events.values()) + sum(from_quarantine.values())
    notes = (*result.notes, f"{total} row(s) of users on the erasure list dropped")
    return dataclasses.replace(
        result, files=files, rows=result.rows - sum(from_events.values()), notes=notes
    )
