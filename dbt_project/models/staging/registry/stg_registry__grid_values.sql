-- CBS 100 m grid: one row per square x year x variable with the square's centroid (RD New).
-- -99998 (none / not applicable) arrives as 0 with missing_reason 'nil'; -99997 (secret) as null.

with

source as (

    select * from {{ source('registry', 'grid_values') }}

),

renamed as (

    select
        edition,
        square_code,
        year,
        lower(variable) as variable,
        value,
        missing_reason,
        x_rd,
        y_rd,
        _source as source,
        _load_id as load_id
    from source

)

select * from renamed
