"""One ad report file's data lines -> typed rows, each with the reason it is rejected.

Per file, in DuckDB: lines below the header are split into fields (RFC 4180 quoting, one line a
record), the platform's totals rows and footer lines are set aside (ad_report_format.py
declares them), a localized shape's number style and date order are decided from the file's own
values (number_style.py, date_order.py), and every line becomes one row of the shared `rows`
table: typed values, the physical line, the raw text and a reason (NULL when good).

Row rules, each giving a reason rather than a silent drop:
- wrong field count (a ragged row, a truncated last line) or an unterminated quote;
- a value that does not parse, or is ambiguous in this file, or conflicts with its style;
- a negative impressions, clicks or spend;
- a currency that contradicts the one the header names (`Amount spent (USD)`);
- a row that covers several days when only its period start and end say which (Meta without
  the Day breakdown): it cannot be put on one report date;
- an exact repeat of an earlier line of the file ("duplicate of line N"). Rows that share a key
  but differ (segmented reports: device, network, hour) are legitimate and summed later.

A totals row is recognised by the platform's own shape (e.g. Google's `Total: ...` first cell
with no campaign, ad group or ad id). A campaign whose name starts with "Total" has an id, so
it is data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS
from . import date_order, number_style
from .ad_report_format import (
    CANONICAL,
    DELIMITERS,
    NON_NEGATIVE,
    NUMERIC_KINDS,
    Column,
    Format,
    Layout,
)
from .sql import literal, temp_name

ROW_DDL = ", ".join(
    [f"{name} {AD_PERFORMANCE_COLUMNS[name]}" for name in CANONICAL]
    + ["source_file varchar", "source_line bigint", "raw_record varchar", "reason varchar"]
)


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
    con: duckdb.DuckDBPyConnection,
    lines: str,
    rows: str,
    path: Path,
    layout: Layout,
    fmt: Format,
) -> FileReading:
    """Append the file's data lines to `rows` (created with ROW_DDL)."""
    cells = temp_name("ad_report_cells")
    try:
        _cells(con, lines, cells, path, layout, fmt)
        reading = _decide(con, cells, path, layout, fmt)
        _insert_rows(con, cells, rows, layout, reading, fmt)
    finally:
        con.execute(f"drop table if exists {cells}")
    return reading


def _clean(sql: str, layout: Layout) -> str:
    """Trimmed text, NULL when empty or one of the shape's empty markers ('--')."""
    value = f"nullif(trim({sql}), '')"
    for marker in layout.shape.empty_markers:
        value = f"nullif({value}, {literal(marker)})"
    return value


def _totals_sql(layout: Layout) -> str:
    rule = layout.shape.totals
    if rule is None:
        return "false"
    present = [c for c in rule.empty if c in layout.positions]
    if not present:
        return "false"
    ids_empty = " and ".join(f"raw_{c} is null" for c in present)
    if rule.first_cell is None:
        return ids_empty
    first = "trim(coalesce(list_filter(f, x -> nullif(trim(x), '') is not null)[1], ''))"
    return f"regexp_matches({first}, {literal(rule.first_cell)}) and {ids_empty}"


