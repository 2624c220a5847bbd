-- Every area with each of its ancestors (itself included) within its edition: the closure of the
-- parent relation, so any level can be reached from a buurt in one join.

with recursive

areas as (

    select area_edition, area_code, area_level, parent_code
    from {{ ref('int_area_division') }}

),

closure(area_edition, area_code, area_level, ancestor_code, depth) as (

    select area_edition, area_code, area_level, area_code, 0
    from areas

    union all

    select c.area_edition, c.area_code, c.area_level, a.parent_code, c.depth + 1
    from closure as c
    inner join areas as a
        on a.area_edition = c.area_edition
        and a.area_code = c.ancestor_code
    where a.parent_code is not null
        and c.depth < 10

),

final as (

    select
        closure.area_edition,
        closure.area_code,
        closure.area_level,
        closure.ancestor_code,
        ancestor.area_level as ancestor_level,
        closure.depth
    from closure
    inner join areas as ancestor
        on ancestor.area_edition = closure.area_edition
        and ancestor.area_code = closure.ancestor_code

)

select * from final
