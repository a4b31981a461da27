"""LinkedIn Ads through Fivetran: `ad_analytics_by_creative` + history tables -> canonical.

Columns are those of fivetran/dbt_linkedin_source (macros/get_*_columns.sql). LinkedIn's
hierarchy maps onto ours one level shifted: its campaign GROUP is our campaign, its campaign
our ad group, its creative our ad. Spend is `cost_in_local_currency` (the account's currency,
from account_history `currency`; LinkedIn gives no time zone: NULL). Conversions are
dbt_linkedin's default `linkedin_ads__conversion_fields`, external_website_conversions +
one_click_leads; their value `conversion_value_in_local_currency`. Empty metrics are 0.

Each level's version valid on the report day is picked by `last_modified_time` (creatives:
`last_modified_at`, newer connector schema, else `last_modified_time`, else creation time).
final_url is the creative's `click_uri`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from . import connector_tables as ct
from .errors import duckdb_errors_redacted
from .result import IngestResult

SOURCE = "linkedin_ads_connector"
PLATFORM = "linkedin_ads"
CONNECTOR = "linkedin_ads"

REPORT = ct.TableSpec(
    "ad_analytics_by_creative",
    required=("creative_id", "day", "impressions", "clicks", "cost_in_local_currency"),
    optional=(
        "external_website_conversions",
        "one_click_leads",
        "conversion_value_in_local_currency",
    ),
)
CREATIVE = ct.TableSpec(
    "creative_history",
    required=("id", "campaign_id"),
    optional=("last_modified_at", "last_modified_time", "created_at", "created_time", "click_uri"),
)
_MODIFIED = ("last_modified_time", "created_time")
CAMPAIGN = ct.TableSpec(
    "campaign_history",
    required=("id",),
    optional=(*_MODIFIED, "name", "campaign_group_id", "account_id"),
)
CAMPAIGN_GROUP = ct.TableSpec(
    "campaign_group_history", required=("id",), optional=(*_MODIFIED, "name", "account_id")
)
ACCOUNT = ct.TableSpec(
    "account_history", required=("id",), optional=(*_MODIFIED, "name", "currency")
)


def load_linkedin_ads_connector(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest a Fivetran LinkedIn Ads schema (every file under connectors/linkedin_ads/)."""
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
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            CREATIVE,
            "ad_id",
            {"ad_group_id": "campaign_id", "final_url": "click_uri"},
            {"campaign_id": "campaign_id", "click_uri": "click_uri"},
            version_columns=(
                "last_modified_at",
                "last_modified_time",
                "created_at",
                "created_time",
            ),
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            CAMPAIGN,
            "ad_group_id",
            {
                "ad_group_name": "name",
                "campaign_id": "campaign_group_id",
                "account_id": "account_id",
            },
            {"name": "name", "campaign_group_id": "campaign_group_id", "account_id": "account_id"},
            version_columns=_MODIFIED,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            CAMPAIGN_GROUP,
            "campaign_id",
            {"campaign_name": "name", "account_id": "account_id"},
            {"name": "name", "account_id": "account_id"},
            version_columns=_MODIFIED,
        )
        ct.enrich_from(
            con,
            out,
            tables,
            temp,
            ACCOUNT,
            "account_id",
            {"account_name": "name", "currency": "currency"},
            {"name": "name", "currency": "currency"},
            version_columns=_MODIFIED,
        )
        return ct.finish(con, out, loaded_at)
    finally:
        ct.drop_tables(con, temp)


def _report_rows(con: duckdb.DuckDBPyConnection, report: ct.TableRead, rows: str) -> None:
    parts = [
        c for c in ("external_website_conversions", "one_click_leads") if c not in report.absent
    ]
    conversions = " + ".join(ct.number_sql(c) for c in parts) if parts else "null"
    problems = (
        ct.id_problems("creative_id", "creative_id")
        + ct.day_problems("day", "day")
        + ct.number_problems("impressions", "impressions", whole=True)
        + ct.number_problems("clicks", "clicks", whole=True)
        + ct.number_problems("cost_in_local_currency", "cost_in_local_currency")
        + ct.number_problems("external_website_conversions", "external_website_conversions")
        + ct.number_problems("one_click_leads", "one_click_leads")
        + ct.number_problems(
            "conversion_value_in_local_currency", "conversion_value_in_local_currency"
        )
    )
    with duckdb_errors_redacted(f"{SOURCE}: {report.spec.name}"):
        con.execute(
            f"""
            insert into {rows} (ad_id, report_date, impressions, clicks, spend,
                conversions, conversion_value, source_file, source_line, raw_record, reason)
            select creative_id, {ct.day_sql("day")}, {ct.number_sql("impressions")},
                {ct.number_sql("clicks")}, {ct.number_sql("cost_in_local_currency")},
                {conversions}, {ct.metric_sql(report, "conversion_value_in_local_currency")},
                source_file, source_line, raw_record, {ct.reason_sql(problems)}
            from {report.table}
            """
        )
