with

source as (

    select * from {{ source('survey', 'survey_answers') }}

),

renamed as (

    select
        wave,
        respondent_key,
        variable,
        item,
        answer_code,
        is_missing,
        missing_reason,
        _load_id as load_id
    from source

)

select * from renamed
