"""Area divisions (kind ``areas``) and CBS wijk- en buurtkaart attribute files (``registry_wbk``).

Both land raw.areas for edition = period with their WKT geometry (crs from the config, or from
the file for a zipped shapefile / GeoPackage read by ingestion/gis.py); the
attribute columns (``values:`` for areas, every other column for registry_wbk) land long in
raw.registry_values. A geometry that does not parse as WKT, or lies outside the declared CRS,
is quarantined as a cell and the area lands without geometry.
"""

from __future__ import annotations

from ..context import PROBLEMS, STG, Counts, LoadContext
from ..reader import Columns, stage
from ..sqlutil import ident, in_list, lit
from .values import land_values

LEVELS = ("gemeente", "stadsdeel", "wijk", "buurt", "analysegebied")
DEFAULT_COLUMNS = {"area_code": "code", "area_name": "naam", "area_level": "niveau",
                   "parent_code": "ouder_code", "geometry_wkt": "geometrie"}
# Coordinate bounds per CRS: a geometry outside them is in another coordinate system.
CRS_BOUNDS = {
    "EPSG:4326": (-180.0, -90.0, 180.0, 90.0),
    "EPSG:28992": (-7000.0, 289000.0, 300000.0, 629000.0),
}


def land(ctx: LoadContext) -> Counts:
    mapping = dict(ctx.opt("columns") or DEFAULT_COLUMNS)
    level_fixed = ctx.opt("level")
    if level_fixed:
        mapping.pop("area_level", None)
    wbk = ctx.source.kind == "registry_wbk"
    values = [str(v) for v in (ctx.opt("values") or [])]
    value_map = {v.lower(): v for v in values}
    st = stage(ctx, Columns(
        required=list(mapping),
        optional=list(value_map),
        mapping={**mapping, **value_map},
        extras="keep" if wbk else ctx.opt("extra_columns", "fail"),
        ignore=[str(i) for i in ctx.opt("ignore_columns") or []],
    ))
    value_cols = [st.columns[v] for v in value_map if st.has(v)] + st.extras
    code = f"trim(s.{st.col('area_code')})"
    labels = {c: ctx.headers.get(st.columns[c], c) for c in st.columns}

    ctx.check_required({st.columns["area_code"]: labels["area_code"],
                        st.columns["area_name"]: labels["area_name"]})
    if not level_fixed:
        col = st.col("area_level")
        ctx.problems(f"""select s._row_number, {lit(labels['area_level'])}, s.{col},
            {lit(labels['area_level'])} || ' ' || coalesce('''' || trim(s.{col}) || '''',
            '(empty)') || ' is not one of {", ".join(LEVELS)}', 'row'
            from {STG} s where lower(trim(s.{col})) not in {in_list(LEVELS)}
              or s.{col} is null""")
    ctx.check_duplicates([st.columns["area_code"]], "area code")
    acol = st.col("area_code")
    ctx.problems(f"""select s._row_number, {lit(labels['area_code'])}, s.{acol},
        'area code ' || {code} || ' is already landed for edition {ctx.period} of source '
        || {lit(ctx.source.name)} || ' by ' || min(a._file), 'row'
        from {STG} s join raw.areas a on a._source = {lit(ctx.source.name)}
            and a.edition = {ctx.period} and a.area_code = {code}
        group by s._row_number, s.{acol}""")

    # a GIS file (zipped shapefile, GeoPackage) carries its own CRS; a CSV's is declared
    crs = st.crs or ctx.opt("crs")
    geometry = "NULL"
    if st.has("geometry_wkt"):
        geometry = _check_geometry(ctx, st.col("geometry_wkt"), labels["geometry_wkt"], crs)

    level_sql = lit(level_fixed) if level_fixed else f"lower(trim(s.{st.col('area_level')}))"
    if st.has("parent_code"):
        parent = f"nullif(trim(s.{st.col('parent_code')}), '')"
        _check_parent_cycles(ctx, code, parent, labels["parent_code"], st.col("parent_code"))
    elif ctx.opt("parent") == "from_code":
        parent = (f"case when {code} like 'BU%' and length({code}) = 10 "
                  f"then 'WK' || substr({code}, 3, 6) "
                  f"when {code} like 'WK%' and length({code}) = 8 "
                  f"then 'GM' || substr({code}, 3, 4) end")
    else:
        parent = "NULL"
    ctx.con.execute(f"""create or replace temp table _area_rows as
        select s._row_number, {ctx.period} as period, {code} as area_code,
               {level_sql} as area_level, trim(s.{st.col('area_name')}) as area_name,
               {parent} as parent_code, {geometry} as geometry_wkt,
               {', '.join(f's.{ident(c)}' for c in value_cols) or 'NULL as _none'}
        from {ctx.good()}""")
    ctx.con.execute(f"""insert into raw.areas (edition, area_code, area_name, area_level,
            parent_code, geometry_wkt, crs, _source, _file, _sha256, _row_number, _load_id,
            _loaded_at)
        select period, area_code, area_name, area_level, parent_code, geometry_wkt,
               {lit(crs)}, {ctx.lineage('_row_number')}
        from _area_rows order by _row_number""")
    landed = ctx.count("select count(*) from _area_rows")
    if value_cols:
        land_values(ctx, "_area_rows", value_cols)
    return ctx.finish(landed)


