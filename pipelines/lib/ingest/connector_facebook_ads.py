"""Meta (Facebook) Ads through Fivetran: `basic_ad` + actions + history tables -> canonical.

Columns are those of fivetran/dbt_facebook_ads_source (macros/get_*_columns.sql). basic_ad has
one row per ad and day: clicks = `inline_link_clicks` (link clicks, as the Fivetran packages
report them), spend is already in the account currency. The ad set is our ad group.

Conversions: `basic_ad_actions.value` (count) and `basic_ad_action_values.value` (amount), the
default attribution window, by the one Meta rule every Meta format follows (meta_actions.py):
purchase, lead and complete_registration, each counted once per ad and day from the first of
its aliases present (`omni_<event>`, `<event>`, `offsite_conversion.fb_pixel_<event>`). Meta
lands one lead as `lead` and `offsite_conversion.fb_pixel_lead` at once; adding the aliases
would count it twice (dbt_ad_reporting's default list avoids that by counting pixel events
only, which misses conversions Meta reports through other channels). Other action types
(custom conversions, link_click, view_content...) are not conversions. When an actions table
did not land the column is NULL.

Names come from ad/ad_set/campaign history (the version valid on the report day, by
`updated_time`, ties broken by `_fivetran_synced`), the account's name, `currency` and
`timezone_name` (IANA) from account_history (versions by `_fivetran_synced`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from . import connector_tables as ct
from . import meta_actions
from .errors import duckdb_errors_redacted
from .result import IngestResult
from .sql import literal

SOURCE = "facebook_ads_connector"
PLATFORM = "meta_ads"
CONNECTOR = "facebook_ads"
# Every alias of every conversion event, most deduplicated first (meta_actions.py).
CONVERSION_ACTION_TYPES = meta_actions.CONVERSION_ACTION_TYPES
# (alias, event, rank): the ladder as rows SQL can join on.
_LADDER = ", ".join(
    f"({literal(alias)}, {literal(event)}, {rank})"
    for event in meta_actions.CONVERSION_EVENTS
    for rank, alias in enumerate(meta_actions.aliases(event))
)

BASIC_AD = ct.TableSpec(
    "basic_ad",
    required=("ad_id", "date", "account_id", "impressions", "inline_link_clicks", "spend"),
)
ACTIONS = ct.TableSpec("basic_ad_actions", required=("ad_id", "date", "action_type", "value"))
ACTION_VALUES = ct.TableSpec(
    "basic_ad_action_values", required=("ad_id", "date", "action_type", "value")
)
_HISTORY = ("updated_time", "_fivetran_synced")
AD = ct.TableSpec(
    "ad_history", required=("id",), optional=(*_HISTORY, "name", "ad_set_id", "campaign_id")
)
AD_SET = ct.TableSpec(
    "ad_set_history", required=("id",), optional=(*_HISTORY, "name", "campaign_id")
)
CAMPAIGN = ct.TableSpec("campaign_history", required=("id",), optional=(*_HISTORY, "name"))
ACCOUNT = ct.TableSpec(
    "account_history",
    required=("id",),
    optional=("_fivetran_synced", "name", "currency", "timezone_name"),
)


def load_facebook_ads_connector(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest a Fivetran Facebook Ads schema (every file under connectors/facebook_ads/)."""
    temp: list[str] = []
    try:
        tables, out = ct.read_report(
            con,
            files,
            dates,
            source=SOURCE,
            platform=PLATFORM,
            connector=CONNECTOR,
            report_spec=BASIC_AD,
            report_rows=_report_rows,
            temp=temp,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            AD,
            "ad_id",
            {"ad_group_id": "ad_set_id", "campaign_id": "campaign_id"},
            {"ad_set_id": "ad_set_id", "campaign_id": "campaign_id"},
            version_columns=_HISTORY,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            AD_SET,
            "ad_group_id",
            {"ad_group_name": "name", "campaign_id": "campaign_id"},
            {"name": "name", "campaign_id": "campaign_id"},
            version_columns=_HISTORY,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            CAMPAIGN,
            "campaign_id",
            {"campaign_name": "name"},
            {"name": "name"},
            version_columns=_HISTORY,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            ACCOUNT,
            "account_id",
            {"account_name": "name", "currency": "currency", "account_timezone": "tz"},
            {"name": "name", "currency": "currency", "tz": "timezone_name"},
            version_columns=("_fivetran_synced",),
        )
        updates = [
            _conversions(con, out, tables, temp, spec, column)
            for spec, column in ((ACTIONS, "conversions"), (ACTION_VALUES, "conversion_value"))
        ]
        statements = [u for u in updates if u]
        return ct.finish(con, out, loaded_at, after_aggregate=";\n".join(statements) or None)
    finally:
        ct.drop_tables(con, temp)


