"""Sample export generator: site events and ad-platform reports with realistic
micro-commitment and direct-ask funnel behaviour (`microfunnel generate`).

The simulated advertiser (catalog.py) buys traffic on Google, Meta, TikTok, LinkedIn and
Microsoft, each with its own account currency and time zone. Layout written under the landing
folder, one file per source and day in the range:

    ga4/events_YYYYMMDD.json[.gz]          GA4 `events_YYYYMMDD` rows as BigQuery's JSON extract
                                           writes them (INT64 as strings, NULL fields left out,
                                           `&<>` as \\u0026 \\u003c \\u003e)
    google_ads/ad_performance_YYYYMMDD.csv one row per campaign / ad group / ad / day, GAQL
                                           headers (ads_shape="api") or the UI download
                                           (ads_shape="ui"); days are UTC
    meta_ads/meta_ads_YYYYMMDD.csv         Meta Ads Manager export (meta_format="csv"), or
    meta_ads/insights_YYYYMMDD.json        the Insights API's JSON (meta_format="api")
    tiktok_ads/tiktok_ads_YYYYMMDD.csv     (and linkedin_ads/, microsoft_ads/ likewise)
    segment/, snowplow/, events/           the other trackers' exports, when visitors are
                                           split across trackers (`trackers=`)

Each platform's writer lives in its own module; ad_reports.py simulates every platform's
numbers once, site_events.py gives the non-GA4 trackers one tracker-neutral table.
`ad_group_ad.ad.final_urls` holds the ad's single final URL as plain text.
"""

from __future__ import annotations

from .ad_reports import report_path as platform_report_path
from .export import GenerationSummary, ga4_path, generate_exports
from .google_ads import report_path

__all__ = [
    "GenerationSummary",
    "ga4_path",
    "generate_exports",
    "platform_report_path",
    "report_path",
]
