"""Google Ads CSV reports -> canonical `ad_performance` rows plus quarantine.

Two real shapes are accepted, told apart by the header:
- API / GAQL: headers are GAQL field names (`segments.date`, `metrics.cost_micros`, ...).
- UI download: a title line and a date-range line above the header, display names
  (`Day`, `Impr.`, `Cost`, ...), numbers like `"1,234.56"`, `--` for empty, `Total: ...` rows.

Files are read as raw numbered lines and split into fields in SQL, so quarantine rows carry
the physical line number. Within a file, rows with the same key (e.g. split by device) are
summed; across files the last file in sorted path order wins (a restatement).
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS, select_list
from .drift import SchemaDrift
from .errors import IngestError
from .lines import append_lines, create_lines_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import temp_name, url_param
from .timeutil import naive_utc

SOURCE = "google_ads"
HEADER_SEARCH_LINES = 20
API = "api"
UI = "ui"
DATE_FORMATS = ("%Y-%m-%d", "%b %d, %Y", "%B %d, %Y", "%a, %b %d, %Y", "%A, %B %d, %Y", "%m/%d/%Y")
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")


@dataclass(frozen=True)
class Column:
    """One canonical input column and its header names in each shape (first name is canonical)."""

    name: str
    kind: str  # text | id | date | int | money | micros | number | url
    api: tuple[str, ...]
    ui: tuple[str, ...]
    required: bool = False


COLUMNS = (
    Column("account_id", "id", ("customer.id",), ("Customer ID", "Account ID")),
    Column("account_name", "text", ("customer.descriptive_name",), ("Account", "Account name")),
    Column("currency", "text", ("customer.currency_code",), ("Currency code", "Currency")),
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
# Field separators by header sniffing: (SQL expression, RE2 escape) - code constants only.
DELIMITERS = {",": ("','", ","), "\t": ("chr(9)", "\\t")}


@dataclass(frozen=True)
class Layout:
    """Where the header is in one file and which field holds each canonical column."""

    shape: str
    header_line: int
    delimiter: str
    field_count: int
    positions: dict[str, tuple[int, str]]  # canonical name -> (1-based field, header constant)
    extra_columns: tuple[str, ...] = ()  # headers the report has and the pipeline ignores


def load_google_ads(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest Google Ads report CSVs (optionally .gz) into two temp tables named in the result.

    `dates` keeps only those report dates (None: all); rows of other dates are out of scope and
    not counted as landed. Rows whose date cannot be parsed are quarantined with no partition.
    """
    paths = sorted(Path(p) for p in files)
    lines = temp_name("gads_lines")
    fields = temp_name("gads_fields")
    rows = temp_name("gads_rows")
    table = temp_name("gads_performance")
    quarantine = temp_name("gads_quarantine")
    create_lines_table(con, lines)
    con.execute(f"create temp table {rows} ({_ROW_DDL})")
    extra_columns: set[str] = set()
    try:
        for path in paths:
            if not path.exists():
                raise IngestError(f"{path}: file not found")
            append_lines(con, lines, path, encoding=_encoding(path))
            layout = _layout(con, lines, path)
            if layout is not None:
                extra_columns.update(layout.extra_columns)
                _split(con, lines, fields, path, layout)
                _typed(con, fields, rows, layout)
                con.execute(f"drop table if exists {fields}")
        _scope(con, rows, dates)
        landed = count_by_file(con, rows, paths)
        _final(con, rows, table, paths, naive_utc(loaded_at))
        _quarantine(con, rows, quarantine, naive_utc(loaded_at))
        loaded = count_by_file(con, rows, paths, only_good=True)
    finally:
        for name in (lines, fields, rows):
            con.execute(f"drop table if exists {name}")
    rejected = count_by_file(con, quarantine, paths)
    low, high = date_span(con, table, "report_date")
    out = con.execute(f"select count(*) from {table}").fetchone()
    return IngestResult(
        source=SOURCE,
        table=table,
        quarantine_table=quarantine,
        files=tuple(
            FileCounts(str(p), landed[str(p)], loaded[str(p)], rejected[str(p)]) for p in paths
        ),
        rows=int(out[0]) if out else 0,
        min_date=low,
        max_date=high,
        notes=("same-key rows summed within a file; the last file wins across files",),
        drift=SchemaDrift(extra_columns=tuple(sorted(extra_columns))),
    )


