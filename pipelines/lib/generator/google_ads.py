"""Google Ads daily ad performance report, in the API (GAQL) or UI download shape.

Clicks are derived from the paid landings GA4 saw (plus clicks that never loaded the page), so
clicks >= landings per ad and day; conversions are what the platform claims, which differs from
first-party counts (modelled conversions, different attribution).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from . import catalog as cat

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


@dataclass(frozen=True)
class AdDay:
    """Metrics for every ad on one day, arrays aligned with catalog.ADS."""

    day: date
    impressions: np.ndarray
    clicks: np.ndarray
    cost_micros: np.ndarray
    conversions: np.ndarray
    conversions_value: np.ndarray


def simulate_ad_day(
    rng: np.random.Generator,
    day: date,
    landings: np.ndarray,
    conversions: np.ndarray,
    conversion_value: np.ndarray,
) -> AdDay:
    n = len(cat.ADS)
    campaign = np.array([a.campaign_index for a in cat.ADS])
    # 5-12% of clicks never load the page (bounce before the tag fires, blocked tags).
    lost = rng.uniform(0.05, 0.12, len(cat.CAMPAIGNS))[campaign]
    clicks = landings + rng.poisson(landings * lost / (1 - lost) + 0.3)
    ctr = np.array([c.ctr for c in cat.CAMPAIGNS])[campaign] * rng.lognormal(0, 0.12, n)
    impressions = np.maximum(np.round(clicks / ctr), clicks) + rng.integers(0, 40, n)
    cpc = np.array([c.cpc for c in cat.CAMPAIGNS])[campaign] * rng.lognormal(0, 0.15, n)
    cost_micros = np.round(clicks * cpc * 100).astype(np.int64) * 10_000
    # Platform-reported conversions: modelled and attributed differently, so they drift.
    factor = rng.lognormal(0.05, 0.18, n)
    return AdDay(
        day=day,
        impressions=impressions.astype(np.int64),
        clicks=clicks.astype(np.int64),
        cost_micros=cost_micros,
        conversions=np.round(conversions * factor, 2),
        conversions_value=np.round(conversion_value * factor, 2),
    )


def platform_value(conversion_kind: np.ndarray, product: np.ndarray) -> np.ndarray:
    price = np.array([p[3] for p in cat.PRODUCTS])[product]
    return np.select(
        [conversion_kind == cat.PURCHASE, conversion_kind == cat.SIGN_UP],
        [price, cat.SIGN_UP_PLATFORM_VALUE],
        cat.LEAD_VALUE,
    )


def report_path(landing_dir: Path, day: date) -> Path:
    return landing_dir / "google_ads" / f"ad_performance_{day:%Y%m%d}.csv"


def _write(path: Path, rows: list[list[object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    tmp.replace(path)


def write_report(landing_dir: Path, ad_day: AdDay, shape: str) -> tuple[Path, int]:
    """Write one day's report; returns the path and the number of ad rows."""
    path = report_path(landing_dir, ad_day.day)
    body = []
    for i, ad in enumerate(cat.ADS):
        c = ad.campaign
        body.append(
            (
                c,
                ad,
                int(ad_day.impressions[i]),
                int(ad_day.clicks[i]),
                int(ad_day.cost_micros[i]),
                float(ad_day.conversions[i]),
                float(ad_day.conversions_value[i]),
            )
        )
    if shape == "api":
        rows: list[list[object]] = [list(API_HEADER)]
        for c, ad, imp, clk, cost, conv, val in body:
            rows.append(
                [cat.CUSTOMER_ID, cat.CUSTOMER_NAME, cat.CURRENCY, c.id, c.name, ad.ad_group_id,
                 ad.ad_group_name, ad.ad_id, ad.final_url, c.tracking_url_template,
                 ad_day.day.isoformat(), imp, clk, cost, conv, val]
            )  # fmt: skip
    elif shape == "ui":
        label = f"{ad_day.day:%B} {ad_day.day.day}, {ad_day.day.year}"
        rows = [["Ad report"], [f"{label} - {label}"], list(UI_HEADER)]
        for c, ad, imp, clk, cost, conv, val in body:
            rows.append(
                [ad_day.day.isoformat(), cat.CUSTOMER_NAME, c.name, c.id, ad.ad_group_name,
                 ad.ad_group_id, ad.ad_id, ad.final_url, c.tracking_url_template, cat.CURRENCY,
                 f"{imp:,}", f"{clk:,}", f"{cost / 1e6:,.2f}", f"{conv:,.2f}", f"{val:,.2f}"]
            )  # fmt: skip
        rows.append(
            ["Total: Account", "--", "--", "--", "--", "--", "--", "--", "--", cat.CURRENCY,
             f"{int(ad_day.impressions.sum()):,}", f"{int(ad_day.clicks.sum()):,}",
             f"{int(ad_day.cost_micros.sum()) / 1e6:,.2f}",
             f"{float(ad_day.conversions.sum()):,.2f}",
             f"{float(ad_day.conversions_value.sum()):,.2f}"]
        )  # fmt: skip
    else:
        raise ValueError(f"ads_shape must be one of {SHAPES}, got {shape!r}")
    _write(path, rows)
    return path, len(body)
