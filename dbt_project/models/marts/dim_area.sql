-- Every area of every edition with its level, parent, validity, name, code and geometry.

with

areas as (select * from {{ ref('int_area_division') }}),
editions as (select * from {{ ref('int_area_editions') }}),

final as (

    select
        cast(areas.area_edition as integer) as area_edition,
        cast(areas.area_code as varchar) as area_code,
        cast(areas.area_name as varchar) as area_name,
        cast(areas.area_level as varchar) as area_level,
        cast(areas.parent_code as varchar) as parent_code,
        cast(editions.valid_from as integer) as valid_from,
        cast(editions.valid_to as integer) as valid_to,
        cast(editions.is_current as boolean) as is_current_edition,
        cast(areas.area_level = '{{ var("compass_level") }}' as boolean) as is_compass_area,
        cast(areas.geometry_wkt as varchar) as geometry_wkt,
        cast(areas.crs as varchar) as crs
    from areas
    inner join editions on editions.area_edition = areas.area_edition

)

select * from final
