-- The compass division's polygons in RD New (EPSG:28992) as WKB, once per build, for the models
-- that place squares, incidents and points in them (point in polygon).

select
    area_edition,
    area_code,
    area_level,
    ST_AsWKB({{ rd_geometry('geometry_wkt', 'crs') }}) as geom_wkb
from {{ ref('int_area_division') }}
where geometry_wkt is not null
