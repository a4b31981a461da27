"""TikTok Ads through Fivetran: `ad_report_hourly` + history tables + advertiser -> canonical.

Columns are those of fivetran/dbt_tiktok_ads_source (macros/get_*_columns.sql; the connector
lands them UPPERCASE, read case-insensitively). The report is hourly: `stat_time_hour` is taken
as UTC, the hours of one ad are summed per UTC day, and those rows carry account_timezone
'UTC' (the day was cut in UTC, whatever the advertiser's own `timezone`). Conversions are
`conversion`, their value `total_purchase_value` (NULL when the column did not land).

The ad's ad group, campaign and advertiser (our account) come from ad_history (version valid
on the report day, by `updated_at`); names from adgroup_history / campaign_history, the
currency and name from `advertiser`; final_url is the ad's `landing_page_url`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from . import connector_tables as ct
from .errors import duckdb_errors_redacted
from .result import IngestResult

SOURCE = "tiktok_ads_connector"
PLATFORM = "tiktok_ads"
CONNECTOR = "tiktok_ads"

REPORT = ct.TableSpec(
    "ad_report_hourly",
    required=("ad_id", "stat_time_hour", "impressions", "clicks", "spend"),
    optional=("conversion", "total_purchase_value"),
)
_HISTORY = ("updated_at", "_fivetran_synced")
AD = ct.TableSpec(
    "ad_history",
    required=("ad_id",),
    optional=(*_HISTORY, "adgroup_id", "campaign_id", "advertiser_id", "landing_page_url"),
)
AD_GROUP = ct.TableSpec(
    "adgroup_history", required=("adgroup_id",), optional=(*_HISTORY, "adgroup_name")
)
CAMPAIGN = ct.TableSpec(
    "campaign_history", required=("campaign_id",), optional=(*_HISTORY, "campaign_name")
)
ADVERTISER = ct.TableSpec(
    "advertiser", required=("id",), optional=("_fivetran_synced", "name", "currency")
)


def load_tiktok_ads_connector(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest a Fivetran TikTok Ads schema (every file under connectors/tiktok_ads/)."""
    temp: list[str] = []
    try:
        tables, out = ct.read_report(
            con,
            files,
            dates,
            source=SOURCE,
            platform=PLATFORM,
            connector=CONNECTOR,
            report_spec=REPORT,
            report_rows=_report_rows,
            temp=temp,
        )
        out.notes.append("stat_time_hour is read as UTC: hours summed per UTC day")
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            AD,
            "ad_id",
            {
                "ad_group_id": "adgroup_id",
                "campaign_id": "campaign_id",
                "account_id": "advertiser_id",
                "final_url": "landing_page_url",
            },
            {
                "adgroup_id": "adgroup_id",
                "campaign_id": "campaign_id",
                "advertiser_id": "advertiser_id",
                "landing_page_url": "landing_page_url",
            },
            id_column="ad_id",
            version_columns=_HISTORY,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            AD_GROUP,
            "ad_group_id",
            {"ad_group_name": "name"},
            {"name": "adgroup_name"},
            id_column="adgroup_id",
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
            {"name": "campaign_name"},
            id_column="campaign_id",
            version_columns=_HISTORY,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            ADVERTISER,
            "account_id",
            {"account_name": "name", "currency": "currency"},
            {"name": "name", "currency": "currency"},
            version_columns=("_fivetran_synced",),
        )
        return ct.finish(con, out, loaded_at)
    finally:
        ct.drop_tables(con, temp)


def _report_rows(con: duckdb.DuckDBPyConnection, report: ct.TableRead, rows: str) -> None:
    hour = ct.timestamp_sql("stat_time_hour")
    hour_problems = [
        "case when stat_time_hour is null then 'missing stat_time_hour' "
        f"when {hour} is null then 'unparseable stat_time_hour: ' || stat_time_hour end"
    ]
    problems = (
        ct.id_problems("ad_id", "ad_id")
        + hour_problems
        + ct.number_problems("impressions", "impressions", whole=True)
        + ct.number_problems("clicks", "clicks", whole=True)
        + ct.number_problems("spend", "spend")
        + ct.number_problems("conversion", "conversion")
        + ct.number_problems("total_purchase_value", "total_purchase_value")
    )
    with duckdb_errors_redacted(f"{SOURCE}: {report.spec.name}"):
        con.execute(
            f"""
            insert into {rows} (ad_id, report_date, impressions, clicks, spend,
                account_timezone, conversions, conversion_value,
                source_file, source_line, raw_record, reason)
            select ad_id, cast({hour} as date), {ct.number_sql("impressions")},
                {ct.number_sql("clicks")}, {ct.number_sql("spend")}, 'UTC',
                {ct.metric_sql(report, "conversion")},
                {ct.metric_sql(report, "total_purchase_value")},
                source_file, source_line, raw_record, {ct.reason_sql(problems)}
            from {report.table}
            """
        )
