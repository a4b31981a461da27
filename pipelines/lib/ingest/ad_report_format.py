"""An ad platform's report export, declared: its shapes, columns, preamble, totals and footer.

Every ad platform adapter (Google Ads, Meta, TikTok, LinkedIn, Microsoft Advertising) reads
CSV reports that differ only in what is declared here, so one loader (ad_report.py) and one
row reader (ad_report_rows.py) serve them all:

- a `Shape` per header style (API field names with machine-formatted values, or a UI download
  with display names and values written in the downloading user's locale); the header line
  decides the shape, whichever has more matching columns;
- per canonical `Column`, its header names in each shape; a header may carry the currency
  (`Amount spent ({currency})`, Meta);
- money as an amount or in micros; which empty markers a UI writes (`--`);
- what the lines above the header say (`preamble`: a date range, the report's timezone);
- the platform's own totals rows (`TotalsRule`) and footer lines, which are not data.

Only the header and the lines above it (at most `header_search_lines`) are read here, in Python.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from .errors import IngestError

# Field separators tried on each header candidate: (SQL expression, RE2 escape), constants.
DELIMITERS = {",": ("','", ","), "\t": ("chr(9)", "\\t"), ";": ("';'", ";")}
NUMERIC_KINDS = ("int", "money", "number")
# Canonical columns a report row can fill (the rest of AD_PERFORMANCE_COLUMNS is derived).
CANONICAL = (
    "account_id",
    "account_name",
    "currency",
    "account_timezone",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "ad_id",
    "final_url",
    "tracking_url_template",
    "report_date",
    "impressions",
    "clicks",
    "spend",
    "conversions",
    "conversion_value",
)
# Metrics that cannot be negative.
NON_NEGATIVE = ("impressions", "clicks", "spend")
CURRENCY_PLACEHOLDER = "{currency}"
# Unambiguous spellings of a day in a preamble line ("January 5, 2024", "2024-01-05").
RANGE_DATE_FORMATS = (
    "%Y-%m-%d",
    "%B %d, %Y",
    "%b %d, %Y",
    "%d %B %Y",
    "%d %b %Y",
    "%a, %b %d, %Y",
    "%A, %B %d, %Y",
)
_RANGE_SPLIT = re.compile(r"\s+[-\u2013\u2014]\s+")


@dataclass(frozen=True)
class Column:
    """One input column: its canonical name (or a helper name such as `period_end`), its kind
    (text | id | date | int | money | number | url) and its header names per shape name."""

    name: str
    kind: str
    headers: Mapping[str, tuple[str, ...]]
    required: bool = False

    def names(self, shape: str) -> tuple[str, ...]:
        return self.headers.get(shape, ())


@dataclass(frozen=True)
class TotalsRule:
    """A platform's own totals/summary rows: the first non-empty cell matches `first_cell`
    (an RE2 pattern; None: any) and every column of `empty` present in the file is empty.
    A data row always has at least one of `empty` (a campaign named "Total..." has an id)."""

    first_cell: str | None
    empty: tuple[str, ...]


@dataclass(frozen=True)
class Preamble:
    """What the lines above the header say: the report's days and the timezone it is cut in."""

    date_range: tuple[date, date] | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Shape:
    """One header style of a format."""

    name: str
    label: str  # for messages: "API/GAQL", "UI download"
    localized: bool  # numbers and days in the user's locale (number_style.py, date_order.py)
    money_in_micros: bool = False
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)  # machine shapes only
    empty_markers: tuple[str, ...] = ()  # besides '' (e.g. '--')
    totals: TotalsRule | None = None
    # Headers of the date column whose values are UTC hours (summed to UTC days).
    utc_date_headers: tuple[str, ...] = ()
    # Headers of the date column that start a period (its end: the `period_end` column); a
    # row is one day only when both are the same day.
    period_start_headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Format:
    """A platform's report export: what `load_ad_report` needs to read it."""

    source: str  # SOURCE constant and `platform` value
    label: str  # "Google Ads"
    columns: tuple[Column, ...]
    shapes: tuple[Shape, ...]
    header_hint: str  # for the no-header error: what a header looks like
    preamble: Callable[[list[str]], Preamble] = lambda lines: Preamble()
    footer: str | None = None  # RE2 pattern of a footer line (not data), over the raw line
    ignored_headers: tuple[str, ...] = ()  # known columns the pipeline does not use
    header_search_lines: int = 20
    timezone: str | None = None  # every report of the format is cut in this timezone

    def shape(self, name: str) -> Shape:
        return next(s for s in self.shapes if s.name == name)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


@dataclass(frozen=True)
class Layout:
    """Where the header is in one file and which field holds each column."""

    shape: Shape
    header_line: int
    delimiter: str
    field_count: int
    positions: dict[str, tuple[int, str]]  # column name -> (1-based field, header as written)
    extra_columns: tuple[str, ...] = ()  # headers the report has and the pipeline ignores
    preamble: Preamble = field(default_factory=Preamble)
    header_currency: str | None = None  # from a header such as `Amount spent (USD)`

    def columns(self, fmt: Format) -> list[tuple[Column, int, str]]:
        """(column, 1-based field, header) of every column of `fmt` the file has."""
        return [(c, *self.positions[c.name]) for c in fmt.columns if c.name in self.positions]

    @property
    def timezone(self) -> str | None:
        """The timezone of every row when the file says it outside its rows."""
        date_header = self.positions.get("report_date", (0, ""))[1]
        if date_header in self.shape.utc_date_headers:
            return "UTC"
        return self.preamble.timezone


