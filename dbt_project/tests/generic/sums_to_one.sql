{% test sums_to_one(model, column_name, group_by, tolerance=0.001) %}
{#- Groups whose values do not add up to 1 (e.g. crosswalk shares of one old area). -#}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - 1) > {{ tolerance }}
{% endtest %}
