-- All indicator values of all three source kinds at one grain: period x area x indicator, on the
-- area edition in force in the period. Survey figures carry their design-based uncertainty and
-- significance against the city; registry and activity figures are counts of a whole population
-- (no sampling error: se is null and they are not tested).
-- weighting_converged (issue 19): false when the raking behind a survey figure did not converge
-- within the weight bounds: an area's own raking for its figure, any area's for the city figure
-- (the city estimate uses every area's weights); null for registry and activity figures.
-- estimation_method (issue 21): direct (design-based) or fay_herriot (modelschatting), with the
-- figure's mse (null for registry and activity figures). When the compass is drawn on buurten
-- (var compass_level: buurt), an indicator the indicator_small_area seed marks use_at_buurt takes
-- a buurt's figure of a wave from the Fay-Herriot row of int_survey_small_area_estimates (every
-- buurt with a covariate row; suppressed by cv > max_cv instead of by n) in place of the direct
-- one; the city figure stays direct. At any other level (default wijk) the direct figures are the
-- source. A buurt without a model figure keeps its direct one (if it has respondents); one with
-- neither gets a suppressed row ('no respondents and no covariates'). A model figure's interval
-- is value +- 1.96 sqrt(mse), a share's clipped to [0, 1]; its contrast with the city is
-- value - city value with se sqrt(mse + city se^2) (the covariance with the city's direct figure
-- ignored: an approximation, docs/STATISTICS.md section 9).

with

indicators as (

    select * from {{ ref('indicators') }}

),

survey_loads as (

    select wave, list_distinct(list(load_id)) as load_ids
    from {{ ref('stg_survey__respondents') }}
    group by wave

),

survey_wave_context as (

    -- per wave: the area edition its respondents were located on and the loads they came from,
    -- read by every survey branch below (direct, no figure, model-based)
    select respondents_edition.wave, respondents_edition.area_edition, survey_loads.load_ids
    from (select distinct wave, area_edition from {{ ref('int_respondents_located') }}) as respondents_edition
    left join survey_loads
        on survey_loads.wave = respondents_edition.wave

),

weighting as (

    select wave, gemeente_code, area_code, converged
    from {{ ref('int_weighting_report') }}
    union all
    select wave, gemeente_code, gemeente_code as area_code, bool_and(converged) as converged
    from {{ ref('int_weighting_report') }}
    group by wave, gemeente_code

),

model_based as (

    -- the Fay-Herriot buurt figures, only when the compass is drawn on buurten
    select small_area.*
    from {{ ref('int_survey_small_area_estimates') }} as small_area
    inner join {{ ref('indicator_small_area') }} as settings
        on settings.indicator_code = small_area.indicator_code
    where small_area.estimation_method = 'fay_herriot'
        and settings.use_at_buurt
        and {{ 'true' if var('compass_level') == 'buurt' else 'false' }}

),

modelled_waves as (

    select distinct wave, indicator_code from model_based

),

survey as (

    select
        estimates.indicator_code,
        estimates.wave as period,
        wave_context.area_edition,
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
        wave_context.load_ids,
        cast(null as varchar) as derivation,
        coalesce(weighting.converged, false) as weighting_converged,
        'direct' as estimation_method,
        estimates.se * estimates.se as mse
    from {{ ref('int_survey_estimates') }} as estimates
    inner join indicators
        on indicators.indicator_code = estimates.indicator_code
    inner join survey_wave_context as wave_context
        on wave_context.wave = estimates.wave
    left join weighting
        on weighting.wave = estimates.wave
        and weighting.gemeente_code = estimates.gemeente_code
        and weighting.area_code = estimates.area_code
    left join model_based
        on model_based.wave = estimates.wave
        and model_based.indicator_code = estimates.indicator_code
        and model_based.buurt_code = estimates.area_code
        and not estimates.is_city
    where estimates.n > 0
        and model_based.wave is null

),

