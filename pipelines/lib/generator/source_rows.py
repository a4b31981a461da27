"""What the generator hands each source writer: one shape for ad reports, one for site events.

Every platform or tracker writer (`<source>_report.py`, `<tracker>_export.py`) turns these into
its own real export format, so the simulation is written once and every source tells the same
story (the same people, clicks and spend).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa


@dataclass(frozen=True)
class AdReportRow:
    """One ad's numbers on one platform day, in the account's currency and timezone."""

    platform: str  # google_ads | meta_ads | tiktok_ads | linkedin_ads | microsoft_ads
    account_id: str
    account_name: str
    currency: str  # ISO 4217
    account_timezone: str  # IANA name; the platform cuts its days there
    campaign_id: str
    campaign_name: str
    ad_group_id: str  # Meta: ad set, LinkedIn: campaign (LinkedIn's campaign group is ours)
    ad_group_name: str
    ad_id: str
    ad_name: str
    final_url: str
    day: date
    impressions: int
    clicks: int  # link clicks: the ones that can land on the site
    spend: float  # account currency, rounded to cents
    conversions: float  # platform-reported
    conversion_value: float


# Site events as every tracker writer receives them (one row per event, time-sorted).
SITE_EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),  # unique per event
        ("event_name", pa.string()),  # GA4-style names: page_view, sign_up, purchase, ...
        ("event_at", pa.timestamp("us", tz="UTC")),
        ("anonymous_id", pa.string()),  # the tracker's device / cookie id
        ("user_id", pa.string()),  # set once the person signed in, else null
        ("session_id", pa.string()),
        ("page_url", pa.string()),  # with the landing's query string (utm_*, click ids)
        ("page_title", pa.string()),
        ("referrer", pa.string()),
        ("engagement_time_ms", pa.int64()),
        ("value", pa.float64()),
        ("currency", pa.string()),
        ("properties", pa.string()),  # JSON object of the remaining parameters
    ]
)
