"""Canonical events and ad_performance rows and frames for the quality-suite tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import duckdb
import pandas as pd

from pipelines.lib.schemas import select_list

Row = dict[str, Any]

# Three ways a frame reaches validate_frame: DuckDB's own pandas conversion, Arrow-backed
# pandas (what check_partition_parquet hands over) and Arrow converted to numpy dtypes.
FLAVORS: dict[str, Callable[[duckdb.DuckDBPyRelation], pd.DataFrame]] = {
    "duckdb_df": lambda rel: rel.df(),
    "arrow_dtype": lambda rel: rel.to_arrow_table().to_pandas(types_mapper=pd.ArrowDtype),
    "arrow_numpy": lambda rel: rel.to_arrow_table().to_pandas(),
}


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, date | datetime):
        return f"'{value.isoformat(sep=' ') if isinstance(value, datetime) else value}'"
    return "'" + str(value).replace("'", "''") + "'"


def canonical_relation(
    con: duckdb.DuckDBPyConnection, columns: dict[str, str], rows: Iterable[Row]
) -> duckdb.DuckDBPyRelation:
    """Rows cast to the canonical DuckDB types, so pandas sees realistic dtypes."""
    names = list(columns)
    rows = list(rows)
    if rows:
        values = ", ".join(
            "(" + ", ".join(_literal(row.get(name)) for name in names) + ")" for row in rows
        )
        source = f"(values {values}) as t({', '.join(names)})"
    else:
        source = f"(select {', '.join(f'null as {n}' for n in names)} where false)"
    return con.sql(f"select {select_list(columns)} from {source}")


def canonical_frame(columns: dict[str, str], rows: Iterable[Row], flavor: str = "duckdb_df"):
    with duckdb.connect() as con:
        return FLAVORS[flavor](canonical_relation(con, columns, rows))


def event_rows(n: int = 10) -> list[Row]:
    return [
        {
            "event_id": f"ev-{i}",
            "source": "ga4",
            "event_name": ["session_start", "page_view", "scroll", "purchase"][i % 4],
            "event_at": datetime(2024, 3, 1, 12, i, 0),
            "event_date": date(2024, 3, 1),
            "user_key": f"user-{i % 3}",
            "anonymous_id": f"anon-{i % 3}",
            "session_id": f"sess-{i % 4}",
            "page_url": "https://shop.example/",
            "utm_source": "google",
            "utm_medium": "cpc",
            "click_id": "Cj0KCQ" if i == 0 else None,
            "click_id_type": "gclid" if i == 0 else None,
            "engagement_time_ms": None if i == 0 else 1000 * i,
            "value": 49.9 if i % 4 == 3 else None,
            "currency": "EUR" if i % 4 == 3 else None,
            "properties": "{}",
            "export_date": date(2024, 3, 1),
            "source_file": "events_20240301.json",
            "source_line": i + 1,
            "loaded_at": datetime(2024, 3, 2, 3, 0, 0),
        }
        for i in range(n)
    ]


def ad_rows() -> list[Row]:
    # A campaign-level row (no ad group / ad, as Google Ads campaign reports have) plus ad rows.
    base = {
        "platform": "google_ads",
        "account_id": "123-456-7890",
        "campaign_id": "c-1",
        "report_date": date(2024, 3, 1),
        "impressions": 1000,
        "clicks": 40,
        "spend": 12.5,
        "currency": "EUR",
        "conversions": 2.0,
        "conversion_value": 99.8,
        "source_file": "google_ads_20240301.csv",
        "loaded_at": datetime(2024, 3, 2, 3, 0, 0),
    }
    return [
        {**base, "source_line": 1},
        {**base, "ad_group_id": "g-1", "ad_id": "a-1", "source_line": 2},
        {**base, "ad_group_id": "g-1", "ad_id": "a-2", "clicks": 0, "source_line": 3},
        {**base, "platform": "meta_ads", "currency": "USD", "ad_id": "a-1", "source_line": 4},
    ]
