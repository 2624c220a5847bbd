-- All indicator values of all three source kinds at one grain: period x area x indicator, on the
-- area edition in force in the period. Survey figures carry their design-based uncertainty and
-- significance against the city; registry and activity figures are counts of a whole population
-- (no sampling error: se is null and they are not tested).
-- weighting_converged (issue 19): false when the raking behind a survey figure did not converge
-- within the weight bounds: an area's own raking for its figure, any area's for the city figure
-- (the city estimate uses every area's weights); null for registry and activity figures.

with

indicators as (

    select * from {{ ref('indicators') }}

),

survey_loads as (

    select wave, list_distinct(list(load_id)) as load_ids
    from {{ ref('stg_survey__respondents') }}
    group by wave

),

weighting as (

    select wave, gemeente_code, area_code, converged
    from {{ ref('int_weighting_report') }}
    union all
    select wave, gemeente_code, gemeente_code as area_code, bool_and(converged) as converged
    from {{ ref('int_weighting_report') }}
    group by wave, gemeente_code

),

survey as (

    select
        estimates.indicator_code,
        estimates.wave as period,
        respondents_edition.edition,
        estimates.gemeente_code,
        estimates.area_code,
        estimates.is_city,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        estimates.estimate as value,
        estimates.n,
        estimates.weighted_n,
        estimates.se,
        estimates.ci_low,
        estimates.ci_high,
        estimates.contrast,
        estimates.contrast_se,
        case when estimates.is_city then null else estimates.significant end as significant,
        case
            when estimates.n < coalesce(indicators.min_n, {{ var('survey_min_n_default') }})
                then 'n below ' || coalesce(indicators.min_n, {{ var('survey_min_n_default') }})
        end as suppression_reason,
        'estimated from respondents' as city_value_source,
        survey_loads.load_ids,
        cast(null as varchar) as derivation,
        coalesce(weighting.converged, false) as weighting_converged
    from {{ ref('int_survey_estimates') }} as estimates
    inner join indicators
        on indicators.indicator_code = estimates.indicator_code
    inner join (select distinct wave, edition from {{ ref('int_respondents_located') }}) as respondents_edition
        on respondents_edition.wave = estimates.wave
    left join survey_loads
        on survey_loads.wave = estimates.wave
    left join weighting
        on weighting.wave = estimates.wave
        and weighting.gemeente_code = estimates.gemeente_code
        and weighting.area_code = estimates.area_code
    where estimates.n > 0

),

counts as (

    select
        indicator_code,
        period,
        edition,
        gemeente_code,
        area_code,
        is_city,
        numerator,
        denominator,
        value,
        cast(null as bigint) as n,
        cast(null as double) as weighted_n,
        cast(null as double) as se,
        cast(null as double) as ci_low,
        cast(null as double) as ci_high,
        cast(null as double) as contrast,
        cast(null as double) as contrast_se,
        cast(null as boolean) as significant,
        suppression_reason,
        city_value_source,
        load_ids,
        derivation,
        cast(null as boolean) as weighting_converged
    from {{ ref('int_registry_indicators_computed') }}
    union all by name
    select
        indicator_code,
        period,
        edition,
        gemeente_code,
        area_code,
        is_city,
        numerator,
        denominator,
        value,
        cast(null as bigint) as n,
        cast(null as double) as weighted_n,
        cast(null as double) as se,
        cast(null as double) as ci_low,
        cast(null as double) as ci_high,
        cast(null as double) as contrast,
        cast(null as double) as contrast_se,
        cast(null as boolean) as significant,
        suppression_reason,
        city_value_source,
        load_ids,
        cast(null as varchar) as derivation,
        cast(null as boolean) as weighting_converged
    from {{ ref('int_activity_indicators_computed') }}

),

final as (

    select * from survey
    union all by name
    select * from counts

)

select * from final
