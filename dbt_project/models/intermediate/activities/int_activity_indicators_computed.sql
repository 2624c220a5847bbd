-- Activity indicators per year x area (compass areas and the city) from the programmes'
-- registrations:
--   activity_rate    registrations (optionally of one category) per 1,000 inhabitants,
--   activity_share   share of registrations with an outcome in answer_codes among those with an
--                    outcome in denominator (e.g. mediation cases resolved among closed cases),
--   activity_amount  budget granted per inhabitant (euro).
-- Areas without registrations count zero (the grid comes from the register population); the
-- lineage of such a zero is the programme year's file(s), which hold no registration there. A count
-- below the catalogue's min_count (a rate's registrations; a share's cases and the cases with the
-- outcome) or a population below min_population is suppressed.

with

indicators as (

    select * from {{ ref('indicators') }}
    where source_kind = 'activity'

),

-- Registrations are counted once per programme x period x buurt x category x outcome before
-- they meet the editions and the indicators: millions of rows become a few hundred thousand cells,
-- and every indicator of a programme reads the same cells.
cells as (

    select
        programme,
        period,
        buurt_code,
        category,
        outcome,
        count(*) as n,
        sum(amount_granted) as amount_granted,
        list_distinct(list(load_id)) as load_ids
    from {{ ref('stg_activities__registrations') }}
    group by all

),

editions as (

    select * from {{ ref('int_area_editions') }}

),

located as (

    select
        cells.*,
        buurten.gemeente_code,
        buurten.area_code
    from cells
    inner join editions
        on cells.period between editions.valid_from and editions.valid_to
    inner join {{ ref('int_buurten_mapped_to_compass_areas') }} as buurten
        on buurten.area_edition = editions.area_edition
        and buurten.buurt_code = cells.buurt_code

),

programme_years as (

    select programme, period, list_distinct(flatten(list(load_ids))) as load_ids
    from cells
    group by all

),

population as (

    select period, area_edition, gemeente_code, area_code, false as is_city, sum(population) as population
    from {{ ref('int_population_by_compass_area') }}
    group by all
    union all
    select period, area_edition, gemeente_code, gemeente_code, true, sum(population)
    from {{ ref('int_population_by_compass_area') }}
    group by all

),

counted as (

    select
        indicators.indicator_code,
        located.period,
        located.gemeente_code,
        located.area_code,
        coalesce(sum(located.n) filter (
            where indicators.numerator is null or located.category = indicators.numerator
        ), 0) as n_registrations,
        coalesce(sum(located.n) filter (
            where list_contains(string_split(indicators.answer_codes, '|'), located.outcome)
        ), 0) as n_outcome,
        coalesce(sum(located.n) filter (
            where list_contains(string_split(indicators.denominator, '|'), located.outcome)
        ), 0) as n_outcome_base,
        sum(located.amount_granted) as amount_granted,
        list_distinct(flatten(list(located.load_ids))) as load_ids
    from indicators
    inner join located
        on located.programme = indicators.item
    group by grouping sets (
        (indicators.indicator_code, located.period, located.gemeente_code, located.area_code),
        (indicators.indicator_code, located.period, located.gemeente_code)
    )

),

grid as (

    select
        indicators.indicator_code,
        indicators.kind,
        indicators.min_count,
        indicators.min_population,
        population.period,
        population.area_edition,
        population.gemeente_code,
        population.area_code,
        population.is_city,
        population.population,
        programme_years.load_ids as programme_load_ids
    from indicators
    inner join programme_years
        on programme_years.programme = indicators.item
    inner join population
        on population.period = programme_years.period

),

measured as (

    select
        grid.*,
        case grid.kind
            when 'activity_rate' then coalesce(counted.n_registrations, 0)
            when 'activity_share' then coalesce(counted.n_outcome, 0)
            when 'activity_amount' then coalesce(counted.amount_granted, 0)
        end as numerator,
        case grid.kind
            when 'activity_rate' then grid.population
            when 'activity_share' then coalesce(counted.n_outcome_base, 0)
            when 'activity_amount' then grid.population
        end as denominator,
        coalesce(counted.load_ids, grid.programme_load_ids) as load_ids
    from grid
    left join counted
        on counted.indicator_code = grid.indicator_code
        and counted.period = grid.period
        and counted.gemeente_code = grid.gemeente_code
        and coalesce(counted.area_code, counted.gemeente_code) = grid.area_code
        and (counted.area_code is null) = grid.is_city

),

final as (

    select
        indicator_code,
        period,
        area_edition,
        gemeente_code,
        area_code,
        is_city,
        cast(numerator as double) as numerator,
        cast(denominator as double) as denominator,
        case
            when population < coalesce(min_population, 0) then 'population below ' || min_population
            when kind = 'activity_rate' and numerator < coalesce(min_count, 0) then 'count below ' || min_count
            when kind = 'activity_share' and denominator < coalesce(min_count, 0) then 'count below ' || min_count
            -- the numerator of a share is a count of cases too (as for registry shares)
            when kind = 'activity_share' and numerator < coalesce(min_count, 0) then 'count below ' || min_count
            when denominator is null or denominator = 0 then 'no denominator'
        end as suppression_reason,
        case kind
            when 'activity_rate' then 1000 * numerator / nullif(denominator, 0)
            else numerator / nullif(denominator, 0)
        end as value,
        'computed from buurten' as city_value_source,
        load_ids
    from measured

)

select * from final
