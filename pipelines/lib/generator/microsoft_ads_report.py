"""Microsoft Advertising ad performance report download, API column names (microsoft_ads.py).

Header lines (`Report Name`, `Report Time`, `Time Zone`, `Report Aggregation`, `Rows`), the
Reporting API columns (`TimePeriod`, `AccountId`, ..., `Spend`, `Revenue`, `CurrencyCode`,
`FinalUrl`), daily ISO days, and the copyright footer. The `Time Zone` line is written in
Windows' display form for the zones ingest/microsoft_ads.py maps (else UTC's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..ingest.microsoft_ads import TIME_ZONES
from .ad_report_csv import amount, number, write_csv
from .source_rows import AdReportRow

HEADER = (
    "TimePeriod",
    "AccountId",
    "AccountName",
    "CampaignId",
    "CampaignName",
    "AdGroupId",
    "AdGroupName",
    "AdId",
    "FinalUrl",
    "CurrencyCode",
    "Impressions",
    "Clicks",
    "Spend",
    "Conversions",
    "Revenue",
)


def time_zone_line(iana: str) -> str:
    """`Time Zone: (GMT...) <cities>` for a mapped IANA zone; UTC's otherwise."""
    display = next((d for d, z in TIME_ZONES if z == iana), "(GMT) Coordinated Universal Time")
    return f"Time Zone: {display}"


def write_report(path: Path, rows: Sequence[AdReportRow]) -> int:
    """Write the rows as one report download; returns the number of data rows."""
    days = sorted({r.day for r in rows})
    span = f"{days[0]:%m/%d/%Y} - {days[-1]:%m/%d/%Y}" if days else ""
    zones = sorted({r.account_timezone for r in rows})
    year = days[-1].year if days else 2024
    body: list[list[object]] = [
        [f"Report Name: Ad Performance Report {span}".strip()],
        [f"Report Time: {span}"],
        [time_zone_line(zones[0] if len(zones) == 1 else "UTC")],
        ["Report Aggregation: Daily"],
        [f"Rows: {len(rows)}"],
        list(HEADER),
    ]
    for r in rows:
        body.append(
            [r.day.isoformat(), r.account_id, r.account_name, r.campaign_id, r.campaign_name,
             r.ad_group_id, r.ad_group_name, r.ad_id, r.final_url, r.currency, r.impressions,
             r.clicks, amount(r.spend), number(r.conversions), amount(r.conversion_value)]
        )  # fmt: skip
    body.append([f"\u00a9{year} Microsoft Corporation. All rights reserved. "])
    write_csv(path, body, encoding="utf-8-sig")
    return len(rows)
