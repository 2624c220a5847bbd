with

source as (

    select * from {{ source('registry', 'population') }}

),

renamed as (

    select
        period,
        reference_date,
        trim(area_code) as buurt_code,
        age_group,
        sex,
        population,
        _load_id as load_id
    from source

)

select * from renamed
