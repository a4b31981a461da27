"""GA4 names the pipeline already knows; anything else in an export is reported as new.

New names are never an error: unknown event params flow into `properties` and unknown
top-level fields are ignored. The lists only decide what is worth a warning, so an operator
sees when the site starts sending something (and can map it) or the export schema grows.
"""

from __future__ import annotations

# Top-level fields of the GA4 BigQuery export schema
# (https://support.google.com/analytics/answer/7029846).
GA4_TOP_LEVEL_FIELDS: frozenset[str] = frozenset(
    {
        "event_date",
        "event_timestamp",
        "event_name",
        "event_params",
        "event_previous_timestamp",
        "event_value_in_usd",
        "event_bundle_sequence_id",
        "event_server_timestamp_offset",
        "user_id",
        "user_pseudo_id",
        "privacy_info",
        "user_properties",
        "user_first_touch_timestamp",
        "user_ltv",
        "device",
        "geo",
        "app_info",
        "traffic_source",
        "stream_id",
        "platform",
        "event_dimensions",
        "ecommerce",
        "items",
        "collected_traffic_source",
        "is_active_user",
        "batch_event_index",
        "batch_page_id",
        "batch_ordering_id",
        "session_traffic_source_last_click",
        "publisher",
    }
)

# Automatically collected and enhanced-measurement params.
_AUTOMATIC_PARAMS = {
    "ga_session_id",
    "ga_session_number",
    "page_location",
    "page_referrer",
    "page_title",
    "engagement_time_msec",
    "engaged_session_event",
    "session_engaged",
    "entrances",
    "ignore_referrer",
    "debug_mode",
    "batch_page_id",
    "batch_ordering_id",
    "percent_scrolled",
    "link_classes",
    "link_domain",
    "link_id",
    "link_text",
    "link_url",
    "outbound",
    "file_extension",
    "file_name",
    "search_term",
    "unique_search_term",
    "video_current_time",
    "video_duration",
    "video_percent",
    "video_provider",
    "video_title",
    "video_url",
    "visible",
    "form_id",
    "form_name",
    "form_destination",
    "form_submit_text",
    "firebase_screen",
    "firebase_screen_class",
    "firebase_screen_id",
    "firebase_event_origin",
    # Campaign params GA4 copies onto the landing hit.
    "source",
    "medium",
    "campaign",
    "campaign_id",
    "term",
    "content",
    "gclid",
    "dclid",
}

# Params of the GA4 recommended events (sign_up, generate_lead, purchase, select_content ...).
_RECOMMENDED_EVENT_PARAMS = {
    "method",
    "value",
    "currency",
    "transaction_id",
    "coupon",
    "shipping",
    "tax",
    "affiliation",
    "payment_type",
    "shipping_tier",
    "item_id",
    "item_list_id",
    "item_list_name",
    "content_type",
    "content_id",
    "creative_name",
    "creative_slot",
    "promotion_id",
    "promotion_name",
    "location_id",
    "lead_source",
    "group_id",
    "level",
    "level_name",
    "character",
    "score",
    "success",
    "achievement_id",
    "virtual_currency_name",
    "item_name",
}

# Custom params of the sample site (generator and fixtures).
_SITE_PARAMS = {"quiz_id", "quiz_step", "quiz_question", "quiz_answer"}

GA4_EVENT_PARAMS: frozenset[str] = frozenset(
    _AUTOMATIC_PARAMS | _RECOMMENDED_EVENT_PARAMS | _SITE_PARAMS
)
