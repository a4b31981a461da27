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


{#
  The first day a run rebuilds, or none for a full build. Marts with ISO-week rows rebuild
  whole weeks (whole_weeks=true): from the Monday on or before `microfunnel__reprocess_from`,
  so a week with one reprocessed day is recounted in full. lead_days moves the day earlier.
#}
{% macro reprocess_start(whole_weeks=false, lead_days=0) -%}
    {%- set start = reprocess_from() -%}
    {%- if start is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set day = modules.datetime.date.fromisoformat(start) -%}
    {%- set back = (day.weekday() if whole_weeks else 0) + lead_days -%}
    {{ return((day - modules.datetime.timedelta(days=back)).isoformat()) }}
{%- endmacro %}


{% macro in_reprocess_range(date_column, whole_weeks=false, lead_days=0) -%}
    {%- set start = reprocess_start(whole_weeks, lead_days) -%}
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
    {{ in_reprocess_range(
        partition_column, lead_days=var('microfunnel__max_event_days_after_export') | int
    ) }}
{%- endmacro %}


{# The lake's events of the rebuilt range, read from the folders that can hold them. #}
{% macro rebuild_window_events() -%}
    select * from {{ ref('stg_lake__events') }}
    where
        {{ in_reprocess_range('event_date') }}
        and {{ in_lake_window('lake_date') }}
{%- endmacro %}


{#
  The config of a model incremental by a date column: each run replaces the rows from the
  rebuilt range's start on (whole ISO weeks with whole_weeks=true) and keeps the older ones.
  Use as {{ config(**incremental_by_date('cohort_date')) }}.
#}
{% macro incremental_by_date(date_column, whole_weeks=false) -%}
    {{ return(adapter.dispatch('incremental_by_date', 'microfunnel')(date_column, whole_weeks)) }}
{%- endmacro %}

{#- DuckDB: a pre-hook deletes the range, the new rows are appended. #}
{% macro default__incremental_by_date(date_column, whole_weeks) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'append',
        'on_schema_change': 'append_new_columns',
        'pre_hook': "{{ delete_reprocessed_rows('" ~ date_column ~ "', whole_weeks=" ~ whole_weeks ~ ") }}",
    }) }}
{%- endmacro %}

{#-
  Spark cannot delete from Parquet tables: the table is partitioned by the date and each run
  overwrites the partitions it writes (dynamic partition overwrite, set in the profile). A
  rebuilt day that now has no row at all keeps its old rows: after a purge or a changed funnel
  definition, run with --full-refresh.
#}
{% macro spark__incremental_by_date(date_column, whole_weeks) -%}
    {{ return({
        'materialized': 'incremental',
        'incremental_strategy': 'insert_overwrite',
        'file_format': 'parquet',
        'partition_by': [date_column],
        'on_schema_change': 'append_new_columns',
    }) }}
{%- endmacro %}


{# Pre-hook of incremental models on DuckDB: drop the rows that this run rebuilds. #}
{% macro delete_reprocessed_rows(date_column, whole_weeks=false) -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_reprocess_range(date_column, whole_weeks) }}
    {%- endif -%}
{%- endmacro %}
