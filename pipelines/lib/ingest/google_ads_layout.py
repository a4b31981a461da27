"""The Google Ads report export, declared for the shared ad report loader (ad_report.py).

Two real shapes, told apart by the header:
- API / GAQL: headers are GAQL field names (`segments.date`, `metrics.cost_micros`, ...),
  machine-formatted values (ISO dates, plain numbers, money in micros).
- UI download: a title line and a date-range line above the header, display names (`Day`,
  `Impr.`, `Cost`, ...), numbers and dates written in the downloading user's locale, `--` for
  empty, `Total: ...` rows. Delimited by ',' (CSV), a tab (the "Excel" UTF-16 CSV) or ';'
  (a European re-save).
"""

from __future__ import annotations

from .ad_report_format import Column, Format, Preamble, Shape, TotalsRule, report_date_range

API = "api"
UI = "ui"


def _column(
    name: str, kind: str, api: tuple[str, ...], ui: tuple[str, ...], required: bool = False
) -> Column:
    return Column(name, kind, {API: api, UI: ui}, required)


COLUMNS = (
    _column("account_id", "id", ("customer.id",), ("Customer ID", "Account ID")),
    _column("account_name", "text", ("customer.descriptive_name",), ("Account", "Account name")),
    _column("currency", "text", ("customer.currency_code",), ("Currency code", "Currency")),
    _column("account_timezone", "text", ("customer.time_zone",), ("Time zone",)),
    _column("campaign_id", "id", ("campaign.id",), ("Campaign ID",), required=True),
    _column("campaign_name", "text", ("campaign.name",), ("Campaign",)),
    _column("ad_group_id", "id", ("ad_group.id",), ("Ad group ID",)),
    _column("ad_group_name", "text", ("ad_group.name",), ("Ad group",)),
    _column("ad_id", "id", ("ad_group_ad.ad.id",), ("Ad ID",)),
    _column("final_url", "url", ("ad_group_ad.ad.final_urls",), ("Final URL", "Final URLs")),
    _column(
        "tracking_url_template",
        "text",
        ("campaign.tracking_url_template", "ad_group_ad.ad.tracking_url_template"),
        ("Tracking template",),
    ),
    _column("report_date", "date", ("segments.date",), ("Day", "Date"), required=True),
    _column("impressions", "int", ("metrics.impressions",), ("Impr.", "Impressions"), True),
    _column("clicks", "int", ("metrics.clicks",), ("Clicks",), required=True),
    _column("spend", "money", ("metrics.cost_micros",), ("Cost",), required=True),
    _column("conversions", "number", ("metrics.conversions",), ("Conversions",)),
    _column(
        "conversion_value",
        "number",
        ("metrics.conversions_value",),
        ("Conv. value", "Conversion value", "All conv. value"),
    ),
)

GOOGLE_ADS = Format(
    source="google_ads",
    label="Google Ads",
    columns=COLUMNS,
    shapes=(
        Shape(API, "API/GAQL", localized=False, money_in_micros=True),
        Shape(
            UI,
            "UI download",
            localized=True,
            empty_markers=("--",),
            # `Total: Account`, `Total: Search`, ... with no campaign, ad group or ad id.
            totals=TotalsRule("(?i)^total(\\s*:.*)?$", ("campaign_id", "ad_group_id", "ad_id")),
        ),
    ),
    header_hint="API `segments.date` or UI `Day`",
    preamble=lambda lines: Preamble(date_range=report_date_range(lines)),
)
