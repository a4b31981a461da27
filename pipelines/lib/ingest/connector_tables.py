"""Warehouse tables that managed connectors (Fivetran) land, read into DuckDB with their places.

Landing layout: `<landing>/connectors/<connector>/<table>.csv|.csv.gz|.parquet`, or a folder per
table `<landing>/connectors/<connector>/<table>/*.csv|*.csv.gz|*.parquet` (one table in parts).
Table and column names are Fivetran's (case-insensitive: TikTok's land UPPERCASE).

Why CSV is not read with `read_csv` directly: its row numbers skip blank lines and count a
record with a quoted line break as one line, and a bad row either fails the file or vanishes.
So CSV goes through lines.py (exact physical line numbers, undecodable lines and truncated
.gz files rejected with a reason) and records are rebuilt in SQL: a line starts a record when
the quotes before it are balanced, and fields are split with the RFC 4180 pattern. Every value
stays VARCHAR here; each connector types its columns in SQL so a bad value quarantines one row
with a reason naming the column, never the file. Parquet is read with `read_parquet` and
`file_row_number`: its `source_line` is the row number in the file (1-based), not a text line.

The second half of the module is shared by the five connector modules: picking the version of
a history row valid on the report day, and turning typed report rows into the canonical
`ad_performance` table plus quarantine, with per-file reconciliation.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from ..schemas import AD_PERFORMANCE_COLUMNS, QUARANTINE_COLUMNS, select_list
from .drift import SchemaDrift
from .errors import IngestError, duckdb_errors_redacted, redacted
from .lines import append_lines, create_lines_table, create_rejects_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import literal, temp_name, url_param
from .timeutil import naive_utc

SUFFIXES = (".csv", ".csv.gz", ".parquet")
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "utm_id")
# Columns of the typed report-row table every connector builds (see `ROWS_DDL`).
ROW_COLUMNS = (
    "account_id",
    "account_name",
    "campaign_id",
    "campaign_name",
    "ad_group_id",
    "ad_group_name",
    "ad_id",
    "report_date",
    "impressions",
    "clicks",
    "spend",
    "currency",
    "account_timezone",
    "conversions",
    "conversion_value",
    "final_url",
    "tracking_url_template",
)
ROWS_DDL = ", ".join(
    [f"{name} {AD_PERFORMANCE_COLUMNS[name]}" for name in ROW_COLUMNS]
    + ["source_file varchar", "source_line bigint", "raw_record varchar", "reason varchar"]
)
_KEY = ("account_id", "campaign_id", "ad_group_id", "ad_id", "report_date")
_METRICS = ("impressions", "clicks", "spend", "conversions", "conversion_value")
_DIMENSIONS = tuple(c for c in ROW_COLUMNS if c not in _KEY and c not in _METRICS)


@dataclass(frozen=True)
class TableSpec:
    """A Fivetran table: the columns a connector reads (lower-case) and which must exist."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + tuple(c for c in self.optional if c not in self.required)


@dataclass
class TableRead:
    """One table's rows in temp table `table`: spec columns as VARCHAR (NULL when the file has
    no such optional column), source_file, source_line, raw_record and `reason` (a structural
    problem of the row: wrong field count, unterminated quote, unreadable line or file)."""

    spec: TableSpec
    table: str
    files: list[Path]
    extra_columns: set[str] = field(default_factory=set)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # Optional columns no file of the table has (the connector decides what that means).
    absent: set[str] = field(default_factory=set)


def table_name(path: Path, connector: str) -> str | None:
    """The Fivetran table a landed file belongs to, or None when it is not a table file.

    `.../<connector>/<table>.csv` or `.../<connector>/<table>/<any folders>/<part>.csv`; a file
    outside any `<connector>` folder is named by its own name (`ad_stats.csv` -> ad_stats).
    """
    name = path.name.lower()
    suffix = next((s for s in SUFFIXES if name.endswith(s)), None)
    if suffix is None:
        return None
    folders = [part.lower() for part in path.parts[:-1]]
    if connector in folders:
        below = folders[len(folders) - folders[::-1].index(connector) :]
        if below:
            return below[0]
    return name[: -len(suffix)]


