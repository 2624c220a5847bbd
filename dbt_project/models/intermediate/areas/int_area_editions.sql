-- One row per area edition with the years it is valid: an edition holds from its year until the
-- next edition starts. Editions after the edition being built (var current_period) are left out:
-- a division delivered early for next year does not make this year's compass unpublishable, and
-- the current area edition is the newest one at or before current_period.

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
        edition as valid_from,
        coalesce(lead(edition) over (order by edition) - 1, 9999) as valid_to,
        edition = max(edition) over () as is_current
    from editions

)

select * from validity
