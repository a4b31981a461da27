{#
  Incremental reprocessing: marts keep cohorts before `microfunnel__reprocess_from` and rebuild
  the cohorts from that date on. The value comes from Dagster as an ISO date; it is validated
  here before it reaches SQL so a malformed var fails loudly instead of selecting nothing.
#}

{% macro reprocess_from() -%}
    {%- set value = var('microfunnel__reprocess_from') -%}
    {%- if value is none or value == '' -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', value | string) -%}
        {{ exceptions.raise_compiler_error("var microfunnel__reprocess_from must be an ISO date (YYYY-MM-DD), got: " ~ value) }}
    {%- endif -%}
    {{ return(value | string) }}
{%- endmacro %}


{% macro in_reprocess_range(date_column) -%}
    {%- set start = reprocess_from() -%}
    {%- if start is none -%}
        true
    {%- else -%}
        {{ date_column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}


{% macro before_reprocess_range(date_column) -%}
    {%- set start = reprocess_from() -%}
    {%- if start is none -%}
        false
    {%- else -%}
        {{ date_column }} < cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}


{#
  Partition pruning: the lake folders (export days) that can hold events of the rebuilt range.
  Ingestion refuses an event more than one day after its export day in UTC, so in any reporting
  timezone its event_date is at most microfunnel__max_event_days_after_export days later: older
  folders are never opened. A filter on event_date still decides which rows count.
#}
{% macro in_lake_window(partition_column) -%}
    {%- set start = reprocess_from() -%}
    {%- if start is none -%}
        true
    {%- else -%}
        {%- set lead = var('microfunnel__max_event_days_after_export') | int -%}
        {%- set first = modules.datetime.date.fromisoformat(start)
            - modules.datetime.timedelta(days=lead) -%}
        {{ partition_column }} >= cast('{{ first.isoformat() }}' as date)
    {%- endif -%}
{%- endmacro %}


{# Pre-hook for incremental marts: drop the rows that this run rebuilds. #}
{% macro delete_reprocessed_rows(date_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_reprocess_range(date_column) }}
    {%- endif -%}
{%- endmacro %}


{#
  Marts with ISO-week rows rebuild whole weeks: from the Monday on or before
  `microfunnel__reprocess_from`, so a week that has one reprocessed day is recounted in full.
#}
{% macro reprocess_from_week_start() -%}
    {%- set start = reprocess_from() -%}
    {%- if start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat(start) -%}
    {{ return((day - modules.datetime.timedelta(days=day.weekday())).isoformat()) }}
{%- endmacro %}


{% macro in_reprocess_weeks(date_column) -%}
    {%- set start = reprocess_from_week_start() -%}
    {%- if start is none -%}
        true
    {%- else -%}
        {{ date_column }} >= cast('{{ start }}' as date)
    {%- endif -%}
{%- endmacro %}


{% macro delete_reprocessed_weeks(date_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_reprocess_weeks(date_column) }}
    {%- endif -%}
{%- endmacro %}
