-- Registry indicators per period x area (compass areas and the city):
--   registry_value  the published figure (e.g. average WOZ value, share owner-occupied),
--   registry_share  numerator / denominator (0..1),
--   registry_rate   numerator / denominator x 1,000,
--   registry_count  the published count.
-- Police crimes (source police): the source's own totals for compass areas and the gemeente where
-- it publishes them, else the sum of its buurten; related to the register population.
-- Suppression: a missing-value code of the source suppresses the figure and everything derived
-- from it with the code's reason (hidden, unknown, ...); a numerator below the catalogue's
-- min_count, or a population below its min_population, suppresses the figure too.

with

indicators as (

    select * from {{ ref('indicators') }}
    where source_kind = 'registry'

),

bindings as (

    select * from {{ ref('registry_bindings') }}

),

kwb as (

    select * from {{ ref('int_registry_values_located') }}

),

bound as (

    select
        bindings.indicator_code,
        bindings.role,
        bindings.priority,
        kwb.*,
        kwb.value * bindings.scale as scaled
    from kwb
    inner join bindings
        on bindings.source = kwb.source
        and bindings.variable = kwb.variable
        and kwb.period between coalesce(bindings.first_period, 0) and coalesce(bindings.last_period, 9999)

),

chosen_source as (

    -- several sources may bind one indicator (the municipality's inhabitants and CBS's): per
    -- indicator and period the lowest priority that has figures wins, for the areas and the city
    select indicator_code, period, min(priority) as priority
    from bound
    group by all

),

kwb_pivoted as (

    select
        bound.indicator_code,
        bound.period,
        bound.area_edition,
        bound.gemeente_code,
        bound.area_code,
        bound.is_city,
        bool_or(bound.role = 'value') as has_value,
        max(bound.scaled) filter (where bound.role = 'value') as bound_value,
        max(bound.scaled) filter (where bound.role = 'numerator') as numerator,
        max(bound.scaled) filter (where bound.role = 'denominator') as denominator,
        min(bound.missing_reason) as missing_reason,
        list_distinct(flatten(list(bound.load_ids))) as load_ids,
        string_agg(distinct bound.derivation, '; ') as derivation,
        min(bound.city_value_source) as city_value_source
    from bound
    semi join chosen_source
        on chosen_source.indicator_code = bound.indicator_code
        and chosen_source.period = bound.period
        and chosen_source.priority = bound.priority
    group by all
    -- a year in which the source delivers only the denominator (the grid's inhabitants before its
    -- age groups start in 2011) has no figure for the indicator
    having bool_or(bound.role in ('value', 'numerator'))

),

kwb_population as (

    select period, area_code, bound_value as population
    from kwb_pivoted
    where indicator_code = 'inwoners'

),

kwb_indicators as (

    -- a rate or share whose source binds no denominator (incidents, facility points) is related
    -- to the figure of the indicator the catalogue names as denominator (inwoners, oppervlakte)
    select
        kwb_pivoted.indicator_code,
        indicators.kind,
        kwb_pivoted.period,
        kwb_pivoted.area_edition,
        kwb_pivoted.gemeente_code,
        kwb_pivoted.area_code,
        kwb_pivoted.is_city,
        case when indicators.kind in ('registry_value', 'registry_count') then null else kwb_pivoted.numerator end as numerator,
        coalesce(kwb_pivoted.denominator, denominator_figure.bound_value) as denominator,
        case
            when kwb_pivoted.has_value then kwb_pivoted.bound_value
            when indicators.kind = 'registry_share'
                then kwb_pivoted.numerator / nullif(coalesce(kwb_pivoted.denominator, denominator_figure.bound_value), 0)
            -- per 1,000 of the denominator, or per km2 of a surface in hectares
            when indicators.kind = 'registry_rate'
                then case when indicators.unit = 'per km2' then 100 else 1000 end * kwb_pivoted.numerator
                    / nullif(coalesce(kwb_pivoted.denominator, denominator_figure.bound_value), 0)
            else kwb_pivoted.numerator
        end as value,
        coalesce(kwb_pivoted.missing_reason,
            case when kwb_pivoted.denominator is null then denominator_figure.missing_reason end) as missing_reason,
        kwb_population.population,
        indicators.min_count,
        indicators.min_population,
        list_distinct(kwb_pivoted.load_ids || coalesce(denominator_figure.load_ids, [])) as load_ids,
        kwb_pivoted.city_value_source,
        kwb_pivoted.derivation
    from kwb_pivoted
    inner join indicators
        on indicators.indicator_code = kwb_pivoted.indicator_code
    left join kwb_pivoted as denominator_figure
        on denominator_figure.indicator_code = indicators.denominator
        and denominator_figure.period = kwb_pivoted.period
        and denominator_figure.area_code = kwb_pivoted.area_code
    left join kwb_population
        on kwb_population.period = kwb_pivoted.period
        and kwb_population.area_code = kwb_pivoted.area_code

),

population as (

    select period, area_edition, gemeente_code, area_code, sum(population) as population
    from {{ ref('int_population_by_compass_area') }}
    group by all

),

city_population as (

    select period, area_edition, gemeente_code, sum(population) as population
    from population
    group by all

),