def group_tables(files: Iterable[Path], connector: str) -> tuple[dict[str, list[Path]], list[str]]:
    """Files by table name (sorted), and the names of files that are not table files."""
    tables: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for path in sorted(Path(p) for p in files):
        name = table_name(path, connector)
        if name is None:
            ignored.append(str(path))
        else:
            tables.setdefault(name, []).append(path)
    return tables, ignored


def require_table(tables: dict[str, list[Path]], connector: str, name: str) -> list[Path]:
    """The files of a required table; IngestError naming the table and the expected layout."""
    paths = tables.get(name)
    if not paths:
        found = ", ".join(sorted(tables)) or "none"
        raise IngestError(
            f"connectors/{connector}: missing required table {name} (expected "
            f"connectors/{connector}/{name}.csv|.csv.gz|.parquet or a {name}/ folder; "
            f"tables found: {found})"
        )
    return paths


def read_table(
    con: duckdb.DuckDBPyConnection, connector: str, spec: TableSpec, paths: list[Path]
) -> TableRead:
    """Read every file of one table into a new temp table (see TableRead)."""
    table = temp_name("conn_table")
    columns = ", ".join(f"{c} varchar" for c in spec.columns)
    con.execute(
        f"create temp table {table} (source_file varchar, source_line bigint, "
        f"raw_record varchar, reason varchar, {columns})"
    )
    read = TableRead(spec, table, list(paths))
    seen: set[str] = set()
    with duckdb_errors_redacted(f"connectors/{connector}/{spec.name}"):
        for path in paths:
            if not path.exists():
                raise IngestError(f"{path}: file not found")
            if path.name.lower().endswith(".parquet"):
                names = _read_parquet(con, read, path)
            else:
                names = _read_csv(con, read, path)
            if names is None:
                continue
            seen.update(names)
            missing = [c for c in spec.required if c not in names]
            if missing:
                raise IngestError(
                    f"{path}: table {spec.name} is missing required column(s) "
                    f"{', '.join(missing)} (columns found: {', '.join(names) or 'none'})"
                )
            read.extra_columns.update(
                f"{spec.name}.{n}"
                for n in names
                if n not in spec.columns and not n.startswith("_fivetran")
            )
    read.absent = {c for c in spec.optional if c not in seen}
    return read


def _read_csv(con: duckdb.DuckDBPyConnection, read: TableRead, path: Path) -> list[str] | None:
    lines, rejects, records = temp_name("conn_lines"), temp_name("conn_rejects"), None
    create_lines_table(con, lines)
    create_rejects_table(con, rejects)
    try:
        lines_read = append_lines(con, lines, rejects, path)
        con.execute(
            f"insert into {read.table} (source_file, source_line, raw_record, reason) "
            f"select source_file, source_line, raw_record, reason from {rejects}"
        )
        if lines_read.whole_file_reason:
            read.unreadable.append((str(path), lines_read.whole_file_reason))
            return None
        records = temp_name("conn_records")
        _records(con, lines, records)
        header = con.execute(
            f"select raw_record from {records} order by source_line limit 1"
        ).fetchone()
        if header is None:
            return None  # an empty file: no header, no rows
        text = header[0].lstrip("\ufeff")  # a byte-order mark is not part of the first name
        names = [n.strip().lower() for n in next(csv.reader([text]), [])]
        positions = {n: i + 1 for i, n in reversed(list(enumerate(names)))}
        values = ", ".join(
            f"nullif(trim(f[{positions[c]}]), '')" if c in positions else "null"
            for c in read.spec.columns
        )
        count = len(names)
        con.execute(
            f"""
            insert into {read.table}
            select source_file, source_line, raw_record,
                case when open_quote then 'unterminated quoted field' ||
                        case when is_last then ' (the last line of the file: truncated?)'
                        else '' end
                    when len(f) <> {count}
                    then 'expected {count} fields (the header''s), found ' || len(f)
                end,
                {values}
            from (
                select *, list_transform(
                    regexp_extract_all(',' || raw_record, ',("(?:[^"]|"")*"|[^,]*)', 1),
                    lambda v: case when v like '"%' then replace(v[2:-1], '""', '"') else v end
                ) as f,
                source_line = max(source_line) over () as is_last
                from {records}
                where source_line > (select min(source_line) from {records})
            )
            """
        )
        return names
    finally:
        for name in (lines, rejects, records):
            if name:
                con.execute(f"drop table if exists {name}")


