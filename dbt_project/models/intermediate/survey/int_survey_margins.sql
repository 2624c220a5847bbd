-- Raking margins per wave x compass area: the register population aged 15+ by age group and by
-- sex on 1 January of the wave's year. The respondents represent this population, so their
-- weights sum to it, and it is the stratum size for the finite-population correction.

with

population as (

    select * from {{ ref('int_population_by_compass_area') }}
    where age_group <> '0-14'

),

waves as (

    select distinct wave from {{ ref('stg_survey__respondents') }}

),

final as (

    select
        waves.wave,
        population.gemeente_code,
        population.area_code,
        population.age_group,
        population.sex,
        population.population
    from population
    inner join waves
        on population.period = waves.wave

)

select * from final
