"""Meta Ads Manager "Export table data" CSV of ad rows (read by ingest/meta_ads.py).

Ad level with the Day breakdown: `Reporting starts` / `Reporting ends` (both the row's day, as
the export writes them per day), ISO days, plain numbers, the spend column named with the
account currency (`Amount spent (USD)`), `Link clicks` as clicks. One currency per file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .ad_report_csv import amount, number, one_currency, write_csv
from .source_rows import AdReportRow


def header(currency: str) -> list[object]:
    return [
        "Reporting starts",
        "Reporting ends",
        "Day",
        "Account ID",
        "Account name",
        "Campaign name",
        "Campaign ID",
        "Ad set name",
        "Ad set ID",
        "Ad name",
        "Ad ID",
        "Website URL",
        "Impressions",
        "Link clicks",
        f"Amount spent ({currency})",
        "Currency",
        "Purchases",
        "Purchases conversion value",
    ]


def write_report(path: Path, rows: Sequence[AdReportRow]) -> int:
    """Write the rows as one Meta export; returns the number of data rows."""
    currency = one_currency(rows, "Meta Ads Manager")
    body: list[list[object]] = [header(currency)]
    for r in rows:
        day = r.day.isoformat()
        body.append(
            [day, day, day, r.account_id, r.account_name, r.campaign_name, r.campaign_id,
             r.ad_group_name, r.ad_group_id, r.ad_name, r.ad_id, r.final_url, r.impressions,
             r.clicks, amount(r.spend), r.currency, number(r.conversions),
             amount(r.conversion_value)]
        )  # fmt: skip
    write_csv(path, body)
    return len(rows)
