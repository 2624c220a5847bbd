with

source as (

    select * from {{ source('survey', 'survey_codebook') }}

),

renamed as (

    select
        wave,
        variable,
        item,
        question,
        scale,
        code,
        meaning,
        is_missing
    from source

)

select * from renamed
