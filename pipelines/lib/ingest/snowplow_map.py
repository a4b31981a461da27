"""Snowplow fields -> the canonical `events` columns, and the quarantine rows.

Mapping rules (README: Canonical tables; the Snowplow canonical event model):
- event_id: Snowplow's event_id (a UUID set by the tracker).
- event_name: for structured events (`event` = struct) the action `se_action`, the one field
  that names what happened (`event_name` is just "event" there); otherwise Snowplow's own
  `event_name` (page_view, page_ping, transaction, transaction_item, or the self-describing
  event's schema name such as link_click); when that column is empty, the `event` type
  (page_view, page_ping, ...) or the name in the unstruct_event schema URI.
- event_at: derived_tstamp (Snowplow's best estimate of when the event happened, corrected for
  device clock skew), else collector_tstamp; both are UTC.
- anonymous_id: domain_userid (the JS tracker's first-party cookie), else network_userid (the
  collector's cookie, for trackers that set no domain id). user_id: user_id. user_key: user_id,
  else anonymous_id. session_id: domain_sessionid.
- page_url: page_url, else rebuilt from the page_url* parts (a warehouse row may carry only
  those); referrer: page_referrer.
- utm_*: the campaign attribution enrichment's mkt_source/medium/campaign/content/term, else
  the page URL's query; utm_id from the URL only (Snowplow has no field for it).
- click_id: mkt_clickid typed by mkt_network (snowplow_fields.NETWORK_CLICK_ID_TYPES; an
  unknown network is not used), then the page URL, via click_ids.click_id_sql.
- engagement_time_ms: a page_ping counts one heartbeat (HEARTBEAT_SECONDS); other events NULL.
- value / currency: tr_total / tr_currency when tr_total is set (transaction events, and the
  conversion events of Snowplow's own attribution samples); else se_value for structured events
  (no currency: Snowplow has none for it).
- properties: PROPERTY_FIELDS that are set, plus `event_data`, the self-describing event's own
  data (the enriched TSV carries it; warehouse tables shred it into other columns).

A record is quarantined, with the reason, when it is malformed (snowplow_read), lacks event_id,
collector_tstamp or any user identity, has a timestamp or number that does not parse, has no
event name, or happened before 2000 or more than one day after the export day (the GA4 rule:
late events of earlier days are normal, events from the future are not).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb

from ..schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS, select_list
from .click_ids import click_id_sql
from .ga4_parse import EARLIEST_EVENT, LATEST_DAYS_AFTER_EXPORT  # the one event-time rule
from .snowplow_fields import (
    EVENT_TYPE_NAMES,
    HEARTBEAT_SECONDS,
    NETWORK_CLICK_ID_TYPES,
    PROPERTY_FIELDS,
    STRUCT_EVENT_TYPES,
)
from .sql import literal, url_param

SOURCE = "snowplow"
# Canonical utm column -> Snowplow campaign field (preferred) and URL parameter.
UTM_FIELDS = {
    "utm_source": ("mkt_source", "utm_source"),
    "utm_medium": ("mkt_medium", "utm_medium"),
    "utm_campaign": ("mkt_campaign", "utm_campaign"),
    "utm_content": ("mkt_content", "utm_content"),
    "utm_term": ("mkt_term", "utm_term"),
    "utm_id": (None, "utm_id"),
}


def _in(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join(literal(v) for v in values)


def _event_name_sql() -> str:
    types = " ".join(
        f"when {literal(kind)} then {literal(name)}" for kind, name in EVENT_TYPE_NAMES.items()
    )
    schema_name = (
        "nullif(regexp_extract(json_extract_string(try_cast(unstruct_event as json), "
        "'$.data.schema'), '^iglu:[^/]+/([^/]+)/', 1), '')"
    )
    return f"""
        case
            when is_struct then coalesce(se_action, event_name)
            when event_name is not null then event_name
            when lower(event) in ('unstruct', 'ue') then {schema_name}
            else case lower(event) {types} end
        end"""


def _network_type_sql() -> str:
    cases = " ".join(
        f"when {literal(network)} then {literal(kind)}"
        for network, kind in NETWORK_CLICK_ID_TYPES.items()
    )
    return f"case lower(trim(mkt_network)) {cases} end"


def _page_url_sql() -> str:
    """page_url, else `scheme://host[:port]/path?query#fragment` from the parts (`//host` when
    the scheme is missing; default ports left out)."""
    return """
        coalesce(page_url, case when page_urlhost is not null then
            coalesce(page_urlscheme || '://', '//') || page_urlhost
            || case when page_urlport is not null and page_urlport not in ('80', '443')
                then ':' || page_urlport else '' end
            || coalesce(page_urlpath, '') || coalesce('?' || page_urlquery, '')
            || coalesce('#' || page_urlfragment, '')
        end)"""


def _property_sql() -> str:
    """A JSON object of the PROPERTY_FIELDS that are set (numbers as numbers when they parse)."""
    parts = []
    for name, kind in PROPERTY_FIELDS.items():
        text = f"to_json({name})::varchar"
        if kind == "number":
            value = f"coalesce(to_json(try_cast({name} as double))::varchar, {text})"
        elif kind == "integer":
            value = f"coalesce(to_json(try_cast({name} as bigint))::varchar, {text})"
        else:
            value = text
        parts.append(f"case when {name} is not null then '\"{name}\":' || {value} end")
    event_data = (
        "case when json_valid(unstruct_event) and json_exists(unstruct_event, '$.data.data') "
        "then '\"event_data\":' || json_extract(unstruct_event, '$.data.data')::varchar end"
    )
    parts.append(event_data)
    return "'{' || concat_ws(',', " + ", ".join(parts) + ") || '}'"


def create_checked(
    con: duckdb.DuckDBPyConnection, fields: str, checked: str, export_date: date
) -> None:
    """Type each record once; `reason` is NULL for records that can be loaded."""
    latest = datetime.combine(export_date, datetime.min.time()) + timedelta(
        days=1 + LATEST_DAYS_AFTER_EXPORT
    )
    number_checks = " ".join(
        f"when {name} is not null and try_cast({name} as double) is null "
        f"then 'unparseable {name}: ' || left({name}, 100)"
        for name in ("tr_total", "se_value")
    )
    con.execute(
        f"""
        create temp table {checked} as
        with typed as (
            select *,
                try_cast(collector_tstamp as timestamptz)::timestamp as collector_at,
                try_cast(derived_tstamp as timestamptz)::timestamp as derived_at,
                lower(event) in ({_in(STRUCT_EVENT_TYPES)})
                    or (event is null and event_name = 'event') as is_struct,
                coalesce(domain_userid, network_userid) as anonymous_id
            from {fields}
        ),
        named as (
            select *, {_event_name_sql()} as resolved_name,
                coalesce(derived_at, collector_at) as event_at,
                case when derived_at is not null then 'derived_tstamp'
                    else 'collector_tstamp' end as time_field
            from typed
        )
        select *,
            case
                when reason is not null then reason
                when event_id is null then 'missing required field: event_id'
                when collector_tstamp is null then 'missing required field: collector_tstamp'
                when collector_at is null
                    then 'unparseable collector_tstamp: ' || left(collector_tstamp, 100)
                when derived_tstamp is not null and derived_at is null
                    then 'unparseable derived_tstamp: ' || left(derived_tstamp, 100)
                when event_at < {literal(EARLIEST_EVENT)}
                    then time_field || ' before 2000-01-01: ' || event_at::varchar
                when event_at >= {literal(latest)}
                    then time_field || ' ' || event_at::varchar || ' is more than '
                        || '{LATEST_DAYS_AFTER_EXPORT} day after export date '
                        || '{export_date.isoformat()}'
                when user_id is null and anonymous_id is null
                    then 'missing user identity: user_id, domain_userid and network_userid '
                        || 'are all empty'
                when resolved_name is null then 'no event name: event, event_name'
                    || case when is_struct then ' and se_action' else '' end || ' are empty'
                {number_checks}
            end as reason_checked
        from named
        """
    )


def map_events(
    con: duckdb.DuckDBPyConnection,
    checked: str,
    events: str,
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> None:
    utm = ",\n".join(
        (
            f"coalesce({field}, {url_param('page_url', param)}) as {column}"
            if field
            else f"{url_param('page_url', param)} as {column}"
        )
        for column, (field, param) in UTM_FIELDS.items()
    )
    click_id, click_type = click_id_sql(
        "page_url", [("case when network_type is not null then mkt_clickid end", "network_type")]
    )
    con.execute(
        f"""
        create temp table {events} as
        with base as (
            select * replace ({_page_url_sql()} as page_url),
                {_network_type_sql()} as network_type,
                try_cast(tr_total as double) as tr_total_number,
                try_cast(se_value as double) as se_value_number
            from {checked}
            where reason_checked is null
        )
        select {select_list(EVENTS_COLUMNS)}
        from (
            select
                event_id,
                '{SOURCE}' as source,
                resolved_name as event_name,
                event_at,
                cast(timezone({literal(timezone)}, event_at::timestamptz) as date) as event_date,
                coalesce(user_id, anonymous_id) as user_key,
                anonymous_id,
                user_id,
                domain_sessionid as session_id,
                page_url,
                page_referrer as referrer,
                {utm},
                {click_id} as click_id,
                {click_type} as click_id_type,
                case when resolved_name = 'page_ping' or lower(event) in ('page_ping', 'pp')
                    then {HEARTBEAT_SECONDS * 1000} end as engagement_time_ms,
                coalesce(tr_total_number, case when is_struct then se_value_number end)
                    as value,
                case when tr_total_number is not null then upper(tr_currency) end as currency,
                {_property_sql()} as properties,
                {literal(export_date)} as export_date,
                source_file,
                source_line,
                {literal(loaded_at)} as loaded_at
            from base
        )
        """
    )


def map_quarantine(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    checked: str,
    rejects: str,
    quarantine: str,
    export_date: date,
    loaded_at: datetime,
) -> None:
    """Bad records with their raw text (all the lines of a multi-line CSV record)."""
    con.execute(
        f"""
        create temp table {quarantine} as
        select {select_list(QUARANTINE_COLUMNS)}
        from (
            select '{SOURCE}' as source, *, {literal(export_date)} as partition_date,
                {literal(loaded_at)} as loaded_at
            from (
                select c.source_file, c.source_line, any_value(c.reason_checked) as reason,
                    string_agg(coalesce(l.line, ''), chr(10) order by l.source_line)
                        as raw_record
                from {checked} as c
                join {lines} as l
                    on l.source_file = c.source_file
                    and l.source_line between c.source_line
                        and c.source_line + c.line_count - 1
                where c.reason_checked is not null
                group by c.source_file, c.source_line
                union all
                select source_file, source_line, reason, raw_record
                from {rejects}
            )
        )
        order by source_file, source_line nulls first
        """
    )
