-- The indicator catalogue with its place in the compass tree: indicator -> theme -> quadrant.

with

indicators as (select * from {{ ref('indicators') }}),
themes as (select * from {{ ref('themes') }}),
quadrants as (select * from {{ ref('quadrants') }}),

final as (

    select
        cast(indicators.indicator_code as varchar) as indicator_code,
        cast(indicators.label_nl as varchar) as label_nl,
        cast(indicators.definition as varchar) as definition,
        cast(indicators.source as varchar) as source,
        cast(indicators.source_kind as varchar) as source_kind,
        cast(indicators.kind as varchar) as kind,
        cast(indicators.unit as varchar) as unit,
        cast(indicators.polarity as integer) as polarity,
        cast(indicators.theme_code as varchar) as theme_code,
        cast(themes.label_nl as varchar) as theme_label_nl,
        cast(themes.quadrant_code as varchar) as quadrant_code,
        cast(quadrants.label_nl as varchar) as quadrant_label_nl,
        cast(quadrants.is_judged as boolean) as is_judged,
        cast(coalesce(indicators.min_n, {{ var('survey_min_n_default') }}) as integer) as min_n,
        cast(indicators.min_count as integer) as min_count,
        cast(indicators.min_population as integer) as min_population,
        cast(indicators.first_year as integer) as first_year,
        cast(indicators.last_year as integer) as last_year,
        cast(coalesce(indicators.weight, 1) as double) as theme_weight
    from indicators
    inner join themes on themes.theme_code = indicators.theme_code
    inner join quadrants on quadrants.quadrant_code = themes.quadrant_code

)

select * from final
