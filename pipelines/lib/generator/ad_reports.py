"""Daily ad numbers of every platform, simulated once and handed to each platform's writer.

Clicks are derived from the paid landings the site saw (plus clicks that never loaded the page),
so clicks >= landings per ad and platform day; conversions are what the platform claims, which
differs from first-party counts (modelled conversions, different attribution). Each platform's
days are cut in its `day_timezone`; spend, CPCs and conversion values are in its currency.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import catalog as cat
from .journeys import DAY_US
from .source_rows import AdReportRow

EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
META_FORMATS = ("csv", "api")


@dataclass(frozen=True)
class AdDay:
    """Metrics for every ad of the lineup on one day, arrays aligned with lineup.ads."""

    day: date
    impressions: np.ndarray
    clicks: np.ndarray
    cost_micros: np.ndarray  # account currency
    conversions: np.ndarray
    conversions_value: np.ndarray  # account currency


def simulate_ad_day(
    rng: np.random.Generator,
    day: date,
    landings: np.ndarray,
    conversions: np.ndarray,
    conversion_value_usd: np.ndarray,
    lineup: cat.Lineup,
) -> AdDay:
    ads, campaigns = lineup.ads, lineup.campaigns
    n = len(ads)
    campaign = np.array([a.campaign_index for a in ads])
    # 5-12% of clicks never load the page (bounce before the tag fires, blocked tags).
    lost = rng.uniform(0.05, 0.12, len(campaigns))[campaign]
    clicks = landings + rng.poisson(landings * lost / (1 - lost) + 0.3)
    ctr = np.array([c.ctr for c in campaigns])[campaign] * rng.lognormal(0, 0.12, n)
    impressions = np.maximum(np.round(clicks / ctr), clicks) + rng.integers(0, 40, n)
    cpc = np.array([c.cpc for c in campaigns])[campaign] * rng.lognormal(0, 0.15, n)
    cost_micros = np.round(clicks * cpc * 100).astype(np.int64) * 10_000
    # Platform-reported conversions: modelled and attributed differently, so they drift.
    factor = rng.lognormal(0.05, 0.18, n)
    usd_per_unit = np.array([a.campaign.account.usd_per_unit for a in ads])
    return AdDay(
        day=day,
        impressions=impressions.astype(np.int64),
        clicks=clicks.astype(np.int64),
        cost_micros=cost_micros,
        conversions=np.round(conversions * factor, 2),
        conversions_value=np.round(conversion_value_usd * factor / usd_per_unit, 2),
    )


def platform_value(conversion_kind: np.ndarray, product: np.ndarray) -> np.ndarray:
    """What the platforms are told a conversion is worth, in the site's currency (USD)."""
    price = np.array([p[3] for p in cat.PRODUCTS])[product]
    return np.select(
        [conversion_kind == cat.PURCHASE, conversion_kind == cat.SIGN_UP],
        [price, cat.SIGN_UP_PLATFORM_VALUE],
        cat.LEAD_VALUE,
    )


def local_days(ts_us: np.ndarray, timezone: str) -> np.ndarray:
    """Day ordinals of UTC microsecond timestamps, cut in an IANA time zone."""
    if timezone == "UTC":
        return ts_us // DAY_US + EPOCH_ORDINAL
    local = pc.local_timestamp(pa.array(ts_us, pa.timestamp("us", tz=timezone)))
    return local.cast(pa.int64()).to_numpy() // DAY_US + EPOCH_ORDINAL


def needs_next_day(lineup: cat.Lineup, day: date) -> bool:
    """A platform day cut west of UTC ends after the UTC day: it needs the next cohort's clicks."""
    noon = datetime(day.year, day.month, day.day, 12)
    return any(
        (ZoneInfo(p.day_timezone).utcoffset(noon) or timedelta(0)) < timedelta(0)
        for p in lineup.platforms
    )


def report_rows(ad_day: AdDay, lineup: cat.Lineup) -> dict[str, list[AdReportRow]]:
    """The day's rows per platform name, in lineup order."""
    out: dict[str, list[AdReportRow]] = {p.name: [] for p in lineup.platforms}
    for i, ad in enumerate(lineup.ads):
        c, p = ad.campaign, ad.campaign.account
        out[p.name].append(
            AdReportRow(
                platform=p.name,
                account_id=p.account_id,
                account_name=p.account_name,
                currency=p.currency,
                account_timezone=p.timezone,
                campaign_id=str(c.id),
                campaign_name=c.name,
                ad_group_id=str(ad.ad_group_id),
                ad_group_name=ad.ad_group_name,
                ad_id=str(ad.ad_id),
                ad_name=ad.ad_name,
                final_url=ad.final_url,
                day=ad_day.day,
                impressions=int(ad_day.impressions[i]),
                clicks=int(ad_day.clicks[i]),
                spend=int(ad_day.cost_micros[i]) / 1e6,
                conversions=float(ad_day.conversions[i]),
                conversion_value=float(ad_day.conversions_value[i]),
            )
        )
    return out


Writer = Callable[[Path, Sequence[AdReportRow]], int]


def report_path(landing_dir: Path, platform: str, day: date, *, meta_format: str = "csv") -> Path:
    """Where a platform's daily report lands: `<platform>/<platform>_YYYYMMDD.csv`; Google's
    keeps its `google_ads/ad_performance_YYYYMMDD.csv`, Meta's API export is
    `meta_ads/insights_YYYYMMDD.json`."""
    if platform == "google_ads":
        return landing_dir / "google_ads" / f"ad_performance_{day:%Y%m%d}.csv"
    if platform == "meta_ads" and meta_format == "api":
        return landing_dir / "meta_ads" / f"insights_{day:%Y%m%d}.json"
    return landing_dir / platform / f"{platform}_{day:%Y%m%d}.csv"


def writer_for(platform: str, *, ads_shape: str, meta_format: str) -> Writer:
    """The platform's writer, imported when first needed (each lives in its own module)."""
    if platform == "google_ads":
        from .google_ads import write_rows

        return lambda path, rows: write_rows(path, rows, ads_shape)
    if platform == "meta_ads" and meta_format == "api":
        from .meta_insights_export import write_insights

        return write_insights
    if platform == "meta_ads":
        from .meta_ads_report import write_report as meta

        return meta
    if platform == "tiktok_ads":
        from .tiktok_ads_report import write_report as tiktok

        return tiktok
    if platform == "linkedin_ads":
        from .linkedin_ads_report import write_report as linkedin

        return linkedin
    if platform == "microsoft_ads":
        from .microsoft_ads_report import write_report as microsoft

        return microsoft
    raise ValueError(f"no writer for platform {platform!r}")
