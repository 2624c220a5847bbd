{#- A sum that does not depend on the order DuckDB's threads add the rows in: a parallel sum of
    doubles differs in its last bits between builds, and an index on a rounding edge (x.x5) then
    flips its published tenth (and maybe its class) from one rerun to the next. Each term is
    rounded to 12 decimals and summed exactly as a decimal. -#}
{% macro exact_sum(expression) -%}
sum(cast({{ expression }} as decimal(38, 12)))
{%- endmacro %}

{#- The mean of `expression` over the rows counted, exactly (see exact_sum). -#}
{% macro exact_avg(expression) -%}
({{ exact_sum(expression) }} / nullif(count({{ expression }}), 0))::double
{%- endmacro %}
