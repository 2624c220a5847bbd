-- One row per wave x survey indicator x respondent with the respondent's score y:
--   survey_mean   the answer code (a mark 1-10, a 5-point scale),
--   survey_share  1 when the answer is one of the indicator's answer codes, else 0,
--   survey_scale  the mean of the scale's items when at least min_items were answered.
-- Don't-know and empty answers give y = null. Every respondent of the wave is kept, with a null y
-- where there is no score: the estimator needs them (they count in their stratum, as in R's
-- survey package, where a subset keeps the design).

with

indicators as (

    select *
    from {{ ref('indicators') }}
    where kind in ('survey_mean', 'survey_share', 'survey_scale')

),

indicator_items as (

    select
        indicator_code,
        kind,
        unnest(string_split(item, '|')) as item,
        list_transform(string_split(coalesce(answer_codes, ''), '|'), x -> try_cast(x as integer)) as counted_codes,
        coalesce(min_items, 1) as min_items,
        first_year,
        last_year
    from indicators

),

respondents as (

    select * from {{ ref('int_respondents_weighted') }}

),

answers as (

    select
        wave,
        respondent_key,
        item,
        case when is_missing then null else answer_code end as code
    from {{ ref('stg_survey__answers') }}

),

items_asked as (

    select distinct wave, item from answers

),

item_scores as (

    select
        respondents.wave,
        respondents.respondent_key,
        indicator_items.indicator_code,
        indicator_items.kind,
        indicator_items.min_items,
        case
            when answers.code is null then null
            when indicator_items.kind = 'survey_share'
                then case when list_contains(indicator_items.counted_codes, answers.code) then 1.0 else 0.0 end
            else cast(answers.code as double)
        end as y_item
    from respondents
    inner join indicator_items
        on respondents.wave between coalesce(indicator_items.first_year, 0) and coalesce(indicator_items.last_year, 9999)
    inner join items_asked
        on items_asked.wave = respondents.wave
        and items_asked.item = indicator_items.item
    left join answers
        on answers.wave = respondents.wave
        and answers.respondent_key = respondents.respondent_key
        and answers.item = indicator_items.item

),

scored as (

    select
        wave,
        respondent_key,
        indicator_code,
        case
            when any_value(kind) = 'survey_scale'
                then case when count(y_item) >= any_value(min_items) then avg(y_item) end
            else max(y_item)
        end as y
    from item_scores
    group by wave, respondent_key, indicator_code

),

final as (

    select
        scored.wave,
        scored.indicator_code,
        respondents.gemeente_code,
        respondents.area_code,
        respondents.respondent_key,
        respondents.weight,
        respondents.area_population,
        scored.y
    from scored
    inner join respondents
        on respondents.wave = scored.wave
        and respondents.respondent_key = scored.respondent_key

)

select * from final
