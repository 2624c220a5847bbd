-- Police incident exports, one row per incident. Street, house number and postcode are personal
-- data: they stay in raw and are not selected here (nothing downstream can reach them).

with

source as (

    select * from {{ source('registry', 'incidents') }}

),

renamed as (

    select
        period,
        incident_key,
        upper(trim(incident_type)) as incident_type,
        begin_at,
        year,
        x_rd,
        y_rd,
        nullif(trim(police_wijk), '') as police_wijk,
        nullif(trim(police_buurt), '') as police_buurt,
        _source as source,
        _load_id as load_id
    from source

)

select * from renamed
