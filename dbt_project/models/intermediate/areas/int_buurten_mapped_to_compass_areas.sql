-- Each buurt of each edition with the compass area (var compass_level) and the gemeente it lies in.

with

ancestors as (

    select * from {{ ref('int_area_ancestors') }}

),

final as (

    select
        buurt.area_edition,
        buurt.area_code as buurt_code,
        compass.ancestor_code as area_code,
        city.ancestor_code as gemeente_code
    from ancestors as buurt
    inner join ancestors as compass
        on compass.area_edition = buurt.area_edition
        and compass.area_code = buurt.area_code
        and compass.ancestor_level = '{{ var("compass_level") }}'
    inner join ancestors as city
        on city.area_edition = buurt.area_edition
        and city.area_code = buurt.area_code
        and city.ancestor_level = 'gemeente'
    where buurt.area_level = 'buurt'
        and buurt.depth = 0

)

select * from final