def _records(con: duckdb.DuckDBPyConnection, lines: str, records: str) -> None:
    """Physical lines -> CSV records: a record starts where the quotes before it balance.

    Blank lines between records are not rows (skipped, as every CSV reader does).
    """
    con.execute(
        f"""
        create temp table {records} as
        with quoted as (
            select source_file, source_line, rtrim(coalesce(line, ''), chr(13)) as line,
                coalesce(sum(length(coalesce(line, '')) - length(replace(coalesce(line, ''),
                    '"', ''))) over (order by source_line rows between unbounded preceding
                    and 1 preceding), 0) % 2 = 0 as starts
            from {lines}
        ),
        numbered as (
            select *, sum(starts::int) over (order by source_line) as record from quoted
        )
        select any_value(source_file) as source_file, min(source_line) as source_line,
            string_agg(line, chr(10) order by source_line) as raw_record,
            sum(length(line) - length(replace(line, '"', ''))) % 2 = 1 as open_quote
        from numbered
        group by record
        having trim(string_agg(line, chr(10) order by source_line)) <> ''
        """
    )


def _read_parquet(con: duckdb.DuckDBPyConnection, read: TableRead, path: Path) -> list[str] | None:
    """Parquet rows; source_line = the row's 1-based number in the file (not a text line)."""
    scan = f"read_parquet({literal(str(path))}, file_row_number = true)"
    try:
        described = con.execute(f"describe select * from {scan}").fetchall()
    except duckdb.Error as error:
        reason = (
            f"unreadable Parquet file ({redacted(error)}); the file is quarantined whole "
            "(nothing loaded from it): re-deliver it"
        )
        con.execute(
            f"insert into {read.table} (source_file, source_line, reason) values (?, null, ?)",
            [str(path), reason],
        )
        read.unreadable.append((str(path), reason))
        return None
    actual = {str(r[0]).lower(): str(r[0]) for r in described if r[0] != "file_row_number"}
    values = ", ".join(
        f"nullif(trim(cast(\"{actual[c]}\" as varchar)), '')" if c in actual else "null"
        for c in read.spec.columns
    )
    con.execute(
        f"""
        insert into {read.table}
        select {literal(str(path))}, file_row_number + 1,
            json_merge_patch(to_json(t), '{{"file_row_number": null}}')::varchar, null,
            {values}
        from (select * from {scan}) as t
        """
    )
    return list(actual)


# ---- typing helpers: SQL for a value and for the reason it is rejected ---------------------


def number_sql(column: str) -> str:
    """A metric as DOUBLE; empty means 0 (the Fivetran packages coalesce metrics to 0)."""
    return f"coalesce(try_cast({column} as double), case when {column} is null then 0 end)"


def metric_sql(read: TableRead, column: str) -> str:
    """`number_sql`, or NULL when no file of the table has the (optional) column at all."""
    return "null" if column in read.absent else number_sql(column)


def number_problems(column: str, label: str, whole: bool = False) -> list[str]:
    """Reasons for a metric: unparseable, not a whole number (counts), negative."""
    value = f"try_cast({column} as double)"
    problems = [
        f"case when {column} is not null and {value} is null then "
        f"{literal(f'unparseable {label}: ')} || {column} end",
        f"case when {value} < 0 then {literal(f'negative {label}: ')} || {column} end",
    ]
    if whole:
        problems.append(
            f"case when {value} <> floor({value}) then "
            f"{literal(f'{label} is not a whole number: ')} || {column} end"
        )
    return problems


def day_sql(column: str) -> str:
    """A report day from 'YYYY-MM-DD' or a timestamp text ('2020-10-17 00:00:00')."""
    return f"coalesce(try_cast({column} as date), cast(try_cast({column} as timestamp) as date))"


