"""One Google Ads report file's data lines -> typed rows, each with the reason it is rejected.

Per file, in DuckDB: lines below the header are split into fields (RFC 4180 quoting, one line a
record), the UI's totals rows are set aside, the file's number style and date order are decided
from its own values (number_style.py, date_order.py), and every line becomes one row of the
shared `rows` table: typed values, the physical line, the raw text and a reason (NULL when good).

Row rules, each giving a reason rather than a silent drop:
- wrong field count (a ragged row, a truncated last line) or an unterminated quote;
- a value that does not parse, or is ambiguous in this file, or conflicts with its style;
- a negative impressions, clicks or cost;
- an exact repeat of an earlier line of the file ("duplicate of line N"). Rows that share a key
  but differ (segmented reports: device, network, hour) are legitimate and summed later.

Totals rows are recognised by the UI's own shape: a first cell `Total` or `Total: ...` and no
campaign, ad group or ad id (empty or `--`). A campaign whose name starts with "Total" has an
id, so it is data. API/GAQL reports have no totals rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS
from . import date_order, number_style
from .google_ads_layout import COLUMNS, DELIMITERS, NUMERIC_KINDS, UI, Column, Layout
from .sql import literal, temp_name

ROW_DDL = ", ".join(
    [f"{c.name} {AD_PERFORMANCE_COLUMNS[c.name]}" for c in COLUMNS]
    + ["source_file varchar", "source_line bigint", "raw_record varchar", "reason varchar"]
)
# Entity ids a UI totals row leaves empty.
_TOTALS_EMPTY = ("campaign_id", "ad_group_id", "ad_id")
_TOTALS_FIRST_CELL = "(?i)^total(\\s*:.*)?$"
# Metrics that cannot be negative.
_NON_NEGATIVE = ("impressions", "clicks", "spend")


@dataclass(frozen=True)
class FileReading:
    """How one file's values were read (for the result's notes)."""

    path: Path
    numbers: number_style.NumberStyle | None = None
    dates: date_order.DateOrder | None = None

    def note(self) -> str | None:
        """What was decided for this file, e.g. 'x.csv: decimal comma (3 row(s) with ...)'."""
        parts = []
        if self.numbers is not None and self.numbers.style is not None:
            parts.append(f"decimal {self.numbers.style} ({self.numbers.basis})")
        if self.dates is not None and self.dates.order is not None:
            order = self.dates.order.replace("_", " ")
            parts.append(f"numeric days {order} ({self.dates.basis})")
        return f"{self.path.name}: {'; '.join(parts)}" if parts else None


def add_report_rows(
    con: duckdb.DuckDBPyConnection, lines: str, rows: str, path: Path, layout: Layout
) -> FileReading:
    """Append the file's data lines to `rows` (created with ROW_DDL)."""
    cells = temp_name("gads_cells")
    try:
        _cells(con, lines, cells, path, layout)
        reading = _decide(con, cells, path, layout)
        _insert_rows(con, cells, rows, layout, reading)
    finally:
        con.execute(f"drop table if exists {cells}")
    return reading


def _clean(sql: str, shape: str) -> str:
    """Trimmed text; UI downloads write '--' (and nothing) for empty."""
    if shape == UI:
        return f"nullif(nullif(trim({sql}), '--'), '')"
    return f"nullif(trim({sql}), '')"