editions as (

    select * from {{ ref('int_area_editions') }}

),

area_levels as (

    select area_edition, area_code, area_level from {{ ref('int_area_ancestors') }} where depth = 0

),

crimes_located as (

    select
        crimes.period,
        editions.area_edition,
        area_levels.area_level,
        crimes.area_code,
        crimes.crime_type,
        crimes.crimes,
        crimes.missing_reason,
        crimes.load_id
    from {{ ref('stg_registry__police_crimes') }} as crimes
    inner join editions
        on crimes.period between editions.valid_from and editions.valid_to
    inner join area_levels
        on area_levels.area_edition = editions.area_edition
        and area_levels.area_code = crimes.area_code

),

crimes_by_buurt as (

    select
        crimes.*,
        buurten.gemeente_code,
        buurten.area_code as compass_area_code
    from crimes_located as crimes
    inner join {{ ref('int_buurten_mapped_to_compass_areas') }} as buurten
        on buurten.area_edition = crimes.area_edition
        and buurten.buurt_code = crimes.area_code
    where crimes.area_level = 'buurt'

),

crimes_rolled_up as (

    -- where the source publishes no total of its own: sum the buurten; a hidden or unknown buurt
    -- hides the total it is part of ("hidden by the source hides what is derived from it")
    select
        period,
        area_edition,
        gemeente_code,
        coalesce(compass_area_code, gemeente_code) as area_code,
        compass_area_code is null as is_city,
        crime_type,
        -- not applicable / empty buurten do not block the total (docs/METHOD.md §6)
        case
            when count(missing_reason) filter (where missing_reason in ('hidden', 'unknown', 'invalid')) = 0
                then sum(crimes)
        end as crimes,
        min(missing_reason) filter (where missing_reason in ('hidden', 'unknown', 'invalid')) as missing_reason,
        list_distinct(list(load_id)) as load_ids,
        'computed from buurten' as city_value_source
    from crimes_by_buurt
    group by grouping sets (
        (period, area_edition, gemeente_code, compass_area_code, crime_type),
        (period, area_edition, gemeente_code, crime_type)
    )

),

crimes_published as (

    -- the source's own totals for the compass areas and the gemeente (CBS 47018NED has them)
    select
        crimes.period,
        crimes.area_edition,
        city.ancestor_code as gemeente_code,
        crimes.area_code,
        crimes.area_level = 'gemeente' as is_city,
        crimes.crime_type,
        crimes.crimes,
        crimes.missing_reason,
        [crimes.load_id] as load_ids,
        'published' as city_value_source
    from crimes_located as crimes
    inner join {{ ref('int_area_ancestors') }} as city
        on city.area_edition = crimes.area_edition
        and city.area_code = crimes.area_code
        and city.ancestor_level = 'gemeente'
    where crimes.area_level in ('gemeente', '{{ var("compass_level") }}')

),

crimes_rolled_up_or_published as (

    select * from crimes_published
    union all by name
    select rolled.*
    from crimes_rolled_up as rolled
    anti join crimes_published as published
        on published.period = rolled.period
        and published.area_code = rolled.area_code
        and published.crime_type = rolled.crime_type

),

police_indicators as (

    select
        indicators.indicator_code,
        indicators.kind,
        crimes.period,
        crimes.area_edition,
        crimes.gemeente_code,
        crimes.area_code,
        crimes.is_city,
        cast(crimes.crimes as double) as numerator,
        cast(coalesce(population.population, city_population.population) as double) as denominator,
        1000 * crimes.crimes / nullif(coalesce(population.population, city_population.population), 0) as value,
        crimes.missing_reason,
        coalesce(population.population, city_population.population) as population,
        indicators.min_count,
        indicators.min_population,
        crimes.load_ids,
        crimes.city_value_source
    from indicators
    inner join crimes_rolled_up_or_published as crimes
        on crimes.crime_type = indicators.item
    -- a compass area's population for its rows, the city's for the city rows: the key that does
    -- not apply is null, so both stay equi-joins DuckDB hashes (as `not crimes.is_city and ...`
    -- they were nested-loop joins: ~80 s of a national build)
    left join population
        on population.period = crimes.period
        and population.area_code = case when not crimes.is_city then crimes.area_code end
    left join city_population
        on city_population.period = crimes.period
        and city_population.gemeente_code = case when crimes.is_city then crimes.gemeente_code end
    where indicators.source = 'police'

),

unioned as (

    select * from kwb_indicators
    union all by name
    select * from police_indicators

),

final as (

    select
        indicator_code,
        period,
        area_edition,
        gemeente_code,
        area_code,
        is_city,
        numerator,
        denominator,
        case
            when missing_reason is not null then 'source: ' || missing_reason
            when population < coalesce(min_population, 0) then 'population below ' || min_population
            when kind in ('registry_share', 'registry_rate') and numerator < coalesce(min_count, 0)
                then 'count below ' || min_count
            when kind in ('registry_share', 'registry_rate') and numerator is not null and denominator is null
                then 'no denominator'
            when kind = 'registry_count' and value < coalesce(min_count, 0) then 'count below ' || min_count
            when value is null then 'no value'
        end as suppression_reason,
        value,
        city_value_source,
        load_ids,
        derivation
    from unioned

)

select * from final
