-- Facility points (horeca, coffeeshops, bus stops, ...) with their RD New coordinates.

with

source as (

    select * from {{ source('registry', 'points') }}

),

renamed as (

    select
        period,
        point_key,
        category,
        name,
        x_rd,
        y_rd,
        _source as source,
        _load_id as load_id
    from source

)

select * from renamed
