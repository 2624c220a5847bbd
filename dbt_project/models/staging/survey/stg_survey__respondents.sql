with

source as (

    select * from {{ source('survey', 'survey_respondents') }}

),

renamed as (

    select
        wave,
        respondent_key,
        trim(area_code) as buurt_code,
        age_group,
        sex,
        _load_id as load_id
    from source

)

select * from renamed