def _cells(
    con: duckdb.DuckDBPyConnection, lines: str, cells: str, path: Path, layout: Layout
) -> None:
    """Split data lines into fields and derive per value what the later steps need."""
    prefix, escaped = DELIMITERS[layout.delimiter]
    pattern = f'{escaped}("(?:[^"]|"")*"|[^{escaped}]*)'
    columns = layout.columns()
    raws = [f"{_clean(f'f[{index}]', layout.shape)} as raw_{c.name}" for c, index, _ in columns]
    derived = []
    for column, _, _ in columns:
        raw = f"raw_{column.name}"
        if layout.shape == UI and column.kind in NUMERIC_KINDS:
            whole = column.kind == "int"
            derived.append(f"{number_style.class_sql(raw, whole)} as class_{column.name}")
        if layout.shape == UI and column.kind == "date":
            numeric, year_first = date_order.parts_sql(raw)
            derived += [f"{numeric} as date_numeric", f"{year_first} as date_year_first"]
    present = [c for c in _TOTALS_EMPTY if c in layout.positions]
    ids_empty = " and ".join(f"raw_{c} is null" for c in present) or "true"
    totals = (
        f"regexp_matches(trim(coalesce(list_filter(f, x -> nullif(trim(x), '') is not null)[1], "
        f"'')), '{_TOTALS_FIRST_CELL}') and {ids_empty}"
        if layout.shape == UI
        else "false"
    )
    readings = ""
    if layout.shape == UI and "report_date" in layout.positions:
        readings = (
            ", "
            + date_order.readings_sql("raw_report_date", "date_numeric", "date_year_first")
            + " as date_readings"
        )
    con.execute(
        f"""
        create or replace temp table {cells} as
        with split as (
            select source_file, source_line, rtrim(line, chr(13)) as line,
                list_transform(
                    regexp_extract_all({prefix} || rtrim(line, chr(13)), '{pattern}', 1),
                    lambda v: case when v like '"%' then replace(v[2:-2], '""', '"') else v end
                ) as f
            from {lines}
            where source_file = ? and source_line > ?
                and nullif(trim(rtrim(line, chr(13))), '') is not null
        ),
        cleaned as (
            select *, {", ".join(raws)} from split
        ),
        classified as (
            select {", ".join(["*", *derived])} from cleaned
        )
        select *{readings},
            {totals} as is_totals,
            source_line = max(source_line) over () as is_last_line,
            len(f) as field_count,
            (length(line) - length(replace(line, '"', ''))) % 2 = 1 as open_quote
        from classified
        """,
        [str(path), layout.header_line],
    )


def _decide(con: duckdb.DuckDBPyConnection, cells: str, path: Path, layout: Layout) -> FileReading:
    """The file's number style and date order from its well-formed data rows (UI only)."""
    if layout.shape != UI:
        return FileReading(path)
    numeric = [c.name for c, _, _ in layout.columns() if c.kind in NUMERIC_KINDS]
    has_point = " or ".join(f"class_{n} = '{number_style.POINT}'" for n in numeric) or "false"
    has_comma = " or ".join(f"class_{n} = '{number_style.COMMA}'" for n in numeric) or "false"
    date_class = date_order.class_sql("date_readings", layout.date_range)
    row = con.execute(
        f"""
        select
            count(*) filter (where {has_point}),
            count(*) filter (where {has_comma}),
            count(*) filter (where {date_class} = '{date_order.DAY_FIRST}'),
            count(*) filter (where {date_class} = '{date_order.MONTH_FIRST}')
        from {cells}
        where not is_totals and field_count = {layout.field_count} and not open_quote
        """
    ).fetchone()
    point_rows, comma_rows, day_first_rows, month_first_rows = row or (0, 0, 0, 0)
    return FileReading(
        path,
        number_style.decide(point_rows, comma_rows, layout.delimiter),
        date_order.decide(day_first_rows, month_first_rows),
    )


@dataclass(frozen=True)
class _Typed:
    """How one column is typed: helper items computed first (`name as alias`, over cells),
    the value (over those), and the reason it cannot be read (over both; None if never)."""

    helpers: tuple[str, ...]
    value: str
    problem: str | None = None


