"""Geometry: the map's areas drawn by DuckDB spatial, and the compass's ring layout.

The map (`map_shapes`) is computed on the whole coverage at once with DuckDB's spatial extension
(GEOS underneath): WKT parsed by ST_GeomFromText, projected onto the SVG viewBox by ST_Affine,
made a clean coverage by ST_CoverageClean (neighbours that do not quite meet in the source, e.g.
after a reprojection, get exactly shared edges), simplified to the pixel by ST_CoverageSimplify
(each shared border simplified once, so neighbours still meet: no gaps, no overlaps), snapped to
the written precision by ST_ReducePrecision, labelled at the centre of ST_MaximumInscribedCircle
(the point inside the drawn area farthest from its border, also when the area is concave: a
centroid can fall outside, ST_PointOnSurface is inside but often beside a border) and written
by ST_AsSVG.

ST_CoverageSimplify is Visvalingam-Whyatt on the shared edges: its tolerance of 0.5 keeps every
border within about half a unit of the exact one on Groningen's wijken and buurten (the old
per-ring Douglas-Peucker used 0.25 for about the same; `benchmarks/bench_site_geometry.py` prints
both). ST_ReducePrecision rounds each area on its own, so neighbours can overlap by a sliver
thinner than the grid (0.1 unit): tests/site/test_site_geometry.py bounds it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def num(x: float, decimals: int = 2) -> str:
    """A compact SVG number: 12.50 -> '12.5', -0.00 -> '0'."""
    text = f"{x:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{x:.0f}"
    return "0" if text in ("-0", "") else text


GEOGRAPHIC_CRS = {"EPSG:4326", "WGS84", "CRS84", "OGC:CRS84", "EPSG:4258"}


@dataclass(frozen=True)
class Projection:
    """Planar coordinates (RD New metres) -> SVG user units, y flipped (north up).

    For geographic coordinates (lon/lat) x is scaled by cos(latitude) first: an equirectangular
    projection, good enough for one municipality.
    """

    minx: float
    miny: float
    maxx: float
    maxy: float
    scale: float
    pad: float
    x_factor: float = 1.0

    @classmethod
    def fit(
        cls,
        box: tuple[float, float, float, float],
        width: float,
        *,
        pad: float = 10.0,
        crs: str | None = None,
    ) -> Projection:
        minx, miny, maxx, maxy = box
        x_factor = 1.0
        if crs and crs.upper() in GEOGRAPHIC_CRS:
            x_factor = math.cos(math.radians((miny + maxy) / 2))
        span_x = max((maxx - minx) * x_factor, 1e-9)
        scale = (width - 2 * pad) / span_x
        return cls(minx, miny, maxx, maxy, scale, pad, x_factor)

    @property
    def width(self) -> float:
        return (self.maxx - self.minx) * self.x_factor * self.scale + 2 * self.pad

    @property
    def height(self) -> float:
        return (self.maxy - self.miny) * self.scale + 2 * self.pad

    @property
    def affine(self) -> tuple[float, float, float, float, float, float]:
        """The projection as ST_Affine's 2D arguments (a, b, d, e, xoff, yoff):
        x' = a x + b y + xoff, y' = d x + e y + yoff."""
        a = self.x_factor * self.scale
        return (a, 0.0, 0.0, -self.scale, self.pad - self.minx * a,
                self.pad + self.maxy * self.scale)

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return (
            (x - self.minx) * self.x_factor * self.scale + self.pad,
            (self.maxy - y) * self.scale + self.pad,
        )


# --- the map: the areas as one coverage -----------------------------------------------------------

TOLERANCE = 0.5  # ST_CoverageSimplify's tolerance in SVG units (the map is 640 wide)
GRID = 0.1  # coordinates are written to one decimal
LABEL_TOLERANCE = 0.25  # how close to the maximum inscribed circle's centre a label must be


@dataclass(frozen=True)
class Shape:
    """One area as drawn on the map, in SVG units (y down)."""

    path: str  # SVG path data, absolute coordinates; holes are sub-paths (fill-rule evenodd)
    label: tuple[float, float]  # inside the drawn area (ST_MaximumInscribedCircle's centre)
    width: float  # the drawn area's bounding box
    height: float
    wkt: str  # the drawn area as WKT (what the path says, for checks)


@dataclass(frozen=True)
class MapShapes:
    projection: Projection
    shapes: dict[str, Shape]  # by area code; areas without a (polygonal) geometry are left out


# One coverage operation over all areas: the list goes in ordered by code, the result is a
# GEOMETRYCOLLECTION in the same order; ST_Dump's path[1] is the position in that list.
_COVERAGE = """
    create or replace temp table {target} as
    with coverage as (
        select list(code order by code) as codes, list(g order by code) as geoms from {source}
    ),
    parts as (
        select codes, unnest(ST_Dump({operation}), recursive := true) from coverage
    )
    select codes[path[1]] as code, ST_Collect(list(geom)) as g
    from parts where not ST_IsEmpty(geom) group by all
