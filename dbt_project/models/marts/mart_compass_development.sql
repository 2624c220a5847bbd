-- The development compass: how each compass area changed from base_period to the edition (var edition)
-- against the city's change, on the current area edition (older figures recomputed through the
-- crosswalk). Index = 100 + scale x polarity x (area change - city change) / spread, spread = the
-- mean absolute deviation of the areas' changes from the city change. For survey indicators the
-- difference of changes is tested with the variance of both waves' contrasts (independent samples).
-- Counts and surfaces (macro is_additive_total) change relatively: change = 100 x (current / base
-- - 1) %, against the city's relative change.

with

facts as (

    select *
    from {{ ref('fct_indicator_value') }}
    where area_edition = (select area_edition from {{ ref('int_area_editions') }} where is_current)

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

paired as (

    select
        current_.gemeente_code,
        current_.area_code,
        current_.is_city,
        current_.area_edition,
        current_.indicator_code,
        current_.value as current_value,
        base.value as base_value,
        -- a count changes relatively (%): population growth is development, a wijk's absolute
        -- change against the city's total is not
        case
            when {{ is_additive_total('indicators') }} then 100 * (current_.value / nullif(base.value, 0) - 1)
            else current_.value - base.value
        end as change,
        current_.contrast_with_city - base.contrast_with_city as contrast_change,
        sqrt(current_.contrast_se * current_.contrast_se + base.contrast_se * base.contrast_se) as contrast_change_se,
        coalesce(current_.suppression_reason, base.suppression_reason,
            case when base.value is null then 'no value in base period ' || {{ var('base_period') }} end) as suppression_reason,
        current_.n_unweighted as n_unweighted_current,
        base.n_unweighted as n_unweighted_base,
        {{ converged_and('current_.weighting_converged', 'base.weighting_converged') }} as weighting_converged
    from facts as current_
    inner join indicators
        on indicators.indicator_code = current_.indicator_code
    left join facts as base
        on base.area_code = current_.area_code
        and base.indicator_code = current_.indicator_code
        and base.period = {{ var('base_period') }}
    where current_.period = {{ var('development_period') or var('edition') }}

),

compared as (

    select
        areas.* replace ({{ converged_and('areas.weighting_converged', 'city.weighting_converged') }} as weighting_converged),
        city.change as city_change,
        indicators.source_kind,
        indicators.polarity,
        indicators.theme_code,
        indicators.quadrant_code,
        indicators.is_judged and indicators.polarity <> 0 as is_judged,
        indicators.theme_weight as weight,
        case
            when indicators.source_kind = 'survey' and areas.contrast_change_se > 0
                then abs(areas.contrast_change) / areas.contrast_change_se > 1.959963984540054
        end as significant
    from paired as areas
    inner join indicators
        on indicators.indicator_code = areas.indicator_code
    left join paired as city
        on city.is_city
        and city.gemeente_code = areas.gemeente_code
        and city.indicator_code = areas.indicator_code
    where not areas.is_city

),

spreads as (

    select gemeente_code, indicator_code, {{ exact_avg('abs(change - city_change)') }} as spread
    from compared
    where change is not null and city_change is not null
    group by all

),

indicator_ring as (

    select
        {{ var('edition') }} as edition,
        compared.*,
        case
            when compared.change is null or compared.city_change is null or compared.suppression_reason is not null then null
            when coalesce(spreads.spread, 0) = 0 then 100.0
            else round({{ clip_index("100 + " ~ var('index_scale') ~ " * (case when compared.polarity = 0 then 1 else compared.polarity end) * (compared.change - compared.city_change) / spreads.spread") }}, 1)
        end as idx
    from compared
    left join spreads
        on spreads.gemeente_code = compared.gemeente_code
        and spreads.indicator_code = compared.indicator_code

),

{{ compass_rings('indicator_ring') }},

indicator_nodes as (

    select
        edition,
        area_edition,
        gemeente_code,
        area_code,
        'indicator' as node_level,
        indicator_code as node_code,
        theme_code as parent_node_code,
        quadrant_code,
        is_judged,
        change as value,
        city_change as city_value,
        base_value,
        current_value,
        idx as index_value,
        {{ compass_class('idx', 'is_judged', "source_kind = 'survey'", 'significant') }} as class,
        significant,
        idx is null as suppressed,
        coalesce(suppression_reason, case when idx is null then 'no city change' end) as suppression_reason,
        weighting_converged,
        cast(null as integer) as n_children,
        cast(null as integer) as n_children_shown
    from indicator_ring

),

composite_nodes as (

    -- the theme, quadrant and centre rows: no figure of their own, only the index and its class
    {{ compass_composite_nodes(ref('int_area_editions')) }}
),

node_labels as (

    -- the Dutch label of every node, so a BI tool needs no lookup (issue 19)
    {{ compass_node_labels('indicators') }}
),

final as (

    select
        cast(edition as integer) as edition,
        cast({{ var('base_period') }} as integer) as base_period,
        cast({{ var('development_period') or var('edition') }} as integer) as current_period,
        cast(area_edition as integer) as area_edition,
        cast(gemeente_code as varchar) as gemeente_code,
        cast(area_code as varchar) as area_code,
        cast(node_level as varchar) as node_level,
        cast(node_code as varchar) as node_code,
        -- unique within an area (issue 19: the indicator and the theme 'huishoudens' share a code)
        cast(node_level || ':' || node_code as varchar) as node_key,
        cast(node_labels.label_nl as varchar) as node_label_nl,
        cast(parent_node_code as varchar) as parent_node_code,
        cast(quadrant_code as varchar) as quadrant_code,
        cast(is_judged as boolean) as is_judged,
        cast(base_value as double) as base_value,
        cast(current_value as double) as current_value,
        cast(value as double) as change,
        cast(city_value as double) as city_change,
        cast(index_value as double) as index_value,
        cast(class as varchar) as class,
        cast(significant as boolean) as significant,
        cast(suppressed as boolean) as suppressed,
        cast(suppression_reason as varchar) as suppression_reason,
        cast(weighting_converged as boolean) as weighting_converged,
        cast(n_children as integer) as n_children,
        cast(n_children_shown as integer) as n_children_shown
    from (
        select * from indicator_nodes
        union all by name
        select * from composite_nodes
    ) as nodes
    left join node_labels using (node_level, node_code)

)

select * from final
