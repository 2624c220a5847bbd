-- One row per area edition with the years it is valid: an edition holds from its year until the
-- next edition starts. Editions after the edition being built (var current_period) are left out:
-- a division delivered early for next year does not make this year's compass unpublishable, and
-- the current area edition is the newest one at or before current_period. The earliest edition
-- also holds for the years before it (valid_from 1900).

with

editions as (

    select distinct edition
    from {{ ref('int_area_division') }}
    where area_level = 'buurt'
        and edition <= {{ var('current_period') }}

),

validity as (

    select
        edition,
        -- the earliest division also holds for the years before it: figures located by
        -- geometry (grid squares, incidents) or by code need a division to land on
        case when edition = min(edition) over () then 1900 else edition end as valid_from,
        coalesce(lead(edition) over (order by edition) - 1, 9999) as valid_to,
        edition = max(edition) over () as is_current
    from editions

)

select * from validity
