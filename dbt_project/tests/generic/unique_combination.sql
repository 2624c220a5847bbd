{% test unique_combination(model, columns) %}
{#- Combinations of the given columns that occur more than once (a grain check). -#}
select {{ columns | join(', ') }}, count(*) as n
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
