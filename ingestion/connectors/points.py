"""Facility points (kind ``points``: horeca, coffeeshops, bus stops ...) -> raw.points.

- ``point_key``: the source's id column (``columns: {point_key: ...}``; a duplicate id
  quarantines every copy), or the data row number where the source has no id (OpenStreetMap
  extracts made without their osm id).
- ``category``: a category column (``columns: {category: horecatype}``), else the source's
  ``category:`` option, else the source name.
- ``x_rd`` / ``y_rd``: from the x/y columns where both are numbers, else from a WKT ``geometry``
  column (a POINT; the centroid of anything else), in the source's ``crs:`` transformed to RD New
  with ``ST_Transform(..., always_xy := true)``. A point that is missing, not a number / WKT, or
  outside the CRS's range is a cell problem naming row and column; the point lands with NULL
  coordinates (it cannot be counted in an area, and the count of such points is visible).
- ``attributes``: every other delivered column (not under ignore_columns), as delivered, as JSON.
"""

from __future__ import annotations

from basismonitor.config import load_spatial

from ..context import STG, Counts, LoadContext, number_check_sql
from ..reader import Columns, stage
from ..sqlutil import ident, lit
from .areas import CRS_BOUNDS, WKT

OPTIONAL = ("point_key", "category", "name", "x", "y", "geometry")
RD = "EPSG:28992"


def land(ctx: LoadContext) -> Counts:
    mapping = dict(ctx.opt("columns") or {})
    optional = [c for c in OPTIONAL if c in mapping]
    st = stage(ctx, Columns(required=[], optional=optional, mapping=mapping, extras="keep",
                            ignore=[str(i) for i in ctx.opt("ignore_columns") or []]))
    label = {c: ctx.headers[st.columns[c]] for c in st.columns}
    has_xy = st.has("x") and st.has("y")
    if not has_xy and not st.has("geometry"):
        raise ctx.error(
            "no coordinate columns: expected "
            + " and ".join(str(mapping.get(c, c)) for c in ("x", "y"))
            + f" or a WKT {mapping.get('geometry', 'geometry')} column; the header has: "
            + ", ".join(ctx.headers.values()),
            column=str(mapping.get("x", "x")),
            hint="map the coordinate columns under columns: for this source in sources.yml")
    crs = str(st.crs or ctx.opt("crs") or "").upper()
    if crs not in CRS_BOUNDS:
        raise ctx.error(f"crs {crs or '(none)'} of the points is not one of "
                        + ", ".join(CRS_BOUNDS),
                        hint="declare crs: EPSG:4326 or EPSG:28992 for this source")
    load_spatial(ctx.con)
    if st.has("point_key"):
        ctx.check_required({"point_key": label["point_key"]})
        ctx.check_duplicates(["point_key"], label["point_key"])

    parts, where = [], []
    both = "false"
    if has_xy:
        lab = lit(f"{label['x']}/{label['y']}")
        xs, ys = (f"nullif(trim(s.{c}), '')" for c in ("x", "y"))
        both = f"{number_check_sql(xs, '.')} and {number_check_sql(ys, '.')}"
        parts.append(f"when {both} then ST_Point({xs}::double, {ys}::double)")
        where.append(f"{label['x']}/{label['y']}")
        if not st.has("geometry"):
            ctx.problems(f"""select s._row_number, {lab},
                    coalesce({xs}, '') || ' / ' || coalesce({ys}, ''),
                    {lab} || ' ''' || coalesce({xs}, '') || ' / ' || coalesce({ys}, '') ||
                    ''' is not a pair of numbers; the point is landed without coordinates',
                    'cell'
                from {ctx.good()} and not coalesce({both}, false)""")
    if st.has("geometry"):
        g = "nullif(trim(s.geometry), '')"
        ok = f"regexp_full_match({g}, {lit(WKT)})"
        parts.append(f"when {ok} then ST_Centroid(ST_GeomFromText({g}))")
        where.append(label["geometry"])
        usable_xy = f"({both})" if has_xy else "false"
        ctx.problems(f"""select s._row_number, {lit(' or '.join(where))}, left(s.geometry, 200),
                {lit(label['geometry'])} || ' ' || coalesce('''' || left({g}, 60) || '''',
                '(empty)') || ' is not WKT' || {lit(' and ' + where[0] + ' are not numbers'
                                                    if has_xy else '')}
                || '; the point is landed without coordinates', 'cell'
            from {ctx.good()} and not coalesce({ok}, false)
              and not coalesce({usable_xy}, false)""")
    point = "case " + " ".join(parts) + " end"
    if crs != RD:
        point = f"ST_Transform({point}, {lit(crs)}, {lit(RD)}, always_xy := true)"
    x0, y0, x1, y1 = CRS_BOUNDS[RD]
    category = ("nullif(trim(s.category), '')" if st.has("category")
                else lit(str(ctx.opt("category") or ctx.source.name)))
    name = "nullif(trim(s.name), '')" if st.has("name") else "NULL"
    key = "trim(s.point_key)" if st.has("point_key") else "s._row_number::varchar"
    attributes = ("to_json(struct_pack(" + ", ".join(
        f"{ident(ctx.headers[c])} := s.{ident(c)}" for c in st.extras) + "))"
                  if st.extras else "NULL")
    ctx.con.execute(f"""create or replace temp table _points as
        select s._row_number, {key} as point_key, {category} as category, {name} as name,
               ST_X(p) as x, ST_Y(p) as y, {attributes} as attributes
        from (select *, {point} as p from {ctx.good()}) s""")
    ctx.problems(f"""select _row_number, {lit(' or '.join(where))}, round(x) || ' / ' || round(y),
            'the point lies outside RD New (x ' || round(x) || ', y ' || round(y) || ') after '
            || 'transformation from {crs}: another coordinate system?; landed without '
            || 'coordinates', 'cell'
        from _points where x not between {x0} and {x1} or y not between {y0} and {y1}""")
    inside = f"x between {x0} and {x1} and y between {y0} and {y1}"
    ctx.con.execute(f"""insert into raw.points (period, point_key, category, name, x_rd, y_rd,
            attributes, _source, _file, _sha256, _row_number, _load_id, _loaded_at)
        select {ctx.period}, point_key, category, name,
               case when {inside} then x end, case when {inside} then y end, attributes,
               {ctx.lineage('_row_number')}
        from _points order by _row_number""")
    landed = ctx.count(f"select count(*) from raw.points where _load_id = {lit(ctx.load_id)}")
    return ctx.finish(landed, raw_row_table=STG)
