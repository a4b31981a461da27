"""Sample export generator: GA4 BigQuery export rows and Google Ads reports with realistic
micro-commitment and direct-ask funnel behaviour (`microfunnel generate`).

Layout written under the landing folder, one file per day in the range:

    ga4/events_YYYYMMDD.json[.gz]          GA4 `events_YYYYMMDD` rows as BigQuery's JSON extract
                                           writes them (INT64 as strings, NULL fields left out,
                                           `&<>` as \\u0026 \\u003c \\u003e)
    google_ads/ad_performance_YYYYMMDD.csv one row per campaign / ad group / ad / day, GAQL
                                           headers (ads_shape="api") or the UI download
                                           (ads_shape="ui")

`ad_group_ad.ad.final_urls` holds the ad's single final URL as plain text. Dates are UTC.
"""

from __future__ import annotations

from .export import GenerationSummary, ga4_path, generate_exports
from .google_ads import report_path

__all__ = ["GenerationSummary", "ga4_path", "generate_exports", "report_path"]