"""


def map_shapes(
    geometries: Mapping[str, str | None],
    width: float,
    *,
    crs: str | None = None,
    pad: float = 10.0,
    tolerance: float = TOLERANCE,
    grid: float = GRID,
) -> MapShapes | None:
    """The areas (code -> WKT) drawn in a viewBox `width` units wide: None when none has a
    polygonal geometry. WKT that does not parse, or is not (multi)polygonal, draws nothing (the
    ingestion has landed such an area without its geometry already)."""
    import duckdb

    from basismonitor.config import duckdb_config, load_spatial

    codes = [str(c) for c in geometries]
    wkts = [w if isinstance(w, str) and w.strip() else None for w in geometries.values()]
    with duckdb.connect(config=duckdb_config()) as con:
        load_spatial(con)
        con.execute(
            """create temp table parsed as
               select code, ST_CollectionExtract(ST_MakeValid(ST_Force2D(g)), 3) as g
               from (select code, try(ST_GeomFromText(wkt)) as g
                     from (select unnest(?::varchar[]) as code, unnest(?::varchar[]) as wkt))
               where g is not null""",
            [codes, wkts],
        )
        con.execute("delete from parsed where ST_IsEmpty(g)")
        box = con.execute(
            "select min(ST_XMin(g)), min(ST_YMin(g)), max(ST_XMax(g)), max(ST_YMax(g)) from parsed"
        ).fetchone()
        if box is None or box[0] is None:
            return None
        projection = Projection.fit(box, width, pad=pad, crs=crs)
        con.execute(
            "create temp table projected as "
            "select code, ST_Affine(g, ?, ?, ?, ?, ?, ?) as g from parsed",
            list(projection.affine),
        )
        con.execute(_COVERAGE.format(target="cleaned", source="projected",
                                     operation="ST_CoverageClean(geoms)"))
        con.execute(_COVERAGE.format(target="simplified", source="cleaned",
                                     operation=f"ST_CoverageSimplify(geoms, {float(tolerance)!r})"))
        rows = con.execute(
            f"""with drawn as (
                    select code, ST_ReducePrecision(g, {float(grid)!r}) as g from simplified),
                labelled as (
                    -- the centre to a quarter unit (finer in a small area): with GEOS's
                    -- default tolerance this took most of the time on the national division
                    select code, g, ST_MaximumInscribedCircle(g, least({LABEL_TOLERANCE!r},
                        greatest(ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g)) / 100)).center
                        as inside
                    from drawn where not ST_IsEmpty(g))
                -- ST_AsSVG writes y negated (for y-up data): the drawing is y down already;
                -- its precision argument is ignored (spatial 1.5.5), ST_ReducePrecision rounds
                select code, ST_AsSVG(ST_Scale(g, 1, -1), false, 1), ST_X(inside), ST_Y(inside),
                       ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g), ST_AsText(g)
                from labelled order by code"""
        ).fetchall()
    shapes = {
        code: Shape(path, (x, y), w, h, wkt) for code, path, x, y, w, h, wkt in rows
    }
    return MapShapes(projection, shapes)


# --- the compass's rings ------------------------------------------------------------------------

LEVELS = ("centre", "quadrant", "theme", "indicator")  # inside out
START_ANGLE = -90.0  # the first quadrant starts at 9 o'clock: four quadrants fill the 4 corners


@dataclass(frozen=True)
class Cell:
    """One node of the compass: an annular sector (the centre is a disc)."""

    level: str
    code: str
    parent: str | None
    quadrant: str | None
    a0: float  # degrees, clockwise from 12 o'clock
    a1: float
    r0: float
    r1: float

    @property
    def key(self) -> str:
        return f"{self.level}-{self.code}"

    @property
    def mid(self) -> float:
        return (self.a0 + self.a1) / 2


@dataclass(frozen=True)
class Radii:
    centre: float = 58.0
    quadrant: float = 108.0
    theme: float = 160.0
    indicator: float = 250.0

    def band(self, level: str) -> tuple[float, float]:
        return {
            "centre": (0.0, self.centre),
            "quadrant": (self.centre, self.quadrant),
            "theme": (self.quadrant, self.theme),
            "indicator": (self.theme, self.indicator),
        }[level]


@dataclass(frozen=True)
class TreeNode:
    level: str
    code: str
    parent: str | None
    quadrant: str | None
    sort_key: tuple = ()


def compass_layout(
    nodes: Iterable[TreeNode], radii: Radii = Radii(), *, start: float = START_ANGLE
) -> list[Cell]:
    """Cells of the ring chart, from the tree indicator -> theme -> quadrant -> centre.

    Quadrants share the circle equally (a quarter each when there are four). Within a quadrant
    every indicator gets the same angle; a theme spans its indicators, so the rings line up.
    Children are ordered by their sort_key, then code. Deterministic for the same nodes.
    """
    by_level: dict[str, list[TreeNode]] = {level: [] for level in LEVELS}
    for node in nodes:
        if node.level in by_level:
            by_level[node.level].append(node)

    def ordered(items: list[TreeNode]) -> list[TreeNode]:
        return sorted(items, key=lambda n: (n.sort_key, n.code))

    children: dict[tuple[str, str | None], list[TreeNode]] = {}
    for level in ("theme", "indicator"):
        for node in by_level[level]:
            children.setdefault((level, node.parent), []).append(node)

    cells: list[Cell] = []
    centre = by_level["centre"][0] if by_level["centre"] else None
    if centre is not None:
        cells.append(
            Cell("centre", centre.code, None, None, start, start + 360.0, *radii.band("centre"))
        )
    quadrants = ordered(by_level["quadrant"])
    if not quadrants:
        return cells
    span_q = 360.0 / len(quadrants)
    for qi, quadrant in enumerate(quadrants):
        q0 = start + qi * span_q
        cells.append(
            Cell(
                "quadrant",
                quadrant.code,
                quadrant.parent,
                quadrant.code,
                q0,
                q0 + span_q,
                *radii.band("quadrant"),
            )
        )
        themes = ordered(children.get(("theme", quadrant.code), []))
        counts = [max(len(children.get(("indicator", t.code), [])), 1) for t in themes]
        total = sum(counts)
        a = q0
        for theme, n in zip(themes, counts, strict=True):
            span_t = span_q * n / total
            cells.append(
                Cell(
                    "theme",
                    theme.code,
                    quadrant.code,
                    quadrant.code,
                    a,
                    a + span_t,
                    *radii.band("theme"),
                )
            )
            indicators = ordered(children.get(("indicator", theme.code), []))
            for ii, indicator in enumerate(indicators):
                i0 = a + ii * span_q / total
                cells.append(
                    Cell(
                        "indicator",
                        indicator.code,
                        theme.code,
                        quadrant.code,
                        i0,
                        i0 + span_q / total,
                        *radii.band("indicator"),
                    )
                )
            a += span_t
    return cells


def polar(r: float, angle: float, cx: float = 0.0, cy: float = 0.0) -> tuple[float, float]:
    """Point at radius r and angle (degrees clockwise from 12 o'clock); SVG y points down."""
    t = math.radians(angle)
    return cx + r * math.sin(t), cy - r * math.cos(t)


# the compass's cells are the same on every page: each of its ~90 paths is formatted once per
# process, not four times per page (a pure function of its arguments)
@functools.lru_cache(maxsize=4096)
def sector_path(
    r0: float,
    r1: float,
    a0: float,
    a1: float,
    cx: float = 0.0,
    cy: float = 0.0,
    *,
    decimals: int = 2,
) -> str:
    """SVG path of an annular sector (a pie slice when r0 == 0, a disc/ring when 360 degrees)."""

    def n(v: float) -> str:
        return num(v, decimals)

    span = a1 - a0
    if span >= 359.999:
        # full circle: two half arcs (one arc cannot start and end at the same point)
        outer = (
            f"M{n(cx)} {n(cy - r1)}A{n(r1)} {n(r1)} 0 1 1 {n(cx)} {n(cy + r1)}"
            f"A{n(r1)} {n(r1)} 0 1 1 {n(cx)} {n(cy - r1)}Z"
        )
        if r0 <= 0:
            return outer
        inner = (
            f"M{n(cx)} {n(cy - r0)}A{n(r0)} {n(r0)} 0 1 0 {n(cx)} {n(cy + r0)}"
            f"A{n(r0)} {n(r0)} 0 1 0 {n(cx)} {n(cy - r0)}Z"
        )
        return outer + inner
    large = 1 if span > 180 else 0
    x1, y1 = polar(r1, a0, cx, cy)
    x2, y2 = polar(r1, a1, cx, cy)
    if r0 <= 0:
        return f"M{n(cx)} {n(cy)}L{n(x1)} {n(y1)}A{n(r1)} {n(r1)} 0 {large} 1 {n(x2)} {n(y2)}Z"
    x3, y3 = polar(r0, a1, cx, cy)
    x4, y4 = polar(r0, a0, cx, cy)
    return (
        f"M{n(x1)} {n(y1)}A{n(r1)} {n(r1)} 0 {large} 1 {n(x2)} {n(y2)}"
        f"L{n(x3)} {n(y3)}A{n(r0)} {n(r0)} 0 {large} 0 {n(x4)} {n(y4)}Z"
    )


def cell_at(cells: Sequence[Cell], x: float, y: float) -> Cell | None:
    """The cell under point (x, y) relative to the centre (for tests and the rasteriser)."""
    r = math.hypot(x, y)
    angle = math.degrees(math.atan2(x, -y))
    for cell in cells:
        if not (cell.r0 <= r < cell.r1):
            continue
        if cell.level == "centre":
            return cell
        rel = (angle - cell.a0) % 360.0
        if rel < (cell.a1 - cell.a0):
            return cell
    return None


# --- the hatching of a compass drawn as shapes (for the PNG) --------------------------------------

HATCH_PERIOD = 6.0  # the hatch pattern's tile (svg.hatch_pattern): a 2.2-wide stripe every 6 units,
HATCH_STRIPE_WIDTH = 2.2  # turned 45 degrees about the origin
ARC_STEP = 1.0  # degrees between the points that stand for an arc (0.01 unit off at r = 300)


def _cell_ring(cell: Cell) -> list[tuple[float, float]]:
    """The cell's outline as points (SVG units, y down), arcs in steps of at most ARC_STEP."""
    span = cell.a1 - cell.a0
    steps = max(2, math.ceil(span / ARC_STEP))
    outer = [polar(cell.r1, cell.a0 + span * k / steps) for k in range(steps + 1)]
    if span >= 359.999:
        return outer  # a disc (the centre) or a whole ring's outer edge
    if cell.r0 <= 0:
        return [(0.0, 0.0), *outer]
    return outer + [polar(cell.r0, cell.a1 - span * k / steps) for k in range(steps + 1)]


def _wkt_polygon(rings: list[list[tuple[float, float]]]) -> str:
    # y negated: ST_AsSVG writes y negated again (it assumes y-up data)
    parts = (",".join(f"{x!r} {-y!r}" for x, y in (*ring, ring[0])) for ring in rings)
    return "POLYGON(" + ",".join(f"({p})" for p in parts) + ")"


def hatch_stripes(cells: Sequence[Cell], *, inset: float = 0.5) -> dict[str, str]:
    """See _hatch_stripes; computed once per process for a layout (every page shares it)."""
    return _hatch_stripes(tuple(cells), inset)


@functools.lru_cache(maxsize=8)
def _hatch_stripes(cells: tuple[Cell, ...], inset: float) -> dict[str, str]:
    """{cell key: SVG path data of the hatch's stripes inside the cell}: the same stripes as the
    45-degree hatch pattern (svg.hatch_pattern, userSpaceOnUse, so they line up across cells),
    as shapes. `inset`: kept clear along the cell's edge (half its 1-unit white outline).

    Why: resvg paints a pattern through an image shader, pixel by pixel; on the national
    edition's pages the PNGs take 0.56x the CPU with the stripes as shapes (BENCHMARKS.md, "The
    compass PNG's hatching"). The layout is
    the same on every page, so the stripes are cut out once per build by DuckDB spatial (GEOS):
    each cell shrunk by `inset`, intersected with the bands, written by ST_AsSVG.
    """
    import duckdb

    from basismonitor.config import duckdb_config, load_spatial

    if not cells:
        return {}
    root2 = math.sqrt(2.0)
    period, width = HATCH_PERIOD * root2, HATCH_STRIPE_WIDTH * root2  # along x + y (y down)
    reach = max(c.r1 for c in cells) + 2 * period
    bands = []  # stripe k: k * period <= x + y <= k * period + width; |x + y| < 2 * reach
    for k in range(math.floor(-2 * reach / period), math.ceil(2 * reach / period) + 1):
        c0, c1 = k * period, k * period + width
        bands.append([(-reach, c0 + reach), (reach, c0 - reach),
                      (reach, c1 - reach), (-reach, c1 + reach)])
    rings = []
    for cell in cells:
        outline = _cell_ring(cell)
        if cell.a1 - cell.a0 >= 359.999 and cell.r0 > 0:  # a whole ring: the inner edge a hole
            steps = math.ceil(360.0 / ARC_STEP)
            hole = [polar(cell.r0, cell.a0 - 360.0 * k / steps) for k in range(steps + 1)]
            rings.append(_wkt_polygon([outline, hole]))
        else:
            rings.append(_wkt_polygon([outline]))
    with duckdb.connect(config=duckdb_config()) as con:
        load_spatial(con)
        rows = con.execute(
            f"""with bands as (select ST_GeomFromText(unnest(?::varchar[])) as g),
                cells as (
                    select k, ST_Buffer(ST_GeomFromText(w), -{float(inset)!r}) as g
                    from (select unnest(?::varchar[]) as k, unnest(?::varchar[]) as w)),
                cut as (
                    select k, ST_CollectionExtract(ST_Intersection(cells.g, bands.g), 3) as g
                    from cells join bands on ST_Intersects(cells.g, bands.g))
                -- one MULTIPOLYGON per cell: ST_AsSVG writes a collection's parts with ';'
                select k, ST_AsSVG(ST_CollectionExtract(ST_ReducePrecision(ST_Collect(list(g
                    order by ST_XMin(g), ST_YMin(g), ST_AsText(g))), {GRID!r}), 3), false, 1)
                from cut where not ST_IsEmpty(g) group by k""",
            [[_wkt_polygon([b]) for b in bands], [c.key for c in cells], rings],
        ).fetchall()
    stripes = {key: path for key, path in rows if path}
    for key, path in stripes.items():
        # one path of every hatched cell's stripes: a stray character would end resvg's reading
        # of it there, and the cells after it would lose their stripes without an error
        if not _PATH_DATA.fullmatch(path):
            raise ValueError(f"hatch stripes of compass cell {key}: not plain path data: "
                             f"{path[:80]!r}")
    return stripes


_PATH_DATA = re.compile(r"[MLZ0-9 .\-]*")
