"""Microsoft Advertising through Fivetran: `ad_performance_daily_report` + history -> canonical.

Columns are those of fivetran/dbt_microsoft_ads_source (macros/get_*_columns.sql,
models/src_microsoft_ads.yml). The report carries every id and its own `currency_code` (else
account_history's). It is segmented (device, network, match type, top vs other): rows of one
ad and day are summed. Conversions as stg_microsoft_ads__ad_daily_report: `conversions_qualified`
when present else `conversions`; their value `revenue`. Empty metrics are 0.

Microsoft gives the account time zone as its own enum name (`PacificTimeUSCanadaTijuana`), not
IANA: `TIMEZONES` maps the common ones; any other name leaves account_timezone NULL and is
listed in a warning (add it to the map). Names come from the history versions valid on the
report day (`last_modified_time` for accounts, `modified_time` for the rest); final_url is the
ad's `final_url`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from . import connector_tables as ct
from .errors import duckdb_errors_redacted
from .result import IngestResult
from .sql import literal

SOURCE = "microsoft_ads_connector"
PLATFORM = "microsoft_ads"
CONNECTOR = "microsoft_ads"

# Microsoft Advertising API TimeZone enum value -> IANA name (the usual account time zones).
TIMEZONES = {
    "PacificTimeUSCanadaTijuana": "America/Los_Angeles",
    "MountainTimeUSCanada": "America/Denver",
    "Arizona": "America/Phoenix",
    "CentralTimeUSCanada": "America/Chicago",
    "EasternTimeUSCanada": "America/New_York",
    "IndianaEast": "America/Indiana/Indianapolis",
    "AtlanticTimeCanada": "America/Halifax",
    "Newfoundland": "America/St_Johns",
    "Alaska": "America/Anchorage",
    "Hawaii": "Pacific/Honolulu",
    "GuadalajaraMexicoCityMonterrey": "America/Mexico_City",
    "BogotaLimaQuito": "America/Bogota",
    "Brasilia": "America/Sao_Paulo",
    "BuenosAiresGeorgetown": "America/Argentina/Buenos_Aires",
    "GreenwichMeanTimeDublinEdinburghLisbonLondon": "Europe/London",
    "AmsterdamBerlinBernRomeStockholmVienna": "Europe/Berlin",
    "BrusselsCopenhagenMadridParis": "Europe/Paris",
    "BelgradeBratislavaBudapestLjubljanaPrague": "Europe/Prague",
    "SarajevoSkopjeWarsawZagreb": "Europe/Warsaw",
    "AthensBuckarestIstanbul": "Europe/Athens",
    "HelsinkiKyivRigaSofiaTallinnVilnius": "Europe/Helsinki",
    "Bucharest": "Europe/Bucharest",
    "Cairo": "Africa/Cairo",
    "HararePretoria": "Africa/Johannesburg",
    "Jerusalem": "Asia/Jerusalem",
    "MoscowStPetersburgVolgograd": "Europe/Moscow",
    "AbuDhabiMuscat": "Asia/Dubai",
    "ChennaiKolkataMumbaiNewDelhi": "Asia/Kolkata",
    "BangkokHanoiJakarta": "Asia/Bangkok",
    "BeijingChongqingHongKongUrumqi": "Asia/Shanghai",
    "KualaLumpurSingapore": "Asia/Singapore",
    "Taipei": "Asia/Taipei",
    "OsakaSapporoTokyo": "Asia/Tokyo",
    "Seoul": "Asia/Seoul",
    "Perth": "Australia/Perth",
    "Brisbane": "Australia/Brisbane",
    "Adelaide": "Australia/Adelaide",
    "CanberraMelbourneSydney": "Australia/Sydney",
    "AucklandWellington": "Pacific/Auckland",
}

REPORT = ct.TableSpec(
    "ad_performance_daily_report",
    required=(
        "date",
        "account_id",
        "campaign_id",
        "ad_group_id",
        "ad_id",
        "clicks",
        "impressions",
        "spend",
    ),
    optional=("currency_code", "conversions_qualified", "conversions", "revenue"),
)
ACCOUNT = ct.TableSpec(
    "account_history",
    required=("id",),
    optional=("last_modified_time", "name", "time_zone", "currency_code"),
)
CAMPAIGN = ct.TableSpec("campaign_history", required=("id",), optional=("modified_time", "name"))
AD_GROUP = ct.TableSpec("ad_group_history", required=("id",), optional=("modified_time", "name"))
AD = ct.TableSpec("ad_history", required=("id",), optional=("modified_time", "final_url"))


def load_microsoft_ads_connector(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest a Fivetran Microsoft Advertising schema (every file under
    connectors/microsoft_ads/)."""
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
        pairs = ", ".join(f"({literal(k)}, {literal(v)})" for k, v in TIMEZONES.items())
        iana = (
            f"case when time_zone like '%/%' or time_zone = 'UTC' then time_zone else "
            f"(select z.iana from (values {pairs}) as z(name, iana) where z.name = time_zone) end"
        )
        accounts = ct.enrich_from(
            con,
            out,
            tables,
            temp,
            ACCOUNT,
            "account_id",
            {"account_name": "name", "currency": "currency", "account_timezone": "tz"},
            {"name": "name", "currency": "currency_code", "tz": iana, "raw_tz": "time_zone"},
            version_columns=("last_modified_time",),
        )
        if accounts is not None:
            _unmapped_timezones(con, out, accounts)
        for spec, key, targets, fields in (
            (CAMPAIGN, "campaign_id", {"campaign_name": "name"}, {"name": "name"}),
            (AD_GROUP, "ad_group_id", {"ad_group_name": "name"}, {"name": "name"}),
            (AD, "ad_id", {"final_url": "url"}, {"url": "final_url"}),
        ):
            ct.enrich_from(
                con,
                out,
                tables,
                temp,
                spec,
                key,
                targets,
                fields,
                version_columns=("modified_time",),
            )
        return ct.finish(con, out, loaded_at)
    finally:
        ct.drop_tables(con, temp)


