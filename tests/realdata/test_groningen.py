"""Groningen end to end from its real files (issue 18): the example inbox (CBS wijk- en
buurtkaart, the municipality's divisions, the CBS 100 m grid, OpenStreetMap horeca, NDOV bus
stops) plus the police's bicycle-theft export from ../shared (never shipped), through ingest,
dbt build, the gate and publish. Published figures are checked against values computed here from
the source files by an independent route (csv/openpyxl and a plain DuckDB spatial query)."""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from shared_data import shared_path

REPO = Path(__file__).resolve().parents[2]



pytestmark = [pytest.mark.shared, pytest.mark.slow]

EXAMPLE = REPO / "examples" / "groningen"
POLICE = ("data", "groningen-real", "Diefstal fiets Groningen stad vanaf 2013.xlsx")
COUNTS = {"inwoners", "huishoudens", "woningen", "oppervlakte", "fietsdiefstal"}


def _refresh(root: Path, vars_: dict | None = None):
    from basismonitor.config import read_settings_file
    from basismonitor.orchestration import pipeline

    settings = read_settings_file(EXAMPLE / "settings.yml")
    inbox = root / "inbox"
    shutil.copytree(EXAMPLE / "inbox", inbox)
    police = inbox / "politie_incidenten" / "2017"
    police.mkdir(parents=True)
    shutil.copy(shared_path(*POLICE), police)
    warehouse = root / "warehouse.duckdb"
    quiet = lambda _: None  # noqa: E731
    # the police export is real data: its incident ids need the deployment's own key
    old_key = os.environ.get("BASISMONITOR_PSEUDONYM_KEY")
    os.environ["BASISMONITOR_PSEUDONYM_KEY"] = "groningen-test-key-0123456789abcdef"
    try:
        results = pipeline.ingest(warehouse, inbox, progress=quiet)
    finally:
        if old_key is None:
            os.environ.pop("BASISMONITOR_PSEUDONYM_KEY", None)
        else:
            os.environ["BASISMONITOR_PSEUDONYM_KEY"] = old_key
    edition = int(settings["edition"])
    pipeline.build(warehouse, edition, base_period=int(settings["base_period"]),
                   dbt_vars={**settings["vars"], **(vars_ or {})}, progress=quiet)
    gate = pipeline.validate(warehouse, edition, docs_root=root / "validation", progress=quiet)
    pipeline.publish(warehouse, root / "exports", edition, docs_dir=gate.docs_dir, progress=quiet)
    pipeline.site(root / "exports", edition, progress=quiet)
    return warehouse, root / "exports" / str(edition), results


@pytest.fixture(scope="module")
def groningen(tmp_path_factory):
    shared_path(*POLICE)
    return _refresh(tmp_path_factory.mktemp("groningen"))


