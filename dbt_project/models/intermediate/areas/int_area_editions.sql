-- One row per area edition (area_edition: the year of an area division) with the years it is
-- valid: an area edition holds from its year until the next one starts. Area editions after the
-- edition being built (the publication, var edition) are left out: a division delivered early for
-- next year does not make this year's compass unpublishable, and the current area edition is the
-- newest one at or before the edition. The earliest area edition also holds for the years before
-- it (valid_from 1900).

with

editions as (

    select distinct area_edition
    from {{ ref('int_area_division') }}
    where area_level = 'buurt'
        and area_edition <= {{ var('edition') }}

),

validity as (

    select
        area_edition,
        -- the earliest division also holds for the years before it: figures located by
        -- geometry (grid squares, incidents) or by code need a division to land on
        case when area_edition = min(area_edition) over () then 1900 else area_edition end as valid_from,
        coalesce(lead(area_edition) over (order by area_edition) - 1, 9999) as valid_to,
        area_edition = max(area_edition) over () as is_current
    from editions

)

select * from validity
