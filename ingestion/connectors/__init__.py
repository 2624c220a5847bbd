"""One module per source kind; each ``land(ctx)`` stages the file, records its problems and
inserts the usable rows (see ingestion/README.md).

areas (areas, registry_wbk), crosswalk, population, registry (registry_kwb, registry_odata),
police, survey, activity; the spatial kinds grid (raw.grid_values), incidents (raw.incidents)
and points (raw.points). GIS files (zipped shapefile, .shp, GeoPackage) are staged by
ingestion/gis.py for any kind."""
