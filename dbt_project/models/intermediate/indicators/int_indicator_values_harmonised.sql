-- Every figure recomputed onto the current area edition, so trends compare like with like.
-- A current-edition area takes the old areas that overlap it with weights a_k proportional to
-- share_k x population_k (the old area's inhabitants living in it): a split gives both parts the
-- old value, a merge the population-weighted mean. Counts (registry_count) are apportioned:
-- sum(share_k x count_k). Standard errors combine as sqrt(sum a_k^2 se_k^2) (the old areas are
-- separate strata, so independent). A suppressed contributor suppresses the result ("hidden by
-- the source hides what is derived from it"). City rows are unchanged.

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
        on crosswalk.from_edition = values_.edition
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

    select *, method = 'identity' and edition = (select edition from {{ ref('int_area_editions') }} where is_current) as native
    from contributions

),

native as (

    select
        indicator_code,
        period,
        (select edition from {{ ref('int_area_editions') }} where is_current) as edition,
        gemeente_code,
        to_area_code as area_code,
        false as is_city,
        share * numerator as numerator,
        share * denominator as denominator,
        case when kind = 'registry_count' then share * value else (mass / mass) * value end as value,
        cast(n as bigint) as n,
        share * weighted_n as weighted_n,
        sqrt((mass / mass) * (mass / mass) * se * se) as se,
        (mass / mass) * contrast as contrast,
        sqrt((mass / mass) * (mass / mass) * contrast_se * contrast_se) as contrast_se,
        suppression_reason,
        city_value_source,
        list_distinct(load_ids) as load_ids,
        weighting_converged,
        derivation is null as is_native,
        coalesce(derivation || '; ', '') || method as harmonisation_method
    from is_native_contribution
    where native

),

weighted as (

    select
        *,
        mass / sum(mass) over (partition by indicator_code, period, to_area_code) as a
    from is_native_contribution
    where not native

),

areas as (

    select
        indicator_code,
        period,
        (select edition from {{ ref('int_area_editions') }} where is_current) as edition,
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
        coalesce(string_agg(distinct derivation, '; ') || '; ', '') || string_agg(distinct method, '; ') as harmonisation_method
    from (select *, method = 'identity' as from_edition_is_current from weighted)
    group by indicator_code, period, to_area_code

    union all by name

    select * from native

),

areas_tested as (

    -- a survey share's interval is the logit one (macro ci_bound): it stays inside [0, 1]
    select
        areas.* exclude (se, contrast, contrast_se),
        areas.se,
        {{ ci_bound('areas.value', 'areas.se', "indicators.kind = 'survey_share'", 'low') }} as ci_low,
        {{ ci_bound('areas.value', 'areas.se', "indicators.kind = 'survey_share'", 'high') }} as ci_high,
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
        (select edition from {{ ref('int_area_editions') }} where is_current) as edition,
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
        significant
    from values_
    where is_city

),

final as (

    select * from areas_tested
    union all by name
    select * from cities

)

select * from final
