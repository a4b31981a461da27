"""Sample export generator: GA4 BigQuery export rows and Google Ads reports with realistic
micro-commitment and direct-ask funnel behaviour (`microfunnel generate`)."""

from __future__ import annotations

from .export import GenerationSummary, ga4_path, generate_exports
from .google_ads import report_path

__all__ = ["GenerationSummary", "ga4_path", "generate_exports", "report_path"]
