"""Currencies of ad report rows (every platform): one per account, and visible when accounts differ.

A Google Ads account has one currency, fixed when it is created, so rows of one account in two
currencies mean some rows are wrong (a pasted-in row, a mislabelled export). Over every report
of an ingest, each account's currency is the ISO code most of its rows carry (rows rejected for
another reason still testify); good rows in another currency are quarantined, naming both.
When no currency has a strict majority, every good row of that account with a currency is
quarantined: which one is right is not guessed.

Accounts in different currencies are legal (a manager account's clients), but their spend must
not be added up: the ingest returns a warning listing them (no conversion is done here).
Rows without an account id or name count as one account per file.
"""

from __future__ import annotations

import duckdb

from .sql import temp_name


def _account(alias: str = "") -> str:
    """SQL: the account a row belongs to (`alias` is a code constant, e.g. 'r.')."""
    return f"coalesce({alias}account_id, {alias}account_name, 'of ' || {alias}source_file)"


def quarantine_mixed_currencies(con: duckdb.DuckDBPyConnection, rows: str) -> list[str]:
    """Set the reason of rows whose currency is not their account's; returns the warnings."""
    accounts = temp_name("gads_account_currency")
    con.execute(
        f"""
        create temp table {accounts} as
        with counted as (
            select {_account()} as account, currency, count(*) as n
            from {rows}
            where regexp_full_match(currency, '[A-Z]{{3}}')
            group by all
        ),
        ranked as (
            select *,
                count(*) filter (where n = top) over (partition by account) as tied
            from (select *, max(n) over (partition by account) as top from counted)
        )
        select account,
            any_value(currency) filter (where n = top and tied = 1) as currency,
            string_agg(currency || ' ' || n, ', ' order by n desc, currency) as summary
        from ranked
        group by account
        """
    )
    try:
        con.execute(
            f"""
            update {rows} as r
            set reason = case
                when a.currency is null then 'account ' || a.account
                    || ' has rows in several currencies (' || a.summary
                    || '): its currency is ambiguous'
                else 'currency ' || r.currency || ' differs from account ' || a.account
                    || '''s currency ' || a.currency || ' (rows: ' || a.summary || ')'
                end
            from {accounts} as a
            where r.reason is null and r.currency is not null
                and a.account = {_account("r.")}
                and (a.currency is null or r.currency <> a.currency)
            """
        )
        by_account = con.execute(
            f"select account, currency from {accounts} where currency is not null order by all"
        ).fetchall()
    finally:
        con.execute(f"drop table if exists {accounts}")
    if len({currency for _, currency in by_account}) < 2:
        return []
    listed = ", ".join(f"{account} {currency}" for account, currency in by_account)
    return [
        f"accounts report in different currencies ({listed}): spend is in each account's own "
        "currency, not converted; do not add it up across them"
    ]
