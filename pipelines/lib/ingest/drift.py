"""Schema drift in an export: new params and fields are reported, a vanished column fails.

A new event param flows into `properties` and a new top-level field is ignored, but both are
reported so an operator notices. A required field absent from every row of a file is a
column that disappeared (a changed export, not a few bad rows): the ingest fails naming it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from .errors import IngestError
from .known_fields import GA4_EVENT_PARAMS, GA4_TOP_LEVEL_FIELDS


@dataclass(frozen=True)
class SchemaDrift:
    """Names an ingest saw that the pipeline does not map; each tuple sorted."""

    params_seen: tuple[str, ...] = ()  # keys that went to `properties`
    new_params: tuple[str, ...] = ()  # ... of which not in known_fields
    new_fields: tuple[str, ...] = ()  # top-level fields not in the export schema
    extra_columns: tuple[str, ...] = ()  # report columns ignored

    @staticmethod
    def combine(drifts: Iterable[SchemaDrift]) -> SchemaDrift:
        items = list(drifts)

        def union(name: str) -> tuple[str, ...]:
            return tuple(sorted({v for d in items for v in getattr(d, name)}))

        return SchemaDrift(
            union("params_seen"), union("new_params"), union("new_fields"), union("extra_columns")
        )

    def warnings(self, source: str) -> list[str]:
        out = []
        if self.new_params:
            out.append(
                f"{source}: new event param(s) kept in properties: {', '.join(self.new_params)}"
            )
        if self.new_fields:
            out.append(f"{source}: new top-level field(s) ignored: {', '.join(self.new_fields)}")
        return out


def ga4_drift(
    con: duckdb.DuckDBPyConnection, lines: str, parsed: str, mapped_params: Iterable[str]
) -> SchemaDrift:
    """Params that reached `properties` and top-level fields, against known_fields.

    Distinct key lists first (rows of one export share a few shapes), unioned in Python:
    cheaper than unnesting every row. try(): a line that is not JSON has no keys.
    """
    mapped = set(mapped_params)
    key_lists = con.execute(
        f"""
        select distinct list_transform(j.event_params, lambda p: p.key)
        from {parsed}
        where reason is null
        """
    ).fetchall()
    params = sorted({k for (keys,) in key_lists for k in keys or () if k is not None} - mapped)
    field_lists = con.execute(f"select distinct try(json_keys(line)) from {lines}").fetchall()
    fields = {f for (keys,) in field_lists for f in keys or ()}
    return SchemaDrift(
        params_seen=tuple(params),
        new_params=tuple(p for p in params if p not in GA4_EVENT_PARAMS),
        new_fields=tuple(sorted(fields - GA4_TOP_LEVEL_FIELDS)),
    )


def reject_missing_columns(
    con: duckdb.DuckDBPyConnection, lines: str, parsed: str, required: Iterable[str]
) -> None:
    """Fail when a required field is absent (no key at all) from every JSON row of a file.

    Only files where no row has a value are re-scanned for the key, so the common case costs
    one aggregate. A key present with null values is per-row bad data: quarantine, not this.
    """
    fields = list(required)
    has_value = ", ".join(f"count(j.{name})" for name in fields)
    counts = con.execute(
        f"select source_file, {has_value} from {parsed} where j is not null group by source_file"
    ).fetchall()
    for source_file, *present in counts:
        for name, n in zip(fields, present, strict=True):
            if n:
                continue
            row = con.execute(
                f"""
                select count(*), count(*) filter (where json_exists(line, '$.{name}'))
                from {lines}
                where source_file = ? and json_valid(line) and json_type(line) = 'OBJECT'
                """,
                [source_file],
            ).fetchone()
            rows, with_key = row if row else (0, 0)
            if rows and not with_key:
                raise IngestError(
                    f"{source_file}: missing required column {name}: none of its {rows} "
                    f"row(s) has a {name} field (is this a GA4 events export?)"
                )
