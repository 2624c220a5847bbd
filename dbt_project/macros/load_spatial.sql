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
