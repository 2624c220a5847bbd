-- Every figure recomputed onto the current area edition, so trends compare like with like.
-- A current-edition area takes the old areas that overlap it with weights a_k proportional to
-- share_k x population_k (the old area's inhabitants living in it): a split gives both parts the
-- old value, a merge the population-weighted mean. Counts (registry_count) are apportioned:
-- sum(share_k x count_k). Standard errors combine as sqrt(sum a_k^2 se_k^2) (the old areas are
-- separate strata, so independent). A suppressed contributor suppresses the result ("hidden by
-- the source hides what is derived from it"). City rows are unchanged.
-- Guarded (issue 21): where the old areas of a target area had no inhabitants in the period
-- (every mass 0) they are weighted by their shares instead of 0/0 (NaN), and a native figure's
-- factor mass / mass is 1 when its mass is 0. estimation_method: fay_herriot when any
-- contribution is a model figure (a value derived from a model figure is one), mse = sum(a^2 mse)
-- like se; a model figure's interval is value +- 1.96 se (a share's clipped to [0, 1]), a direct
-- share's the logit one.

with

values_ as (

    select * from {{ ref('int_indicator_values_unioned') }}

),

indicators as (

    select indicator_code, kind from {{ ref('indicators') }}

),

crosswalk as (

    select * from {{ ref('int_crosswalk_compass_areas') }}

),

old_population as (

    select period, area_code, sum(population) as population
    from {{ ref('int_population_by_compass_area') }}
    group by all

),

contributions as (

    select
        values_.*,
        indicators.kind,
        crosswalk.to_area_code,
        crosswalk.share,
        crosswalk.method,
        crosswalk.share * coalesce(old_population.population, 1) as mass
    from values_
    inner join indicators
        on indicators.indicator_code = values_.indicator_code
    inner join crosswalk
        on crosswalk.from_edition = values_.area_edition
        and crosswalk.from_area_code = values_.area_code
    left join old_population
        on old_population.period = values_.period
        and old_population.area_code = values_.area_code
    where not values_.is_city

),

-- A figure on the current edition maps onto its own area only (crosswalk 'identity', share 1) and
-- is the only contribution to it: its area's sums below are sums of one term. `native` computes
-- those terms per row, with the very expressions of the general path (a = mass / mass), so the
-- numbers are the same; the window and the group by only see the older editions' figures (about
-- 60% of the rows at national scale, where they took ~30 s). A current-edition area that also
-- received crosswalk shares would appear twice: the unique_combination test of this model stops
-- the build then.
is_native_contribution as (

    select *, method = 'identity' and area_edition = (select area_edition from {{ ref('int_area_editions') }} where is_current) as native
    from contributions

),

native as (

    select
        indicator_code,
        period,
        (select area_edition from {{ ref('int_area_editions') }} where is_current) as area_edition,
        gemeente_code,
        to_area_code as area_code,
        false as is_city,
        share * numerator as numerator,
        share * denominator as denominator,
        case when kind = 'registry_count' then share * value else unit * value end as value,
        cast(n as bigint) as n,
        share * weighted_n as weighted_n,
        sqrt(unit * unit * se * se) as se,
        unit * contrast as contrast,
        sqrt(unit * unit * contrast_se * contrast_se) as contrast_se,
        suppression_reason,
        city_value_source,
        list_distinct(load_ids) as load_ids,
        weighting_converged,
        derivation is null as is_native,
        coalesce(derivation || '; ', '') || method as harmonisation_method,
        estimation_method,
        unit * unit * mse as mse
    from (select *, case when mass > 0 then mass / mass else 1.0 end as unit from is_native_contribution)
    where native

),

weighted as (

    select
        *,
        case
            when sum(mass) over (partition by indicator_code, period, to_area_code) > 0
                then mass / sum(mass) over (partition by indicator_code, period, to_area_code)
            else share / sum(share) over (partition by indicator_code, period, to_area_code)
        end as a
    from is_native_contribution
    where not native

),

