with

source as (

    select * from {{ source('registry', 'registry_values') }}

),

renamed as (

    select
        period,
        trim(area_code) as area_code,
        area_level,
        area_name,
        lower(variable) as variable,
        value_raw,
        value,
        missing_reason,
        _source as source,
        _load_id as load_id
    from source

)

select * from renamed
