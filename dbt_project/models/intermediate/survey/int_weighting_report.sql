-- The weighting per wave x compass area: respondents, population, whether raking converged, how
-- many weights were trimmed and which margin cells had no respondents. Nothing here is silent:
-- the gate warns on non-convergence and the report is exported with each edition.

select
    wave,
    gemeente_code,
    area_code,
    count(*) as respondents,
    any_value(area_population) as population,
    sum(weight) as weight_sum,
    bool_and(converged) as converged,
    max(iterations) as iterations,
    max(max_rel_error) as max_rel_error,
    max(n_trimmed) as n_trimmed,
    cast(any_value(dropped) as varchar) as dropped_cells,
    max(weight) / avg(weight) as max_weight_ratio,
    count(*) filter (where age_group is null or sex is null) as respondents_without_age_or_sex
from {{ ref('int_respondents_weighted') }}
group by wave, gemeente_code, area_code