def _typed_column(column: Column, header: str, layout: Layout, reading: FileReading) -> _Typed:
    raw, name = f"raw_{column.name}", column.name
    label = header
    unparseable = f"{literal(f'unparseable {label}: ')} || {raw}"
    if column.kind in NUMERIC_KINDS:
        number = f"number_{name}"
        if layout.shape == UI:
            assert reading.numbers is not None
            value_class = f"class_{name}"
            parsed = number_style.value_sql(raw, value_class, reading.numbers.style)
            problem = number_style.problem_sql(raw, value_class, label, reading.numbers)
        else:
            parsed = _api_number(column.kind, raw)
            problem = f"case when {raw} is not null and {number} is null then {unparseable} end"
        if column.kind != "int":
            return _Typed((f"{parsed} as {number}",), number, problem)
        not_whole = (
            f"case when {number} <> floor({number}) "
            f"then {unparseable} || ' (not a whole number)' end"
        )
        value = f"case when {number} = floor({number}) then {number}::bigint end"
        return _Typed((f"{parsed} as {number}",), value, f"coalesce({problem}, {not_whole})")
    if column.kind == "date" and layout.shape == UI:
        assert reading.dates is not None
        date_class = date_order.class_sql("date_readings", layout.date_range)
        value = date_order.value_sql("date_readings", "date_class", reading.dates.order)
        problem = date_order.problem_sql(
            raw, "date_readings", "date_class", label, reading.dates, layout.date_range
        )
        return _Typed((f"{date_class} as date_class",), value, problem)
    if column.kind == "date":  # API/GAQL: ISO only
        value = f"cast(try_strptime({raw}, '%Y-%m-%d') as date)"
        return _Typed(
            (), value, f"case when {raw} is not null and {value} is null then {unparseable} end"
        )
    if column.kind == "id":
        return _Typed((), f"replace({raw}, '-', '')")  # UI customer ids: 123-456-7890
    if column.kind == "url":
        first = f"regexp_extract({raw}, 'https?://[^\\s,\\[\\]\"'']+')"
        return _Typed((), f"coalesce(nullif({first}, ''), {raw})")
    return _Typed((), raw)


def _api_number(kind: str, raw: str) -> str:
    """API/GAQL numbers are machine-formatted; money is in micros."""
    number = f"try_cast({raw} as double)"
    return f"{number} / 1e6" if kind == "money" else number


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    cells: str,
    rows: str,
    layout: Layout,
    reading: FileReading,
) -> None:
    helpers: list[str] = []
    values: list[str] = []
    problems: list[str] = []
    for column in COLUMNS:
        if column.name not in layout.positions:
            values.append(f"null as {column.name}")
            continue
        header = layout.positions[column.name][1]
        typed = _typed_column(column, header, layout, reading)
        helpers += typed.helpers
        values.append(f"{typed.value} as {column.name}")
        if column.required:
            problems.append(
                f"case when raw_{column.name} is null then {literal(f'missing {header}')} end"
            )
        if typed.problem:
            problems.append(typed.problem)
    for name in _NON_NEGATIVE:
        if name in layout.positions:
            label = literal(f"negative {layout.positions[name][1]}: ")
            problems.append(f"case when number_{name} < 0 then {label} || raw_{name} end")
    problems.append(
        "case when first_line < source_line then 'duplicate of line ' || first_line end"
    )
    expected = layout.field_count
    structure = (
        "case when open_quote then 'unterminated quoted field' "
        f"when field_count <> {expected} "
        f"then 'expected {expected} fields, found ' || field_count end"
    )
    truncated = "case when is_last_line then ' (the last line of the file: truncated?)' else '' end"
    first = ["*", "min(source_line) over (partition by line) as first_line", *helpers]
    con.execute(
        f"""
        insert into {rows}
        select {", ".join(c.name for c in COLUMNS)}, source_file, source_line,
            line as raw_record,
            coalesce(
                {structure} || {truncated},
                nullif(concat_ws('; ', {", ".join(problems)}), '')
            ) as reason
        from (
            select *, {", ".join(values)}
            from (
                select {", ".join(first)}
                from {cells}
                where not is_totals
            )
        )
        """
    )
