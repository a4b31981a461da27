"""LinkedIn Campaign Manager report export (CSV) -> canonical `ad_performance` rows.

The export starts with title lines above the header (`Campaign Performance Report (in UTC)`,
`Report Start: ...`, `Report End: ...`, ...), then display-name columns: `Start Date (in UTC)`,
`Account Name`, `Campaign Group Name`, `Campaign Group ID`, `Campaign Name`, `Campaign ID`,
`Total Spent`, `Impressions`, `Clicks`, `Conversions`, `Currency`, ... Days are written in the
user's locale (`1/5/2024` in en-US), so the day order and number style are decided per file
(date_order.py, number_style.py); `Report Start` / `Report End`, when unambiguous, bound the
days like Google's date-range line.

LinkedIn's hierarchy is one level off ours: its campaign GROUP is our campaign
(`campaign_id` / `campaign_name`), its campaign our ad group, its creative (`Creative ID`) our
ad. Campaign Manager reports in UTC (the headers say so): `account_timezone` is 'UTC'.
`Clicks` are LinkedIn's chargeable clicks (landing page, company page); engagement clicks
are separate columns and not read.
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
    unambiguous_date,
)
from .result import IngestResult

SOURCE = "linkedin_ads"
EXPORT = "export"

COLUMNS = (
    column("account_id", "id", export=("Account ID",)),
    column("account_name", "text", export=("Account Name",)),
    column("currency", "text", export=("Currency",)),
    column("campaign_id", "id", True, export=("Campaign Group ID",)),
    column("campaign_name", "text", export=("Campaign Group Name",)),
    column("ad_group_id", "id", export=("Campaign ID",)),
    column("ad_group_name", "text", export=("Campaign Name",)),
    column("ad_id", "id", export=("Creative ID", "Ad ID")),
    column("final_url", "url", export=("Click URL", "Landing Page URL")),
    column("report_date", "date", True, export=("Start Date (in UTC)", "Start Date")),
    column("impressions", "int", True, export=("Impressions",)),
    column("clicks", "int", True, export=("Clicks",)),
    column("spend", "money", True, export=("Total Spent", "Amount Spent")),
    column("conversions", "number", export=("Conversions",)),
    column("conversion_value", "number", export=("Total Conversion Value", "Conversion Value")),
)


def linkedin_preamble(lines_above_header: list[str]) -> Preamble:
    """`Report Start:` / `Report End:` as the date range when written unambiguously."""
    values = preamble_values(lines_above_header)
    start = unambiguous_date(values.get("report start", ""))
    end = unambiguous_date(values.get("report end", ""))
    date_range = (start, end) if start and end and start <= end else None
    return Preamble(date_range=date_range, timezone="UTC")


LINKEDIN_ADS = Format(
    source=SOURCE,
    label="LinkedIn Campaign Manager",
    columns=COLUMNS,
    shapes=(
        Shape(
            EXPORT,
            "export",
            localized=True,
            totals=TotalsRule(total_first_cell(), ("campaign_id", "ad_group_id", "ad_id")),
        ),
    ),
    header_hint="`Start Date (in UTC)`, `Campaign Group ID`, `Total Spent`",
    preamble=linkedin_preamble,
    timezone="UTC",
    ignored_headers=(
        "End Date (in UTC)",
        "End Date",
        "Campaign Type",
        "Campaign Status",
        "Campaign Group Status",
        "Creative Name",
        "Ad Name",
        "Total Engagements",
        "Clicks to Landing Page",
        "Average CPM",
        "Average CPC",
        "Click Through Rate",
        "Reach",
    ),
)


def load_linkedin_ads(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest LinkedIn Campaign Manager export CSVs (optionally .gz); see the module docstring."""
    return load_ad_report(con, LINKEDIN_ADS, files, dates, loaded_at)
