with

source as (

    select * from {{ source('areas', 'crosswalk') }}

),

renamed as (

    select
        from_edition,
        trim(from_code) as from_code,
        to_edition,
        trim(to_code) as to_code,
        share,
        method,
        _load_id as load_id
    from source

)

select * from renamed