def _report_rows(con: duckdb.DuckDBPyConnection, report: ct.TableRead, rows: str) -> None:
    problems = (
        ct.id_problems("ad_id", "ad_id")
        + ct.day_problems("date", "date")
        + ct.id_problems("account_id", "account_id")
        + ct.number_problems("impressions", "impressions", whole=True)
        + ct.number_problems("inline_link_clicks", "inline_link_clicks", whole=True)
        + ct.number_problems("spend", "spend")
    )
    with duckdb_errors_redacted(f"{SOURCE}: {report.spec.name}"):
        con.execute(
            f"""
            insert into {rows} (account_id, ad_id, report_date, impressions, clicks, spend,
                source_file, source_line, raw_record, reason)
            select account_id, ad_id, {ct.day_sql("date")}, {ct.number_sql("impressions")},
                {ct.number_sql("inline_link_clicks")}, {ct.number_sql("spend")},
                source_file, source_line, raw_record, {ct.reason_sql(problems)}
            from {report.table}
            """
        )


def _conversions(
    con: duckdb.DuckDBPyConnection,
    out: ct.Output,
    tables: dict[str, list[Path]],
    temp: list[str],
    spec: ct.TableSpec,
    column: str,
) -> str | None:
    """A statement setting `column` on the aggregated table from an actions table (or None
    when the table did not land: the column stays NULL, with a warning)."""
    paths = tables.get(spec.name)
    if not paths:
        out.warnings.append(f"{SOURCE}: no {spec.name} table landed: {column} are NULL")
        return None
    read = ct.read_table(con, CONNECTOR, spec, paths)
    temp.append(read.table)
    out.tables_read.append(read)
    sums = ct.temp_name("conn_actions")
    temp.append(sums)
    counted = f"lower(action_type) in ({', '.join(literal(t) for t in CONVERSION_ACTION_TYPES)})"
    with duckdb_errors_redacted(f"{SOURCE}: {spec.name}"):
        con.execute(
            f"""
            create temp table {sums} as
            with per_alias as (
                select ad_id, {ct.day_sql("date")} as report_date, lower(action_type) as alias,
                    sum(try_cast(value as double)) as total
                from {read.table}
                where reason is null and {counted} and try_cast(value as double) >= 0
                group by all
            ),
            per_event as (
                select ad_id, report_date, ladder.event, arg_min(total, ladder.rank) as total
                from per_alias
                inner join (values {_LADDER}) as ladder(alias, event, rank) using (alias)
                group by all
            )
            select ad_id, report_date, sum(total) as total from per_event group by all
            """
        )
        day = ct.day_sql("date")
        bad = con.execute(
            f"""
            select count(*) filter (where reason is not null
                    or ({counted} and (try_cast(value as double) is null
                        or try_cast(value as double) < 0 or {day} is null))),
                count(*) filter (where reason is null and {counted} and (ad_id, {day})
                    not in (select (ad_id, report_date) from {out.rows} where reason is null))
            from {read.table}
            """
        ).fetchone()
    unusable, unmatched = bad if bad else (0, 0)
    if unusable:
        out.warnings.append(
            f"{SOURCE}: {unusable} {spec.name} row(s) malformed, negative or unparseable: "
            f"not counted in {column}"
        )
    if unmatched:
        out.notes.append(
            f"{spec.name}: {unmatched} conversion row(s) for an ad and day not in basic_ad "
            "(or out of scope): not counted"
        )
    return (
        f"update {{table}} set {column} = coalesce(("
        f"select s.total from {sums} as s "
        f"where s.ad_id = {{table}}.ad_id and s.report_date = {{table}}.report_date), 0)"
    )
