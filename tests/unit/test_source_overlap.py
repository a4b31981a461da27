"""One platform account's day from one source: the second delivery is quarantined, not summed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.lib.ingest import load_google_ads
from pipelines.lib.ingest.source_overlap import quarantine_overlapping_sources

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
API_REPORT = FIXTURES / "google_ads" / "api_campaign_report.csv"
LOADED_AT = datetime(2024, 1, 10, tzinfo=UTC)


def as_source(result, name: str):
    """The same rows as if another adapter (a connector's copy of the account) read them."""
    return dataclasses.replace(result, source=name)


def totals(con: duckdb.DuckDBPyConnection, *tables: str) -> tuple:
    union = " union all by name ".join(f"select * from {t}" for t in tables)
    return con.execute(f"select count(*), sum(spend) from ({union})").fetchone()


def test_an_account_day_from_two_sources_keeps_the_first_and_quarantines_the_second(
    tmp_path: Path,
) -> None:
    con = duckdb.connect()
    first = load_google_ads(con, [API_REPORT], None, LOADED_AT)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(API_REPORT.read_bytes())
    second = as_source(load_google_ads(con, [copy], None, LOADED_AT), "google_ads_connector")
    before = totals(con, first.table)

    kept, moved = quarantine_overlapping_sources(con, [first, second])

    assert kept == first  # the source first in precedence is untouched
    assert moved.rows == 0
    counts = moved.for_file(copy)
    assert counts.landed == counts.loaded + counts.quarantined
    assert counts.quarantined - second.for_file(copy).quarantined == before[0]
    reasons = con.execute(
        f"select reason from {moved.quarantine_table} where reason like 'account %'"
    ).fetchall()
    assert len(reasons) == before[0]
    assert all("also delivered by google_ads," in reason for (reason,) in reasons)
    assert totals(con, kept.table, moved.table) == before  # nothing summed twice


def test_other_days_of_the_account_from_the_second_source_still_load() -> None:
    con = duckdb.connect()
    days = sorted(
        d
        for (d,) in duckdb.sql(f"select distinct \"segments.date\" from '{API_REPORT}'").fetchall()
    )
    assert len(days) >= 2
    first = load_google_ads(con, [API_REPORT], days[:1], LOADED_AT)
    second = as_source(load_google_ads(con, [API_REPORT], days[1:], LOADED_AT), "other")
    kept, other = quarantine_overlapping_sources(con, [first, second])
    assert (other.rows, other.quarantined) == (second.rows, second.quarantined)
    everything = load_google_ads(con, [API_REPORT], None, LOADED_AT)
    assert totals(con, kept.table, other.table) == totals(con, everything.table)
    assert date.min not in days
