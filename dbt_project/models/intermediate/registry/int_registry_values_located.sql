-- Registry figures (variables bound to an indicator in the seed registry_bindings) of the compass
-- areas and the gemeente, each with the gemeente it belongs to in the area edition in force in that
-- year. Three routes onto the compass division (var area_source):
--   native   the source's codes are the compass division's (the demo's KWB, the municipality's
--            own attributes) and a gemeente row of any source: matched by code;
--   overlay  a source that delivered a division of its own (the CBS wijk- en buurtkaart) reaches
--            the compass areas through int_division_overlay: counts apportioned by share, means
--            weighted by the inhabitants of each piece; derivation names the overlay;
--   spatial  grid squares, incidents and facility points counted per compass area and gemeente
--            (int_spatial_values_by_area): native, with their derivation;
--   city     where a source publishes no gemeente row, the city is computed from its compass
--            areas: counts summed, means weighted by the source's inhabitants (the variable it
--            binds to `inwoners`), city_value_source says so.
-- A hidden, unknown or invalid part hides what is derived from it; nil / empty parts count as 0.

with

bound_variables as (

    select source, variable, any_value(measure) as measure
    from {{ ref('registry_bindings') }}
    group by all

),

delivered as (

    select period, area_code, area_level, source, variable, value, missing_reason,
        [load_id] as load_ids, cast(null as varchar) as derivation
    from {{ ref('stg_registry__values') }}
    union all by name
    -- grid squares, incidents and facility points counted per compass area
    select period, area_code, area_level, source, variable, value, missing_reason, load_ids,
        derivation
    from {{ ref('int_spatial_values_by_area') }}

),

bound as (

    select delivered.*, bound_variables.measure
    from delivered
    inner join bound_variables
        on bound_variables.source = delivered.source
        and bound_variables.variable = delivered.variable

),

city_parts as (

    -- where a source publishes no gemeente row for a year and variable, the city is computed
    -- from the source's own areas at its coarsest level below the gemeente (wijken, else
    -- buurten): on its own division, which covers the city whole, with no overlay in between
    select bound.*, levels.level
    from bound
    inner join (
        select source, period, variable,
            case when bool_or(area_level = 'wijk') then 'wijk' else 'buurt' end as level
        from bound
        where area_level in ('wijk', 'buurt')
        group by all
    ) as levels
        on levels.source = bound.source
        and levels.period = bound.period
        and levels.variable = bound.variable
        and levels.level = bound.area_level
    anti join (select distinct source, period, variable from bound where area_level = 'gemeente') as published
        on published.source = bound.source
        and published.period = bound.period
        and published.variable = bound.variable

),

population_variables as (

    select distinct source, variable
    from {{ ref('registry_bindings') }}
    where indicator_code = 'inwoners' and role = 'value'

),

city_parts_population as (

    select city_parts.*, population.value as population
    from city_parts
    left join (
        select bound.source, bound.period, bound.area_code, bound.value
        from bound
        semi join population_variables
            on population_variables.source = bound.source
            and population_variables.variable = bound.variable
    ) as population
        on population.source = city_parts.source
        and population.period = city_parts.period
        and population.area_code = city_parts.area_code

),

derived_city as (

    -- the gemeente of a CBS wijk or buurt code: GM + its four digits (WK001400 -> GM0014)
    select
        period,
        'GM' || substr(area_code, 3, 4) as area_code,
        'gemeente' as area_level,
        source,
        variable,
        case
            when count(*) filter (where missing_reason in ('hidden', 'unknown', 'invalid')) > 0 then null
            when any_value(measure) = 'count' then sum(coalesce(value, 0))
            else sum(coalesce(population, 1) * value)
                / nullif(sum(coalesce(population, 1)) filter (where value is not null), 0)
        end as value,
        min(missing_reason) filter (where missing_reason in ('hidden', 'unknown', 'invalid')) as missing_reason,
        list_distinct(flatten(list(load_ids))) as load_ids,
        string_agg(distinct derivation, '; ') as derivation,
        any_value(measure) as measure,
        'computed from areas' as city_value_source
    from city_parts_population
    where regexp_matches(area_code, '^(WK|BU)[0-9]{4}')
    group by period, 'GM' || substr(area_code, 3, 4), source, variable

),

values_ as (

    select *, 'published' as city_value_source
    from bound
    where area_level in ('gemeente', '{{ var("compass_level") }}')
    union all by name
    select * from derived_city

),

editions as (

    select * from {{ ref('int_area_editions') }}

),

