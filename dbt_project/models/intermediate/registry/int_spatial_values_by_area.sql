-- Counts per compass area and its gemeente from objects placed by int_spatial_locations, in the
-- shape of registry values (bound to indicators in registry_bindings like any CBS column):
--   grid       per year and variable (inw, won, i_014, man, vrouw, ...): the sum over the squares
--              whose centroid lies in the area; -99998 landed as 0 (nil); a secret square
--              (-99997, hidden) hides the area's figure;
--   incidents  per year of the begin date and incident type (a72 = bicycle theft): the count;
--   points     per delivery period and source (horeca, coffeeshops, bushaltes): the count.
-- An area with nothing in it counts 0. Unplaced objects count in no area (and not in the city);
-- int_spatial_locations keeps them with their reason for the build's report.

with

placed as (

    select * from {{ ref('int_spatial_locations') }}
    where area_code is not null

),

grid as (

    select
        values_.year as period,
        placed.area_edition,
        placed.gemeente_code,
        placed.area_code,
        values_.source,
        values_.variable,
        values_.value,
        values_.missing_reason,
        values_.load_id
    from {{ ref('stg_registry__grid_values') }} as values_
    inner join placed
        on placed.object_kind = 'grid'
        and placed.point_id = values_.square_code
        and placed.year = values_.year

),

incidents as (

    select
        incidents.year as period,
        placed.area_edition,
        placed.gemeente_code,
        placed.area_code,
        incidents.source,
        lower(incidents.incident_type) as variable,
        1.0 as value,
        cast(null as varchar) as missing_reason,
        incidents.load_id
    from {{ ref('stg_registry__incidents') }} as incidents
    inner join placed
        on placed.object_kind = 'incident'
        and placed.point_id = incidents.incident_key
        and placed.year = incidents.year

),

points as (

    select
        points.period,
        placed.area_edition,
        placed.gemeente_code,
        placed.area_code,
        points.source,
        points.source as variable,
        1.0 as value,
        cast(null as varchar) as missing_reason,
        points.load_id
    from {{ ref('stg_registry__points') }} as points
    inner join placed
        on placed.object_kind = 'point'
        and placed.point_id = points.source || ':' || coalesce(points.point_key, '') || ':' || points.period
        and placed.year = points.period

),

objects as (

    select *, 'CBS 100 m grid squares by centroid' as derivation from grid
    union all
    select *, 'incidents by point in polygon (else by police area name)' from incidents
    union all
    select *, 'points in polygon' from points

),

frame as (

    -- every compass area of the area edition in force, for every source x variable x period delivered
    select distinct
        objects.period, objects.area_edition, objects.source, objects.variable, objects.derivation,
        areas.gemeente_code, areas.area_code
    from (select distinct period, area_edition, source, variable, derivation from objects) as objects
    inner join (
        select distinct area_edition, gemeente_code, area_code from {{ ref('int_buurten_mapped_to_compass_areas') }}
    ) as areas
        on areas.area_edition = objects.area_edition

),

sums as (

    select
        period, area_edition, gemeente_code, area_code, source, variable,
        case when count(*) filter (where missing_reason in ('hidden', 'unknown', 'invalid')) = 0
            then sum(coalesce(value, 0)) end as value,
        min(missing_reason) filter (where missing_reason in ('hidden', 'unknown', 'invalid')) as missing_reason,
        list_distinct(list(load_id)) as load_ids
    from objects
    group by grouping sets (
        (period, area_edition, gemeente_code, area_code, source, variable),
        (period, area_edition, gemeente_code, source, variable)
    )

),

final as (

    select
        frame.period,
        frame.area_code,
        '{{ var("compass_level") }}' as area_level,
        frame.source,
        frame.variable,
        coalesce(sums.value, case when sums.missing_reason is null then 0 end) as value,
        sums.missing_reason,
        coalesce(sums.load_ids, []) as load_ids,
        frame.derivation
    from frame
    left join sums
        on sums.period = frame.period
        and sums.area_edition = frame.area_edition
        and sums.area_code = frame.area_code
        and sums.source = frame.source
        and sums.variable = frame.variable

    union all

    select
        sums.period,
        sums.gemeente_code as area_code,
        'gemeente' as area_level,
        sums.source,
        sums.variable,
        sums.value,
        sums.missing_reason,
        sums.load_ids,
        any_value(frame.derivation) as derivation
    from sums
    inner join frame
        on frame.period = sums.period
        and frame.area_edition = sums.area_edition
        and frame.source = sums.source
        and frame.variable = sums.variable
    where sums.area_code is null
    group by all

)

select * from final
