{#- DuckDB's spatial extension for the models that place areas, squares and points (overlay,
    point in polygon, transforms). It cannot be downloaded at run time: basismonitor.config sets
    BASISMONITOR_SPATIAL_EXTENSION to the file the package duckdb-extension-spatial ships. An
    extension is loaded per database, so every thread's connection has it after this hook. -#}
{% macro load_spatial() -%}
    {%- set path = env_var('BASISMONITOR_SPATIAL_EXTENSION', '') -%}
    {%- if path -%} load '{{ path }}' {%- else -%} load spatial {%- endif -%}
{%- endmacro %}

{#- A geometry as RD New (EPSG:28992) metres from WKT in the CRS it was delivered in. -#}
{% macro rd_geometry(wkt, crs) -%}
    case
        when {{ wkt }} is null then null
        when coalesce({{ crs }}, 'EPSG:28992') = 'EPSG:28992' then ST_GeomFromText({{ wkt }})
        else ST_Transform(ST_GeomFromText({{ wkt }}), {{ crs }}, 'EPSG:28992', always_xy := true)
    end
{%- endmacro %}

{#- Places points in the buurten of the division in force in their year: `points` is a relation or
    CTE with point_id, year, x_rd, y_rd (RD New). Returns point_id, year, area_edition, buurt_code for
    the points that lie in a buurt (inside or on its border; a point on a shared border falls to the buurt with
    the lowest code); points outside every buurt give no row. The spatial predicate stands alone
    in a join of two plain scans so DuckDB plans its spatial (R-tree) join (with any join before
    it on the point side DuckDB fell back to a nested loop: 170x slower, benchmarks/bench_locate.py);
    the area edition is chosen after it by an equi-join. -#}
{% macro locate_in_buurten(points) -%}
    select located.point_id, located.year, located.area_edition, min(located.buurt_code) as buurt_code
    from (
        select p.point_id, p.year, b.area_edition, b.area_code as buurt_code
        from (select point_id, year, ST_Point(x_rd, y_rd) as pt from {{ points }}
              where x_rd is not null and y_rd is not null) as p
        inner join (
            select area_edition, area_code, ST_GeomFromWKB(geom_wkb) as geom
            from {{ ref('int_area_geometries') }} where area_level = 'buurt'
        ) as b
            on ST_Intersects(b.geom, p.pt)
    ) as located
    -- the area edition in force in the point's year, as an equi-join on a small year -> area_edition table
    inner join (
        select distinct pts.year, e.area_edition
        from {{ points }} as pts
        inner join {{ ref('int_area_editions') }} as e
            on pts.year between e.valid_from and e.valid_to
    ) as in_force
        on in_force.year = located.year
        and in_force.area_edition = located.area_edition
    group by all
{%- endmacro %}

{#- An area name as police exports and municipal divisions both write it: lower case, without a
    leading "Wijk 03 " / "Buurt 12 ", with hyphens, dots and runs of spaces folded to one space
    ("Wijk 03 Korrewegwijk" -> "korrewegwijk", "Binnenstad-Zuid" -> "binnenstad zuid"). -#}
{% macro normalised_area_name(expr) -%}
    nullif(trim(regexp_replace(regexp_replace(lower(trim({{ expr }})), '^(wijk|buurt)\s+[0-9]+\s+', ''), '[-.\s]+', ' ', 'g')), '')
{%- endmacro %}