no_figure as (

    -- a compass buurt of a modelled wave x indicator with neither a model figure (a covariate is
    -- missing, e.g. no inhabitants) nor respondents: a suppressed row, so the compass knows why
    select
        modelled_waves.indicator_code,
        modelled_waves.wave as period,
        buurten.area_edition,
        buurten.gemeente_code,
        buurten.buurt_code as area_code,
        false as is_city,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        cast(null as double) as value,
        cast(0 as bigint) as n,
        cast(null as double) as weighted_n,
        cast(null as double) as se,
        cast(null as double) as ci_low,
        cast(null as double) as ci_high,
        cast(null as double) as contrast,
        cast(null as double) as contrast_se,
        cast(null as boolean) as significant,
        'no respondents and no covariates' as suppression_reason,
        'estimated from respondents' as city_value_source,
        wave_context.load_ids,
        cast(null as varchar) as derivation,
        cast(null as boolean) as weighting_converged,
        'fay_herriot' as estimation_method,
        cast(null as double) as mse
    from modelled_waves
    inner join survey_wave_context as wave_context
        on wave_context.wave = modelled_waves.wave
    inner join {{ ref('int_buurten_mapped_to_compass_areas') }} as buurten
        on buurten.area_edition = wave_context.area_edition
        and buurten.buurt_code = buurten.area_code
    where not exists (
            select 1 from model_based
            where model_based.wave = modelled_waves.wave
                and model_based.indicator_code = modelled_waves.indicator_code
                and model_based.buurt_code = buurten.buurt_code
        )
        and not exists (
            select 1 from survey
            where survey.period = modelled_waves.wave
                and survey.indicator_code = modelled_waves.indicator_code
                and survey.area_code = buurten.buurt_code
        )

),

city_survey as (

    select indicator_code, period, gemeente_code, value as city_value, se as city_se
    from survey
    where is_city

),

model_survey as (

    select
        model_based.indicator_code,
        model_based.wave as period,
        wave_context.area_edition,
        model_based.gemeente_code,
        model_based.buurt_code as area_code,
        false as is_city,
        cast(null as double) as numerator,
        cast(null as double) as denominator,
        model_based.estimate as value,
        model_based.n,
        cast(null as double) as weighted_n,
        sqrt(model_based.mse) as se,
        case
            when indicators.kind = 'survey_share'
                then greatest(0.0, model_based.estimate - 1.959963984540054 * sqrt(model_based.mse))
            else model_based.estimate - 1.959963984540054 * sqrt(model_based.mse)
        end as ci_low,
        case
            when indicators.kind = 'survey_share'
                then least(1.0, model_based.estimate + 1.959963984540054 * sqrt(model_based.mse))
            else model_based.estimate + 1.959963984540054 * sqrt(model_based.mse)
        end as ci_high,
        model_based.estimate - city_survey.city_value as contrast,
        sqrt(model_based.mse + city_survey.city_se * city_survey.city_se) as contrast_se,
        case
            when model_based.mse + city_survey.city_se * city_survey.city_se > 0
                then abs(model_based.estimate - city_survey.city_value)
                    / sqrt(model_based.mse + city_survey.city_se * city_survey.city_se) > 1.959963984540054
        end as significant,
        model_based.suppression_reason,
        'estimated from respondents' as city_value_source,
        wave_context.load_ids,
        cast(null as varchar) as derivation,
        coalesce(weighting.converged, false) as weighting_converged,
        'fay_herriot' as estimation_method,
        model_based.mse
    from model_based
    inner join indicators
        on indicators.indicator_code = model_based.indicator_code
    inner join survey_wave_context as wave_context
        on wave_context.wave = model_based.wave
    left join city_survey
        on city_survey.period = model_based.wave
        and city_survey.indicator_code = model_based.indicator_code
        and city_survey.gemeente_code = model_based.gemeente_code
    left join weighting
        on weighting.wave = model_based.wave
        and weighting.gemeente_code = model_based.gemeente_code
        and weighting.area_code = model_based.buurt_code

),

counts as (

    -- registry and activity figures, one column list for both (activity figures have no
    -- derivation: union by name leaves it null)
    select
        indicator_code,
        period,
        area_edition,
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
        cast(null as boolean) as weighting_converged,
        cast(null as varchar) as estimation_method,
        cast(null as double) as mse
    from (
        select * from {{ ref('int_registry_indicators_computed') }}
        union all by name
        select * from {{ ref('int_activity_indicators_computed') }}
    ) as count_figures

),

final as (

    select * from survey
    union all by name
    select * from model_survey
    union all by name
    select * from no_figure
    union all by name
    select * from counts

)

select * from final
