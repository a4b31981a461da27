"""Microsoft Advertising (Bing Ads) report download (CSV) -> canonical `ad_performance` rows.

A report download has header lines above the column header (`"Report Name: ..."`,
`"Report Time: ..."`, `"Time Zone: (GMT-08:00) Pacific Time (US & Canada); Tijuana"`,
`"Last Completed Available Day: ..."`, `"Report Aggregation: Daily"`, `"Rows: 12"`, ...), then
the columns, then a copyright footer line `"©2024 Microsoft Corporation. All rights
reserved. "` that is not data. Two header shapes:
- the Reporting API's column names (`TimePeriod`, `AccountId`, `CampaignId`, `AdGroupId`,
  `AdId`, `Impressions`, `Clicks`, `Spend`, `Conversions`, `Revenue`, `CurrencyCode`,
  `FinalUrl`, ...), values machine-formatted (`2024-01-05`, hourly `2024-01-05|13`);
- the web UI's display names (`Campaign name`, `Ad group ID`, `Impr.`, `Spend`, `Conv.`, ...),
  days and numbers in the user's locale (decided per file), a `Total` row at the end.

The `Time Zone` line names the account's timezone in Windows' display form; the common ones
map to their IANA name (an hourly report is summed into the days of that timezone), an
unknown one leaves `account_timezone` NULL.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .ad_report import load_ad_report
from .ad_report_format import (
    Format,
    Preamble,
    Shape,
    TotalsRule,
    column,
    preamble_values,
    total_first_cell,
)
from .result import IngestResult

SOURCE = "microsoft_ads"
API = "api"
UI = "ui"
FOOTER = '(?i)^"?\\s*(©|\\(c\\)|copyright)\\s*\\d{4}\\s+microsoft corporation'
# Windows time zone display names (the `Time Zone:` line) -> IANA. Matched on the text after
# the offset (the offset shown depends on daylight saving; the cities do not).
TIME_ZONES = (
    ("(GMT-08:00) Pacific Time (US & Canada)", "America/Los_Angeles"),
    ("(GMT-07:00) Mountain Time (US & Canada)", "America/Denver"),
    ("(GMT-07:00) Arizona", "America/Phoenix"),
    ("(GMT-06:00) Central Time (US & Canada)", "America/Chicago"),
    ("(GMT-05:00) Eastern Time (US & Canada)", "America/New_York"),
    ("(GMT-09:00) Alaska", "America/Anchorage"),
    ("(GMT-10:00) Hawaii", "Pacific/Honolulu"),
    ("(GMT) Greenwich Mean Time : Dublin, Edinburgh, Lisbon, London", "Europe/London"),
    ("(GMT+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),
    ("(GMT+01:00) Brussels, Copenhagen, Madrid, Paris", "Europe/Paris"),
    ("(GMT+01:00) Sarajevo, Skopje, Warsaw, Zagreb", "Europe/Warsaw"),
    ("(GMT+02:00) Athens, Bucharest", "Europe/Bucharest"),
    ("(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
    ("(GMT+09:00) Osaka, Sapporo, Tokyo", "Asia/Tokyo"),
    ("(GMT) Coordinated Universal Time", "UTC"),
)

COLUMNS = (
    column("account_id", "id", api=("AccountId",), ui=("Account ID",)),
    column("account_name", "text", api=("AccountName",), ui=("Account name", "Account")),
    column("currency", "text", api=("CurrencyCode",), ui=("Currency code", "Currency")),
    column("campaign_id", "id", True, api=("CampaignId",), ui=("Campaign ID",)),
    column("campaign_name", "text", api=("CampaignName",), ui=("Campaign name", "Campaign")),
    column("ad_group_id", "id", api=("AdGroupId",), ui=("Ad group ID",)),
    column("ad_group_name", "text", api=("AdGroupName",), ui=("Ad group name", "Ad group")),
    column("ad_id", "id", api=("AdId",), ui=("Ad ID",)),
    column("final_url", "url", api=("FinalUrl",), ui=("Final URL",)),
    column("tracking_url_template", "text", api=("TrackingTemplate",), ui=("Tracking template",)),
    column(
        "report_date",
        "date",
        True,
        api=("TimePeriod", "GregorianDate"),
        ui=("Date", "Day", "Time period"),
    ),
    column("impressions", "int", True, api=("Impressions",), ui=("Impr.", "Impressions")),
    column("clicks", "int", True, api=("Clicks",), ui=("Clicks",)),
    column("spend", "money", True, api=("Spend",), ui=("Spend",)),
    column("conversions", "number", api=("Conversions",), ui=("Conv.", "Conversions")),
    column("conversion_value", "number", api=("Revenue",), ui=("Revenue",)),
)


def microsoft_preamble(lines_above_header: list[str]) -> Preamble:
    """The account timezone from the `Time Zone:` line (NULL when not a known name)."""
    zone = preamble_values(lines_above_header).get("time zone", "")
    for display, iana in TIME_ZONES:
        if display.partition(") ")[2].lower() in zone.lower():
            return Preamble(timezone=iana)
    return Preamble()


MICROSOFT_ADS = Format(
    source=SOURCE,
    label="Microsoft Advertising",
    columns=COLUMNS,
    shapes=(
        Shape(
            API,
            "Reporting API",
            localized=False,
            date_formats=("%Y-%m-%d", "%Y-%m-%d|%H"),
        ),
        Shape(
            UI,
            "web UI download",
            localized=True,
            empty_markers=("--",),
            totals=TotalsRule(total_first_cell(), ("campaign_id", "ad_group_id", "ad_id")),
        ),
    ),
    header_hint="API `TimePeriod` or UI `Date`, with `Spend`",
    preamble=microsoft_preamble,
    footer=FOOTER,
    ignored_headers=(
        "AccountNumber",
        "AdTitle",
        "AdType",
        "AdStatus",
        "AdDistribution",
        "Ctr",
        "AverageCpc",
        "Account number",
        "CTR",
        "Avg. CPC",
    ),
)


def load_microsoft_ads(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest Microsoft Advertising report downloads (optionally .gz); see the docstring."""
    return load_ad_report(con, MICROSOFT_ADS, files, dates, loaded_at)