ancestors as (

    select * from {{ ref('int_area_ancestors') }}
    where ancestor_level = 'gemeente'

),

foreign_editions as (

    -- a source with a division of its own (not the compass division): its edition in force
    select sources.source, sources.period, max(divisions.area_edition) as from_edition
    from (select distinct source, period from values_) as sources
    inner join (
        select distinct source, area_edition from {{ ref('stg_areas__areas') }}
        where source <> '{{ var("area_source") }}'
    ) as divisions
        on divisions.source = sources.source
        and divisions.area_edition <= sources.period
    group by all

),

native as (

    select
        values_.period,
        editions.area_edition,
        ancestors.ancestor_code as gemeente_code,
        values_.area_code,
        values_.area_level = 'gemeente' as is_city,
        values_.source,
        values_.variable,
        values_.measure,
        values_.value,
        values_.missing_reason,
        values_.load_ids,
        values_.derivation,
        values_.city_value_source
    from values_
    inner join editions
        on values_.period between editions.valid_from and editions.valid_to
    inner join ancestors
        on ancestors.area_edition = editions.area_edition
        and ancestors.area_code = values_.area_code
    where values_.area_level = 'gemeente'
        or not exists (
            select 1 from foreign_editions as f
            where f.source = values_.source and f.period = values_.period
        )

),

mapped as (

    select
        values_.period,
        editions.area_edition,
        ancestors.ancestor_code as gemeente_code,
        overlay.to_area_code as area_code,
        false as is_city,
        values_.source,
        values_.variable,
        any_value(values_.measure) as measure,
        case
            when count(*) filter (where values_.missing_reason in ('hidden', 'unknown', 'invalid')) > 0 then null
            when any_value(values_.measure) = 'count' then sum(overlay.share * coalesce(values_.value, 0))
            else sum(overlay.share * overlay.from_population * values_.value)
                / nullif(sum(overlay.share * overlay.from_population) filter (where values_.value is not null), 0)
        end as value,
        min(values_.missing_reason) filter (where values_.missing_reason in ('hidden', 'unknown', 'invalid')) as missing_reason,
        list_distinct(flatten(list(values_.load_ids))) as load_ids,
        string_agg(distinct overlay.method, '; ') as derivation,
        'published' as city_value_source
    from values_
    inner join foreign_editions
        on foreign_editions.source = values_.source
        and foreign_editions.period = values_.period
    inner join {{ ref('int_division_overlay') }} as overlay
        on overlay.from_source = values_.source
        and overlay.from_edition = foreign_editions.from_edition
        and overlay.from_area_code = values_.area_code
    inner join editions
        on values_.period between editions.valid_from and editions.valid_to
        and editions.area_edition = overlay.to_edition
    inner join ancestors
        on ancestors.area_edition = editions.area_edition
        and ancestors.area_code = overlay.to_area_code
    where values_.area_level = '{{ var("compass_level") }}'
    group by values_.period, editions.area_edition, ancestors.ancestor_code, overlay.to_area_code,
        values_.source, values_.variable

),

mapped_gaps as (

    -- a compass area that no piece of the delivering division reaches (or only pieces without
    -- inhabitants) is still in the figures: without a value, so it is suppressed as 'no value'
    select
        frame.period, frame.area_edition, areas.gemeente_code, areas.area_code, false as is_city,
        frame.source, frame.variable, frame.measure, cast(null as double) as value,
        cast(null as varchar) as missing_reason, frame.load_ids, frame.derivation,
        'published' as city_value_source
    from (
        select period, area_edition, source, variable, any_value(measure) as measure,
            list_distinct(flatten(list(load_ids))) as load_ids,
            string_agg(distinct derivation, '; ') as derivation
        from mapped
        group by all
    ) as frame
    inner join (
        select distinct area_edition, gemeente_code, area_code from {{ ref('int_buurten_mapped_to_compass_areas') }}
    ) as areas
        on areas.area_edition = frame.area_edition
    anti join mapped
        on mapped.period = frame.period
        and mapped.source = frame.source
        and mapped.variable = frame.variable
        and mapped.area_code = areas.area_code

),

located as (

    select * from native
    union all by name
    select * from mapped
    union all by name
    select * from mapped_gaps

),

final as (

    select
        period,
        area_edition,
        gemeente_code,
        area_code,
        is_city,
        source,
        variable,
        measure,
        value,
        missing_reason,
        load_ids,
        derivation,
        city_value_source
    from located

)

select * from final