def _cells(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    cells: str,
    path: Path,
    layout: Layout,
    fmt: Format,
) -> None:
    """Split data lines into fields and derive per value what the later steps need."""
    prefix, escaped = DELIMITERS[layout.delimiter]
    pattern = f'{escaped}("(?:[^"]|"")*"|[^{escaped}]*)'
    columns = layout.columns(fmt)
    raws = [f"{_clean(f'f[{index}]', layout)} as raw_{c.name}" for c, index, _ in columns]
    derived = []
    localized = layout.shape.localized
    for column, _, _ in columns:
        raw = f"raw_{column.name}"
        if localized and column.kind in NUMERIC_KINDS:
            whole = column.kind == "int"
            derived.append(f"{number_style.class_sql(raw, whole)} as class_{column.name}")
        if localized and column.name == "report_date":
            numeric, year_first = date_order.parts_sql(raw)
            derived += [f"{numeric} as date_numeric", f"{year_first} as date_year_first"]
    readings = ""
    if localized and "report_date" in layout.positions:
        readings = (
            ", "
            + date_order.readings_sql("raw_report_date", "date_numeric", "date_year_first")
            + " as date_readings"
        )
    footer = (
        f"regexp_matches(trim(line), {literal(fmt.footer)})" if fmt.footer is not None else "false"
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
            ({_totals_sql(layout)}) or ({footer}) as is_totals,
            source_line = max(source_line) over () as is_last_line,
            len(f) as field_count,
            (length(line) - length(replace(line, '"', ''))) % 2 = 1 as open_quote
        from classified
        """,
        [str(path), layout.header_line],
    )


def _decide(
    con: duckdb.DuckDBPyConnection, cells: str, path: Path, layout: Layout, fmt: Format
) -> FileReading:
    """The file's number style and date order from its well-formed data rows (localized)."""
    if not layout.shape.localized:
        return FileReading(path)
    numeric = [c.name for c, _, _ in layout.columns(fmt) if c.kind in NUMERIC_KINDS]
    has_point = " or ".join(f"class_{n} = '{number_style.POINT}'" for n in numeric) or "false"
    has_comma = " or ".join(f"class_{n} = '{number_style.COMMA}'" for n in numeric) or "false"
    date_class = date_order.class_sql("date_readings", layout.preamble.date_range)
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
    unparseable = f"{literal(f'unparseable {header}: ')} || {raw}"
    localized = layout.shape.localized
    if column.kind in NUMERIC_KINDS:
        number = f"number_{name}"
        if localized:
            assert reading.numbers is not None
            value_class = f"class_{name}"
            parsed = number_style.value_sql(raw, value_class, reading.numbers.style)
            problem = number_style.problem_sql(raw, value_class, header, reading.numbers)
        else:
            parsed = f"try_cast({raw} as double)"
            if column.kind == "money" and layout.shape.money_in_micros:
                parsed = f"{parsed} / 1e6"
            problem = f"case when {raw} is not null and {number} is null then {unparseable} end"
        if column.kind != "int":
            return _Typed((f"{parsed} as {number}",), number, problem)
        not_whole = (
            f"case when {number} <> floor({number}) "
            f"then {unparseable} || ' (not a whole number)' end"
        )
        value = f"case when {number} = floor({number}) then {number}::bigint end"
        return _Typed((f"{parsed} as {number}",), value, f"coalesce({problem}, {not_whole})")
    if column.name == "report_date" and localized:
        assert reading.dates is not None
        date_range = layout.preamble.date_range
        date_class = date_order.class_sql("date_readings", date_range)
        value = date_order.value_sql("date_readings", "date_class", reading.dates.order)
        problem = date_order.problem_sql(
            raw, "date_readings", "date_class", header, reading.dates, date_range
        )
        return _Typed((f"{date_class} as date_class",), value, problem)
    if column.kind == "date":  # machine shapes: the declared formats only
        formats = literal(list(layout.shape.date_formats))
        value = f"cast(try_strptime({raw}, {formats}) as date)"
        return _Typed(
            (), value, f"case when {raw} is not null and {value} is null then {unparseable} end"
        )
    if column.kind == "id":
        return _Typed((), f"replace({raw}, '-', '')")  # Google UI customer ids: 123-456-7890
    if column.kind == "url":
        first = f"regexp_extract({raw}, 'https?://[^\\s,\\[\\]\"'']+')"
        return _Typed((), f"coalesce(nullif({first}, ''), {raw})")
    return _Typed((), raw)


def _derived(name: str, value: str, layout: Layout) -> tuple[str, list[str]]:
    """Currency and timezone also come from outside the rows: the header, the preamble."""
    problems = []
    if name == "currency" and layout.header_currency:
        header = literal(layout.header_currency)
        if "currency" in layout.positions:
            spend_header = layout.positions.get("spend", (0, "the spend header"))[1]
            problems.append(
                f"case when {value} is not null and upper({value}) <> {header} then "
                f"{literal('currency ')} || {value} || "
                f"{literal(f' differs from the currency of column {spend_header}')} end"
            )
        value = f"coalesce(upper({value}), {header})" if value != "null" else header
    if name == "account_timezone" and layout.timezone:
        value = (
            f"coalesce({value}, {literal(layout.timezone)})"
            if value != "null"
            else literal(layout.timezone)
        )
    return value, problems


def _insert_rows(
    con: duckdb.DuckDBPyConnection,
    cells: str,
    rows: str,
    layout: Layout,
    reading: FileReading,
    fmt: Format,
) -> None:
    helpers: list[str] = []
    values: list[str] = []
    problems: list[str] = []
    for column in fmt.columns:
        if column.name not in layout.positions:
            continue
        header = layout.positions[column.name][1]
        if column.required:
            problems.append(
                f"case when raw_{column.name} is null then {literal(f'missing {header}')} end"
            )
        if column.name not in CANONICAL:
            continue
        typed = _typed_column(column, header, layout, reading)
        helpers += typed.helpers
        values.append(f"{typed.value} as value_{column.name}")
        if typed.problem:
            problems.append(typed.problem)
    outputs = []
    for name in CANONICAL:
        present = name in layout.positions
        value, extra = _derived(name, f"value_{name}" if present else "null", layout)
        problems += extra
        outputs.append(f"{value} as {name}")
    for name in NON_NEGATIVE:
        if name in layout.positions:
            label = literal(f"negative {layout.positions[name][1]}: ")
            problems.append(f"case when number_{name} < 0 then {label} || raw_{name} end")
    starts = {h.lower() for h in layout.shape.period_start_headers}
    date_header = layout.positions.get("report_date", (0, ""))[1]
    if "period_end" in layout.positions and date_header.lower() in starts:
        start, end = date_header, layout.positions["period_end"][1]
        problems.append(
            f"case when raw_report_date <> raw_period_end then {literal(start + ' ')} || "
            f"raw_report_date || {literal(' and ' + end + ' ')} || raw_period_end || "
            f"{literal(' differ: the row covers several days (export with a Day breakdown)')} "
            "end"
        )
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
        select {", ".join(CANONICAL)}, source_file, source_line,
            line as raw_record,
            coalesce(
                {structure} || {truncated},
                nullif(concat_ws('; ', {", ".join(problems)}), '')
            ) as reason
        from (
            select *, {", ".join(outputs)}
            from (
                select *, {", ".join(values) or "null as no_value"}
                from (
                    select {", ".join(first)}
                    from {cells}
                    where not is_totals
                )
            )
        )
        """
    )