areas as (

    select
        indicator_code,
        period,
        (select area_edition from {{ ref('int_area_editions') }} where is_current) as area_edition,
        any_value(gemeente_code) as gemeente_code,
        to_area_code as area_code,
        false as is_city,
        -- numerators and denominators are counts: apportioned by share for every kind
        sum(share * numerator) as numerator,
        sum(share * denominator) as denominator,
        case when any_value(kind) = 'registry_count' then sum(share * value) else sum(a * value) end as value,
        cast(sum(n) as bigint) as n,
        -- summed exactly (macro exact_sum): fct_indicator_value rounds it to 6 decimals, and a float sum
        -- in DuckDB's parallel order fell either side of a half (shares of 0.5 make ties)
        cast({{ exact_sum('share * weighted_n') }} as double) as weighted_n,
        sqrt(sum(a * a * se * se)) as se,
        sum(a * contrast) as contrast,
        sqrt(sum(a * a * contrast_se * contrast_se)) as contrast_se,
        case
            when count(suppression_reason) > 0 and count(*) = 1 then min(suppression_reason)
            when count(suppression_reason) > 0 then 'derived from suppressed: ' || min(suppression_reason)
        end as suppression_reason,
        any_value(city_value_source) as city_value_source,
        list_distinct(flatten(list(load_ids))) as load_ids,
        bool_and(weighting_converged) as weighting_converged,
        bool_and(from_edition_is_current and derivation is null) as is_native,
        coalesce(string_agg(distinct derivation, '; ') || '; ', '') || string_agg(distinct method, '; ') as harmonisation_method,
        case
            when bool_or(estimation_method = 'fay_herriot') then 'fay_herriot'
            else min(estimation_method)
        end as estimation_method,
        sum(a * a * mse) as mse
    from (select *, method = 'identity' as from_edition_is_current from weighted)
    group by indicator_code, period, to_area_code

    union all by name

    select * from native

),

areas_tested as (

    -- a survey share's interval is the logit one (macro ci_bound): it stays inside [0, 1]
    select
        areas.* exclude (se, contrast, contrast_se, suppression_reason),
        -- a count apportioned onto a new division can fall under 5 where its sources did not
        -- (the gate's no_shown_count_below_5 / no_shown_share_numerator_below_5): suppressed
        coalesce(areas.suppression_reason, case
            when indicators.kind in ('registry_share', 'registry_rate', 'activity_rate', 'activity_share')
                and areas.numerator < 5 then 'count below 5 after harmonisation'
            when indicators.kind = 'registry_count' and areas.value < 5
                then 'count below 5 after harmonisation'
        end) as suppression_reason,
        areas.se,
        case
            when areas.estimation_method = 'fay_herriot' and indicators.kind = 'survey_share'
                then greatest(0.0, areas.value - 1.959963984540054 * areas.se)
            when areas.estimation_method = 'fay_herriot'
                then areas.value - 1.959963984540054 * areas.se
            else {{ ci_bound('areas.value', 'areas.se', "indicators.kind = 'survey_share'", 'low') }}
        end as ci_low,
        case
            when areas.estimation_method = 'fay_herriot' and indicators.kind = 'survey_share'
                then least(1.0, areas.value + 1.959963984540054 * areas.se)
            when areas.estimation_method = 'fay_herriot'
                then areas.value + 1.959963984540054 * areas.se
            else {{ ci_bound('areas.value', 'areas.se', "indicators.kind = 'survey_share'", 'high') }}
        end as ci_high,
        areas.contrast,
        areas.contrast_se,
        case when areas.contrast_se > 0 then abs(areas.contrast) / areas.contrast_se > 1.959963984540054 end as significant
    from areas
    left join indicators
        on indicators.indicator_code = areas.indicator_code

),

cities as (

    select
        indicator_code,
        period,
        (select area_edition from {{ ref('int_area_editions') }} where is_current) as area_edition,
        gemeente_code,
        area_code,
        is_city,
        numerator,
        denominator,
        value,
        n,
        weighted_n,
        se,
        contrast,
        contrast_se,
        suppression_reason,
        city_value_source,
        load_ids,
        weighting_converged,
        derivation is null as is_native,
        coalesce(derivation || '; ', '') || 'identity' as harmonisation_method,
        ci_low,
        ci_high,
        significant,
        estimation_method,
        mse
    from values_
    where is_city

),

final as (

    select * from areas_tested
    union all by name
    select * from cities

)

select * from final