def day_problems(column: str, label: str) -> list[str]:
    return [
        f"case when {column} is null then {literal(f'missing {label}')} "
        f"when {day_sql(column)} is null then {literal(f'unparseable {label}: ')} || {column} end"
    ]


def id_problems(column: str, label: str) -> list[str]:
    return [f"case when {column} is null then {literal(f'missing {label}')} end"]


def timestamp_sql(column: str) -> str:
    """Fivetran timestamps: ISO with 'T' or space, 1- or 2-digit hours, optional fraction."""
    return f"try_cast({column} as timestamp)"


def reason_sql(problems: list[str]) -> str:
    """The row's reason: its structural problem, else every value problem joined."""
    return f"coalesce(reason, nullif(concat_ws('; ', {', '.join(problems)}), ''))"


# ---- history tables: the version valid on the report day ----------------------------------


@dataclass(frozen=True)
class History:
    """A history table reduced to (id, version_at, synced_at, fields...) in temp `table`."""

    table: str
    fields: tuple[str, ...]
    rows: int
    bad_rows: int


def history(
    con: duckdb.DuckDBPyConnection,
    read: TableRead,
    id_column: str,
    version_columns: tuple[str, ...],
    fields: dict[str, str],
) -> History:
    """Versions of each id. `version_columns` are coalesced (first present wins) into the
    version time; `_fivetran_synced` breaks ties, like the Fivetran packages' row_number() over
    (partition by id order by updated_at desc). Rows with `_fivetran_active` false are dropped,
    as the Google Ads package does; rows with a structural problem are counted, not used.
    """
    table = temp_name("conn_history")
    present = read.spec.columns
    versions = [timestamp_sql(c) for c in version_columns if c in present]
    version = f"coalesce({', '.join(versions)})" if versions else "null::timestamp"
    synced = (
        timestamp_sql("_fivetran_synced") if "_fivetran_synced" in present else "null::timestamp"
    )
    active = (
        "coalesce(try_cast(_fivetran_active as boolean), true)"
        if "_fivetran_active" in present
        else "true"
    )
    selected = ", ".join(f"{sql} as {name}" for name, sql in fields.items())
    con.execute(
        f"""
        create temp table {table} as
        select {id_column} as id, {version} as version_at, {synced} as synced_at, {selected}
        from {read.table}
        where reason is null and {id_column} is not null and {active}
        """
    )
    counts = con.execute(
        f"select count(*), count(*) filter (where reason is not null) from {read.table}"
    ).fetchone()
    total, bad = counts if counts else (0, 0)
    return History(table, tuple(fields), int(total), int(bad))


def enrich(
    con: duckdb.DuckDBPyConnection,
    rows: str,
    key: str,
    hist: History,
    targets: dict[str, str],
) -> int:
    """Fill row columns from the version of `key`'s history valid on the row's report day.

    Valid = the latest version stamped before the end of the report day; when every version is
    later (the history starts after the report), the latest version, which is what the
    Fivetran packages use for every day (`is_most_recent_record`). `targets` maps a row column
    to a history field; a value already set on the row (from the report itself) is kept.
    Returns the number of good rows whose key has no history row at all (names stay NULL).
    """
    fields = ", ".join(f"{f} := h.{f}" for f in sorted(set(targets.values())))
    picked = temp_name("conn_picked")
    con.execute(
        f"""
        create temp table {picked} as
        select r.k, r.report_date,
            arg_max(struct_pack({fields}), (
                coalesce(h.version_at < r.report_date + interval 1 day, false),
                coalesce(h.version_at, timestamp '0001-01-01'),
                coalesce(h.synced_at, timestamp '0001-01-01')
            )) as v
        from (
            select distinct {key} as k, report_date from {rows}
            where reason is null and {key} is not null
        ) as r
        join {hist.table} as h on h.id = r.k
        group by r.k, r.report_date
        """
    )
    try:
        sets = ", ".join(
            f"{target} = coalesce({rows}.{target}, p.v.{f})" for target, f in targets.items()
        )
        con.execute(
            f"update {rows} set {sets} from {picked} as p "
            f"where {rows}.{key} = p.k and {rows}.report_date = p.report_date"
        )
        unmatched = con.execute(
            f"""
            select count(*) from {rows}
            where reason is null and {key} is not null
                and {key} not in (select id from {hist.table})
            """
        ).fetchone()
    finally:
        con.execute(f"drop table if exists {picked}")
    return int(unmatched[0]) if unmatched else 0


