-- Crosswalk at the compass level from every edition to the current one: the share of an old
-- compass area's inhabitants that lives in each current compass area. Built from the buurt
-- crosswalk weighted by the buurten's register population in the last year of the old edition.
-- The current edition maps onto itself with share 1.

with

editions as (

    select * from {{ ref('int_area_editions') }}

),

current_edition as (

    select area_edition from editions where is_current

),

buurten as (

    select * from {{ ref('int_buurten_mapped_to_compass_areas') }}

),

buurt_crosswalk as (

    select * from {{ ref('stg_areas__crosswalk') }}
    where to_edition = (select area_edition from current_edition)

),

buurt_population as (

    select
        editions.area_edition,
        population.buurt_code,
        sum(population.population) as population
    from {{ ref('stg_registry__population') }} as population
    inner join editions
        on population.period = least(editions.valid_to, (select max(period) from {{ ref('stg_registry__population') }}))
    group by all

),

old_to_new as (

    select
        crosswalk.from_edition,
        old_buurt.area_code as from_area_code,
        new_buurt.area_code as to_area_code,
        sum(crosswalk.share * coalesce(buurt_population.population, 0)) as population_moved,
        sum(crosswalk.share) as share_moved,
        crosswalk.method
    from buurt_crosswalk as crosswalk
    inner join buurten as old_buurt
        on old_buurt.area_edition = crosswalk.from_edition
        and old_buurt.buurt_code = crosswalk.from_code
    inner join buurten as new_buurt
        on new_buurt.area_edition = crosswalk.to_edition
        and new_buurt.buurt_code = crosswalk.to_code
    left join buurt_population
        on buurt_population.area_edition = crosswalk.from_edition
        and buurt_population.buurt_code = crosswalk.from_code
    group by all

),

shares as (

    select
        from_edition,
        from_area_code,
        to_area_code,
        -- an old area without inhabitants (a park, a new estate) would get 0/0: its parts are
        -- weighted by the crosswalk's own shares instead, and it keeps its place (issue 21: on a
        -- buurt compass such a buurt lost every figure before its edition)
        case
            when sum(population_moved) over (partition by from_edition, from_area_code) > 0
                then population_moved / sum(population_moved) over (partition by from_edition, from_area_code)
            else share_moved / nullif(sum(share_moved) over (partition by from_edition, from_area_code), 0)
        end as share,
        case
            when sum(population_moved) over (partition by from_edition, from_area_code) > 0
                then 'crosswalk buurten, weighted by ' || method
            else 'crosswalk buurten, by share (no inhabitants)'
        end as method
    from old_to_new

),

identity as (

    select distinct
        area_edition as from_edition,
        area_code as from_area_code,
        area_code as to_area_code,
        1.0 as share,
        'identity' as method
    from buurten
    where area_edition = (select area_edition from current_edition)

),

final as (

    select * from shares where share > 0
    union all
    select * from identity

)

select * from final