def _unmapped_timezones(
    con: duckdb.DuckDBPyConnection, out: ct.Output, accounts: ct.History
) -> None:
    """Warn about account time zones that are not in TIMEZONES (account_timezone NULL)."""
    names = con.execute(
        f"select distinct raw_tz from {accounts.table} where raw_tz is not null and tz is null "
        "order by 1"
    ).fetchall()
    if names:
        listed = ", ".join(str(n[0]) for n in names)
        out.warnings.append(
            f"{SOURCE}: Microsoft time zone name(s) with no IANA mapping: {listed} "
            "(account_timezone NULL for those accounts)"
        )


def _report_rows(con: duckdb.DuckDBPyConnection, report: ct.TableRead, rows: str) -> None:
    conversions = (
        f"coalesce(try_cast(conversions_qualified as double), {ct.number_sql('conversions')})"
        if "conversions" not in report.absent or "conversions_qualified" not in report.absent
        else "null"
    )
    problems = (
        ct.day_problems("date", "date")
        + ct.id_problems("account_id", "account_id")
        + ct.id_problems("ad_id", "ad_id")
        + ct.number_problems("impressions", "impressions", whole=True)
        + ct.number_problems("clicks", "clicks", whole=True)
        + ct.number_problems("spend", "spend")
        + ct.number_problems("conversions_qualified", "conversions_qualified")
        + ct.number_problems("conversions", "conversions")
        + ct.number_problems("revenue", "revenue")
    )
    with duckdb_errors_redacted(f"{SOURCE}: {report.spec.name}"):
        con.execute(
            f"""
            insert into {rows} (account_id, campaign_id, ad_group_id, ad_id, report_date,
                impressions, clicks, spend, currency, conversions, conversion_value,
                source_file, source_line, raw_record, reason)
            select account_id, campaign_id, ad_group_id, ad_id, {ct.day_sql("date")},
                {ct.number_sql("impressions")}, {ct.number_sql("clicks")},
                {ct.number_sql("spend")}, upper(currency_code), {conversions},
                {ct.metric_sql(report, "revenue")},
                source_file, source_line, raw_record, {ct.reason_sql(problems)}
            from {report.table}
            """
        )
