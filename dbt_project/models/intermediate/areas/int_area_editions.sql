-- One row per area edition with the years it is valid: an edition holds from its year until the
-- next edition starts.

with

editions as (

    select distinct edition
    from {{ ref('stg_areas__areas') }}
    where area_level = 'buurt'

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
