"""Exchange-rate files -> one validated rates table (and its quarantine).

Format (README: Currencies and timezones): CSV with a header naming the columns
`date,base_currency,quote_currency,rate`, one rate per line: on `date`, one unit of
`base_currency` is worth `rate` units of `quote_currency` (EUR,USD,1.0842 = 1 EUR is 1.0842 USD),
as the ECB, Open Exchange Rates and most finance exports quote pairs. Column order is free,
extra columns are ignored. The dbt model int_ad_spend_daily picks the pair it needs in either
direction. Every line that cannot be used is quarantined with its file, line and reason; two
files giving one pair and day different rates quarantine both (no silent choice).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import duckdb

from ..schemas import QUARANTINE_COLUMNS, select_list
from .drift import SchemaDrift
from .errors import IngestError
from .lines import append_lines, create_lines_table, create_rejects_table
from .result import FileCounts, IngestResult, count_by_file, date_span
from .sql import temp_name
from .timeutil import naive_utc

SOURCE = "exchange_rates"
REQUIRED = ("date", "base_currency", "quote_currency", "rate")
RATES_COLUMNS: dict[str, str] = {
    "rate_date": "DATE",
    "base_currency": "VARCHAR",
    "quote_currency": "VARCHAR",
    "rate": "DOUBLE",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "loaded_at": "TIMESTAMP",
}


def load_exchange_rates(
    con: duckdb.DuckDBPyConnection, files: list[Path], loaded_at: datetime
) -> IngestResult:
    """Every rates file into temp tables `result.table` (RATES_COLUMNS) and its quarantine."""
    paths = sorted(Path(p) for p in files)
    lines, rejects = temp_name("rate_lines"), temp_name("rate_rejects")
    rows, table, quarantine = temp_name("rate_rows"), temp_name("rates"), temp_name("rates_q")
    create_lines_table(con, lines)
    create_rejects_table(con, rejects)
    con.execute(
        f"create temp table {rows} (rate_date date, base_currency varchar, quote_currency "
        "varchar, rate double, source_file varchar, source_line bigint, raw_record varchar, "
        "reason varchar)"
    )
    extra: set[str] = set()
    try:
        for path in paths:
            read = append_lines(con, lines, rejects, path)
            if read.whole_file_reason is None:
                extra |= _add_rows(con, lines, rows, path)
        con.execute(
            f"insert into {rows} (source_file, source_line, raw_record, reason) "
            f"select source_file, source_line, raw_record, reason from {rejects}"
        )
        _quarantine_conflicts(con, rows)
        stamp = naive_utc(loaded_at)
        con.execute(
            f"create temp table {table} as select {select_list(RATES_COLUMNS)} from "
            f"(select *, $stamp as loaded_at from {rows} where reason is null) "
            "order by rate_date, base_currency, quote_currency",
            {"stamp": stamp},
        )
        con.execute(
            f"create temp table {quarantine} as select {select_list(QUARANTINE_COLUMNS)} from "
            f"(select '{SOURCE}' as source, source_file, source_line, reason, raw_record, "
            f"rate_date as partition_date, $stamp as loaded_at from {rows} "
            "where reason is not null) order by source_file, source_line",
            {"stamp": stamp},
        )
        landed = count_by_file(con, rows, paths)
        loaded = count_by_file(con, rows, paths, only_good=True)
        rejected = count_by_file(con, quarantine, paths)
        low, high = date_span(con, table, "rate_date")
        out = con.execute(f"select count(*) from {table}").fetchone()
    finally:
        for name in (lines, rejects, rows):
            con.execute(f"drop table if exists {name}")
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
        drift=SchemaDrift(extra_columns=tuple(sorted(extra))),
    )


def _add_rows(con: duckdb.DuckDBPyConnection, lines: str, rows: str, path: Path) -> set[str]:
    """Type one file's lines below its header; returns the header's extra column names."""
    first = con.execute(
        f"select source_line, line from {lines} where source_file = ? and line is not null "
        "order by source_line limit 1",
        [str(path)],
    ).fetchone()
    if first is None:
        return set()
    header_line, header_text = first
    names = [h.strip().lower() for h in next(csv.reader([header_text.lstrip("\ufeff")]))]
    missing = [name for name in REQUIRED if name not in names]
    if missing:
        raise IngestError(f"{path}: exchange-rate file without column(s) {', '.join(missing)}")
    position = {name: names.index(name) + 1 for name in REQUIRED}
    field = {name: f"nullif(trim(trim(f[{index}]), '\"'), '')" for name, index in position.items()}
    con.execute(
        f"""
        insert into {rows}
        select
            rate_date, base_currency, quote_currency, rate, source_file, source_line,
            line as raw_record,
            case
                when len(f) <> {len(names)}
                    then 'expected {len(names)} fields, found ' || len(f)
                when raw_date is null or rate_date is null
                    then 'unparseable date (want YYYY-MM-DD): ' || coalesce(raw_date, '')
                when not regexp_full_match(coalesce(base_currency, ''), '[A-Z]{{3}}')
                    then 'base_currency is not an ISO 4217 code: ' || coalesce(base_currency, '')
                when not regexp_full_match(coalesce(quote_currency, ''), '[A-Z]{{3}}')
                    then 'quote_currency is not an ISO 4217 code: '
                        || coalesce(quote_currency, '')
                when base_currency = quote_currency then 'base and quote are the same currency'
                when rate is null then 'unparseable rate: ' || coalesce(raw_rate, '')
                when not isfinite(rate) or rate <= 0
                    then 'rate must be a positive number: ' || raw_rate
            end as reason
        from (
            select *,
                cast(try_strptime(raw_date, '%Y-%m-%d') as date) as rate_date,
                upper(raw_base) as base_currency,
                upper(raw_quote) as quote_currency,
                try_cast(raw_rate as double) as rate
            from (
                select source_file, source_line, line, f,
                    {field["date"]} as raw_date, {field["base_currency"]} as raw_base,
                    {field["quote_currency"]} as raw_quote, {field["rate"]} as raw_rate
                from (
                    select *, string_split(rtrim(line, chr(13)), ',') as f from {lines}
                    where source_file = ? and source_line > ?
                        and nullif(trim(line), '') is not null
                )
            )
        )
        """,
        [str(path), header_line],
    )
    return {n for n in names if n and n not in REQUIRED}


def _quarantine_conflicts(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """One pair and day with different rates: every copy is quarantined, naming the others."""
    con.execute(
        f"""
        update {rows} as r set reason = 'conflicting rates for ' || r.base_currency || '/'
            || r.quote_currency || ' on ' || r.rate_date || ': ' || c.rates
        from (
            select rate_date, base_currency, quote_currency,
                string_agg(distinct rate::varchar, ', ' order by rate::varchar) as rates
            from {rows} where reason is null
            group by all having count(distinct rate) > 1
        ) as c
        where r.reason is null and r.rate_date = c.rate_date
            and r.base_currency = c.base_currency and r.quote_currency = c.quote_currency
        """
    )
    # An exact repeat of a pair and day (same rate) is kept once: the later copies are noted.
    con.execute(
        f"""
        update {rows} as r set reason = 'same rate already given at ' || d.first_at
        from (
            select source_file, source_line,
                first_value(source_file || ':' || source_line) over w as first_at,
                row_number() over w as copy_number
            from {rows} where reason is null
            window w as (partition by rate_date, base_currency, quote_currency
                order by source_file, source_line)
        ) as d
        where d.copy_number > 1 and r.source_file = d.source_file
            and r.source_line = d.source_line
        """
    )
