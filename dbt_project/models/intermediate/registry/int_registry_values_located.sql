-- Registry (CBS Kerncijfers) figures of the compass areas and the gemeente, each with the gemeente
-- it belongs to in the edition in force in that year. The gemeente's own row is the figure the
-- source publishes for the city (not a sum of rounded parts).

with

values_ as (

    select * from {{ ref('stg_registry__values') }}

),

editions as (

    select * from {{ ref('int_area_editions') }}

),

ancestors as (

    select * from {{ ref('int_area_ancestors') }}
    where ancestor_level = 'gemeente'

),

final as (

    select
        values_.period,
        editions.edition,
        ancestors.ancestor_code as gemeente_code,
        values_.area_code,
        values_.area_level = 'gemeente' as is_city,
        values_.variable,
        values_.value,
        values_.missing_reason,
        values_.load_id
    from values_
    inner join editions
        on values_.period between editions.valid_from and editions.valid_to
    inner join ancestors
        on ancestors.edition = editions.edition
        and ancestors.area_code = values_.area_code
    where values_.area_level in ('gemeente', '{{ var("compass_level") }}')

)

select * from final
