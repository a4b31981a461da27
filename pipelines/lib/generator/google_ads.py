"""Google Ads daily ad performance report, in the API (GAQL) or UI download shape.

The numbers come from ad_reports.py (simulated for every platform at once); this module only
writes Google's rows. `campaign.tracking_url_template` comes from the catalog.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import numpy as np

from . import catalog as cat
from .source_rows import AdReportRow

API_HEADER = (
    "customer.id",
    "customer.descriptive_name",
    "customer.currency_code",
    "campaign.id",
    "campaign.name",
    "ad_group.id",
    "ad_group.name",
    "ad_group_ad.ad.id",
    "ad_group_ad.ad.final_urls",
    "campaign.tracking_url_template",
    "segments.date",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.cost_micros",
    "metrics.conversions",
    "metrics.conversions_value",
)
UI_HEADER = (
    "Day",
    "Account",
    "Campaign",
    "Campaign ID",
    "Ad group",
    "Ad group ID",
    "Ad ID",
    "Final URL",
    "Tracking template",
    "Currency code",
    "Impr.",
    "Clicks",
    "Cost",
    "Conversions",
    "Conv. value",
)
SHAPES = ("api", "ui")


def report_path(landing_dir: Path, day: date) -> Path:
    return landing_dir / "google_ads" / f"ad_performance_{day:%Y%m%d}.csv"


def _write(path: Path, rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    tmp.replace(path)


def write_rows(path: Path, ads: Sequence[AdReportRow], shape: str = "api") -> int:
    """Write one day's Google Ads report; returns the number of ad rows."""
    if not ads:
        raise ValueError("a Google Ads report needs at least one row")
    day = ads[0].day
    templates = {str(c.id): c.tracking_url_template for c in cat.GOOGLE_CAMPAIGNS}
    cost = [round(r.spend * 1_000_000) for r in ads]
    if shape == "api":
        rows: list[list[object]] = [list(API_HEADER)]
        for r, micros in zip(ads, cost, strict=True):
            rows.append(
                [r.account_id, r.account_name, r.currency, r.campaign_id, r.campaign_name,
                 r.ad_group_id, r.ad_group_name, r.ad_id, r.final_url,
                 templates.get(r.campaign_id, ""), r.day.isoformat(), r.impressions, r.clicks,
                 micros, r.conversions, r.conversion_value]
            )  # fmt: skip
    elif shape == "ui":
        label = f"{day:%B} {day.day}, {day.year}"
        rows = [["Ad report"], [f"{label} - {label}"], list(UI_HEADER)]
        for r, micros in zip(ads, cost, strict=True):
            rows.append(
                [r.day.isoformat(), r.account_name, r.campaign_name, r.campaign_id,
                 r.ad_group_name, r.ad_group_id, r.ad_id, r.final_url,
                 templates.get(r.campaign_id, ""), r.currency, f"{r.impressions:,}",
                 f"{r.clicks:,}", f"{micros / 1e6:,.2f}", f"{r.conversions:,.2f}",
                 f"{r.conversion_value:,.2f}"]
            )  # fmt: skip
        # Totals summed like numpy arrays of the columns (same float rounding as before).
        rows.append(
            ["Total: Account", "--", "--", "--", "--", "--", "--", "--", "--", ads[0].currency,
             f"{sum(r.impressions for r in ads):,}", f"{sum(r.clicks for r in ads):,}",
             f"{sum(cost) / 1e6:,.2f}",
             f"{float(np.array([r.conversions for r in ads]).sum()):,.2f}",
             f"{float(np.array([r.conversion_value for r in ads]).sum()):,.2f}"]
        )  # fmt: skip
    else:
        raise ValueError(f"ads_shape must be one of {SHAPES}, got {shape!r}")
    _write(path, rows)
    return len(ads)
