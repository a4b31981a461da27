"""Exchange-rate files: validated line by line, and the dbt conversion of every platform's spend.

The conversion runs the project's compiled int_ad_spend_daily on in-memory inputs: the newest
rate on or before the report day (at most 7 days old) in either direction, and a missing rate
stops the build naming currency and day, never a sum of two currencies.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from harness.dbt_sql import SqlHarness
from pipelines.lib.ingest import IngestError
from pipelines.lib.ingest.exchange_rates import RATES_COLUMNS, load_exchange_rates
from pipelines.lib.schemas import AD_PERFORMANCE_COLUMNS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "exchange_rates"
LOADED_AT = datetime(2024, 3, 10, tzinfo=UTC)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def test_rates_file_lines_are_loaded_or_quarantined_with_line_and_reason(con) -> None:
    path = FIXTURES / "rates_2024_03.csv"
    result = load_exchange_rates(con, [path], LOADED_AT)
    counts = result.for_file(path)
    assert (counts.landed, counts.loaded, counts.quarantined) == (9, 4, 5)
    loaded = con.execute(
        f"select rate_date, base_currency, quote_currency, rate from {result.table} "
        "order by rate_date, base_currency"
    ).fetchall()
    assert loaded == [
        (date(2024, 3, 1), "EUR", "USD", 1.0842),
        (date(2024, 3, 1), "USD", "GBP", 0.7915),
        (date(2024, 3, 4), "EUR", "USD", 1.0854),
        (date(2024, 3, 5), "EUR", "USD", 1.0857),  # lower-case code accepted
    ]
    reasons = dict(
        con.execute(f"select source_line, reason from {result.quarantine_table}").fetchall()
    )
    assert reasons == {
        5: f"same rate already given at {path}:4",
        6: "rate must be a positive number: -1.09",
        8: "quote_currency is not an ISO 4217 code: US",
        9: "unparseable rate: n/a",
        10: "expected 5 fields, found 3",
    }
    assert result.drift.extra_columns == ("provider",)


def test_two_files_with_different_rates_for_one_day_quarantine_both(con, tmp_path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("date,base_currency,quote_currency,rate\n2024-03-01,EUR,USD,1.08\n")
    second.write_text("quote_currency,base_currency,date,rate\nUSD,EUR,2024-03-01,1.09\n")
    result = load_exchange_rates(con, [first, second], LOADED_AT)
    assert result.rows == 0
    reasons = {
        r for (r,) in con.execute(f"select reason from {result.quarantine_table}").fetchall()
    }
    assert reasons == {"conflicting rates for EUR/USD on 2024-03-01: 1.08, 1.09"}


def test_a_rates_file_without_a_rate_column_names_it(con, tmp_path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,value\n2024-03-01,EUR,1.08\n")
    with pytest.raises(IngestError, match=r"rates.csv: .*base_currency, quote_currency, rate"):
        load_exchange_rates(con, [path], LOADED_AT)


def test_no_rates_file_gives_an_empty_typed_table(con) -> None:
    result = load_exchange_rates(con, [], LOADED_AT)
    names = [d[0] for d in con.execute(f"select * from {result.table}").description]
    assert names == list(RATES_COLUMNS)
    assert result.rows == 0


# --- int_ad_spend_daily: the conversion ---------------------------------------------------------


def ad_rows(rows: list[tuple[str, str, str | None, date, float]]) -> pa.Table:
    """(platform, campaign_id, currency, day, spend) as canonical ad_performance rows."""
    data = [
        {
            **dict.fromkeys(AD_PERFORMANCE_COLUMNS),
            "platform": platform,
            "account_id": f"acct-{platform}",
            "campaign_id": campaign,
            "currency": currency,
            "report_date": day,
            "impressions": 100,
            "clicks": 10,
            "spend": spend,
            "conversions": 2.0,
            "conversion_value": 50.0,
            "source_line": 2,
            "loaded_at": datetime(2024, 3, 10),
        }
        for platform, campaign, currency, day, spend in rows
    ]
    return pa.Table.from_pylist(data)


def rates(rows: list[tuple[date, str, str, float]]) -> pa.Table:
    return pa.Table.from_pylist(
        [
            {"rate_date": d, "base_currency": b, "quote_currency": q, "rate": r,
             "source_file": "rates.csv", "source_line": i + 2, "loaded_at": datetime(2024, 3, 10)}
            for i, (d, b, q, r) in enumerate(rows)
        ],
        schema=pa.schema([(n, pa.date32() if n == "rate_date" else
                           pa.float64() if n == "rate" else
                           pa.int64() if n == "source_line" else
                           pa.timestamp("us") if n == "loaded_at" else pa.string())
                          for n in RATES_COLUMNS]),
    )  # fmt: skip


def spend_daily(harness: SqlHarness, ads: pa.Table, rate_rows: pa.Table) -> dict[tuple, tuple]:
    con = harness.run(
        {"lake.ad_performance": ads, "exchange_rates.rates": rate_rows}, ["int_ad_spend_daily"]
    )
    return {
        (platform, campaign, day): tuple(rest)
        for platform, campaign, day, *rest in con.execute(
            "select platform, campaign_id, report_date, currency, account_currency, "
            "spend_in_account_currency, exchange_rate, spend, platform_conversion_value "
            "from int_ad_spend_daily"
        ).fetchall()
    }


def test_spend_is_converted_with_the_newest_rate_either_direction(sql_harness) -> None:
    monday, saturday = date(2024, 3, 4), date(2024, 3, 9)
    ads = ad_rows([
        ("google_ads", "g1", "USD", monday, 100.0),
        ("meta_ads", "m1", "EUR", monday, 100.0),
        ("meta_ads", "m1", "EUR", saturday, 10.0),  # no fixing on Saturday: Friday's rate
        ("linkedin_ads", "l1", "GBP", monday, 79.15),  # only USD->GBP given: inverted
        ("tiktok_ads", "t1", None, monday, 5.0),  # no currency: the reporting currency
    ])  # fmt: skip
    got = spend_daily(
        sql_harness,
        ads,
        rates(
            [
                (date(2024, 3, 1), "EUR", "USD", 1.08),
                (monday, "EUR", "USD", 1.10),
                (date(2024, 3, 8), "EUR", "USD", 1.20),
                (date(2024, 3, 1), "USD", "GBP", 0.7915),
            ]
        ),
    )
    assert got[("google_ads", "g1", monday)] == ("USD", "USD", 100.0, 1.0, 100.0, 50.0)
    assert got[("meta_ads", "m1", monday)] == ("USD", "EUR", 100.0, 1.10, 110.0, 55.0)
    assert got[("meta_ads", "m1", saturday)][3:5] == (1.20, 12.0)
    assert got[("linkedin_ads", "l1", monday)][4] == pytest.approx(100.0)
    assert got[("tiktok_ads", "t1", monday)][:4] == ("USD", "USD", 5.0, 1.0)


def test_a_missing_rate_stops_the_build_naming_currency_and_day(sql_harness) -> None:
    ads = ad_rows([("meta_ads", "m1", "EUR", date(2024, 3, 20), 100.0)])
    # The only rate is 19 days older than the report day: too old to use.
    stale = rates([(date(2024, 3, 1), "EUR", "USD", 1.08)])
    with pytest.raises(duckdb.Error, match=r"no exchange rate from EUR to USD .* 2024-03-20"):
        spend_daily(sql_harness, ads, stale)
