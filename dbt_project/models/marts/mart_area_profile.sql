-- One wide row per compass area x edition for BI tools: the area, its population, and the centre
-- and quadrant indices of both compasses.

with

status as (select * from {{ ref('mart_compass_status') }} where node_level in ('centre', 'quadrant')),
development as (select * from {{ ref('mart_compass_development') }} where node_level in ('centre', 'quadrant')),
areas as (select * from {{ ref('dim_area') }} where is_current_edition and is_compass_area),

population as (

    select area_code, sum(population) as population
    from {{ ref('int_population_by_compass_area') }}
    where period = (select max(period) from {{ ref('int_population_by_compass_area') }} where period <= {{ var('edition') }})
    group by area_code

),

final as (

    select
        cast({{ var('edition') }} as integer) as edition,
        cast(areas.area_edition as integer) as area_edition,
        cast(areas.area_code as varchar) as area_code,
        cast(areas.area_name as varchar) as area_name,
        cast(areas.parent_code as varchar) as parent_code,
        cast(parents.area_name as varchar) as parent_name,
        -- an area of fewer than 5 inhabitants shows no number (privacy, the gate's
        -- population_not_below_5; on a buurt compass an almost empty buurt, issue 21)
        cast(case when population.population >= 5 then population.population end as bigint) as population,
        cast(max(status.index_value) filter (where status.node_code = 'centrum') as double) as status_centre_index,
        cast(max(status.class) filter (where status.node_code = 'centrum') as varchar) as status_centre_class,
        cast(max(status.index_value) filter (where status.node_code = 'samenstelling') as double) as status_samenstelling_index,
        cast(max(status.index_value) filter (where status.node_code = 'fysiek') as double) as status_fysiek_index,
        cast(max(status.index_value) filter (where status.node_code = 'leefbaarheid') as double) as status_leefbaarheid_index,
        cast(max(status.index_value) filter (where status.node_code = 'sociaal') as double) as status_sociaal_index,
        cast(max(development.index_value) filter (where development.node_code = 'centrum') as double) as development_centre_index,
        cast(max(development.class) filter (where development.node_code = 'centrum') as varchar) as development_centre_class,
        cast(max(development.index_value) filter (where development.node_code = 'samenstelling') as double) as development_samenstelling_index,
        cast(max(development.index_value) filter (where development.node_code = 'fysiek') as double) as development_fysiek_index,
        cast(max(development.index_value) filter (where development.node_code = 'leefbaarheid') as double) as development_leefbaarheid_index,
        cast(max(development.index_value) filter (where development.node_code = 'sociaal') as double) as development_sociaal_index
    from areas
    -- the parent (the gemeente) in the same area edition: dim_area's key is (area_edition, area_code)
    left join {{ ref('dim_area') }} as parents
        on parents.area_edition = areas.area_edition
        and parents.area_code = areas.parent_code
    left join population on population.area_code = areas.area_code
    left join status on status.area_code = areas.area_code
    left join development on development.area_code = areas.area_code
    group by all

)

select * from final
