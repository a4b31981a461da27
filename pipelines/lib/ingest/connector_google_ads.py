"""Google Ads through Fivetran: `ad_stats` + account/campaign/ad group/ad history -> canonical.

Columns are those of fivetran/dbt_google_ads_source (macros/get_*_columns.sql). As its
stg_google_ads__ad_stats does: account = customer_id, ad_group_id falls back to the id in the
`ad_group` resource name (`customers/1/adGroups/2`), spend = cost_micros / 1e6, empty metrics
are 0. ad_stats is segmented (device, ad_network_type, keyword): rows of one ad and day are
summed. Currency and time zone come from account_history (`currency_code`, `time_zone`: already
an IANA name), names from the history version valid on the report day, final_url is the first
of the ad's `final_urls` list, tracking_url_template the campaign's.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from . import connector_tables as ct
from .errors import duckdb_errors_redacted
from .result import IngestResult

SOURCE = "google_ads_connector"
PLATFORM = "google_ads"
CONNECTOR = "google_ads"

AD_STATS = ct.TableSpec(
    "ad_stats",
    required=(
        "customer_id",
        "date",
        "campaign_id",
        "ad_id",
        "clicks",
        "cost_micros",
        "impressions",
    ),
    optional=("ad_group_id", "ad_group", "conversions", "conversions_value"),
)
ACCOUNT = ct.TableSpec(
    "account_history",
    required=("id",),
    optional=(
        "updated_at",
        "_fivetran_synced",
        "_fivetran_active",
        "descriptive_name",
        "currency_code",
        "time_zone",
    ),
)
CAMPAIGN = ct.TableSpec(
    "campaign_history",
    required=("id",),
    optional=(
        "updated_at",
        "_fivetran_synced",
        "_fivetran_active",
        "name",
        "tracking_url_template",
    ),
)
AD_GROUP = ct.TableSpec(
    "ad_group_history",
    required=("id",),
    optional=("updated_at", "_fivetran_synced", "_fivetran_active", "name"),
)
AD = ct.TableSpec(
    "ad_history",
    required=("id",),
    optional=("updated_at", "_fivetran_synced", "_fivetran_active", "final_urls"),
)


def load_google_ads_connector(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest a Fivetran Google Ads schema (every file under connectors/google_ads/)."""
    temp: list[str] = []
    try:
        tables, out = ct.read_report(
            con,
            files,
            dates,
            source=SOURCE,
            platform=PLATFORM,
            connector=CONNECTOR,
            report_spec=AD_STATS,
            report_rows=_report_rows,
            temp=temp,
        )
        for spec, key, targets, fields in (
            (
                ACCOUNT,
                "account_id",
                {"account_name": "name", "currency": "currency", "account_timezone": "tz"},
                {"name": "descriptive_name", "currency": "currency_code", "tz": "time_zone"},
            ),
            (
                CAMPAIGN,
                "campaign_id",
                {"campaign_name": "name", "tracking_url_template": "template"},
                {"name": "name", "template": "tracking_url_template"},
            ),
            (AD_GROUP, "ad_group_id", {"ad_group_name": "name"}, {"name": "name"}),
            (
                AD,
                "ad_id",
                {"final_url": "url"},
                {"url": "nullif(trim(split_part(trim(final_urls, '[]'), ',', 1)), '')"},
            ),
        ):
            ct.enrich_from(con, out, tables, temp, spec, key, targets, fields)
        return ct.finish(con, out, loaded_at)
    finally:
        ct.drop_tables(con, temp)


def _report_rows(con: duckdb.DuckDBPyConnection, report: ct.TableRead, rows: str) -> None:
    ad_group = (
        "coalesce(ad_group_id, nullif(split_part(ad_group, 'adGroups/', 2), ''))"
        if "ad_group" not in report.absent
        else "ad_group_id"
    )
    problems = (
        ct.id_problems("customer_id", "customer_id")
        + ct.day_problems("date", "date")
        + ct.id_problems("ad_id", "ad_id")
        + ct.number_problems("impressions", "impressions", whole=True)
        + ct.number_problems("clicks", "clicks", whole=True)
        + ct.number_problems("cost_micros", "cost_micros")
        + ct.number_problems("conversions", "conversions")
        + ct.number_problems("conversions_value", "conversions_value")
    )
    with duckdb_errors_redacted(f"{SOURCE}: {report.spec.name}"):
        con.execute(
            f"""
            insert into {rows} (account_id, campaign_id, ad_group_id, ad_id, report_date,
                impressions, clicks, spend, conversions, conversion_value,
                source_file, source_line, raw_record, reason)
            select replace(customer_id, '-', ''), campaign_id, {ad_group}, ad_id,
                {ct.day_sql("date")},
                {ct.number_sql("impressions")}, {ct.number_sql("clicks")},
                {ct.number_sql("cost_micros")} / 1e6,
                {ct.metric_sql(report, "conversions")},
                {ct.metric_sql(report, "conversions_value")},
                source_file, source_line, raw_record, {ct.reason_sql(problems)}
            from {report.table}
            """
        )
