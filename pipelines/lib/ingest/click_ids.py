"""Ad click ids, whatever tracker saw them: one rule for every site source.

Each platform appends its own click id to the landing URL (gclid, gbraid, wbraid and dclid for
Google, fbclid for Meta, ttclid for TikTok, li_fat_id for LinkedIn, msclkid for Microsoft).
A tracker may also carry one in a field of its own (GA4's collected_traffic_source.gclid,
Snowplow's mkt_clickid with mkt_network). `click_id` is the first found, in the order of the
fields given and then of CLICK_ID_TYPES in the URL; `click_id_type` names which one, so the dbt
models can tie the session to its platform.
"""

from __future__ import annotations

from .sql import url_param

# In URL search order: Google's ids first (auto-tagging), then the other platforms.
CLICK_ID_TYPES = ("gclid", "gbraid", "wbraid", "dclid", "fbclid", "ttclid", "li_fat_id", "msclkid")
# The platform each click id belongs to (the same names as ad_performance.platform).
CLICK_ID_PLATFORMS = {
    "gclid": "google_ads",
    "gbraid": "google_ads",
    "wbraid": "google_ads",
    "dclid": "google_ads",
    "fbclid": "meta_ads",
    "ttclid": "tiktok_ads",
    "li_fat_id": "linkedin_ads",
    "msclkid": "microsoft_ads",
}


def click_id_sql(
    url_sql: str | None, fields: list[tuple[str, str]] | None = None
) -> tuple[str, str]:
    """SQL for (click_id, click_id_type) from tracker fields, then the URL's query string.

    `fields` are (SQL expression of the id, its type or a SQL expression of its type), tried
    before the URL; an empty string counts as absent. All SQL given must be code constants.
    `url_sql` None: the URL's ids are among `fields` already (see url_click_id_columns).
    """
    sources = [(f"nullif(trim({sql}), '')", kind) for sql, kind in fields or []]
    if url_sql is not None:
        sources += [(url_param(url_sql, name), f"'{name}'") for name in CLICK_ID_TYPES]
    click_id = "coalesce(" + ", ".join(sql for sql, _ in sources) + ")"
    click_type = (
        "case " + " ".join(f"when {sql} is not null then {kind}" for sql, kind in sources) + " end"
    )
    return click_id, click_type


def typed(kind: str) -> str:
    """A click id type as the SQL literal `fields` expects, checked against the known ones."""
    if kind not in CLICK_ID_TYPES:
        raise ValueError(f"unknown click id type {kind!r}; known: {', '.join(CLICK_ID_TYPES)}")
    return f"'{kind}'"


def url_click_id_columns(url_sql: str, prefix: str = "url_") -> str:
    """`<url param> as url_gclid, ...`: each URL click id extracted once, for a wide select
    that then reads them through url_click_id_fields() (no regex run twice per row)."""
    return ", ".join(f"{url_param(url_sql, n)} as {prefix}{n}" for n in CLICK_ID_TYPES)


def url_click_id_fields(prefix: str = "url_") -> list[tuple[str, str]]:
    """The columns url_click_id_columns() made, as `fields` for click_id_sql, in URL order."""
    return [(f"{prefix}{n}", typed(n)) for n in CLICK_ID_TYPES]
