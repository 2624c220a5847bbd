{#- The inner rings of a compass from its indicator ring. `indicator_ring` is a CTE with one row per
    (edition, gemeente_code, area_code, indicator) holding: theme_code, quadrant_code, is_judged,
    weight, idx (null when not shown). Each composite is the weighted mean of its children's indices,
    shown only when at least var('min_children_share') of its children are shown; composition
    (not judged) is left out of the centre. Each ring carries its mean as an exact ratio (raw_num /
    raw_den of exact decimal sums), rounded half away from zero (round_ratio) for publication.
    Returns CTEs themes_ring, quadrants_ring, centre_ring, composites, composites_classed. -#}
{% macro compass_rings(indicator_ring) %}
themes_ring as (

    select
        edition,
        gemeente_code,
        area_code,
        theme_code as node_code,
        any_value(quadrant_code) as quadrant_code,
        -- a theme is judged when any of its indicators is; its index then averages the judged
        -- indicators only (descriptive ones are shown, not counted in a judgement)
        bool_or(is_judged) as is_judged,
        case when bool_or(is_judged) then count(*) filter (where is_judged) else count(*) end as n_children,
        case when bool_or(is_judged) then count(idx) filter (where is_judged) else count(idx) end as n_children_shown,
        case
            when bool_or(is_judged) then {{ exact_sum('idx * weight') }} filter (where idx is not null and is_judged)
            else {{ exact_sum('idx * weight') }} filter (where idx is not null)
        end as raw_num,
        case
            when bool_or(is_judged) then {{ exact_sum('weight') }} filter (where idx is not null and is_judged)
            else {{ exact_sum('weight') }} filter (where idx is not null)
        end as raw_den,
        -- false when the raking behind an indicator it averages did not converge (issue 19)
        bool_and(weighting_converged) filter (where idx is not null) as weighting_converged
    from {{ indicator_ring }}
    group by edition, gemeente_code, area_code, theme_code

),

quadrants_ring as (

    select
        themes_ring.edition,
        themes_ring.gemeente_code,
        themes_ring.area_code,
        themes_ring.quadrant_code as node_code,
        themes_ring.quadrant_code,
        bool_or(themes_ring.is_judged) as is_judged,
        count(*) as n_children,
        count(*) filter (where themes_ring.n_children_shown >= {{ var('min_children_share') }} * themes_ring.n_children and themes_ring.raw_idx is not null) as n_children_shown,
        {{ exact_sum('themes_ring.raw_idx * themes.weight') }} filter (where themes_ring.n_children_shown >= {{ var('min_children_share') }} * themes_ring.n_children) as raw_num,
        {{ exact_sum('themes.weight') }} filter (where themes_ring.n_children_shown >= {{ var('min_children_share') }} * themes_ring.n_children and themes_ring.raw_idx is not null) as raw_den,
        bool_and(themes_ring.weighting_converged) as weighting_converged
    from (select *, (raw_num / nullif(raw_den, 0))::double as raw_idx from themes_ring) as themes_ring
    inner join {{ ref('themes') }} as themes on themes.theme_code = themes_ring.node_code
    group by themes_ring.edition, themes_ring.gemeente_code, themes_ring.area_code, themes_ring.quadrant_code

),

centre_ring as (

    select
        quadrants_ring.edition,
        quadrants_ring.gemeente_code,
        quadrants_ring.area_code,
        'centrum' as node_code,
        cast(null as varchar) as quadrant_code,
        true as is_judged,
        count(*) as n_children,
        count(*) filter (where quadrants_ring.n_children_shown >= {{ var('min_children_share') }} * quadrants_ring.n_children and quadrants_ring.raw_idx is not null) as n_children_shown,
        {{ exact_sum('quadrants_ring.raw_idx') }} filter (where quadrants_ring.n_children_shown >= {{ var('min_children_share') }} * quadrants_ring.n_children) as raw_num,
        cast(count(quadrants_ring.raw_idx) filter (where quadrants_ring.n_children_shown >= {{ var('min_children_share') }} * quadrants_ring.n_children) as decimal(38, 12)) as raw_den,
        bool_and(quadrants_ring.weighting_converged) as weighting_converged
    from (select *, (raw_num / nullif(raw_den, 0))::double as raw_idx from quadrants_ring) as quadrants_ring
    inner join {{ ref('quadrants') }} as quadrants on quadrants.quadrant_code = quadrants_ring.node_code
    where quadrants.in_centre
    group by quadrants_ring.edition, quadrants_ring.gemeente_code, quadrants_ring.area_code

),

composites as (

    select 'theme' as node_level, themes_ring.*, themes_ring.quadrant_code as parent_node_code from themes_ring
    union all by name
    select 'quadrant' as node_level, quadrants_ring.*, 'centrum' as parent_node_code from quadrants_ring
    union all by name
    select 'centre' as node_level, centre_ring.*, cast(null as varchar) as parent_node_code from centre_ring

),

composites_classed as (

    select
        * exclude (raw_num, raw_den),
        n_children_shown >= {{ var('min_children_share') }} * n_children and raw_idx is not null as shown,
        -- rounded before classing, so the published index and its class always agree; the exact
        -- weighted mean (a ratio of exact decimal sums) is rounded half away from zero (macro
        -- round_ratio), not its double approximation (77.15 was published as 77.1, issue 19)
        case when n_children_shown >= {{ var('min_children_share') }} * n_children then {{ round_ratio('raw_num', 'raw_den', 1) }} end as idx
    from (select *, (raw_num / nullif(raw_den, 0))::double as raw_idx from composites) as composites

)
{% endmacro %}

{#- The composite nodes (theme, quadrant, centre) of a compass mart from compass_rings'
    composites_classed, on the current area edition of `area_editions` (the int_area_editions
    relation the mart passes in). Only the columns both compasses share: a mart's figure columns
    (value, city_value, base_value, n_unweighted, ...) stay null by its `union all by name` with
    its indicator nodes, and its final select casts every column. -#}
{% macro compass_composite_nodes(area_editions) %}
    select
        edition,
        (select area_edition from {{ area_editions }} where is_current) as area_edition,
        gemeente_code,
        area_code,
        node_level,
        node_code,
        parent_node_code,
        quadrant_code,
        is_judged,
        idx as index_value,
        {{ index_class('idx', 'is_judged') }} as class,
        cast(null as boolean) as significant,
        not shown as suppressed,
        case when not shown then 'too few parts shown (' || n_children_shown || ' of ' || n_children || ')' end as suppression_reason,
        weighting_converged,
        n_children,
        n_children_shown
    from composites_classed
{% endmacro %}

{#- The Dutch label of every node of a compass (issue 19: a BI tool needs no lookup), from the
    mart's `indicators` CTE (dim_indicator's rows). -#}
{% macro compass_node_labels(indicators) %}
    select 'indicator' as node_level, indicator_code as node_code, label_nl from {{ indicators }}
    union all
    select 'theme', theme_code, any_value(theme_label_nl) from {{ indicators }} group by theme_code
    union all
    select 'quadrant', quadrant_code, any_value(quadrant_label_nl) from {{ indicators }} group by quadrant_code
    union all
    select 'centre', 'centrum', 'Centrum'
{% endmacro %}
