"""What a publish did, in a shape Dagster metadata can take directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


class PublishError(RuntimeError):
    """A publish could not be completed; the previous target contents are unchanged."""


@dataclass(frozen=True)
class MartPublishResult:
    """One mart: how many rows went out and which days were replaced."""

    table: str
    rows_written: int
    partitions_replaced: tuple[date, ...]
    full_refresh: bool


@dataclass(frozen=True)
class PublishResult:
    """All marts of one publish to one target (``target`` never contains a password)."""

    kind: str
    target: str
    marts: tuple[MartPublishResult, ...] = field(default_factory=tuple)

    @property
    def rows_written(self) -> int:
        return sum(m.rows_written for m in self.marts)

    @property
    def partitions_replaced(self) -> int:
        return sum(len(m.partitions_replaced) for m in self.marts)

    def mart(self, table: str) -> MartPublishResult:
        for m in self.marts:
            if m.table == table:
                return m
        raise KeyError(table)

    def to_metadata(self) -> dict[str, str | int | bool]:
        """Flat str/int/bool values, keyed ``<table>.<fact>`` per mart plus totals."""
        meta: dict[str, str | int | bool] = {
            "target_kind": self.kind,
            "target": self.target,
            "rows_written": self.rows_written,
            "partitions_replaced": self.partitions_replaced,
        }
        for m in self.marts:
            meta[f"{m.table}.rows_written"] = m.rows_written
            meta[f"{m.table}.partitions_replaced"] = len(m.partitions_replaced)
            meta[f"{m.table}.full_refresh"] = m.full_refresh
            if m.partitions_replaced:
                meta[f"{m.table}.first_partition"] = min(m.partitions_replaced).isoformat()
                meta[f"{m.table}.last_partition"] = max(m.partitions_replaced).isoformat()
        return meta
