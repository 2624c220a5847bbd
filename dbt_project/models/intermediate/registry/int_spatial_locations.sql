-- Where each grid square, incident and facility point lies: its buurt of the compass division in
-- force in its year (point in polygon: the square's centroid, the incident's or facility's RD New
-- point), else -- for incidents without a usable point (none delivered, or text in X/Y) -- the
-- buurt or wijk whose name matches the
-- police's name (macro normalised_area_name). One row per placed or unplaced object, with how it
-- was placed (method) or why not, so every square and incident is accounted for.

with

editions as (

    select * from {{ ref('int_area_editions') }}

),

squares as (

    select distinct square_code as point_id, year, x_rd, y_rd, source
    from {{ ref('stg_registry__grid_values') }}
    where year is not null

),

incidents as (

    select incident_key as point_id, year, x_rd, y_rd, source, police_wijk, police_buurt
    from {{ ref('stg_registry__incidents') }}
    where year is not null

),

points as (

    select source || ':' || coalesce(point_key, '') || ':' || period as point_id, period as year,
        x_rd, y_rd, source
    from {{ ref('stg_registry__points') }}

),

all_points as (

    select 'grid' as object_kind, point_id, year, x_rd, y_rd, source from squares
    union all
    select 'incident', point_id, year, x_rd, y_rd, source from incidents
    union all
    select 'point', point_id, year, x_rd, y_rd, source from points

),

by_point as (

    {{ locate_in_buurten('all_points') }}

),

names as (

    select area_edition, area_code, area_level, {{ normalised_area_name('area_name') }} as name
    from {{ ref('int_area_division') }}
    where area_level in ('buurt', 'wijk')
    qualify count(*) over (partition by area_edition, area_level, {{ normalised_area_name('area_name') }}) = 1

),

incidents_by_name as (

    select
        incidents.point_id,
        incidents.year,
        editions.area_edition,
        buurt.area_code as buurt_code,
        wijk.area_code as wijk_code
    from incidents
    inner join editions
        on incidents.year between editions.valid_from and editions.valid_to
    left join names as buurt
        on buurt.area_edition = editions.area_edition
        and buurt.area_level = 'buurt'
        and buurt.name = {{ normalised_area_name('incidents.police_buurt') }}
    left join names as wijk
        on wijk.area_edition = editions.area_edition
        and wijk.area_level = 'wijk'
        and wijk.name = {{ normalised_area_name('incidents.police_wijk') }}
    -- only an incident without a usable point: one whose point lies outside every buurt stays
    -- unplaced (a name cannot overrule a coordinate)
    where incidents.x_rd is null or incidents.y_rd is null

),

placed as (

    select
        all_points.object_kind,
        all_points.source,
        all_points.point_id,
        all_points.year,
        coalesce(by_point.area_edition, by_name.area_edition) as area_edition,
        coalesce(by_point.buurt_code, by_name.buurt_code) as buurt_code,
        by_name.wijk_code,
        case
            when by_point.buurt_code is not null then 'point in polygon'
            when by_name.buurt_code is not null then 'police buurt name'
            when by_name.wijk_code is not null then 'police wijk name'
        end as method,
        case
            when by_point.buurt_code is not null or by_name.buurt_code is not null or by_name.wijk_code is not null then null
            when all_points.x_rd is null or all_points.y_rd is null then 'no usable point' || case when all_points.object_kind = 'incident' then ' and no matching area name' else '' end
            else 'outside every buurt of the division'
        end as unplaced_reason
    from all_points
    left join by_point
        on by_point.point_id = all_points.point_id
        and by_point.year = all_points.year
    left join incidents_by_name as by_name
        on by_name.point_id = all_points.point_id
        and by_name.year = all_points.year

),

final as (

    select
        placed.*,
        coalesce(mapped.area_code, case when '{{ var("compass_level") }}' = 'wijk' then placed.wijk_code end) as area_code,
        coalesce(mapped.gemeente_code, city.ancestor_code) as gemeente_code
    from placed
    left join {{ ref('int_buurten_mapped_to_compass_areas') }} as mapped
        on mapped.area_edition = placed.area_edition
        and mapped.buurt_code = placed.buurt_code
    left join {{ ref('int_area_ancestors') }} as city
        on city.area_edition = placed.area_edition
        and city.area_code = placed.wijk_code
        and city.ancestor_level = 'gemeente'

)

select * from final
