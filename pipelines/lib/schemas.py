"""Canonical table shapes (README: Canonical tables), as DuckDB column types.

Adapters must produce exactly these columns, in this order; the lake, the GX suites and the dbt
sources all read them from here or agree with them.
"""

from __future__ import annotations

# One row per site event. Timestamps are UTC (naive TIMESTAMP); event_date is the reporting-
# timezone date of event_at. properties is a JSON object (text) of every parameter not mapped
# to a column.
EVENTS_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR",
    "source": "VARCHAR",
    "event_name": "VARCHAR",
    "event_at": "TIMESTAMP",
    "event_date": "DATE",
    "user_key": "VARCHAR",
    "anonymous_id": "VARCHAR",
    "user_id": "VARCHAR",
    "session_id": "VARCHAR",
    "page_url": "VARCHAR",
    "referrer": "VARCHAR",
    "utm_source": "VARCHAR",
    "utm_medium": "VARCHAR",
    "utm_campaign": "VARCHAR",
    "utm_content": "VARCHAR",
    "utm_term": "VARCHAR",
    "utm_id": "VARCHAR",
    "click_id": "VARCHAR",
    "click_id_type": "VARCHAR",
    "engagement_time_ms": "BIGINT",
    "value": "DOUBLE",
    "currency": "VARCHAR",
    "properties": "VARCHAR",
    "export_date": "DATE",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "loaded_at": "TIMESTAMP",
}

# One row per platform, account, campaign, ad group, ad and day.
AD_PERFORMANCE_COLUMNS: dict[str, str] = {
    "platform": "VARCHAR",
    "account_id": "VARCHAR",
    "account_name": "VARCHAR",
    "campaign_id": "VARCHAR",
    "campaign_name": "VARCHAR",
    "ad_group_id": "VARCHAR",
    "ad_group_name": "VARCHAR",
    "ad_id": "VARCHAR",
    "report_date": "DATE",
    "impressions": "BIGINT",
    "clicks": "BIGINT",
    "spend": "DOUBLE",
    "currency": "VARCHAR",
    # IANA name of the account's timezone (the platform cuts its days there); NULL if unknown.
    "account_timezone": "VARCHAR",
    "conversions": "DOUBLE",
    "conversion_value": "DOUBLE",
    "final_url": "VARCHAR",
    "tracking_url_template": "VARCHAR",
    "utm_source": "VARCHAR",
    "utm_medium": "VARCHAR",
    "utm_campaign": "VARCHAR",
    "utm_content": "VARCHAR",
    "utm_term": "VARCHAR",
    "utm_id": "VARCHAR",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "loaded_at": "TIMESTAMP",
}

# Rows that could not be parsed or broke a hard rule. Landed = loaded + quarantined, per file.
QUARANTINE_COLUMNS: dict[str, str] = {
    "source": "VARCHAR",
    "source_file": "VARCHAR",
    "source_line": "BIGINT",
    "reason": "VARCHAR",
    "raw_record": "VARCHAR",
    "partition_date": "DATE",
    "loaded_at": "TIMESTAMP",
}


def select_list(columns: dict[str, str]) -> str:
    """`col::TYPE as col, ...` for a final projection onto a canonical shape."""
    return ",\n    ".join(f"cast({name} as {dtype}) as {name}" for name, dtype in columns.items())
