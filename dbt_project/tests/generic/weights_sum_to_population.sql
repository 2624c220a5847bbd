{% test weights_sum_to_population(model, tolerance=0.001) %}
{#- Areas whose raked weights do not sum to their population (relative tolerance). -#}
select *
from {{ model }}
where abs(weight_sum - population) > {{ tolerance }} * population
{% endtest %}
