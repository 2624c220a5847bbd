with

source as (

    select * from {{ source('areas', 'areas') }}

),

renamed as (

    select
        edition as area_edition,
        trim(area_code) as area_code,
        area_name,
        area_level,
        nullif(trim(parent_code), '') as parent_code,
        geometry_wkt,
        crs,
        _source as source,
        _load_id as load_id
    from source

)

select * from renamed
