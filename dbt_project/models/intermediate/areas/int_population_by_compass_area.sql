-- Register population per period x compass area x age group x sex, on the area edition in force in that
-- period. These are the raking margins and the finite-population sizes of the survey, and the
-- denominators of registry and activity rates.

with

population as (

    select * from {{ ref('stg_registry__population') }}

),

editions as (

    select * from {{ ref('int_area_editions') }}

),

buurten as (

    select * from {{ ref('int_buurten_mapped_to_compass_areas') }}

),

final as (

    select
        population.period,
        editions.area_edition,
        buurten.gemeente_code,
        buurten.area_code,
        population.age_group,
        population.sex,
        sum(population.population) as population
    from population
    inner join editions
        on population.period between editions.valid_from and editions.valid_to
    inner join buurten
        on buurten.area_edition = editions.area_edition
        and buurten.buurt_code = population.buurt_code
    group by all

)

select * from final
