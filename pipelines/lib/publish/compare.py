"""Whether two builds of the marts hold the same rows, e.g. the DuckDB and the Spark build of
one lake (the Spark test and benchmarks/bench_spark.py). Rows are matched on each mart's grain;
floating-point values may differ in their last bits (the engines add in different orders)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from pipelines.lib.publish.source import attach_source, connect_memory, table_columns
from pipelines.lib.publish.spec import MartSpec, quote_ident

LEFT, RIGHT = "mf_left", "mf_right"
# Relative tolerance for DOUBLE values (absolute below 1).
DOUBLE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class MartComparison:
    table: str
    left_rows: int
    right_rows: int
    # Columns (name type) of one side that the other lacks or types differently.
    column_differences: tuple[str, ...] = ()
    # Grain keys found on one side only, and rows whose values differ.
    unmatched_rows: int = 0
    differing_rows: int = 0
    example: str = ""

    @property
    def equal(self) -> bool:
        return not (self.column_differences or self.unmatched_rows or self.differing_rows)

    def describe(self) -> str:
        if self.equal:
            return f"{self.table}: {self.left_rows} rows, equal"
        parts = [f"{self.table}: {self.left_rows} vs {self.right_rows} rows"]
        if self.column_differences:
            parts.append("columns differ: " + "; ".join(self.column_differences))
        if self.unmatched_rows:
            parts.append(f"{self.unmatched_rows} keys on one side only")
        if self.differing_rows:
            parts.append(f"{self.differing_rows} rows differ")
        if self.example:
            parts.append(f"e.g. {self.example}")
        return ", ".join(parts)


def compare_marts(left: Path, right: Path, marts: Sequence[MartSpec]) -> list[MartComparison]:
    """Each mart of `left` against `right` (a DuckDB file or a Spark tables folder each)."""
    with connect_memory() as con:
        attach_source(con, left, marts, LEFT)
        attach_source(con, right, marts, RIGHT)
        return [_compare(con, spec) for spec in marts]


def _compare(con: duckdb.DuckDBPyConnection, spec: MartSpec) -> MartComparison:
    sides = [table_columns(con, alias, spec.table) or [] for alias in (LEFT, RIGHT)]
    refs = [f"{alias}.main.{spec.quoted_table}" for alias in (LEFT, RIGHT)]
    counts = [_count(con, ref) if cols else 0 for ref, cols in zip(refs, sides, strict=True)]
    described = [[f"{c.name} {c.duckdb_type}" for c in cols] for cols in sides]
    differences = [f"{c} only in the first" for c in described[0] if c not in described[1]]
    differences += [f"{c} only in the second" for c in described[1] if c not in described[0]]
    if not differences and described[0] != described[1]:
        differences = ["the same columns in another order"]
    if differences or not sides[0]:
        return MartComparison(spec.table, counts[0], counts[1], tuple(differences))

    columns = sides[0]
    picked = ", ".join(
        f"l.{quote_ident(c.name)} AS {quote_ident('l_' + c.name)}, "
        f"r.{quote_ident(c.name)} AS {quote_ident('r_' + c.name)}"
        for c in columns
    )
    on = " AND ".join(
        f"l.{quote_ident(k)} IS NOT DISTINCT FROM r.{quote_ident(k)}" for k in spec.primary_key
    )
    same = {c.name: _same(c.name, c.duckdb_type) for c in columns}
    joined = (
        f"SELECT {picked}, l.mf_here AS l_mf_here, r.mf_here AS r_mf_here "
        f"FROM (SELECT *, true AS mf_here FROM {refs[0]}) l "
        f"FULL JOIN (SELECT *, true AS mf_here FROM {refs[1]}) r ON {on}"
    )
    all_same = " AND ".join(same.values())
    unmatched, differing = con.execute(
        f"SELECT count(*) FILTER (WHERE l_mf_here IS NULL OR r_mf_here IS NULL), "
        f"count(*) FILTER (WHERE l_mf_here AND r_mf_here AND NOT ({all_same})) "
        f"FROM ({joined})"
    ).fetchone() or (0, 0)
    example = _example(con, spec, joined, same) if differing else ""
    return MartComparison(
        spec.table, counts[0], counts[1], (), int(unmatched), int(differing), example
    )


def _same(name: str, duckdb_type: str) -> str:
    left, right = quote_ident("l_" + name), quote_ident("r_" + name)
    if duckdb_type in ("DOUBLE", "FLOAT"):
        return (
            f"coalesce(({left} IS NULL AND {right} IS NULL) OR abs({left} - {right}) "
            f"<= {DOUBLE_TOLERANCE} * greatest(1, abs({left})), false)"
        )
    return f"{left} IS NOT DISTINCT FROM {right}"


def _example(
    con: duckdb.DuckDBPyConnection, spec: MartSpec, joined: str, same: dict[str, str]
) -> str:
    """The first differing row: its key and the first column that differs, both values."""
    flags = ", ".join(
        f"{expression} AS {quote_ident('same_' + name)}" for name, expression in same.items()
    )
    keys = ", ".join(quote_ident("l_" + k) for k in spec.primary_key)
    relation = con.sql(
        f"SELECT *, {flags} FROM ({joined}) WHERE l_mf_here AND r_mf_here "
        f"AND NOT ({' AND '.join(same.values())}) ORDER BY {keys} LIMIT 1"
    )
    row = dict(zip(relation.columns, relation.fetchone() or (), strict=True))
    key = ", ".join(f"{k}={row['l_' + k]}" for k in spec.primary_key)
    column = next(name for name in same if not row["same_" + name])
    return f"({key}) {column}: {row['l_' + column]} vs {row['r_' + column]}"


def _count(con: duckdb.DuckDBPyConnection, ref: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {ref}").fetchone()
    return int(row[0]) if row else 0
