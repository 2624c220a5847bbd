with

source as (

    select * from {{ source('registry', 'police_crimes') }}

),

renamed as (

    select
        period,
        trim(area_code) as area_code,
        crime_type,
        crimes,
        missing_reason,
        _load_id as load_id
    from source

)

select * from renamed
