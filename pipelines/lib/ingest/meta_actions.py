"""Which Meta `actions` / `action_values` entries are conversions, counted once each.

Meta reports one conversion under several `action_type` aliases at once: a website purchase
appears as `offsite_conversion.fb_pixel_purchase` (pixel / Conversions API), as `purchase`
(Meta's aggregate of the channels, already deduplicated across pixel and Conversions API) and
as `omni_purchase` (the omnichannel total: website, app, offline and on-Meta purchases, again
deduplicated). Summing the aliases counts one purchase two or three times (the bug fixed in
PostHog #44836 / #50487, which moved to exactly this ladder).

The rule, per conversion event and per row:

    omni_<event>  ->  <event>  ->  offsite_conversion.fb_pixel_<event>

the first alias present in the row is the event's count (its entries summed when Meta
repeats it, e.g. under an extra action breakdown); later aliases are never added. `conversions`
is the sum over the events below, `conversion_value` the same ladder over `action_values`.
An event absent from a row counts 0; a row without any `actions` key counts 0 when other rows
of its file have one (Meta leaves the key out of rows with no actions) and NULL when no row of
the file has it (the request did not ask for actions: unknown, not zero).

Events: purchase, lead and complete_registration (the micro-commitment funnel's sign-up).
Not counted: custom conversions (`offsite_conversion.custom.<id>`, `fb_pixel_custom`: their
meaning is the advertiser's), on-Meta lead forms (`onsite_conversion.lead_grouped`: they never
land on the site), and upper-funnel events (view_content, add_to_cart, ...). Fivetran's
dbt_facebook_ads counts the channel-specific types instead; the ladder prefers Meta's own
deduplicated totals and falls back to them.

Only each entry's `value` is read: it is the ad set's attribution setting (what Ads Manager
shows). The per-window keys (`7d_click`, `1d_view`, ...) are splits of it, never added.
"""

from __future__ import annotations

from .sql import literal

CONVERSION_EVENTS: tuple[str, ...] = ("purchase", "lead", "complete_registration")


def aliases(event: str) -> tuple[str, ...]:
    """The event's action types, most deduplicated first (the ladder above)."""
    return (f"omni_{event}", event, f"offsite_conversion.fb_pixel_{event}")


CONVERSION_ACTION_TYPES: tuple[str, ...] = tuple(
    name for event in CONVERSION_EVENTS for name in aliases(event)
)
# A Meta numeric string: digits with an optional fraction (counts may be fractional when
# modelled). Checked before casting so 'nan', '1e5' or '12,5' are reported, not read.
NUMBER_PATTERN = r"-?[0-9]+(\.[0-9]+)?"


def _alias_sum(actions: str, action_type: str) -> str:
    """SQL: the summed `value` of one action type's entries, NULL when it has none."""
    matching = f"list_filter({actions}, x -> x.action_type = {literal(action_type)})"
    return (
        f"case when len({matching}) > 0 then "
        f"list_sum(list_transform({matching}, x -> try_cast(trim(x.value) as double))) end"
    )


def conversions_sql(actions: str, has_key: str, file_has_key: str) -> str:
    """SQL: conversions of a row from a parsed `actions` list (struct action_type, value).

    `has_key`: the row has the key; `file_has_key`: some row of its file has it.
    """
    per_event = [
        f"coalesce({', '.join(_alias_sum(actions, a) for a in aliases(event))}, 0)"
        for event in CONVERSION_EVENTS
    ]
    total = " + ".join(per_event)
    return f"case when {has_key} then {total} when {file_has_key} then 0 end"


def bad_values_sql(actions: str, field: str) -> str:
    """SQL: a reason naming conversion entries whose value is not a number, else NULL."""
    types = literal(list(CONVERSION_ACTION_TYPES))
    bad = (
        f"list_filter({actions}, x -> list_contains({types}, x.action_type) and "
        f"not coalesce(regexp_full_match(trim(x.value), '{NUMBER_PATTERN}'), false))"
    )
    return (
        f"case when len({bad}) > 0 then {literal(f'non-numeric {field} value for ')} || "
        f"array_to_string(list_transform({bad}, x -> x.action_type || ' ' || "
        f"coalesce('''' || left(x.value, 40) || '''', 'null')), ', ') end"
    )
