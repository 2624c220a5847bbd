"""Locating incident points in buurten (issue 18): the dbt macro `locate_in_buurten` against a
plain DuckDB spatial join written by hand, on national-size synthetic data.

    .venv/bin/python benchmarks/bench_locate.py [--points 1000000] [--buurten 14500] [--runs 3]

The buurten are a grid of irregular polygons (jittered squares with 9 vertices each) covering the
Netherlands' RD New extent; the points are uniform over it, a few outside. The macro's SQL is the
one dbt compiles: macros/load_spatial.sql is rendered with jinja, `ref()` naming the tables made
here. Both sides run in one DuckDB connection with the spatial extension, results are checked to
be equal, and the ratio macro / hand-written is reported (issue 18 target: <= 30 s and <= 1.5x).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import duckdb
import jinja2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, machine, timed  # noqa: E402

from basismonitor.config import DBT_PROJECT_DIR, duckdb_config, load_spatial  # noqa: E402

X0, Y0, X1, Y1 = 13_000.0, 306_000.0, 278_000.0, 619_000.0  # RD New extent of the Netherlands


def macro_sql(points: str) -> str:
    """The SQL dbt compiles for `locate_in_buurten(points)`."""
    env = jinja2.Environment()
    source = (DBT_PROJECT_DIR / "macros" / "load_spatial.sql").read_text(encoding="utf-8")
    module = env.from_string(source).make_module(
        {"ref": lambda name: {"int_area_geometries": "geoms", "int_area_editions": "editions"}[name],
         "env_var": lambda *a: "", "var": lambda *a: None})
    return str(module.locate_in_buurten(points))


HAND_WRITTEN = """
    select p.point_id, b.area_code as buurt_code
    from (select point_id, ST_Point(x_rd, y_rd) as pt from pts) as p
    join (select area_code, ST_GeomFromWKB(geom_wkb) as geom from geoms) as b
      on ST_Intersects(b.geom, p.pt)
"""


def setup(con, n_points: int, n_buurten: int) -> None:
    side = int(math.ceil(math.sqrt(n_buurten)))
    w, h = (X1 - X0) / side, (Y1 - Y0) / side
    # jittered squares: 9 vertices (corners and edge midpoints), shared by neighbours, so the
    # buurten tile the plane without gaps or overlaps, as a real division does
    con.execute(f"""
        create or replace table vertices as
        select i, j, {X0} + i * {w / 2} + case when i % 2 = 1 and j % 2 = 1 then 0
               else (hash(i * 100003 + j) % 1000) / 1000.0 * {w / 8} end as x,
               {Y0} + j * {h / 2} + case when i % 2 = 1 and j % 2 = 1 then 0
               else (hash(j * 100003 + i + 7) % 1000) / 1000.0 * {h / 8} end as y
        from range(0, {2 * side + 1}) t(i), range(0, {2 * side + 1}) s(j)""")
    con.execute(f"""
        create or replace table geoms as
        with cells as (select a, b from range(0, {side}) t(a), range(0, {side}) s(b) limit {n_buurten}),
        rings as (
            select a, b, list(ST_Point(v.x, v.y) order by k) as pts
            from cells
            join (select unnest([0,1,2,2,2,1,0,0,0]) as di, unnest([0,0,0,1,2,2,2,1,0]) as dj,
                         unnest(range(9)) as k) as o on true
            join vertices v on v.i = 2 * a + o.di and v.j = 2 * b + o.dj
            group by all)
        select 2024 as area_edition, 'BU' || lpad(cast(a * {side} + b as varchar), 8, '0') as area_code,
               'buurt' as area_level, ST_AsWKB(ST_MakePolygon(ST_MakeLine(pts))) as geom_wkb
        from rings""")
    con.execute("create or replace table editions as select 2024 as area_edition, 1900 as valid_from, "
                "9999 as valid_to, true as is_current")
    con.execute(f"""
        create or replace table pts as
        select 'P' || i as point_id, 2016 + i % 5 as year,
               {X0} - 1000 + random() * {X1 - X0 + 2000} as x_rd,
               {Y0} - 1000 + random() * {Y1 - Y0 + 2000} as y_rd
        from range({n_points}) t(i)""")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--buurten", type=int, default=14_500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    con = duckdb.connect(config=duckdb_config())
    load_spatial(con)
    duckdb.execute("select setseed(0.42)", connection=con)
    setup(con, args.points, args.buurten)
    n_geoms = con.execute("select count(*) from geoms").fetchone()[0]
    print(f"machine: {machine()}; {load()}")
    print(f"{args.points:,} points, {n_geoms:,} buurten (jittered 9-vertex polygons)")
    ours = macro_sql("pts")

    def run_macro():
        return con.execute(f"create or replace temp table r_macro as {ours}; "
                           "select count(*) from r_macro").fetchone()[0]

    def run_hand():
        return con.execute(f"create or replace temp table r_hand as {HAND_WRITTEN}; "
                           "select count(*) from r_hand").fetchone()[0]

    hand_s, hand_all, hand_n = timed(args.runs, run_hand)
    macro_s, macro_all, macro_n = timed(args.runs, run_macro)
    differ = con.execute("""select count(*) from (
        (select point_id, min(buurt_code) from r_hand group by all
         except select point_id, buurt_code from r_macro)
        union all
        (select point_id, buurt_code from r_macro
         except select point_id, min(buurt_code) from r_hand group by all))""").fetchone()[0]
    print(f"hand-written spatial join: median {hand_s:.2f} s "
          f"({', '.join(f'{t:.2f}' for t in hand_all)}), {hand_n:,} located")
    print(f"locate_in_buurten (dbt):   median {macro_s:.2f} s "
          f"({', '.join(f'{t:.2f}' for t in macro_all)}), {macro_n:,} located")
    print(f"ratio macro / hand-written: {macro_s / hand_s:.2f}x; points placed differently: {differ}")
    return 0 if differ == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
