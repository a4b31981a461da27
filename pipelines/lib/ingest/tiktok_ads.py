"""TikTok Ads reports (CSV) -> canonical `ad_performance` rows.

Two real shapes, told apart by the header:
- the reporting API's (`/report/integrated/get/`) dimensions and metrics written to CSV:
  `stat_time_day` or `stat_time_hour` (`2024-01-05 00:00:00`), `advertiser_id`,
  `campaign_id`, `campaign_name`, `adgroup_id`, `adgroup_name`, `ad_id`, `spend`,
  `impressions`, `clicks`, `conversion`, `currency`; machine-formatted values;
- the Ads Manager custom report export: display names (`Campaign name`, `Ad group ID`,
  `Cost`, `Clicks (destination)`, `Conversions`, `Date`, ...), numbers and days in the
  user's locale (decided per file, number_style.py / date_order.py), a `Total` row.

`clicks` are destination clicks (TikTok's `clicks` metric: clicks to the landing page);
`Clicks (all)` is never read as clicks.

Hourly reports (`stat_time_hour`) are in UTC: an hourly row's `report_date` is its UTC day,
the hours of a UTC day are summed into one row, and `account_timezone` is 'UTC' on those rows
so that is explicit (mapping days to the reporting timezone happens later). Daily reports are
cut in the advertiser's timezone, which the CSV does not state: `account_timezone` stays NULL.
TikTok reports carry no landing URL, so no UTMs are derived.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .ad_report import load_ad_report
from .ad_report_format import Format, Shape, TotalsRule, column, total_first_cell
from .result import IngestResult

SOURCE = "tiktok_ads"
API = "api"
UI = "ui"
HOURLY_HEADER = "stat_time_hour"

COLUMNS = (
    column("account_id", "id", api=("advertiser_id",), ui=("Advertiser ID", "Account ID")),
    column("account_name", "text", api=("advertiser_name",), ui=("Advertiser name",)),
    column("currency", "text", api=("currency",), ui=("Currency",)),
    column("campaign_id", "id", True, api=("campaign_id",), ui=("Campaign ID",)),
    column("campaign_name", "text", api=("campaign_name",), ui=("Campaign name",)),
    column("ad_group_id", "id", api=("adgroup_id",), ui=("Ad group ID",)),
    column("ad_group_name", "text", api=("adgroup_name",), ui=("Ad group name",)),
    column("ad_id", "id", api=("ad_id",), ui=("Ad ID",)),
    column(
        "report_date",
        "date",
        True,
        api=("stat_time_day", HOURLY_HEADER),
        ui=("Date", "By Day", "Day"),
    ),
    column("impressions", "int", True, api=("impressions",), ui=("Impressions",)),
    column("clicks", "int", True, api=("clicks",), ui=("Clicks (destination)", "Clicks")),
    column("spend", "money", True, api=("spend",), ui=("Cost", "Total cost")),
    column("conversions", "number", api=("conversion",), ui=("Conversions",)),
)

TIKTOK_ADS = Format(
    source=SOURCE,
    label="TikTok Ads",
    columns=COLUMNS,
    shapes=(
        Shape(
            API,
            "reporting API",
            localized=False,
            date_formats=("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"),
            utc_date_headers=(HOURLY_HEADER,),
        ),
        Shape(
            UI,
            "Ads Manager export",
            localized=True,
            empty_markers=("-", "--"),
            totals=TotalsRule(total_first_cell(), ("campaign_id", "ad_group_id", "ad_id")),
        ),
    ),
    header_hint="API `stat_time_day` / `stat_time_hour` or Ads Manager `Date`",
    ignored_headers=(
        "ad_name",
        "Ad name",
        "Clicks (all)",
        "ctr",
        "cpc",
        "cpm",
        "CTR",
        "CPC",
        "CPM",
        "CTR (destination)",
        "CPC (destination)",
        "reach",
        "Reach",
        "cost_per_conversion",
        "Cost per conversion",
    ),
)


def load_tiktok_ads(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest TikTok Ads report CSVs (optionally .gz); see the module docstring."""
    return load_ad_report(con, TIKTOK_ADS, files, dates, loaded_at)