def _check_parent_cycles(ctx: LoadContext, code: str, parent: str, label: str, col: str) -> None:
    """Every row of a parent cycle (an area that is its own parent, grandparent, ...) is
    rejected, naming the cycle's codes: dbt's tree test would otherwise fail later on the
    whole edition without saying which file or codes. A row that only hangs below a cycle is
    kept (its own parent link is fine) and is reported by its missing ancestor later."""
    ctx.problems(f"""
        with recursive edges as (
            select s._row_number, {code} as child, {parent} as parent
            from {ctx.good()} and {parent} is not null),
        walk(start_row, start, node, path, depth) as (
            select _row_number, child, parent, [child, parent], 1 from edges
            union all
            select w.start_row, w.start, e.parent, list_append(w.path, e.parent), w.depth + 1
            from walk w join edges e on e.child = w.node
            where w.node <> w.start and w.depth < 12)
        select w.start_row, {lit(label)}, s.{col},
            'parent cycle: ' || array_to_string(w.path, ' -> ') || ' (area ' || w.start ||
            ' is its own ' || case w.depth when 1 then 'parent' when 2 then 'grandparent'
            else 'ancestor' end || '); every area of the cycle is quarantined', 'row'
        from walk w join {STG} s on s._row_number = w.start_row
        where w.node = w.start""")


# WKT grammar (2D/3D points; POINT, LINESTRING, POLYGON and their MULTI forms, or EMPTY), exact
# enough to refuse a cut-off or garbled geometry, checked by DuckDB's RE2 without any extension.
_NUM = r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_PT = rf"{_NUM}\s+{_NUM}(?:\s+{_NUM}){{0,2}}"
_SEQ = rf"\(\s*{_PT}(?:\s*,\s*{_PT})*\s*\)"
_POLY = rf"\(\s*{_SEQ}(?:\s*,\s*{_SEQ})*\s*\)"
_MPOLY = rf"\(\s*{_POLY}(?:\s*,\s*{_POLY})*\s*\)"
_MPT = rf"(?:{_PT}|\(\s*{_PT}\s*\))"
_DIM = r"\s*(?:Z|M|ZM)?\s*"
WKT = (rf"^\s*(?i:POINT{_DIM}\(\s*{_PT}\s*\)|LINESTRING{_DIM}{_SEQ}|POLYGON{_DIM}{_POLY}"
       rf"|MULTIPOINT{_DIM}\(\s*{_MPT}(?:\s*,\s*{_MPT})*\s*\)|MULTILINESTRING{_DIM}{_POLY}"
       rf"|MULTIPOLYGON{_DIM}{_MPOLY}"
       rf"|(?:POINT|LINESTRING|POLYGON|MULTIPOINT|MULTILINESTRING|MULTIPOLYGON)\s+EMPTY)\s*$")


def _check_geometry(ctx: LoadContext, col: str, label: str, crs: str | None) -> str:
    """Cell problems for geometries that are not WKT (or lie outside the CRS's coordinate
    range); returns the SQL of the geometry to land (NULL for a quarantined one)."""
    g = f"nullif(trim(s.{col}), '')"
    shown = f"left(s.{col}, 200) || case when length(s.{col}) > 200 then '...' else '' end"
    ctx.problems(f"""select s._row_number, {lit(label)}, {shown},
            'geometry does not parse as WKT: ' || left({g}, 60) ||
            '...; the area is landed without geometry', 'cell'
        from {STG} s where {g} is not null and not regexp_full_match({g}, {lit(WKT)})""")
    if crs in CRS_BOUNDS:
        x0, y0, x1, y1 = CRS_BOUNDS[crs]
        ctx.problems(f"""
            with xy as (
                select _row_number, wkt,
                       list_transform(regexp_extract_all(wkt, {lit(_NUM)}), v -> v::double) n
                from (select s._row_number, {g} as wkt from {STG} s
                      where regexp_full_match({g}, {lit(WKT)})
                        and not regexp_matches({g}, '(?i)^\\s*\\w+\\s*(Z|M|ZM)\\s*\\(')
                        and not regexp_matches({g}, '(?i)EMPTY'))),
            box as (select _row_number, wkt,
                           list_min(list_filter(n, (v, i) -> i % 2 = 1)) xmin,
                           list_max(list_filter(n, (v, i) -> i % 2 = 1)) xmax,
                           list_min(list_filter(n, (v, i) -> i % 2 = 0)) ymin,
                           list_max(list_filter(n, (v, i) -> i % 2 = 0)) ymax from xy)
            select _row_number, {lit(label)}, left(wkt, 200),
                'geometry lies outside the coordinate range of {crs} (x ' || round(xmin, 1) ||
                '..' || round(xmax, 1) || ', y ' || round(ymin, 1) || '..' || round(ymax, 1) ||
                '): another coordinate system?; the area is landed without geometry', 'cell'
            from box where xmin < {x0} or ymin < {y0} or xmax > {x1} or ymax > {y1}""")
    return (f"case when s._row_number in (select _row_number from {PROBLEMS} "
            f"where scope = 'cell' and column_name = {lit(label)}) then NULL else {g} end")
