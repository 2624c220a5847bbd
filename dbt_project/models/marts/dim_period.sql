-- The periods with data, what each holds, and which are the compass's current and base period.

with

periods as (

    select period, bool_or(source_kind = 'survey') as has_survey, bool_or(source_kind = 'registry') as has_registry,
        bool_or(source_kind = 'activity') as has_activities
    from {{ ref('fct_indicator_value') }} as facts
    inner join {{ ref('indicators') }} as indicators on indicators.indicator_code = facts.indicator_code
    group by period

),

final as (

    select
        cast(periods.period as integer) as period,
        cast(has_survey as boolean) as has_survey_wave,
        cast(has_registry as boolean) as has_registry,
        cast(has_activities as boolean) as has_activities,
        cast((select max(e.area_edition) from {{ ref('int_area_editions') }} as e where periods.period between e.valid_from and e.valid_to) as integer) as area_edition,
        cast(periods.period = {{ var('edition') }} as boolean) as is_current_period,
        cast(periods.period = {{ var('base_period') }} as boolean) as is_base_period
    from periods

)

select * from final
