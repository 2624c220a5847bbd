{#- `a and b` for the weighting_converged flag (issue 19): null only when neither figure comes from
    the survey (no weighting), false when either raking did not converge. -#}
{% macro converged_and(a, b) -%}
case when ({{ a }}) is null and ({{ b }}) is null then null
     else coalesce({{ a }}, true) and coalesce({{ b }}, true) end
{%- endmacro %}
