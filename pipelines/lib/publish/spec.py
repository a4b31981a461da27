"""What to publish: one mart table, its date partition column (if any) and its primary key."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Lower-case SQL identifiers only: they are portable across DuckDB, PostgreSQL and file paths,
# and never need case folding rules. They are still always quoted.
IDENTIFIER_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def validate_identifier(name: str, what: str = "identifier") -> str:
    """Return ``name`` if it is a safe identifier, else raise ValueError naming it."""
    if not isinstance(name, str) or not IDENTIFIER_RE.fullmatch(name):
        raise ValueError(
            f"invalid {what} {name!r}: must match {IDENTIFIER_RE.pattern} "
            "(lower-case letters, digits and underscores, at most 63 characters)"
        )
    return name


def quote_ident(name: str) -> str:
    """Validate and double-quote an identifier (valid names contain no quotes to escape)."""
    return '"' + validate_identifier(name) + '"'


@dataclass(frozen=True)
class MartSpec:
    """One mart to deliver: ``table`` is replaced day by day on ``partition_column`` (a DATE),
    or, when ``partition_column`` is None, replaced as a whole on every publish (marts rebuilt
    whole by dbt, whose rows are not tied to one day)."""

    table: str
    partition_column: str | None
    primary_key: tuple[str, ...]
    # The mart's columns in their documented order (its yml), when known: a source whose
    # tables store them in another order (Spark puts partition columns last) is read in this.
    columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        validate_identifier(self.table, "table name")
        if self.partition_column is not None:
            validate_identifier(self.partition_column, "partition column")
        # Accept any sequence but store a tuple so the spec stays hashable and immutable.
        if isinstance(self.primary_key, str):
            raise ValueError(f"primary_key of {self.table!r} must be a sequence of column names")
        object.__setattr__(self, "primary_key", tuple(self.primary_key))
        object.__setattr__(self, "columns", tuple(self.columns))
        if not self.primary_key:
            raise ValueError(f"primary_key of {self.table!r} must name at least one column")
        for column in self.primary_key:
            validate_identifier(column, f"primary key column of {self.table!r}")
        if len(set(self.primary_key)) != len(self.primary_key):
            raise ValueError(f"primary_key of {self.table!r} repeats a column: {self.primary_key}")

    @property
    def quoted_table(self) -> str:
        return quote_ident(self.table)

    @property
    def is_whole_table(self) -> bool:
        """True when the mart has no day column and is always replaced as a whole."""
        return self.partition_column is None

    @property
    def quoted_partition(self) -> str:
        if self.partition_column is None:
            raise ValueError(f"mart {self.table!r} has no partition column")
        return quote_ident(self.partition_column)

    @property
    def quoted_key(self) -> str:
        return ", ".join(quote_ident(c) for c in self.primary_key)
