"""Stage a GIS file -- a zipped shapefile (.zip), a shapefile (.shp with its .shx/.dbf/.prj
beside it) or a GeoPackage (.gpkg) -- as ``stg`` through DuckDB's spatial extension (``ST_Read``,
GDAL inside DuckDB): the attributes become VARCHAR columns like a CSV's, the geometry one WKT
column named as the source maps ``geometry_wkt`` (default ``geometry``), and the CRS read from the
.prj / the GeoPackage's spatial reference is returned in ``Staged.crs``.

Rules (each failure names the file, and the layers or sidecars involved):
- a shapefile needs its .shx and .dbf; without a .prj its CRS is unknown: the file fails unless
  the source declares ``crs:`` (then that CRS is used, and the load message says so);
- a source that declares ``crs:`` and a file whose CRS differs: the file fails (a declared
  EPSG:4326 source delivered in RD New would otherwise land metres as degrees);
- a file with several layers (a GeoPackage, or a zip holding several shapefiles): the file fails
  naming the layers, unless ``layer:`` chooses one.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from basismonitor.config import load_spatial

from .context import LoadContext
from .reader import Columns, Staged, _stage_duckdb
from .sqlutil import ident, lit

GIS_SUFFIXES = {".zip", ".shp", ".gpkg"}


SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def shapefile_sha256(path: Path) -> str:
    """The sha256 of a bare shapefile and its sidecars together (.shp, .shx, .dbf, .prj, .cpg
    beside it, in that order, each part's suffix and length before its bytes): a corrected .dbf
    or .prj is a new delivery, not 'already landed'."""
    digest = hashlib.sha256()
    by_suffix = {p.suffix.lower(): p for p in path.parent.iterdir()
                 if p.is_file() and p.stem == path.stem}
    for suffix in SHAPEFILE_PARTS:
        part = by_suffix.get(suffix)
        if part is None:
            continue
        data = part.read_bytes()
        digest.update(f"{suffix}:{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def _crs_of(field: dict | None) -> str | None:
    crs = (field or {}).get("crs") or {}
    if crs.get("auth_name") and crs.get("auth_code"):
        return f"{crs['auth_name']}:{crs['auth_code']}".upper()
    return None


def _sidecars(ctx: LoadContext, stem: str, names: list[str], shown: str) -> list[str]:
    """The sidecars of shapefile `stem` among names (lower-case suffix -> present); fails
    without .shx or .dbf."""
    lower = {n.lower() for n in names}
    present = [s for s in (".shx", ".dbf", ".prj") if (stem + s).lower() in lower]
    missing = [s for s in (".shx", ".dbf") if s not in present]
    if missing:
        raise ctx.error(f"the shapefile {shown} has no {' and no '.join(missing)} beside it "
                        "(a shapefile is .shp + .shx + .dbf, and .prj for its coordinate system)",
                        hint="deliver the complete shapefile, preferably zipped")
    return present


def _target(ctx: LoadContext) -> tuple[str, str, bool]:
    """(GDAL path, name shown in messages, whether a .prj is known to be absent)."""
    path = ctx.path
    suffix = path.suffix.lower()
    if suffix == ".shp":
        names = [p.name for p in path.parent.iterdir()]
        present = _sidecars(ctx, path.stem, names, path.name)
        return str(path), path.name, ".prj" not in present
    if suffix == ".gpkg":
        return str(path), path.name, False
    try:
        with zipfile.ZipFile(path) as zf:
            members = [i.filename for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, OSError) as exc:
        raise ctx.error(f"not a readable zip file: {exc}",
                        hint="deliver the zipped shapefile again") from exc
    inner = [m for m in members if m.lower().endswith((".shp", ".gpkg"))
             and not Path(m).name.startswith((".", "__MACOSX"))]
    layer = ctx.opt("layer")
    if len(inner) > 1 and layer:
        chosen = [m for m in inner if Path(m).stem == str(layer)]
        inner = chosen or inner
    if not inner:
        raise ctx.error("the zip holds no shapefile (.shp) or GeoPackage (.gpkg); it has: "
                        + (", ".join(members[:20]) or "nothing"),
                        hint="deliver the zipped shapefile (with .shp, .shx, .dbf, .prj)")
    if len(inner) > 1:
        raise ctx.error("the zip holds several layers: " + ", ".join(inner),
                        hint="set layer: <name without extension> for this file in "
                             "sources.yml, or deliver one layer per zip")
    member = inner[0]
    shown = f"{path.name}!{member}"
    no_prj = False
    if member.lower().endswith(".shp"):
        stem = member[:-4]
        present = _sidecars(ctx, stem, members, shown)
        no_prj = ".prj" not in present
    return f"/vsizip/{path.resolve().as_posix()}/{member}", shown, no_prj


def stage_gis(ctx: LoadContext, cols: Columns) -> Staged:
    if ctx.path.stat().st_size == 0:
        raise ctx.error("the file is empty (0 bytes)", hint="deliver the file again")
    load_spatial(ctx.con)
    target, shown, no_prj = _target(ctx)
    try:
        meta = ctx.con.execute("select layers from ST_Read_Meta(?)", [target]).fetchone()
    except Exception as exc:   # duckdb.Error from GDAL: not a GIS file, damaged
        raise ctx.error(f"{shown} cannot be read as a GIS file: {str(exc).splitlines()[0]}",
                        hint="deliver the file again; it is damaged or of another type") from exc
    layers = list(meta[0] or []) if meta else []
    if not layers:
        raise ctx.error(f"{shown} has no layers", hint="deliver the file again")
    wanted = ctx.opt("layer")
    if wanted is not None:
        chosen = [lyr for lyr in layers if lyr["name"] == str(wanted)]
        if not chosen:
            raise ctx.error(f"{shown} has no layer {wanted!r} (layer: in sources.yml); its "
                            "layers are: " + ", ".join(lyr["name"] for lyr in layers),
                            hint="set layer: to one of these in sources.yml")
        layers = chosen
    if len(layers) > 1:
        raise ctx.error(f"{shown} has {len(layers)} layers: "
                        + ", ".join(f"{lyr['name']} ({lyr['feature_count']} features)"
                                    for lyr in layers),
                        hint="choose one with layer: <name> for this file in sources.yml "
                             "(one file pattern per layer)")
    layer = layers[0]
    fields = list(layer.get("geometry_fields") or [])
    if not fields:
        raise ctx.error(f"layer {layer['name']} of {shown} has no geometry",
                        hint="deliver the layer with its geometry, or as CSV with WKT")
    file_crs = _crs_of(fields[0])
    declared = ctx.opt("crs")
    declared = str(declared).upper() if declared else None
    if file_crs is None:
        if declared is None:
            what = ("has no .prj file" if no_prj
                    else "declares no coordinate system that maps to an EPSG code")
            raise ctx.error(f"{shown} {what}: its coordinates cannot be placed",
                            hint="deliver the .prj with the shapefile, or declare crs: "
                                 "EPSG:28992 (or EPSG:4326) for this file in sources.yml")
        crs = declared
        ctx.notes.append(f"{shown} declares no coordinate system; {declared} as configured "
                         "(crs:)")
    elif declared is not None and declared != file_crs:
        raise ctx.error(f"{shown} is in {file_crs} ({fields[0]['crs'].get('name')}), but the "
                        f"source declares crs: {declared}",
                        hint="remove crs: for this file pattern (the file's own CRS is then "
                             "used), or deliver the file in the declared CRS")
    else:
        crs = file_crs
    geom = fields[0]["name"]
    wkt_name = str(cols.mapping.get("geometry_wkt", "geometry"))
    con = ctx.con
    try:
        con.execute(f"""create or replace temp table _gis as
            select * from ST_Read({lit(target)}, layer := {lit(layer['name'])})""")
    except Exception as exc:
        raise ctx.error(f"{shown} cannot be read: {str(exc).splitlines()[0]}",
                        hint="deliver the file again") from exc
    names = [r[0] for r in con.execute("describe _gis").fetchall()]
    if geom not in names:   # GDAL names the geometry column as the spatial extension wants
        geom = next(n for n, t in con.execute("describe _gis").fetchall()
                    if str(t).upper().startswith("GEOMETRY"))
    # the layer's attribute fields as GDAL reports them; the feature id GDAL adds (OGC_FID for a
    # shapefile, fid for a GeoPackage) is no attribute of the delivery
    fields_meta = {f["name"] for f in (layer.get("fields") or [])}
    drop = [n for n in names if n == geom or (n not in fields_meta and n.lower() in
                                               ("ogc_fid", "fid"))]
    taken = {n.lower() for n in names if n not in drop}
    if wkt_name.lower() in taken:
        raise ctx.error(f"{shown} has an attribute {wkt_name!r} besides its geometry",
                        hint="map geometry_wkt: to another name under columns: in sources.yml")
    base = ctx.count("select coalesce(min(rowid), 0) from _gis")
    keep = ", ".join(ident(n) for n in names if n not in drop)
    con.execute(f"""create or replace temp view _gis_rows as
        select rowid - {base} + 1 as _gis_row, {keep + ', ' if keep else ''}
               ST_AsText({ident(geom)}) as {ident(wkt_name)} from _gis""")
    staged = _stage_duckdb(ctx, cols, "_gis_rows", row_expr="_gis_row", drop=("_gis_row",))
    staged.crs = crs
    ctx.notes.append(f"read {shown} layer {layer['name']} ({crs}) with DuckDB spatial")
    return staged
