-- Respondents placed in their compass area and gemeente, using the area edition in force in the
-- wave's year. Respondents whose buurt is not in that edition cannot be placed; ingestion already
-- quarantines unknown codes, and the relationship test below guards the rest.

with

respondents as (

    select * from {{ ref('stg_survey__respondents') }}

),

editions as (

    select * from {{ ref('int_area_editions') }}

),

buurten as (

    select * from {{ ref('int_buurten_mapped_to_compass_areas') }}

),

final as (

    select
        respondents.wave,
        respondents.respondent_key,
        editions.area_edition,
        buurten.gemeente_code,
        buurten.area_code,
        respondents.age_group,
        respondents.sex,
        respondents.load_id
    from respondents
    inner join editions
        on respondents.wave between editions.valid_from and editions.valid_to
    inner join buurten
        on buurten.area_edition = editions.area_edition
        and buurten.buurt_code = respondents.buurt_code

)

select * from final