def find_layout(
    con: duckdb.DuckDBPyConnection, lines: str, path: Path, fmt: Format
) -> Layout | None:
    """Find the header among the first lines; None for a file without lines."""
    head = con.execute(
        f"""
        select source_line, line from {lines}
        where source_file = ? and source_line <= ? and line is not null
        order by source_line
        """,
        [str(path), fmt.header_search_lines],
    ).fetchall()
    if not head:
        return None
    above: list[str] = []
    for line_no, raw in head:
        text = raw.lstrip("\ufeff").rstrip("\r")
        found = _header(text, fmt)
        if found is not None:
            delimiter, shape, names, positions, currency = found
            _require(path, positions, shape, fmt)
            known = {_pattern(h) for c in fmt.columns for h in c.names(shape.name)}
            known |= {_pattern(h) for h in fmt.ignored_headers}
            extra = tuple(n for n in names if n and not any(k.match(n) for k in known))
            preamble = fmt.preamble(above)
            if fmt.timezone and preamble.timezone is None:
                preamble = Preamble(preamble.date_range, fmt.timezone)
            return Layout(
                shape, line_no, delimiter, len(names), positions, extra, preamble, currency
            )
        above.append(text)
    raise IngestError(
        f"{path}: no {fmt.label} report header ({fmt.header_hint}) in its first "
        f"{fmt.header_search_lines} lines"
    )


def _pattern(header: str) -> re.Pattern[str]:
    """A header name as a case-insensitive full-match pattern; `{currency}` captures a code."""
    escaped = re.escape(header).replace(re.escape(CURRENCY_PLACEHOLDER), "([A-Za-z]{3})")
    return re.compile(f"{escaped}\\Z", re.IGNORECASE)


def _header(
    text: str, fmt: Format
) -> tuple[str, Shape, list[str], dict[str, tuple[int, str]], str | None] | None:
    """The delimiter and shape under which `text` reads as a report header (the most columns)."""
    best = None
    for delimiter in DELIMITERS:
        names = [h.strip() for h in next(csv.reader([text], delimiter=delimiter), [])]
        for shape in fmt.shapes:
            positions, currency = _match(names, shape, fmt)
            # A header names the date plus at least one other report column.
            is_header = "report_date" in positions and len(positions) >= 2
            if is_header and (best is None or len(positions) > len(best[3])):
                best = (delimiter, shape, names, positions, currency)
    return best


def _match(
    names: list[str], shape: Shape, fmt: Format
) -> tuple[dict[str, tuple[int, str]], str | None]:
    found: dict[str, tuple[int, str]] = {}
    currency = None
    for column in fmt.columns:
        for header in column.names(shape.name):
            pattern = _pattern(header)
            hit = next(((i, n) for i, n in enumerate(names) if pattern.match(n)), None)
            if hit is not None:
                found[column.name] = (hit[0] + 1, hit[1])
                match = pattern.match(hit[1])
                if match and match.groups():
                    currency = match.group(1).upper()
                break
    return found, currency


def _require(path: Path, positions: dict[str, tuple[int, str]], shape: Shape, fmt: Format) -> None:
    missing = [
        c.names(shape.name)[0]
        for c in fmt.columns
        if c.required and c.name not in positions and c.names(shape.name)
    ]
    if missing:
        raise IngestError(
            f"{path}: missing required column(s) for a {fmt.label} {shape.label} report: "
            + ", ".join(missing)
        )


def report_date_range(lines_above_header: list[str]) -> tuple[date, date] | None:
    """The first 'start - end' line whose two days are written unambiguously (month names or
    ISO), e.g. Google's `"January 5, 2024 - January 6, 2024"`; None without one."""
    for text in lines_above_header:
        # One cell, maybe quoted, maybe padded with empty cells by the export.
        cell = text.strip().rstrip(",;\t").strip().strip('"').strip()
        ends = _RANGE_SPLIT.split(cell)
        if len(ends) != 2:
            continue
        start, end = (unambiguous_date(e) for e in ends)
        if start and end and start <= end:
            return start, end
    return None


def preamble_values(lines_above_header: list[str]) -> dict[str, str]:
    """`Key: value` lines above a header (`"Report Start: ..."`), keys lower-cased."""
    values: dict[str, str] = {}
    for text in lines_above_header:
        cell = text.strip().rstrip(",;\t").strip().strip('"').strip()
        key, colon, value = cell.partition(":")
        if colon and key.strip():
            values.setdefault(key.strip().lower(), value.strip())
    return values


def unambiguous_date(text: str) -> date | None:
    """A day written so it has one reading (ISO or with a month name), a time of day after a
    comma or space ignored; None otherwise (`01/03/2024` is never guessed)."""
    candidates = [text.strip()]
    for cut in (",", " "):
        head, sep, _ = candidates[0].rpartition(cut)
        if sep:
            candidates.append(head.strip())
    for candidate in candidates:
        for pattern in RANGE_DATE_FORMATS:
            try:
                return datetime.strptime(candidate, pattern).date()
            except ValueError:
                continue
    return None


def column(name: str, kind: str, required: bool = False, **headers: tuple[str, ...]) -> Column:
    """A Column from header names given per shape name: column("spend", "money", api=(...))."""
    return Column(name, kind, headers, required)


def total_first_cell() -> str:
    """RE2 for a first cell `Total`, `Total: Account`, `Overall total`, `Totals` (any case)."""
    return "(?i)^(overall\\s+)?totals?(\\s*:.*)?$"
