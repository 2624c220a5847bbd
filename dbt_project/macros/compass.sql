{#- Small pieces of the compass method shared by several models. -#}

{% macro clip_index(expr) -%}
    least(greatest({{ expr }}, {{ var('index_min') }}), {{ var('index_max') }})
{%- endmacro %}

{% macro index_class(index_expr, judged_expr='true') -%}
    {#- Five bands on the index; composition (not judged) is shaded less / more, never judged. -#}
    case
        when {{ index_expr }} is null then null
        when not ({{ judged_expr }}) then
            case
                when {{ index_expr }} < {{ var('worse_below') }} then 'minder'
                when {{ index_expr }} > {{ var('better_above') }} then 'meer'
                else 'gemiddeld'
            end
        when {{ index_expr }} < {{ var('much_worse_below') }} then 'veel slechter'
        when {{ index_expr }} < {{ var('worse_below') }} then 'slechter'
        when {{ index_expr }} <= {{ var('better_above') }} then 'gemiddeld'
        when {{ index_expr }} <= {{ var('much_better_above') }} then 'beter'
        else 'veel beter'
    end
{%- endmacro %}

{% macro compass_class(index_expr, judged_expr='true', survey_expr='false', significant_expr='null') -%}
    {#- The class of a compass node: a judged survey indicator whose contrast with the city is not
        significant is average whatever its index; otherwise its index's band (index_class). -#}
    case
        when {{ index_expr }} is null then null
        when {{ survey_expr }} and {{ judged_expr }} and not coalesce({{ significant_expr }}, false) then 'gemiddeld'
        else {{ index_class(index_expr, judged_expr) }}
    end
{%- endmacro %}

{% macro persist_compass_class() -%}
    {#- The class rule as a DuckDB function in the warehouse, with the bands of this run's vars: the
        quality gate checks each compass node's class with it (expectations/marts.mart_compass_*.json,
        check class_matches_index), so the rule has one home, here. Run on-run-start (once per
        dbt invocation, before any model: two models replacing it in parallel could conflict). -#}
    {%- set schema = generate_schema_name('marts', none) -%}
    create schema if not exists {{ schema }};
    create or replace macro {{ schema }}.compass_class(index_value, is_judged, is_survey, significant) as
        {{ compass_class('index_value', 'is_judged', 'is_survey', 'significant') }}
{%- endmacro %}

{% macro area_edition_for_period(period_expr) -%}
    {#- The area edition in force in a period (the earliest edition also holds before its year). -#}
    (select max(e.area_edition) from {{ ref('int_area_editions') }} as e where {{ period_expr }} between e.valid_from and e.valid_to)
{%- endmacro %}

{% macro is_additive_total(indicator_alias) -%}
    {#- Counts and surfaces (kind registry_count, unit ha): descriptive totals, not standings; the
        status compass leaves them out and the development compass indexes their relative change. -#}
    coalesce({{ indicator_alias }}.kind = 'registry_count' or {{ indicator_alias }}.unit = 'ha', false)
{%- endmacro %}
