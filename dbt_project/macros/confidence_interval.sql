{#- The 95% confidence interval of an estimate `value` with standard error `se` (issue 19):
    a survey share (`is_share`) gets the logit interval of R's svyciprop(method = "logit",
    df = Inf), expit(logit(p) -/+ 1.96 se / (p (1 - p))), which stays inside [0, 1] and holds p;
    at p = 0 or 1 (R: NaN) it is [p, p], as a standard error of 0 gives. Anything else gets the
    symmetric estimate -/+ 1.96 se. basismonitor.stats.logit_interval is the same formula. -#}
{% macro ci_bound(value, se, is_share, side) -%}
{%- set sign = '-' if side == 'low' else '+' -%}
case
    when {{ is_share }} and {{ value }} > 0 and {{ value }} < 1
        then 1.0 / (1.0 + exp(-(ln({{ value }} / (1.0 - {{ value }}))
            {{ sign }} 1.959963984540054 * {{ se }} / ({{ value }} * (1.0 - {{ value }})))))
    when {{ is_share }} then {{ value }} + 0.0 * {{ se }}
    else {{ value }} {{ sign }} 1.959963984540054 * {{ se }}
end
{%- endmacro %}
