-- The status compass: for the edition (the current period) each compass area's position against
-- its city on every ring: indicator -> theme -> quadrant -> centre.
-- Indicator index = 100 + scale x polarity x (area - city) / spread, spread = the mean absolute
-- deviation of the city's areas from the city value, clipped to [index_min, index_max]. A survey
-- indicator leaves "gemiddeld" only when its contrast with the city is significant at 95%.
-- Composition indicators (polarity 0 / quadrant not judged) are shaded minder/meer, never judged.
-- Counts (kind registry_count: inhabitants, households, dwellings, surface) are descriptive: an
-- area's count against the city's total says nothing about its standing, so they are not in the
-- status compass at all (not indexed, not in a theme, quadrant or centre, not in the
-- similar-areas distance); fct_indicator_value and the profile show them, and the development
-- compass indexes their relative change.

with

facts as (

    select *
    from {{ ref('fct_indicator_value') }}
    where area_edition = (select area_edition from {{ ref('int_area_editions') }} where is_current)

),

indicators as (

    select * from {{ ref('dim_indicator') }}

),

current_values as (

    select * from facts where period = {{ var('edition') }}

),

reference_values as (

    select gemeente_code, indicator_code, value as city_value, weighting_converged as city_weighting_converged
    from facts
    where is_city
        and period = {% if var('reference') == 'base_year' %}{{ var('reference_year') }}{% else %}{{ var('edition') }}{% endif %}

),

compared as (

    select
        current_values.*,
        reference_values.city_value,
        reference_values.city_weighting_converged,
        indicators.source_kind,
        indicators.polarity,
        indicators.theme_code,
        indicators.quadrant_code,
        indicators.is_judged and indicators.polarity <> 0 as is_judged,
        indicators.theme_weight as weight,
        indicators.label_nl
    from current_values
    inner join indicators
        on indicators.indicator_code = current_values.indicator_code
    left join reference_values
        on reference_values.gemeente_code = current_values.gemeente_code
        and reference_values.indicator_code = current_values.indicator_code
    where not current_values.is_city
        and not {{ is_additive_total('indicators') }}

),

spreads as (

    select gemeente_code, indicator_code, {{ exact_avg('abs(value - city_value)') }} as spread
    from compared
    where value is not null and city_value is not null
    group by all

),

indicator_ring as (

    select
        {{ var('edition') }} as edition,
        -- the index compares the area with the city: flagged when either's raking failed
        compared.* replace ({{ converged_and('compared.weighting_converged', 'compared.city_weighting_converged') }} as weighting_converged),
        case
            when compared.value is null or compared.city_value is null then null
            when coalesce(spreads.spread, 0) = 0 then 100.0
            else round({{ clip_index("100 + " ~ var('index_scale') ~ " * (case when compared.polarity = 0 then 1 else compared.polarity end) * (compared.value - compared.city_value) / spreads.spread") }}, 1)
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
        -- a node that cannot be placed (no city value) shows no figure, like any suppressed node
        case when idx is not null then value end as value,
        city_value,
        idx as index_value,
        {{ compass_class('idx', 'is_judged', "source_kind = 'survey'", 'significant') }} as class,
        significant,
        suppressed or idx is null as suppressed,
        coalesce(suppression_reason, case when city_value is null then 'no city value' end) as suppression_reason,
        n_unweighted,
        standard_error,
        case when idx is not null then ci_low end as ci_low,
        case when idx is not null then ci_high end as ci_high,
        weighting_converged,
        cast(null as integer) as n_children,
        cast(null as integer) as n_children_shown,
        estimation_method
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
        cast(value as double) as value,
        cast(city_value as double) as city_value,
        cast(index_value as double) as index_value,
        cast(class as varchar) as class,
        cast(significant as boolean) as significant,
        cast(suppressed as boolean) as suppressed,
        cast(suppression_reason as varchar) as suppression_reason,
        cast(n_unweighted as bigint) as n_unweighted,
        cast(standard_error as double) as standard_error,
        cast(ci_low as double) as ci_low,
        cast(ci_high as double) as ci_high,
        cast(weighting_converged as boolean) as weighting_converged,
        cast(n_children as integer) as n_children,
        cast(n_children_shown as integer) as n_children_shown,
        -- issue 21: an indicator node's figure is direct or a modelschatting (fay_herriot)
        cast(estimation_method as varchar) as estimation_method
    from (
        select * from indicator_nodes
        union all by name
        select * from composite_nodes
    ) as nodes
    left join node_labels using (node_level, node_code)

)

select * from final