def enrich_from(
    con: duckdb.DuckDBPyConnection,
    out: Output,
    tables: dict[str, list[Path]],
    temp: list[str],
    spec: TableSpec,
    key: str,
    targets: dict[str, str],
    fields: dict[str, str],
    *,
    id_column: str = "id",
    version_columns: tuple[str, ...] = ("updated_at",),
) -> History | None:
    """Read one history table and fill `targets` on the rows; a table that did not land is a
    warning (the names stay NULL), not a failure. Temp tables made are appended to `temp`."""
    paths = tables.get(spec.name)
    if not paths:
        out.warnings.append(f"{out.source}: no {spec.name} table landed: its fields are NULL")
        return None
    read = read_table(con, out.connector, spec, paths)
    temp.append(read.table)
    out.tables_read.append(read)
    with duckdb_errors_redacted(f"{out.source}: {spec.name}"):
        hist = history(con, read, id_column, version_columns, fields)
        temp.append(hist.table)
        missing = enrich(con, out.rows, key, hist, targets)
    if hist.bad_rows:
        out.notes.append(f"{spec.name}: {hist.bad_rows} malformed row(s) not used")
    if missing:
        out.warnings.append(
            f"{out.source}: {missing} report row(s) whose {key} has no row in {spec.name}: "
            "loaded with its fields NULL"
        )
    return hist


# ---- canonical output ----------------------------------------------------------------------


@dataclass
class Output:
    """What a connector hands to `finish`."""

    source: str
    platform: str
    connector: str
    rows: str  # temp table created with ROWS_DDL
    report: TableRead
    tables_read: list[TableRead]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    # Every table name that landed (those no loader reads are listed in a note).
    landed_tables: list[str] = field(default_factory=list)


def new_rows_table(con: duckdb.DuckDBPyConnection) -> str:
    table = temp_name("conn_rows")
    con.execute(f"create temp table {table} ({ROWS_DDL})")
    return table


