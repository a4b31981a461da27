"""LinkedIn Campaign Manager ad (creative) performance export (read by ingest/linkedin_ads.py).

Title lines above the header (`Campaign Performance Report (in UTC)`, `Report Start`,
`Report End`), display-name columns, LinkedIn's hierarchy: our campaign is its campaign GROUP,
our ad group its campaign, our ad its creative. Days are written ISO (`2024-01-05`) so a
one-day file is unambiguous; the reader also takes the en-US `1/5/2024` and decides per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .ad_report_csv import amount, number, write_csv
from .source_rows import AdReportRow

HEADER = (
    "Start Date (in UTC)",
    "Account ID",
    "Account Name",
    "Campaign Group ID",
    "Campaign Group Name",
    "Campaign ID",
    "Campaign Name",
    "Creative ID",
    "Click URL",
    "Currency",
    "Total Spent",
    "Impressions",
    "Clicks",
    "Conversions",
    "Total Conversion Value",
)


def write_report(path: Path, rows: Sequence[AdReportRow]) -> int:
    """Write the rows as one LinkedIn export; returns the number of data rows."""
    days = sorted({r.day for r in rows})
    first, last = (days[0].isoformat(), days[-1].isoformat()) if days else ("", "")
    body: list[list[object]] = [
        ["Campaign Performance Report (in UTC)"],
        [f"Report Start: {first}"],
        [f"Report End: {last}"],
        list(HEADER),
    ]
    for r in rows:
        body.append(
            [r.day.isoformat(), r.account_id, r.account_name, r.campaign_id, r.campaign_name,
             r.ad_group_id, r.ad_group_name, r.ad_id, r.final_url, r.currency, amount(r.spend),
             r.impressions, r.clicks, number(r.conversions), amount(r.conversion_value)]
        )  # fmt: skip
    write_csv(path, body)
    return len(rows)
