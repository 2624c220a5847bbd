-- The area division the compass is drawn on: the areas of the source named by var area_source
-- (the demo's `areas`; for Groningen the municipality's own `gemeentelijke_indeling`), one edition
-- per period folder. Other sources' divisions (e.g. the CBS wijk- en buurtkaart of the same year)
-- are not merged in: their figures reach this division through int_division_overlay.
-- A division delivered without a row for its municipality (the real files have none) gets one
-- derived from its top-level areas: the parent code they name, the name from another source's
-- row of that code or var municipality_name, geometry the union of theirs; is_derived says so.

with

areas as (

    select * from {{ ref('stg_areas__areas') }}
    where source = '{{ var("area_source") }}'

),

missing_parents as (

    select
        children.area_edition,
        children.parent_code as area_code,
        count(*) as n_children,
        any_value(children.crs) as crs,
        ST_AsText(ST_Union_Agg(ST_GeomFromText(children.geometry_wkt))) as geometry_wkt
    from areas as children
    anti join areas as parents
        on parents.area_edition = children.area_edition
        and parents.area_code = children.parent_code
    where children.parent_code like 'GM%'
    group by all

),

other_names as (

    select area_code, any_value(area_name order by area_edition desc) as area_name
    from {{ ref('stg_areas__areas') }}
    where area_level = 'gemeente'
    group by all

),

derived as (

    select
        missing.area_edition,
        missing.area_code,
        coalesce(other_names.area_name, {{ "'" ~ var('municipality_name') ~ "'" if var('municipality_name') else 'null' }}, missing.area_code) as area_name,
        'gemeente' as area_level,
        cast(null as varchar) as parent_code,
        missing.geometry_wkt,
        missing.crs,
        '{{ var("area_source") }}' as source,
        cast(null as varchar) as load_id,
        true as is_derived
    from missing_parents as missing
    left join other_names
        on other_names.area_code = missing.area_code

),

final as (

    select *, false as is_derived from areas
    union all by name
    select * from derived

)

select * from final
