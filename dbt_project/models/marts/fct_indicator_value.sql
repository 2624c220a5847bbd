-- The fact table: one row per area edition x area x period x indicator (compass areas and the
-- city). Current-edition rows hold every period recomputed onto the current division (for trends);
-- rows of older editions keep the figures as published on their own division. A suppressed figure
-- keeps its reason and shows no numbers. Figures are published to 6 decimals: DuckDB's parallel
-- sums differ in the last bits between builds, and a rerun must give byte-identical exports.
-- Survey figures say how they were estimated (estimation_method, issue 21): direct, or
-- fay_herriot where the compass is drawn on buurten and the indicator uses the small-area model
-- there (int_indicator_values_unioned); mse and cv give the uncertainty of either.

with

harmonised as (

    select *, area_edition <> (select area_edition from {{ ref('int_area_editions') }} where is_current) as _old
    from {{ ref('int_indicator_values_harmonised') }}

),

old_editions as (

    select
        *,
        true as is_native,
        'as published on edition ' || area_edition as harmonisation_method
    from {{ ref('int_indicator_values_unioned') }}
    where area_edition <> (select area_edition from {{ ref('int_area_editions') }} where is_current)

),

combined as (

    select * exclude (_old) from harmonised
    union all by name
    select * from old_editions

),

final as (

    select
        cast(area_edition as integer) as area_edition,
        cast(gemeente_code as varchar) as gemeente_code,
        cast(area_code as varchar) as area_code,
        cast(is_city as boolean) as is_city,
        cast(period as integer) as period,
        cast(indicator_code as varchar) as indicator_code,
        cast(round(case when suppression_reason is null then value end, 6) as double) as value,
        cast(round(case when suppression_reason is null then numerator end, 6) as double) as numerator,
        cast(round(case when suppression_reason is null then denominator end, 6) as double) as denominator,
        cast(case when suppression_reason is null then n end as bigint) as n_unweighted,
        cast(round(case when suppression_reason is null then weighted_n end, 6) as double) as n_weighted,
        cast(round(case when suppression_reason is null then se end, 6) as double) as standard_error,
        cast(round(case when suppression_reason is null then ci_low end, 6) as double) as ci_low,
        cast(round(case when suppression_reason is null then ci_high end, 6) as double) as ci_high,
        cast(round(case when suppression_reason is null then contrast end, 6) as double) as contrast_with_city,
        cast(round(case when suppression_reason is null then contrast_se end, 6) as double) as contrast_se,
        cast(case when suppression_reason is null then significant end as boolean) as significant,
        suppression_reason is not null as suppressed,
        cast(suppression_reason as varchar) as suppression_reason,
        cast(city_value_source as varchar) as city_value_source,
        not is_native as is_harmonised,
        cast(harmonisation_method as varchar) as harmonisation_method,
        cast(load_ids as varchar[]) as load_ids,
        cast(weighting_converged as boolean) as weighting_converged,
        -- issue 21: direct | fay_herriot (modelschatting), with the mean squared error and the
        -- coefficient of variation sqrt(mse) / |value| (null for a value of 0); null for
        -- registry and activity figures. mse to 12 decimals (its values are ~1e-4)
        cast(estimation_method as varchar) as estimation_method,
        cast(round(case when suppression_reason is null then mse end, 12) as double) as mse,
        cast(round(case when suppression_reason is null and value <> 0 then sqrt(mse) / abs(value) end, 6) as double) as cv
    from combined
    -- an edition shows what was known at the time: a backfill of an old edition leaves out the
    -- periods after it, which the warehouse holds for the newer editions
    where period <= {{ var('edition') }}

)

select * from final
