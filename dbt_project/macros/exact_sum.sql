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

{#- The ratio num / den of two exact decimals (exact_sum), rounded to `digits` decimals half away
    from zero, as a double (issue 19: DuckDB divides a decimal by a decimal in doubles, so a mean of
    exactly 77.15 came out as 77.14999999999999 and was published as 77.1). The double quotient only
    picks the candidate k (its floor at the rounding scale); whether the exact value reaches the
    midpoint k + 1/2 is decided in decimal arithmetic, which multiplies exactly:
    |num| * 2 * 10^digits >= (2k + 1) * |den|. A quotient within a rounding error of a multiple of
    10^-digits may give k one too low or too high; the comparison with the midpoint still gives the
    right result, as the exact value then lies within a hair of k or k + 1. -#}
{% macro round_ratio(num, den, digits=1) -%}
{%- set scale = 10 ** digits -%}
(case when ({{ den }}) <> 0 then
    sign({{ num }}) * sign({{ den }}) * (
        floor(abs(({{ num }})::double / ({{ den }})::double) * {{ scale }})
        + case when abs({{ num }}) * {{ 2 * scale }}
                    >= (2 * floor(abs(({{ num }})::double / ({{ den }})::double) * {{ scale }}) + 1) * abs({{ den }})
               then 1 else 0 end
    ) / {{ scale }}
end)::double
{%- endmacro %}
