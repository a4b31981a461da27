{#
  The lake as sources. DuckDB reads each source's external_location in place. Spark has no such
  source property: before a run (on-run-start) every source with a spark_location becomes an
  external Parquet table over the same files, in a database named after the source. The tables
  are made again on each run, so their schema follows the files (mergeSchema); partitions
  (date=YYYY-MM-DD folders under spark_base_path) are found when a query lists the files, so
  new days need no repair (the profile sets spark.sql.hive.manageFilesourcePartitions=false).
#}
{% macro warehouse_dir() -%}
    {{ return(var('microfunnel__warehouse_dir', env_var('MICROFUNNEL_WAREHOUSE_DIR', '../data/warehouse'))) }}
{%- endmacro %}


{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'microfunnel')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if execute -%}
        {%- for source in graph.sources.values()
            if source.package_name == project_name and source.source_meta.spark_location -%}
            {%- set options = {
                'path': warehouse_dir() ~ '/' ~ source.source_meta.spark_location.format(name=source.name),
                'mergeSchema': 'true',
            } -%}
            {%- if source.source_meta.spark_base_path -%}
                {%- do options.update({
                    'basePath': warehouse_dir() ~ '/' ~ source.source_meta.spark_base_path.format(name=source.name)
                }) -%}
            {%- endif -%}
            {%- do run_query('create database if not exists ' ~ source.schema) -%}
            {%- do run_query('drop table if exists ' ~ source.schema ~ '.' ~ source.identifier) -%}
            {%- call statement('register_' ~ source.source_name ~ '__' ~ source.name) -%}
                create table {{ source.schema }}.{{ source.identifier }}
                using parquet
                options (
                    {%- for key, value in options.items() %}
                    {{ key }} '{{ value }}'{{ ',' if not loop.last }}
                    {%- endfor %}
                )
            {%- endcall -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
