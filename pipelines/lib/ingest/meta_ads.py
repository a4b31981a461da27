"""Meta (Facebook) Ads Manager report export (CSV) -> canonical `ad_performance` rows.

The "Export table data" CSV of Ads Manager: display-name headers (`Campaign name`, `Ad set name`,
`Ad name`, `Day`, `Impressions`, `Link clicks`, `Amount spent (USD)`, `Reporting starts`,
`Reporting ends`, ...), one row per ad and day with the Day breakdown, ISO days, plain numbers
(a spreadsheet re-save in a European locale writes `1.234,56` and `05.01.2024`: decided per file
like every localized report, number_style.py / date_order.py). The spend column names the
account currency in its header; a `Currency` column, when present, must agree.

- `clicks` are LINK clicks (clicks that can land on the site). `Clicks (all)` also counts
  likes, comments, shares and media clicks: it is never read as clicks, and a report without
  `Link clicks` fails naming that column.
- An ad set is our ad group. Meta reports in the ad account's timezone, which the export does
  not state: `account_timezone` stays NULL.
- Without the Day breakdown a row covers `Reporting starts` .. `Reporting ends`: a row whose
  two days differ is quarantined (it cannot be put on one day), a one-day row is read.
- The optional summary row ("Include summary row") has no campaign, ad set or ad names or ids:
  it is not data. A campaign named "Total ..." has an id and is data.
- Conversions are `Purchases` (else `Results`, whatever the objective's result is); conversion
  value `Purchases conversion value`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb

from .ad_report import load_ad_report
from .ad_report_format import Format, Shape, TotalsRule, column
from .result import IngestResult

SOURCE = "meta_ads"
EXPORT = "export"

COLUMNS = (
    column("account_id", "id", export=("Account ID",)),
    column("account_name", "text", export=("Account name",)),
    column("currency", "text", export=("Currency",)),
    column("campaign_id", "id", True, export=("Campaign ID",)),
    column("campaign_name", "text", export=("Campaign name",)),
    column("ad_group_id", "id", export=("Ad set ID",)),
    column("ad_group_name", "text", export=("Ad set name",)),
    column("ad_id", "id", export=("Ad ID",)),
    column("final_url", "url", export=("Website URL", "Link (ad settings)")),
    column("report_date", "date", True, export=("Day", "Reporting starts")),
    column("period_end", "date", export=("Reporting ends",)),
    column("impressions", "int", True, export=("Impressions",)),
    column("clicks", "int", True, export=("Link clicks",)),
    column("spend", "money", True, export=("Amount spent ({currency})", "Amount spent")),
    column("conversions", "number", export=("Purchases", "Website purchases", "Results")),
    column(
        "conversion_value",
        "number",
        export=("Purchases conversion value", "Website purchases conversion value"),
    ),
)

META_ADS = Format(
    source=SOURCE,
    label="Meta Ads Manager",
    columns=COLUMNS,
    shapes=(
        Shape(
            EXPORT,
            "export",
            localized=True,
            period_start_headers=("Reporting starts",),
            # The summary row: totals with every name and id empty.
            totals=TotalsRule(
                None,
                ("campaign_id", "campaign_name", "ad_group_id", "ad_group_name", "ad_id"),
            ),
        ),
    ),
    header_hint="`Reporting starts` or `Day`, `Campaign name`, `Amount spent (USD)`",
    ignored_headers=(
        "Ad name",
        "Clicks (all)",
        "Reach",
        "Frequency",
        "Result indicator",
        "Cost per result",
        "CPC (cost per link click)",
        "CTR (link click-through rate)",
        "CPM (cost per 1,000 impressions)",
        "Attribution setting",
        "Ends",
        "Starts",
        "Delivery status",
        "Delivery level",
        "Budget",
        "Budget type",
    ),
)


def load_meta_ads(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    dates: list[date] | None,
    loaded_at: datetime,
) -> IngestResult:
    """Ingest Meta Ads Manager export CSVs (optionally .gz); see the module docstring."""
    return load_ad_report(con, META_ADS, files, dates, loaded_at)
