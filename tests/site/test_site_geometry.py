"""The map's geometry on real, concave areas: Groningen's wijken and buurten of 2017 (the example
inbox, WGS84 as the municipality delivers them). Simplification must keep shared borders shared
(neighbours still meet: no new gaps, no overlaps beyond a sliver of the written grid), and every
label must lie inside its area. The checks are shown to fail on per-area simplification (what the
site's hand-written simplifier did before), so they can tell the two apart."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from basismonitor.config import load_spatial
from basismonitor.site.build import MAP_WIDTH
from basismonitor.site.geometry import GRID, TOLERANCE, map_shapes

REPO = Path(__file__).resolve().parents[2]
DIVISION = REPO / "examples" / "groningen" / "inbox" / "gemeentelijke_indeling" / "2017"
OVERLAP_MAX = 1.0  # map units^2 a pair of neighbours may overlap by (a sliver of the 0.1 grid)
BORDER_MIN = 0.9  # share of a neighbour border (>= 2 units long) that must stay shared
LEVELS = ("wijkindeling", "buurtindeling")


def _division(name: str) -> dict[str, str]:
    csv.field_size_limit(1 << 30)
    with open(DIVISION / f"{name}.csv", encoding="utf-8", newline="") as fh:
        return {row["CODE"]: row["geometry"] for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def con():
    con = duckdb.connect()
    load_spatial(con)
    yield con
    con.close()


def _table(con, name: str, codes: list[str], wkts: list[str]) -> None:
    con.execute(f"create or replace temp table {name} as select unnest(?) as code, "
                "ST_GeomFromText(unnest(?)) as g", [codes, wkts])


def _coverage_report(con, drawn: str) -> dict:
    """How the drawn areas meet, against the exact (unsimplified) areas in table `exact`."""
    pairs = con.execute(f"""
        with exact_pairs as (
            select a.code as a, b.code as b,
                   ST_Length(ST_Intersection(ST_Boundary(a.g), ST_Boundary(b.g))) as border
            from exact a join exact b on a.code < b.code and ST_Intersects(a.g, b.g)),
        drawn_pairs as (
            select a.code as a, b.code as b,
                   ST_Length(ST_Intersection(ST_Boundary(a.g), ST_Boundary(b.g))) as border,
                   ST_Area(ST_Intersection(a.g, b.g)) as overlap
            from {drawn} a join {drawn} b on a.code < b.code and ST_Intersects(a.g, b.g))
        select e.a, e.b, e.border, coalesce(d.border, 0), coalesce(d.overlap, 0)
        from exact_pairs e left join drawn_pairs d using (a, b)
        where e.border >= 2 order by 1, 2""").fetchall()
    holes = {t: con.execute(f"select ST_NumInteriorRings(ST_Union_Agg(g)) from {t}").fetchone()[0]
             for t in ("exact", drawn)}
    return {
        "pairs": len(pairs),
        "worst_border": min(d / e for _, _, e, d, _ in pairs),
        "worst_overlap": max(o for *_, o in pairs),
        "new_holes": holes[drawn] - holes["exact"],
    }


@pytest.mark.parametrize("level", LEVELS)
def test_shared_borders_stay_shared(level, con):
    geometries = _division(level)
    drawn = map_shapes(geometries, MAP_WIDTH, crs="EPSG:4326")
    exact = map_shapes(geometries, MAP_WIDTH, crs="EPSG:4326", tolerance=0, grid=0)
    assert sorted(drawn.shapes) == sorted(exact.shapes) == sorted(geometries)
    _table(con, "exact", list(exact.shapes), [s.wkt for s in exact.shapes.values()])
    _table(con, "drawn", list(drawn.shapes), [s.wkt for s in drawn.shapes.values()])
    # simplification did happen
    vertices = {t: con.execute(f"select sum(ST_NPoints(g)) from {t}").fetchone()[0]
                for t in ("exact", "drawn")}
    assert vertices["drawn"] < 0.6 * vertices["exact"], vertices

    report = _coverage_report(con, "drawn")
    assert report["pairs"] >= (25 if level == "wijkindeling" else 200)
    assert report["worst_border"] >= BORDER_MIN, report
    assert report["worst_overlap"] <= OVERLAP_MAX, report
    assert report["new_holes"] <= 0, report

    # the same checks catch each area simplified on its own (the old site's way), at the same
    # tolerance and grid: borders split, neighbours overlap and gaps open
    con.execute(f"""create or replace temp table apart as select code,
                    ST_ReducePrecision(ST_SimplifyPreserveTopology(g, {TOLERANCE}), {GRID}) as g
                    from exact""")
    apart = _coverage_report(con, "apart")
    assert apart["worst_border"] < BORDER_MIN and apart["worst_overlap"] > OVERLAP_MAX
    assert apart["new_holes"] > 0


@pytest.mark.parametrize("level", LEVELS)
def test_every_label_lies_inside_its_area(level, con):
    drawn = map_shapes(_division(level), MAP_WIDTH, crs="EPSG:4326")
    codes = list(drawn.shapes)
    _table(con, "drawn", codes, [s.wkt for s in drawn.shapes.values()])
    con.execute("create or replace temp table label as select unnest(?) as code, "
                "unnest(?) as x, unnest(?) as y",
                [codes, [s.label[0] for s in drawn.shapes.values()],
                 [s.label[1] for s in drawn.shapes.values()]])
    outside, concave = con.execute("""
        select count(*) filter (where not ST_Contains(g, ST_Point(x, y))),
               count(*) filter (where ST_Area(ST_ConvexHull(g)) > 1.3 * ST_Area(g))
        from drawn join label using (code)""").fetchone()
    assert concave >= 3  # the division has concave areas, where a centroid can miss
    assert outside == 0