def _q(warehouse: Path, sql: str, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _wijken() -> list[dict]:
    with open(EXAMPLE / "inbox" / "gemeentelijke_indeling" / "2017" / "wijkindeling.csv",
              newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _spatial():
    from basismonitor.config import load_spatial

    con = duckdb.connect()
    load_spatial(con)
    con.execute("""create table wijk as select CODE as code,
        ST_Transform(ST_GeomFromText(geometry), 'EPSG:4326', 'EPSG:28992', always_xy := true) as geom
        from read_csv(?, all_varchar = true)""",
                [str(EXAMPLE / "inbox" / "gemeentelijke_indeling" / "2017" / "wijkindeling.csv")])
    return con


def test_every_file_lands_and_reconciles(groningen):
    _, _, results = groningen
    assert results and all(r.status == "landed" for r in results), [(r.path, r.status) for r in results]
    for r in results:
        assert r.rows_read == r.rows_landed + r.rows_quarantined, r.path


def test_inhabitants_per_wijk_equal_the_municipal_file(groningen):
    warehouse, _, _ = groningen
    published = dict(_q(warehouse, """select area_code, value from marts.fct_indicator_value
        where indicator_code = 'inwoners' and period = 2017 and not is_city"""))
    expected = {w["CODE"]: float(w["INW"]) for w in _wijken()}
    assert published == expected
    city = _q(warehouse, """select value, city_value_source from marts.fct_indicator_value
        where indicator_code = 'inwoners' and period = 2017 and is_city""")
    assert city == [(sum(expected.values()), "computed from areas")]


def test_the_gemeente_row_is_derived_and_says_so(groningen):
    warehouse, _, _ = groningen
    assert _q(warehouse, """select area_code, area_name, area_level from marts.dim_area
        where area_level = 'gemeente'""") == [("GM0014", "Groningen", "gemeente")]
    assert _q(warehouse, """select is_derived from intermediate.int_area_division
        where area_level = 'gemeente'""") == [(True,)]


def test_grid_inhabitants_per_wijk_and_year_by_the_centroid_rule(groningen):
    """The square code E2269N5800 names its south-west corner in hectometres (RD New): the
    centroid is (226,950, 580,050). Sum INW<year> of the squares whose centroid lies in a wijk."""
    warehouse, _, _ = groningen
    grid = shared_path("data", "groningen-real", "vierkant100m2014.csv")
    con = _spatial()
    with open(grid, newline="", encoding="utf-8") as f:
        squares = list(csv.DictReader(f))
    rows = []
    for sq in squares:
        m = re.fullmatch(r"E(\d{4})N(\d{4})", sq["C28992R100"])
        x, y = int(m[1]) * 100 + 50, int(m[2]) * 100 + 50
        for year in (2008, 2014):
            value = int(float(sq[f"INW{year}"]))
            rows.append((sq["C28992R100"], year, x, y, max(value, 0)))  # -99998: none, counts 0
    con.execute("create table sq (code varchar, year int, x double, y double, inw int)")
    con.executemany("insert into sq values (?, ?, ?, ?, ?)", rows)
    expected = dict(((c, y), float(v)) for c, y, v in con.execute("""
        select wijk.code, sq.year, sum(sq.inw) from sq join wijk on ST_Contains(wijk.geom, ST_Point(sq.x, sq.y))
        group by all""").fetchall())
    published = dict(((a, p), v) for a, p, v in _q(warehouse, """
        select area_code, period, value from marts.fct_indicator_value
        where indicator_code = 'inwoners' and period in (2008, 2014) and not is_city"""))
    assert published == expected
    outside = con.execute("""select count(distinct code) from sq anti join wijk
        on ST_Contains(wijk.geom, ST_Point(sq.x, sq.y))""").fetchone()[0]
    unplaced = _q(warehouse, """select count(distinct point_id) from intermediate.int_spatial_locations
        where object_kind = 'grid' and area_code is null""")[0][0]
    assert outside > 0 and unplaced == outside


def test_bicycle_thefts_per_wijk_and_year_by_point_in_polygon(groningen):
    import openpyxl

    warehouse, _, _ = groningen
    wb = openpyxl.load_workbook(shared_path(*POLICE), read_only=True)
    ws = wb["Incidenten"]
    header = [c.value for c in next(ws.iter_rows(max_row=1))]
    ix, iy, ib = header.index("X"), header.index("Y"), header.index("Begin-pleegdatum/tijd")
    points = [(r[ix], r[iy], r[ib].year) for r in ws.iter_rows(min_row=2, values_only=True)]
    assert len(points) == 15_947
    con = _spatial()
    con.execute("create table inc (x double, y double, year int)")
    con.executemany("insert into inc values (?, ?, ?)", points)
    expected = dict(((c, y), n) for c, y, n in con.execute("""select wijk.code, inc.year, count(*)
        from inc join wijk on ST_Contains(wijk.geom, ST_Point(inc.x, inc.y)) group by all""").fetchall())
    published = _q(warehouse, """select area_code, period, value, suppressed, suppression_reason
        from marts.fct_indicator_value where indicator_code = 'fietsdiefstal' and not is_city""")
    assert {y for _, y, *_ in published} == {2013, 2014, 2015, 2016, 2017}
    for area, year, value, suppressed, reason in published:
        n = expected.get((area, year), 0)
        if suppressed:
            assert n < 5 and reason == "count below 5", (area, year, n, reason)
        else:
            assert value == n, (area, year)
    # every incident accounted for: placed in a wijk, or kept unplaced with its reason
    kinds = Counter(dict(_q(warehouse, """select coalesce(unplaced_reason, 'placed'), count(*)
        from intermediate.int_spatial_locations where object_kind = 'incident' group by all""")))
    assert sum(kinds.values()) == 15_947
    assert kinds["placed"] == sum(expected.values())


def test_overlay_shares_sum_to_one_per_delivering_area(groningen):
    warehouse, _, _ = groningen
    sums = _q(warehouse, """select from_source, from_area_code, sum(share), any_value(method)
        from intermediate.int_division_overlay group by all""")
    assert len(sums) == 15
    for source, code, total, method in sums:
        assert abs(total - 1) < 1e-9, (source, code)
        assert "weighted by CBS grid inhabitants 2014" in method
    methods = _q(warehouse, """select distinct harmonisation_method from marts.fct_indicator_value
        where indicator_code = 'aandeel_65_oo' and period = 2017 and not is_city""")
    assert all(m.startswith("overlay cbs_wijkbuurtkaart 2017 -> gemeentelijke_indeling 2017")
               for (m,) in methods)


def test_counts_are_descriptive_and_change_relatively(groningen):
    warehouse, _, _ = groningen
    nodes = {n for (n,) in _q(warehouse, "select distinct node_code from marts.mart_compass_status")}
    assert nodes and not nodes & COUNTS
    rows = _q(warehouse, """select d.area_code, d.base_value, d.current_value, d.change, d.city_change
        from marts.mart_compass_development d where d.node_code = 'inwoners'""")
    assert len(rows) == 15
    for area, base, current, change, city_change in rows:
        assert change == pytest.approx(100 * (current / base - 1), abs=1e-6), area
        assert -50 < city_change < 50  # a city's relative growth, not a difference of totals


def test_pages_show_the_real_wijken(groningen):
    _, edition_dir, _ = groningen
    index = (edition_dir / "site" / "index.html").read_text(encoding="utf-8")
    for wijk in _wijken():
        assert wijk["NAAM"].replace("&", "&amp;") in index, wijk["NAAM"]
    pages = list((edition_dir / "site" / "area").glob("WK0014*.html"))
    assert len(pages) == 15


def test_buurt_level_compass(tmp_path_factory):
    shared_path(*POLICE)
    warehouse, _, _ = _refresh(tmp_path_factory.mktemp("groningen-buurt"), {"compass_level": "buurt"})
    areas = _q(warehouse, "select count(distinct area_code) from marts.mart_compass_status")[0][0]
    assert areas == 112
    assert not {n for (n,) in _q(warehouse, "select distinct node_code from marts.mart_compass_status")} & COUNTS