def _encoding(path: Path) -> str:
    """UI 'Excel' downloads are UTF-16 with a BOM; everything else is UTF-8."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        head = handle.read(2)
    return "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8"


def _layout(con: duckdb.DuckDBPyConnection, lines: str, path: Path) -> Layout | None:
    """Find the header among the first lines; None for an empty file."""
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
    for line_no, text in head:
        text = text.lstrip("\ufeff").rstrip("\r")
        delimiter = "\t" if text.count("\t") > text.count(",") else ","
        names = [h.strip() for h in next(csv.reader([text], delimiter=delimiter), [])]
        lowered = [h.lower() for h in names]
        for shape in (API, UI):
            positions = _match(lowered, shape)
            # A header names the date plus at least one other report column.
            if "report_date" in positions and len(positions) >= 2:
                _require(path, positions, shape)
                extra = tuple(n for n in names if n and n.lower() not in _headers(shape))
                return Layout(shape, line_no, delimiter, len(names), positions, extra)
    raise IngestError(
        f"{path}: no Google Ads report header (API `segments.date` or UI `Day`) in its first "
        f"{HEADER_SEARCH_LINES} lines"
    )


def _match(lowered: list[str], shape: str) -> dict[str, tuple[int, str]]:
    found: dict[str, tuple[int, str]] = {}
    for column in COLUMNS:
        for header in column.api if shape == API else column.ui:
            if header.lower() in lowered:
                found[column.name] = (lowered.index(header.lower()) + 1, header)
                break
    return found


def _headers(shape: str) -> set[str]:
    """Every header name (lower case) the pipeline reads in one shape."""
    return {h.lower() for c in COLUMNS for h in (c.api if shape == API else c.ui)}


def _require(path: Path, positions: dict[str, tuple[int, str]], shape: str) -> None:
    missing = [
        (c.api if shape == API else c.ui)[0]
        for c in COLUMNS
        if c.required and c.name not in positions
    ]
    if missing:
        label = "API/GAQL" if shape == API else "UI download"
        raise IngestError(
            f"{path}: missing required column(s) for a Google Ads {label} report: "
            + ", ".join(missing)
        )


def _split(
    con: duckdb.DuckDBPyConnection, lines: str, fields: str, path: Path, layout: Layout
) -> None:
    """Data lines below the header as lists of unquoted fields (RFC 4180, one line a record)."""
    prefix, escaped = DELIMITERS[layout.delimiter]
    pattern = f'{escaped}("(?:[^"]|"")*"|[^{escaped}]*)'
    con.execute(
        f"""
        create or replace temp table {fields} as
        select source_file, source_line, line,
            list_transform(
                regexp_extract_all({prefix} || rtrim(line, chr(13)), '{pattern}', 1),
                lambda v: case when v like '"%' then replace(v[2:-2], '""', '"') else v end
            ) as f
        from {lines}
        where source_file = ? and source_line > ?
            and nullif(trim(rtrim(line, chr(13))), '') is not null
        """,
        [str(path), layout.header_line],
    )


def _clean(sql: str, shape: str) -> str:
    """Trimmed text; UI downloads write '--' (and nothing) for empty."""
    if shape == UI:
        return f"nullif(nullif(trim({sql}), '--'), '')"
    return f"nullif(trim({sql}), '')"


def _parse(kind: str, raw: str, shape: str) -> str:
    number = (
        f"try_cast(replace({raw}, ',', '') as double)"
        if shape == UI
        else (f"try_cast({raw} as double)")
    )
    if kind == "date":
        formats = ", ".join(f"'{f}'" for f in DATE_FORMATS)
        return f"cast(try_strptime({raw}, [{formats}]) as date)"
    if kind == "int":
        return f"case when {number} = floor({number}) then {number}::bigint end"
    if kind == "money":
        return f"{number} / 1e6" if shape == API else number
    if kind == "number":
        return number
    if kind == "id":
        return f"replace({raw}, '-', '')"  # UI customer ids are written 123-456-7890
    if kind == "url":
        first = f"regexp_extract({raw}, 'https?://[^\\s,\\[\\]\"'']+')"
        return f"coalesce(nullif({first}, ''), {raw})"
    return raw


_ROW_DDL = ", ".join(
    [f"{c.name} {AD_PERFORMANCE_COLUMNS[c.name]}" for c in COLUMNS]
    + ["source_file varchar", "source_line bigint", "raw_record varchar", "reason varchar"]
)


def _typed(con: duckdb.DuckDBPyConnection, fields: str, rows: str, layout: Layout) -> None:
    """Typed values per data line, with the reason when a value does not parse."""
    raws, values, problems = [], [], []
    for column in COLUMNS:
        if column.name not in layout.positions:
            values.append(f"null as {column.name}")
            continue
        index, header = layout.positions[column.name]
        raw = f"raw_{column.name}"
        raws.append(f"{_clean(f'f[{index}]', layout.shape)} as {raw}")
        values.append(f"{_parse(column.kind, raw, layout.shape)} as {column.name}")
        label = header.replace("'", "''")
        if column.required:
            problems.append(f"case when {raw} is null then 'missing {label}' end")
        if column.kind in ("date", "int", "money", "number"):
            problems.append(
                f"case when {raw} is not null and {_parse(column.kind, raw, layout.shape)} "
                f"is null then 'unparseable {label}: ' || {raw} end"
            )
    date_index = layout.positions["report_date"][0]
    first_text = f"trim(coalesce(f[1], '')) ilike 'total%' or trim(f[{date_index}]) ilike 'total%'"
    count_check = (
        f"case when len(f) <> {layout.field_count} "
        f"then 'expected {layout.field_count} fields, found ' || len(f) end"
    )
    con.execute(
        f"""
        insert into {rows}
        select {", ".join(values)}, source_file, source_line, line as raw_record,
            nullif(concat_ws('; ', {count_check}, {", ".join(problems)}), '') as reason
        from (
            select *, {", ".join(raws)}
            from {fields}
            where not ({first_text})
        )
        """
    )


def _scope(con: duckdb.DuckDBPyConnection, rows: str, dates: list[date] | None) -> None:
    """Drop rows dated outside the requested dates (kept when the date itself is bad)."""
    if dates is None:
        return
    con.execute(
        f"delete from {rows} where report_date is not null and not list_contains(?, report_date)",
        [list(dates)],
    )


def _final(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    table: str,
    paths: list[Path],
    loaded_at: datetime,
) -> None:
    key = "account_key, campaign_id, ad_group_id, ad_id, report_date"
    firsts = ", ".join(
        f"arg_min({name}, source_line) as {name}"
        for name in (
            "account_id",
            "account_name",
            "campaign_name",
            "ad_group_name",
            "currency",
            "final_url",
            "tracking_url_template",
        )
    )
    sums = ", ".join(
        f"sum({name}) as {name}"
        for name in ("impressions", "clicks", "spend", "conversions", "conversion_value")
    )
    utm = ", ".join(f"{url_param('final_url', p)} as {p}" for p in UTM_PARAMS)
    con.execute(
        f"""
        create temp table {table} as
        with good as (
            select *, coalesce(account_id, account_name, '') as account_key,
                list_position($files, source_file) as file_rank
            from {rows}
            where reason is null
        ),
        per_file as (
            select {key}, file_rank, source_file, min(source_line) as source_line,
                {firsts}, {sums}
            from good
            group by {key}, file_rank, source_file
        ),
        latest as (
            select *, row_number() over (partition by {key} order by file_rank desc) as pick
            from per_file
        )
        select {select_list(AD_PERFORMANCE_COLUMNS)}
        from (
            select '{SOURCE}' as platform, *, {utm}, $loaded_at as loaded_at
            from latest
            where pick = 1
        )
        order by report_date, account_id, campaign_id, ad_group_id, ad_id
        """,
        {"files": [str(p) for p in paths], "loaded_at": loaded_at},
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection, rows: str, quarantine: str, loaded_at: datetime
) -> None:
    con.execute(
        f"""
        create temp table {quarantine} as
        select {select_list(QUARANTINE_COLUMNS)}
        from (
            select '{SOURCE}' as source, source_file, source_line, reason, raw_record,
                report_date as partition_date, $loaded_at as loaded_at
            from {rows}
            where reason is not null
        )
        order by source_file, source_line
        """,
        {"loaded_at": loaded_at},
    )