def mark_duplicates(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """An exact repeat of a report row (same text, in any file of the table) is quarantined,
    never summed twice; the first copy by file and line is kept. Rows that share a key but
    differ (device/network segments, hours) are legitimate and summed later."""
    con.execute(
        f"""
        update {rows} set reason = 'duplicate of ' || d.kept
        from (
            select source_file, source_line,
                first_value(source_file || ':' || source_line) over w as kept,
                row_number() over w as copy
            from {rows}
            where reason is null
            window w as (partition by raw_record order by source_file, source_line)
        ) as d
        where d.copy > 1 and {rows}.source_file = d.source_file
            and {rows}.source_line = d.source_line
        """
    )


def scope(con: duckdb.DuckDBPyConnection, rows: str, dates: list[date] | None) -> None:
    """Rows of other days are out of scope (not landed); a row without a good day stays."""
    if dates is not None:
        con.execute(
            f"delete from {rows} where report_date is not null "
            f"and not list_contains(?, report_date)",
            [list(dates)],
        )


def finish(
    con: duckdb.DuckDBPyConnection,
    out: Output,
    loaded_at: datetime,
    after_aggregate: str | None = None,
) -> IngestResult:
    """Canonical table (same-key good rows summed, first row's names), quarantine, counts.

    `after_aggregate` is an optional SQL statement run on the aggregated table (its name
    substituted for `{table}`), e.g. Meta's conversions joined in at the ad-day grain.
    """
    paths = out.report.files
    moment = naive_utc(loaded_at)
    table = temp_name("conn_performance")
    quarantine = temp_name("conn_quarantine")
    key = ", ".join(_KEY)
    firsts = ", ".join(f"arg_min({c}, (source_file, source_line)) as {c}" for c in _DIMENSIONS)
    sums = ", ".join(f"sum({c}) as {c}" for c in _METRICS)
    utm = ", ".join(f"{url_param('final_url', p)} as {p}" for p in UTM_PARAMS)
    with duckdb_errors_redacted(f"{out.source}: canonical rows"):
        landed = count_by_file(con, out.rows, paths)
        loaded = count_by_file(con, out.rows, paths, only_good=True)
        con.execute(
            f"""
            create temp table {table} as
            select {key}, {firsts}, {sums},
                min(source_file) as source_file,
                arg_min(source_line, (source_file, source_line)) as source_line
            from {out.rows}
            where reason is null
            group by {key}
            """
        )
        if after_aggregate:
            con.execute(after_aggregate.format(table=table))
        final = temp_name("conn_final")
        con.execute(
            f"""
            create temp table {final} as
            select {select_list(AD_PERFORMANCE_COLUMNS)}
            from (
                select {literal(out.platform)} as platform, *, {utm},
                    {literal(moment)} as loaded_at
                from {table}
            )
            order by report_date, account_id, campaign_id, ad_group_id, ad_id
            """
        )
        con.execute(f"drop table {table}")
        con.execute(
            f"""
            create temp table {quarantine} as
            select {select_list(QUARANTINE_COLUMNS)}
            from (
                select {literal(out.source)} as source, source_file, source_line, reason,
                    raw_record, report_date as partition_date, {literal(moment)} as loaded_at
                from {out.rows}
                where reason is not null
            )
            order by source_file, source_line
            """
        )
        rejected = count_by_file(con, quarantine, paths)
        low, high = date_span(con, final, "report_date")
        count = con.execute(f"select count(*) from {final}").fetchone()
    # Only the report table's extra columns are drift: the loaders read a chosen few columns
    # of the (wide) history tables on purpose.
    extra = sorted(out.report.extra_columns)
    used = {r.spec.name for r in out.tables_read}
    unused = sorted(set(out.landed_tables) - used)
    unreadable = [u for r in out.tables_read for u in r.unreadable]
    return IngestResult(
        source=out.source,
        table=final,
        quarantine_table=quarantine,
        files=tuple(
            FileCounts(str(p), landed[str(p)], loaded[str(p)], rejected[str(p)]) for p in paths
        ),
        rows=int(count[0]) if count else 0,
        min_date=low,
        max_date=high,
        notes=(
            f"report table {out.report.spec.name}: rows sharing account, campaign, ad group, "
            "ad and day are summed (segments); exact repeats are quarantined as duplicates",
            *out.notes,
            *(f"ignored (not a table file): {name}" for name in out.ignored_files),
            *([f"tables landed but not used: {', '.join(unused)}"] if unused else []),
        ),
        drift=SchemaDrift(extra_columns=tuple(extra)),
        unreadable_files=tuple(unreadable),
        warnings=tuple(out.warnings),
    )


def drop_tables(con: duckdb.DuckDBPyConnection, names: Iterable[str]) -> None:
    for name in names:
        con.execute(f"drop table if exists {name}")


def read_report(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    *,
    source: str,
    platform: str,
    connector: str,
    report_spec: TableSpec,
    report_rows: Callable[[duckdb.DuckDBPyConnection, TableRead, str], None],
    temp: list[str],
) -> tuple[dict[str, list[Path]], Output]:
    """How every connector starts: its files grouped by table, the report table read and typed
    into rows (`report_rows`, the connector's own mapping), exact duplicates marked and rows of
    other dates dropped. Temp tables are appended to `temp` for the caller to drop."""
    tables, ignored = group_tables(files, connector)
    report = read_table(
        con, connector, report_spec, require_table(tables, connector, report_spec.name)
    )
    temp.append(report.table)
    rows = new_rows_table(con)
    temp.append(rows)
    report_rows(con, report, rows)
    with duckdb_errors_redacted(f"{source}: rows"):
        mark_duplicates(con, rows)
        scope(con, rows, dates)
    out = Output(
        source,
        platform,
        connector,
        rows,
        report,
        [report],
        ignored_files=ignored,
        landed_tables=list(tables),
    )
    return tables, out
