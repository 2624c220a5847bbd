"""Geometry: WKT polygons projected onto an SVG viewBox, and the compass's ring layout."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Ring = list[tuple[float, float]]
Polygon = list[Ring]  # exterior ring first, then holes


def num(x: float, decimals: int = 2) -> str:
    """A compact SVG number: 12.50 -> '12.5', -0.00 -> '0'."""
    text = f"{x:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{x:.0f}"
    return "0" if text in ("-0", "") else text


# --- WKT ------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def parse_wkt(wkt: str | None) -> list[Polygon]:
    """POLYGON / MULTIPOLYGON (2D, Z or M ignored) -> list of polygons; None or empty -> []."""
    if not wkt or not isinstance(wkt, str):
        return []
    text = wkt.strip()
    head = text.split("(", 1)[0].strip().upper()
    kind = head.split()[0] if head else ""
    if kind not in ("POLYGON", "MULTIPOLYGON") or "EMPTY" in head:
        return []
    body = text[len(text.split("(", 1)[0]) :]
    polygons: list[Polygon] = []
    depth = 0
    current_polygon: Polygon = []
    ring_text: list[str] = []
    poly_depth = 1 if kind == "POLYGON" else 2
    for ch in body:
        if ch == "(":
            depth += 1
            if depth == poly_depth:
                current_polygon = []
            ring_text = []
        elif ch == ")":
            if depth == poly_depth + 1:
                ring = _parse_ring("".join(ring_text))
                if len(ring) >= 3:
                    current_polygon.append(ring)
            if depth == poly_depth and current_polygon:
                polygons.append(current_polygon)
            depth -= 1
            ring_text = []
        else:
            ring_text.append(ch)
    return polygons


def _parse_ring(text: str) -> Ring:
    ring: Ring = []
    for point in text.split(","):
        coords = _NUMBER.findall(point)
        if len(coords) >= 2:
            ring.append((float(coords[0]), float(coords[1])))
    return ring


def bounds(polygons: Iterable[Polygon]) -> tuple[float, float, float, float] | None:
    xs: list[float] = []
    ys: list[float] = []
    for polygon in polygons:
        for ring in polygon:
            xs.extend(p[0] for p in ring)
            ys.extend(p[1] for p in ring)
    if not xs:
        return None
    return min(xs), min(ys), max(xs), max(ys)


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

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        return (
            (x - self.minx) * self.x_factor * self.scale + self.pad,
            (self.maxy - y) * self.scale + self.pad,
        )


def simplify(points: Sequence[tuple[float, float]], tolerance: float) -> Ring:
    """Ramer-Douglas-Peucker on a (projected) ring; keeps first and last point."""
    if len(points) <= 3 or tolerance <= 0:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        start, end = stack.pop()
        (x1, y1), (x2, y2) = points[start], points[end]
        dx, dy = x2 - x1, y2 - y1
        length = math.hypot(dx, dy)
        worst, worst_i = -1.0, -1
        for i in range(start + 1, end):
            px, py = points[i]
            if length == 0:
                d = math.hypot(px - x1, py - y1)
            else:
                d = abs(dy * px - dx * py + x2 * y1 - y2 * x1) / length
            if d > worst:
                worst, worst_i = d, i
        if worst > tolerance:
            keep[worst_i] = True
            stack.append((start, worst_i))
            stack.append((worst_i, end))
    return [p for p, k in zip(points, keep, strict=True) if k]


def polygons_to_path(
    polygons: Iterable[Polygon], project: Projection, *, tolerance: float = 0.25, decimals: int = 1
) -> str:
    """SVG path data (fill-rule evenodd) of polygons with holes, simplified to the pixel."""
    parts: list[str] = []
    for polygon in polygons:
        for ring in polygon:
            projected = [project(x, y) for x, y in ring]
            projected = simplify(projected, tolerance)
            coords: list[str] = []
            previous = None
            for x, y in projected:
                point = (num(x, decimals), num(y, decimals))
                if point != previous:
                    coords.append(f"{point[0]} {point[1]}")
                    previous = point
            if len(coords) > 1 and coords[0] == coords[-1]:
                coords.pop()
            if len(coords) >= 3:
                parts.append("M" + "L".join(coords) + "Z")
    return "".join(parts)


def ring_area(ring: Ring) -> float:
    return 0.5 * sum(
        x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def label_point(polygons: list[Polygon]) -> tuple[float, float] | None:
    """Centroid of the largest exterior ring (where a label goes)."""
    best, best_area = None, 0.0
    for polygon in polygons:
        ring = polygon[0]
        area = ring_area(ring)
        if abs(area) > best_area:
            best, best_area = ring, abs(area)
    if best is None:
        return None
    a = ring_area(best)
    if a == 0:
        xs, ys = zip(*best, strict=True)
        return sum(xs) / len(xs), sum(ys) / len(ys)
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in zip(best, best[1:] + best[:1], strict=True):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return cx / (6 * a), cy / (6 * a)


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
