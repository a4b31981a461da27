"""TikTok reporting API ad report (daily, `stat_time_day`) written to CSV (ingest/tiktok_ads.py).

The API's own dimension and metric names as columns, machine-formatted values:
`stat_time_day` as `2024-01-05 00:00:00`, `spend` in the account currency, `clicks` the
destination clicks. TikTok reports no conversion value, so none is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .ad_report_csv import amount, number, write_csv
from .source_rows import AdReportRow

HEADER = (
    "stat_time_day",
    "advertiser_id",
    "advertiser_name",
    "campaign_id",
    "campaign_name",
    "adgroup_id",
    "adgroup_name",
    "ad_id",
    "ad_name",
    "currency",
    "spend",
    "impressions",
    "clicks",
    "conversion",
)


def write_report(path: Path, rows: Sequence[AdReportRow]) -> int:
    """Write the rows as one TikTok API report CSV; returns the number of data rows."""
    body: list[list[object]] = [list(HEADER)]
    for r in rows:
        body.append(
            [f"{r.day.isoformat()} 00:00:00", r.account_id, r.account_name, r.campaign_id,
             r.campaign_name, r.ad_group_id, r.ad_group_name, r.ad_id, r.ad_name, r.currency,
             amount(r.spend), r.impressions, r.clicks, number(r.conversions)]
        )  # fmt: skip
    write_csv(path, body)
    return len(rows)
