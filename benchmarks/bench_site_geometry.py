"""The overview map's geometry: DuckDB spatial on the whole coverage (basismonitor.site.geometry
now) against the hand-written WKT parser and per-ring Douglas-Peucker it replaced (issue 22,
point 3), on the same areas in one run.

Both draw the map as the site does (640 units wide): parse, fit the projection, one SVG path and
one label point per area. The baseline is the old module as it was at commit d537c7f, read from
git. Areas: Groningen's real wijken and buurten of 2017 (examples/groningen, WGS84, concave) and
the generated national division (`basismonitor.demo`, --scale national: rectangles in RD New).
Printed per set: median wall seconds, vertices and characters of the paths, and the largest
distance of an exact border vertex from the drawn border (map units; the exact border is the
projected source without simplification or rounding).

    .venv/bin/python benchmarks/bench_site_geometry.py --runs 5
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import load, machine, module_at, timed  # noqa: E402

BASELINE_COMMIT = "d537c7f"
MAP_WIDTH = 640.0
DIVISION = REPO / "examples" / "groningen" / "inbox" / "gemeentelijke_indeling" / "2017"


def old_geometry():
    return module_at(BASELINE_COMMIT, "src/basismonitor/site/geometry.py")


def old_map(old, geometries: dict[str, str], crs: str | None) -> dict[str, tuple[str, tuple]]:
    """What site/build.py's index_page did at the baseline commit."""
    parsed = {code: old.parse_wkt(wkt) for code, wkt in geometries.items()}
    box = old.bounds(p for polygons in parsed.values() for p in polygons)
    projection = old.Projection.fit(box, MAP_WIDTH, crs=crs)
    return {code: (old.polygons_to_path(polygons, projection),
                   projection(*old.label_point(polygons)))
            for code, polygons in parsed.items() if polygons}


def new_map(geometries: dict[str, str], crs: str | None) -> dict[str, tuple[str, tuple]]:
    from basismonitor.site.geometry import map_shapes

    drawn = map_shapes(geometries, MAP_WIDTH, crs=crs)
    return {code: (shape.path, shape.label) for code, shape in drawn.shapes.items()}


def rings(path: str) -> list[list[tuple[float, float]]]:
    out = []
    for part in re.findall(r"M([^MZ]*)Z", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", part)]
        out.append(list(zip(numbers[::2], numbers[1::2], strict=True)))
    return out


def deviation(con, paths: dict[str, str], exact: dict[str, str]) -> float:
    """Largest distance (map units) from an exact border vertex to the drawn border."""
    codes, drawn_wkts, exact_wkts = [], [], []
    for code, path in paths.items():
        lines = ["(" + ", ".join(f"{x} {y}" for x, y in ring + ring[:1]) + ")"
                 for ring in rings(path) if len(ring) >= 2]
        if not lines:  # drawn as nothing (too small for the grid)
            continue
        codes.append(code)
        drawn_wkts.append("MULTILINESTRING (" + ", ".join(lines) + ")")
        exact_wkts.append(exact[code])
    return con.execute("""
        with pairs as (select ST_GeomFromText(unnest(?)) as drawn, ST_GeomFromText(unnest(?)) as exact),
             points as (select drawn, unnest(ST_Dump(ST_Points(exact)), recursive := true) from pairs)
        select max(ST_Distance(geom, drawn)) from points""", [drawn_wkts, exact_wkts]).fetchone()[0]


def division(name: str) -> dict[str, str]:
    csv.field_size_limit(1 << 30)
    with open(DIVISION / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return {row["CODE"]: row["geometry"] for row in csv.DictReader(fh)}


def national(seed: int) -> dict[str, str]:
    from basismonitor.demo import DemoScale
    from basismonitor.demo.world import build_world, rect_wkt

    world = build_world(DemoScale.national(), seed)
    return {a.code: rect_wkt(a.rect) for a in world.wijken}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import duckdb

    from basismonitor.config import load_spatial
    from basismonitor.site.geometry import map_shapes

    old = old_geometry()
    con = duckdb.connect()
    load_spatial(con)
    sets = [("Groningen wijken 2017", division("wijkindeling"), "EPSG:4326"),
            ("Groningen buurten 2017", division("buurtindeling"), "EPSG:4326"),
            ("national wijken (demo)", national(args.seed), None)]
    print(f"machine: {machine()}; {load()}; {args.runs} runs, median")
    print(f"{'areas':<24}{'n':>6}  {'old s':>7} {'new s':>7}  {'old vertices':>12} {'new':>7}"
          f"  {'old chars':>9} {'new':>7}  {'old dev':>7} {'new dev':>7}")
    for name, geometries, crs in sets:
        old_s, _, old_out = timed(args.runs, lambda g=geometries, c=crs: old_map(old, g, c))
        new_s, _, new_out = timed(args.runs, lambda g=geometries, c=crs: new_map(g, c))
        exact = map_shapes(geometries, MAP_WIDTH, crs=crs, tolerance=0, grid=0)
        exact_wkt = {code: shape.wkt for code, shape in exact.shapes.items()}
        row = []
        for out in (old_out, new_out):
            paths = {code: path for code, (path, _) in out.items()}
            row.append((sum(len(r) for p in paths.values() for r in rings(p)),
                        sum(len(p) for p in paths.values()), deviation(con, paths, exact_wkt)))
        (ov, oc, od), (nv, nc, nd) = row
        print(f"{name:<24}{len(geometries):>6}  {old_s:>7.3f} {new_s:>7.3f}  {ov:>12,} {nv:>7,}"
              f"  {oc:>9,} {nc:>7,}  {od:>7.2f} {nd:>7.2f}")


if __name__ == "__main__":
    main()
