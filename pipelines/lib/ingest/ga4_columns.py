"""GA4 rows to the canonical `events` columns (README: Canonical tables), and the quarantine
rows of what could not be used. SQL over the parsed temp table of ga4_parse."""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from ..schemas import EVENTS_COLUMNS, QUARANTINE_COLUMNS, select_list
from .click_ids import click_id_sql, typed, url_click_id_columns, url_click_id_fields
from .sql import literal, url_param

SOURCE = "ga4"

# Params mapped to their own columns; everything else goes to `properties`.
MAPPED_PARAMS = (
    "ga_session_id",
    "page_location",
    "page_referrer",
    "engagement_time_msec",
    "value",
    "currency",
)
# Canonical utm column -> collected_traffic_source field (preferred) and URL parameter.
UTM_FIELDS = {
    "utm_source": ("manual_source", "utm_source"),
    "utm_medium": ("manual_medium", "utm_medium"),
    "utm_campaign": ("manual_campaign_name", "utm_campaign"),
    "utm_content": ("manual_content", "utm_content"),
    "utm_term": ("manual_term", "utm_term"),
    "utm_id": ("manual_campaign_id", "utm_id"),
}
# Click ids in priority order: collected_traffic_source first, then the landing URL.
TRAFFIC_SOURCE_CLICK_IDS = ("gclid", "dclid")


def _param(key: str) -> str:
    """SQL for the value record of event param `key` (a code constant); NULL when absent."""
    return f"list_filter(j.event_params, lambda p: p.key = '{key}')[1].value"


def _text(value_sql: str) -> str:
    return (
        f"coalesce({value_sql}.string_value, {value_sql}.int_value, "
        f"{value_sql}.double_value, {value_sql}.float_value)"
    )


def _number(value_sql: str) -> str:
    return (
        f"try_cast(coalesce({value_sql}.double_value, {value_sql}.float_value, "
        f"{value_sql}.int_value, {value_sql}.string_value) as double)"
    )


def _id_text(sql: str) -> str:
    """Integers as canonical text ('007' and 7 alike), other values unchanged."""
    return f"coalesce(try_cast(try_cast({sql} as hugeint) as varchar), {sql})"


_PROPERTY_JSON = """
    case
        when p.value.string_value is not null then to_json(p.value.string_value)::varchar
        when try_cast(p.value.int_value as hugeint) is not null
            then try_cast(p.value.int_value as hugeint)::varchar
        when try_cast(coalesce(p.value.double_value, p.value.float_value) as double) is not null
            then to_json(try_cast(coalesce(p.value.double_value, p.value.float_value) as double))
                ::varchar
        else 'null'
    end"""


def map_events(
    con: duckdb.DuckDBPyConnection,
    parsed: str,
    events: str,
    export_date: date,
    timezone: str,
    loaded_at: datetime,
) -> None:
    mapped = ", ".join(f"'{k}'" for k in MAPPED_PARAMS)
    utm = ",\n".join(
        f"coalesce(nullif(j.collected_traffic_source.{field}, ''), "
        f"{url_param('page_url', param)}) as {column}"
        for column, (field, param) in UTM_FIELDS.items()
    )
    url_ids = url_click_id_columns("page_url")
    click_id, click_type = click_id_sql(
        None,
        [(f"j.collected_traffic_source.{n}", typed(n)) for n in TRAFFIC_SOURCE_CLICK_IDS]
        + url_click_id_fields(),
    )
    identity = " || '|' || ".join(
        f"coalesce({sql}, '')"
        for sql in (
            "j.user_pseudo_id",
            "ts_us::varchar",
            "j.event_name",
            "session_number",
            _id_text("j.event_bundle_sequence_id"),
            _id_text("j.batch_event_index"),
            _id_text("j.batch_ordering_id"),
        )
    )
    con.execute(
        f"""
        create temp table {events} as
        with base as (
            select source_file, source_line, j, ts_us,
                make_timestamp(ts_us) as event_at,
                {_id_text(_text(_param("ga_session_id")))} as session_number,
                nullif({_param("page_location")}.string_value, '') as page_url,
                nullif({_param("page_referrer")}.string_value, '') as referrer,
                {_number(_param("engagement_time_msec"))} as engagement_number,
                {_number(_param("value"))} as param_value,
                nullif({_param("currency")}.string_value, '') as param_currency,
                try_cast(j.event_value_in_usd as double) as value_in_usd
            from {parsed}
            where reason is null
        ),
        urls as (
            select *,
                {utm},
                {url_ids}
            from base
        )
        select {select_list(EVENTS_COLUMNS)}
        from (
            select
                md5({identity}) as event_id,
                '{SOURCE}' as source,
                j.event_name,
                event_at,
                cast(timezone({literal(timezone)}, event_at::timestamptz) as date) as event_date,
                coalesce(nullif(j.user_id, ''), j.user_pseudo_id) as user_key,
                j.user_pseudo_id as anonymous_id,
                nullif(j.user_id, '') as user_id,
                j.user_pseudo_id || '.' || session_number as session_id,
                page_url,
                referrer,
                utm_source, utm_medium, utm_campaign, utm_content, utm_term, utm_id,
                {click_id} as click_id,
                {click_type} as click_id_type,
                try_cast(round(engagement_number) as bigint) as engagement_time_ms,
                coalesce(param_value, value_in_usd) as value,
                coalesce(param_currency, case when param_value is null
                    and value_in_usd is not null then 'USD' end) as currency,
                '{{' || array_to_string(list_transform(
                    list_filter(j.event_params,
                        lambda p: p.key is not null and p.key not in ({mapped})),
                    lambda p: to_json(p.key)::varchar || ':' || {_PROPERTY_JSON}
                ), ',') || '}}' as properties,
                {literal(export_date)} as export_date,
                source_file,
                source_line,
                {literal(loaded_at)} as loaded_at
            from urls
        )
        """
    )


def map_quarantine(
    con: duckdb.DuckDBPyConnection,
    lines: str,
    parsed: str,
    rejects: str,
    quarantine: str,
    export_date: date,
    loaded_at: datetime,
) -> None:
    con.execute(
        f"""
        create temp table {quarantine} as
        select {select_list(QUARANTINE_COLUMNS)}
        from (
            select '{SOURCE}' as source, *, {literal(export_date)} as partition_date,
                {literal(loaded_at)} as loaded_at
            from (
                select p.source_file, p.source_line, p.reason, l.line as raw_record
                from {parsed} as p
                join {lines} as l using (source_file, source_line)
                where p.reason is not null
                union all
                select source_file, source_line, reason, raw_record
                from {rejects}
            )
        )
        order by source_file, source_line nulls first
        """
    )
