-- The crosswalk from another source's division onto the compass division, derived by overlay:
-- for every area of a delivering source (e.g. the CBS wijk- en buurtkaart 2017) at the compass
-- level, the pieces where it intersects the compass division's areas (var area_source, the edition
-- in force in the delivering edition's year). A piece's weight is the CBS 100 m grid's inhabitants
-- whose square centroid lies in it (the latest grid year at or before the edition); a delivering
-- area without any grid inhabitants is split by area instead. Pieces under 0.1% of the delivering
-- area's surface are digitising slivers between two drawings of the same border and are dropped.
-- share = the piece's weight / the area's total: the shares of each delivering area sum to 1.

with

delivering as (

    select
        source as from_source,
        area_edition as from_edition,
        area_code as from_area_code,
        {{ rd_geometry('geometry_wkt', 'crs') }} as geom
    from {{ ref('stg_areas__areas') }}
    where source <> '{{ var("area_source") }}'
        and area_level = '{{ var("compass_level") }}'
        and geometry_wkt is not null

),

division as (

    select
        area_edition as to_edition,
        area_code as to_area_code,
        {{ rd_geometry('geometry_wkt', 'crs') }} as geom
    from {{ ref('int_area_division') }}
    where area_level = '{{ var("compass_level") }}'
        and geometry_wkt is not null

),

target_edition as (

    select
        delivering.from_source,
        delivering.from_edition,
        coalesce(
            max(division_editions.to_edition) filter (where division_editions.to_edition <= delivering.from_edition),
            min(division_editions.to_edition)
        ) as to_edition
    from (select distinct from_source, from_edition from delivering) as delivering
    cross join (select distinct to_edition from division) as division_editions
    group by all

),

pieces as (

    select
        delivering.from_source,
        delivering.from_edition,
        delivering.from_area_code,
        division.to_edition,
        division.to_area_code,
        ST_Intersection(delivering.geom, division.geom) as piece,
        ST_Area(delivering.geom) as from_area
    from delivering
    inner join target_edition
        on target_edition.from_source = delivering.from_source
        and target_edition.from_edition = delivering.from_edition
    inner join division
        on division.to_edition = target_edition.to_edition
        and ST_Intersects(delivering.geom, division.geom)

),

pieces_kept as (

    select *, ST_Area(piece) as piece_area
    from pieces
    where ST_Area(piece) >= 0.001 * from_area

),

grid_years as (

    select
        editions.from_edition,
        max(grid.year) as grid_year
    from (select distinct from_edition from delivering) as editions
    inner join (
        select distinct year from {{ ref('stg_registry__grid_values') }}
        where variable = 'inw' and value is not null
    ) as grid
        on grid.year <= editions.from_edition
    group by all

),

squares as (

    select year, square_code, value as inhabitants, ST_Point(x_rd, y_rd) as centroid
    from {{ ref('stg_registry__grid_values') }}
    where variable = 'inw' and value is not null and x_rd is not null

),

piece_inhabitants as (

    select
        pieces_kept.from_source,
        pieces_kept.from_edition,
        pieces_kept.from_area_code,
        pieces_kept.to_area_code,
        sum(squares.inhabitants) as inhabitants
    from pieces_kept
    inner join grid_years
        on grid_years.from_edition = pieces_kept.from_edition
    inner join squares
        on squares.year = grid_years.grid_year
        and ST_Contains(pieces_kept.piece, squares.centroid)
    group by all

),

weighted as (

    select
        pieces_kept.from_source,
        pieces_kept.from_edition,
        pieces_kept.from_area_code,
        pieces_kept.to_edition,
        pieces_kept.to_area_code,
        pieces_kept.piece_area,
        coalesce(piece_inhabitants.inhabitants, 0) as inhabitants,
        sum(coalesce(piece_inhabitants.inhabitants, 0)) over from_area as from_inhabitants,
        sum(pieces_kept.piece_area) over from_area as from_piece_area,
        grid_years.grid_year
    from pieces_kept
    left join piece_inhabitants
        on piece_inhabitants.from_source = pieces_kept.from_source
        and piece_inhabitants.from_edition = pieces_kept.from_edition
        and piece_inhabitants.from_area_code = pieces_kept.from_area_code
        and piece_inhabitants.to_area_code = pieces_kept.to_area_code
    left join grid_years
        on grid_years.from_edition = pieces_kept.from_edition
    window from_area as (partition by pieces_kept.from_source, pieces_kept.from_edition, pieces_kept.from_area_code)

),

final as (

    select
        from_source,
        cast(from_edition as integer) as from_edition,
        from_area_code,
        cast(to_edition as integer) as to_edition,
        to_area_code,
        case
            when from_inhabitants > 0 then inhabitants / from_inhabitants
            else piece_area / from_piece_area
        end as share,
        -- the delivering area's inhabitants (grid) or 1: share x from_population is the mass of a
        -- piece when an inhabitant-weighted mean is formed on the compass division
        case when from_inhabitants > 0 then from_inhabitants else 1 end as from_population,
        'overlay ' || from_source || ' ' || from_edition || ' -> ' || '{{ var("area_source") }}' || ' '
            || to_edition || ', weighted by '
            || case when from_inhabitants > 0 then 'CBS grid inhabitants ' || grid_year else 'area' end
            as method
    from weighted

)

select * from final
where share > 0
