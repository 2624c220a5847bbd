with

source as (

    select * from {{ source('activities', 'activity_registrations') }}

),

renamed as (

    select
        programme,
        period,
        registration_id,
        event_date,
        trim(area_code) as buurt_code,
        category,
        outcome,
        cast(amount_requested as double) as amount_requested,
        cast(amount_granted as double) as amount_granted,
        _load_id as load_id
    from source

)

select * from renamed
