"""Where things are in one Google Ads report file: its shape, header, delimiter and date range.

Two real shapes, told apart by the header:
- API / GAQL: headers are GAQL field names (`segments.date`, `metrics.cost_micros`, ...),
  machine-formatted values (ISO dates, plain numbers, money in micros).
- UI download: a title line and a date-range line above the header, display names (`Day`,
  `Impr.`, `Cost`, ...), numbers and dates written in the downloading user's locale, `--` for
  empty, `Total: ...` rows. Delimited by ',' (CSV), a tab (the "Excel" UTF-16 CSV) or ';'
  (a European re-save).

Only the header and the lines above it (at most HEADER_SEARCH_LINES) are read here, in Python.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from .errors import IngestError

HEADER_SEARCH_LINES = 20
API = "api"
UI = "ui"
# Field separators tried on each header candidate: (SQL expression, RE2 escape), constants.
DELIMITERS = {",": ("','", ","), "\t": ("chr(9)", "\\t"), ";": ("';'", ";")}
# Unambiguous spellings of a day in a UI download's date-range line ("January 5, 2024").
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
    """One canonical input column and its header names in each shape (first name is canonical)."""

    name: str
    kind: str  # text | id | date | int | money | micros | number | url
    api: tuple[str, ...]
    ui: tuple[str, ...]
    required: bool = False

    def headers(self, shape: str) -> tuple[str, ...]:
        return self.api if shape == API else self.ui


COLUMNS = (
    Column("account_id", "id", ("customer.id",), ("Customer ID", "Account ID")),
    Column("account_name", "text", ("customer.descriptive_name",), ("Account", "Account name")),
    Column("currency", "text", ("customer.currency_code",), ("Currency code", "Currency")),
    Column("account_timezone", "text", ("customer.time_zone",), ("Time zone",)),
    Column("campaign_id", "id", ("campaign.id",), ("Campaign ID",), required=True),
    Column("campaign_name", "text", ("campaign.name",), ("Campaign",)),
    Column("ad_group_id", "id", ("ad_group.id",), ("Ad group ID",)),
    Column("ad_group_name", "text", ("ad_group.name",), ("Ad group",)),
    Column("ad_id", "id", ("ad_group_ad.ad.id",), ("Ad ID",)),
    Column("final_url", "url", ("ad_group_ad.ad.final_urls",), ("Final URL", "Final URLs")),
    Column(
        "tracking_url_template",
        "text",
        ("campaign.tracking_url_template", "ad_group_ad.ad.tracking_url_template"),
        ("Tracking template",),
    ),
    Column("report_date", "date", ("segments.date",), ("Day", "Date"), required=True),
    Column("impressions", "int", ("metrics.impressions",), ("Impr.", "Impressions"), True),
    Column("clicks", "int", ("metrics.clicks",), ("Clicks",), required=True),
    Column("spend", "money", ("metrics.cost_micros",), ("Cost",), required=True),
    Column("conversions", "number", ("metrics.conversions",), ("Conversions",)),
    Column(
        "conversion_value",
        "number",
        ("metrics.conversions_value",),
        ("Conv. value", "Conversion value", "All conv. value"),
    ),
)
ID_COLUMNS = tuple(c.name for c in COLUMNS if c.kind == "id")
NUMERIC_KINDS = ("int", "money", "number")


@dataclass(frozen=True)
class Layout:
    """Where the header is in one file and which field holds each canonical column."""

    shape: str
    header_line: int
    delimiter: str
    field_count: int
    positions: dict[str, tuple[int, str]]  # canonical name -> (1-based field, header constant)
    extra_columns: tuple[str, ...] = ()  # headers the report has and the pipeline ignores
    date_range: tuple[date, date] | None = None  # from a UI download's date-range line

    def columns(self) -> list[tuple[Column, int, str]]:
        """(column, 1-based field, header) of every canonical column the file has."""
        return [(c, *self.positions[c.name]) for c in COLUMNS if c.name in self.positions]


def find_layout(con: duckdb.DuckDBPyConnection, lines: str, path: Path) -> Layout | None:
    """Find the header among the first lines; None for a file without lines."""
    head = con.execute(
        f"""
        select source_line, line from {lines}
        where source_file = ? and source_line <= ? and line is not null
        order by source_line
        """,
        [str(path), HEADER_SEARCH_LINES],
    ).fetchall()
    if not head:
        return None
    above: list[str] = []
    for line_no, raw in head:
        text = raw.lstrip("\ufeff").rstrip("\r")
        found = _header(text)
        if found is not None:
            delimiter, shape, names, positions = found
            _require(path, positions, shape)
            known = {h.lower() for c in COLUMNS for h in c.headers(shape)}
            extra = tuple(n for n in names if n and n.lower() not in known)
            return Layout(
                shape,
                line_no,
                delimiter,
                len(names),
                positions,
                extra,
                report_date_range(above) if shape == UI else None,
            )
        above.append(text)
    raise IngestError(
        f"{path}: no Google Ads report header (API `segments.date` or UI `Day`) in its first "
        f"{HEADER_SEARCH_LINES} lines"
    )


def _header(
    text: str,
) -> tuple[str, str, list[str], dict[str, tuple[int, str]]] | None:
    """The delimiter and shape under which `text` reads as a report header (the most columns)."""
    best = None
    for delimiter in DELIMITERS:
        names = [h.strip() for h in next(csv.reader([text], delimiter=delimiter), [])]
        lowered = [h.lower() for h in names]
        for shape in (API, UI):
            positions = _match(lowered, shape)
            # A header names the date plus at least one other report column.
            is_header = "report_date" in positions and len(positions) >= 2
            if is_header and (best is None or len(positions) > len(best[3])):
                best = (delimiter, shape, names, positions)
    return best


def _match(lowered: list[str], shape: str) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for column in COLUMNS:
        for header in column.headers(shape):
            if header.lower() in lowered:
                found[column.name] = (lowered.index(header.lower()) + 1, header)
                break
    return found


def _require(path: Path, positions: dict[str, tuple[int, str]], shape: str) -> None:
    missing = [c.headers(shape)[0] for c in COLUMNS if c.required and c.name not in positions]
    if missing:
        label = "API/GAQL" if shape == API else "UI download"
        raise IngestError(
            f"{path}: missing required column(s) for a Google Ads {label} report: "
            + ", ".join(missing)
        )


def report_date_range(lines_above_header: list[str]) -> tuple[date, date] | None:
    """The first 'start - end' line whose two days are written unambiguously (month names or
    ISO), e.g. the UI download's `"January 5, 2024 - January 6, 2024"`; None without one."""
    for text in lines_above_header:
        # One cell, maybe quoted, maybe padded with empty cells by the export.
        cell = text.strip().rstrip(",;\t").strip().strip('"').strip()
        ends = _RANGE_SPLIT.split(cell)
        if len(ends) != 2:
            continue
        start, end = (_unambiguous_date(e) for e in ends)
        if start and end and start <= end:
            return start, end
    return None


def _unambiguous_date(text: str) -> date | None:
    for pattern in RANGE_DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    return None
