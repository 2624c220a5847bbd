{#
  Incremental survey models (int_respondents_weighted, int_survey_estimates) recompute a wave only
  when it is new or its inputs changed: each row stores the input_fingerprint of its wave from
  int_survey_wave_inputs.

  delete_stale_waves(inputs) is their pre-hook: on an incremental run it deletes the rows of every
  wave whose stored fingerprint is not the wave's current one (inputs changed) or that is gone from
  the inputs. The Python model then computes the waves that have no rows left (it reads the
  table as committed before this run, which is the same set: see waves_to_build in the
  models). On a first or --full-refresh run it does nothing (the table is built from scratch).
  A table built before the fingerprint existed gets the columns input_fingerprint and built_at
  from add_fingerprint_columns (a pre-hook outside the transaction: DuckDB refuses to commit an
  ALTER of a table that the Python model's own cursor read meanwhile); its rows have no
  fingerprint, so they are all deleted and every wave is recomputed.
  add_fingerprint_columns also renames a table's column edition to area_edition (issue 22: the
  area division's edition), so a warehouse built before the rename keeps its raked waves.
#}
{% macro add_fingerprint_columns() %}
  {%- if execute and is_incremental() -%}
    {%- set columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {%- if 'input_fingerprint' not in columns -%}
      alter table {{ this }} add column input_fingerprint varchar;
      alter table {{ this }} add column built_at timestamp;
    {% endif -%}
    {#- issue 22: the area division's edition is the column area_edition (it was edition) -#}
    {%- if 'edition' in columns and 'area_edition' not in columns -%}
      alter table {{ this }} rename column edition to area_edition;
    {% endif -%}
  {%- endif %}
  select 1
{%- endmacro %}

{% macro delete_stale_waves(inputs) %}
  {%- if execute and is_incremental() -%}
    delete from {{ this }} as built
    where not exists (
        select 1
        from {{ inputs }} as inputs
        where inputs.wave = built.wave
          and inputs.input_fingerprint = built.input_fingerprint
    )
  {%- else -%}
    select 1 -- not incremental: the table is built from scratch
  {%- endif -%}
{% endmacro %}

{#
  drop_python_temp_tables() is their post-hook. On an incremental run dbt-duckdb (1.11) writes a
  Python model's new rows to a table <model>__dbt_tmp<timestamp> in the warehouse's main schema
  (the Python code runs on its own cursor, so it cannot use a connection-local temporary table)
  and then never drops it: drop it here, so a warehouse does not collect one per run.
#}
{% macro drop_python_temp_tables() %}
  {%- if execute -%}
    {%- set found = run_query(
        "select table_schema, table_name from information_schema.tables"
        ~ " where table_catalog = current_database() and table_schema = 'main'"
        ~ " and starts_with(table_name, '" ~ this.identifier ~ "__dbt_tmp')") -%}
    {%- for row in found.rows -%}
      drop table if exists "main"."{{ row[1] }}";
    {% endfor -%}
  {%- endif %}
  select 1
{%- endmacro %}
