{#- Use the configured schema name as is (staging, intermediate, marts, catalogue), so BI users
    see stable names instead of dbt's default "<target>_<custom>" prefixing. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
