-- Registry figures (variables bound to an indicator in the seed registry_bindings) of the compass
-- areas and the gemeente, each with the gemeente it belongs to in the edition in force in that
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

values_ as (

    select values_.*, bound_variables.measure
    from delivered as values_
    inner join bound_variables
        on bound_variables.source = values_.source
        and bound_variables.variable = values_.variable
    where values_.area_level in ('gemeente', '{{ var("compass_level") }}')

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
    select sources.source, sources.period, max(divisions.edition) as from_edition
    from (select distinct source, period from values_) as sources
    inner join (
        select distinct source, edition from {{ ref('stg_areas__areas') }}
        where source <> '{{ var("area_source") }}'
    ) as divisions
        on divisions.source = sources.source
        and divisions.edition <= sources.period
    group by all

),

native as (

    select
        values_.period,
        editions.edition,
        ancestors.ancestor_code as gemeente_code,
        values_.area_code,
        values_.area_level = 'gemeente' as is_city,
        values_.source,
        values_.variable,
        values_.measure,
        values_.value,
        values_.missing_reason,
        values_.load_ids,
        values_.derivation
    from values_
    inner join editions
        on values_.period between editions.valid_from and editions.valid_to
    inner join ancestors
        on ancestors.edition = editions.edition
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
        editions.edition,
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
        string_agg(distinct overlay.method, '; ') as derivation
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
        and editions.edition = overlay.to_edition
    inner join ancestors
        on ancestors.edition = editions.edition
        and ancestors.area_code = overlay.to_area_code
    where values_.area_level = '{{ var("compass_level") }}'
    group by values_.period, editions.edition, ancestors.ancestor_code, overlay.to_area_code,
        values_.source, values_.variable

),

located as (

    select *, 'published' as city_value_source from native
    union all by name
    select *, 'published' as city_value_source from mapped

),

population_variables as (

    select distinct source, variable
    from {{ ref('registry_bindings') }}
    where indicator_code = 'inwoners' and role = 'value'

),

area_population as (

    select located.period, located.source, located.area_code, located.value as population
    from located
    inner join population_variables
        on population_variables.source = located.source
        and population_variables.variable = located.variable
    where not located.is_city

),

without_city as (

    select period, edition, gemeente_code, source, variable from located where not is_city
    except
    select period, edition, gemeente_code, source, variable from located where is_city

),

derived_city as (

    select
        located.period,
        located.edition,
        located.gemeente_code,
        located.gemeente_code as area_code,
        true as is_city,
        located.source,
        located.variable,
        any_value(located.measure) as measure,
        case
            when count(*) filter (where located.missing_reason in ('hidden', 'unknown', 'invalid')) > 0 then null
            when any_value(located.measure) = 'count' then sum(coalesce(located.value, 0))
            else sum(coalesce(area_population.population, 1) * located.value)
                / nullif(sum(coalesce(area_population.population, 1)) filter (where located.value is not null), 0)
        end as value,
        min(located.missing_reason) filter (where located.missing_reason in ('hidden', 'unknown', 'invalid')) as missing_reason,
        list_distinct(flatten(list(located.load_ids))) as load_ids,
        string_agg(distinct located.derivation, '; ') as derivation,
        'computed from areas' as city_value_source
    from located
    semi join without_city
        on without_city.period = located.period
        and without_city.edition = located.edition
        and without_city.gemeente_code = located.gemeente_code
        and without_city.source = located.source
        and without_city.variable = located.variable
    left join area_population
        on area_population.period = located.period
        and area_population.source = located.source
        and area_population.area_code = located.area_code
    where not located.is_city
    group by located.period, located.edition, located.gemeente_code, located.source, located.variable

),

final as (

    select
        period,
        edition,
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
    from (
        select * from located
        union all by name
        select * from derived_city
    )

)

select * from final
