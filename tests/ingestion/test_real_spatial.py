"""The spatial sources on the real files of Groningen (../shared/data): the CBS 100 m grid, the
police's bicycle-theft export (read from ../shared only, never copied into the project), the
facility points, and the area divisions as zipped shapefile / GeoPackage written by the test
itself from the real CSVs with DuckDB's GDAL writer. Every expected figure is computed here
from the source file by its own route (Python's csv module, openpyxl), not by the loader."""

from __future__ import annotations

import csv
import os
import sqlite3
import warnings
import zipfile
from collections import Counter
from pathlib import Path

import duckdb
import pytest
import yaml
from basismonitor.ingestion import IngestionError, load_config, load_file
from basismonitor.ingestion.pseudonym import pseudonymise
from shared_data import shared_path

from basismonitor.config import load_spatial

pytestmark = pytest.mark.shared

GRID = ("data", "groningen-real", "vierkant100m2014.csv")
THEFTS = ("data", "groningen-real", "Diefstal fiets Groningen stad vanaf 2013.xlsx")
POINTS = {"horeca": "horeca.csv", "coffeeshops": "coffeeshops.csv",
          "bushaltes": "bushaltes.csv"}
KEY = "test-key-of-adequate-length-0123456789"   # real incidents need >= 32 characters
RD_X, RD_Y = (-7000, 300000), (289000, 629000)


def _load(warehouse: Path, source: str, period, path: Path, config=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_file(warehouse, source, str(period), path, config=config or load_config())


def _q(warehouse: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _reconciles(warehouse: Path, load_id: str) -> tuple[int, int, int]:
    read, landed, quarantined = _q(warehouse, """select rows_read, rows_landed, rows_quarantined
        from raw.loads where load_id = ?""", [load_id])[0]
    assert read == landed + quarantined
    return read, landed, quarantined


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """One warehouse with the grid, the thefts and the three point files landed."""
    old = os.environ.get("BASISMONITOR_PSEUDONYM_KEY")
    os.environ["BASISMONITOR_PSEUDONYM_KEY"] = KEY
    try:
        warehouse = tmp_path_factory.mktemp("real") / "warehouse.duckdb"
        results = {"grid": _load(warehouse, "cbs_vierkant100m", 2014, shared_path(*GRID)),
                   "thefts": _load(warehouse, "politie_incidenten", 2017, shared_path(*THEFTS))}
        for source, name in POINTS.items():
            results[source] = _load(warehouse, source, 2017,
                                    shared_path("data", "groningen-real", name))
        yield warehouse, results
    finally:
        if old is None:
            os.environ.pop("BASISMONITOR_PSEUDONYM_KEY", None)
        else:
            os.environ["BASISMONITOR_PSEUDONYM_KEY"] = old


# -- the grid -------------------------------------------------------------------------------------

def _grid_rows() -> tuple[list[str], list[dict[str, str]]]:
    with open(shared_path(*GRID), encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_grid_squares_land_with_every_years_inhabitants(real):
    warehouse, results = real
    r = results["grid"]
    header, rows = _grid_rows()
    assert r.status == "landed"
    assert _reconciles(warehouse, r.load_id) == (len(rows), len(rows), 0) == (3441, 3441, 0)
    inw_years = sorted(int(h[3:]) for h in header if h.startswith("INW") and h[3:].isdigit())
    assert inw_years == list(range(2000, 2015))
    per_year = dict(_q(warehouse, """select year, count(distinct square_code)
        from raw.grid_values where variable = 'inw' group by year"""))
    assert per_year == {y: 3441 for y in inw_years}
    assert _q(warehouse, "select count(distinct square_code), min(edition), max(edition) "
                         "from raw.grid_values") == [(3441, 2014, 2014)]


def test_grid_sums_per_year_equal_the_csv(real):
    """Inhabitants per year: -99998 (none) counts 0, -99997 (secret) is no number; the sum the
    test computes from the CSV equals the landed sum, and the codes are counted the same."""
    warehouse, _ = real
    header, rows = _grid_rows()
    for variable, prefix in (("inw", "INW"), ("won", "WON")):
        columns = [h for h in header if h.startswith(prefix) and h[len(prefix):].isdigit()]
        expected, nil, hidden = {}, Counter(), Counter()
        for h in columns:
            year = int(h[len(prefix):])
            cells = [row[h].strip() for row in rows]
            expected[year] = float(sum(int(c) for c in cells if c.lstrip("-").isdigit()
                                       and int(c) >= 0))
            nil[year] = sum(c == "-99998" for c in cells)
            hidden[year] = sum(c in ("-99997", "geheim") for c in cells)
        landed = {y: (s, n, h) for y, s, n, h in _q(warehouse, """
            select year, sum(value), count(*) filter (where missing_reason = 'nil'),
                   count(*) filter (where missing_reason = 'hidden')
            from raw.grid_values where variable = ? group by year""", [variable])}
        assert landed == {y: (expected[y], nil[y], hidden[y]) for y in expected}, variable
    # a nil cell is 0, a hidden one no number; no code ever became a number
    assert _q(warehouse, """select count(*) filter (where missing_reason = 'nil' and value <> 0),
        count(*) filter (where missing_reason = 'hidden' and value is not null),
        count(*) filter (where value < 0 and variable <> 'tinw_00_10')
        from raw.grid_values""") == [(0, 0, 0)]


def test_grid_variables_years_and_unruled_columns(real):
    warehouse, results = real
    header, _ = _grid_rows()
    kinds = dict(_q(warehouse, """select variable, list(distinct year order by year)
        from raw.grid_values group by variable"""))
    assert kinds["i_014"] == kinds["i_65pl"] == kinds["man"] == kinds["vrouw"] == \
        [2011, 2012, 2013, 2014]
    assert kinds["won"] == list(range(2000, 2013)) and kinds["wozwon"] == [2011, 2012]
    assert kinds["p_auto"] == [2011, 2012, 2013, 2014]
    # TINW_00_10 fits no year rule: kept (year NULL) and named in the load message
    assert kinds["tinw_00_10"] == [None]
    assert "TINW_00_10" in results["grid"].message
    # every value column of the file is one variable x year, none dropped
    value_columns = [h for h in header if h not in ("", "OBJECTID", "C28992R100", "geometry",
                                                    "x", "y")]
    assert _q(warehouse, "select count(*) from raw.grid_values") == [(3441 * len(value_columns),)]
    # class variables keep their class; text codes are reasons, not numbers
    assert _q(warehouse, """select count(*) from raw.grid_values where variable = 'p_auto'
        and value_raw = '75% tot 90%' and value is null and missing_reason is null""")[0][0] > 0


def test_grid_centroids_are_rd_new_and_match_the_square_code(real):
    """The centroid is the WGS84 x/y transformed to RD New; the square code spells the square's
    lower-left corner in hectometres, so its centre is an independent check."""
    warehouse, _ = real
    squares = _q(warehouse, "select distinct square_code, x_rd, y_rd from raw.grid_values")
    assert len(squares) == 3441
    for code, x, y in squares:
        e, n = code[1:].split("N")
        assert abs(x - (int(e) * 100 + 50)) < 1 and abs(y - (int(n) * 100 + 50)) < 1, code


def _write_grid(path: Path, header: list[str], rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_grid_without_a_year_column_loads_the_years_it_has(tmp_path):
    header, rows = _grid_rows()
    header = [h for h in header if h != "INW2005"]
    path = _write_grid(tmp_path / "inbox" / "vierkant100m2014.csv", header, rows[:50])
    warehouse = tmp_path / "w.duckdb"
    r = _load(warehouse, "cbs_vierkant100m", 2014, path)
    assert r.rows_landed == 50 and r.rows_quarantined == 0
    years = [y for (y,) in _q(warehouse, """select distinct year from raw.grid_values
        where variable = 'inw' order by 1""")]
    assert years == [y for y in range(2000, 2015) if y != 2005]


@pytest.mark.parametrize("drop, column", [
    (("C28992R100",), "C28992R100"),
    (("x", "y", "geometry"), "x/y/geometry"),
])
def test_grid_without_square_code_or_location_fails_naming_file_and_column(tmp_path, drop,
                                                                          column):
    header, rows = _grid_rows()
    header = [h for h in header if h not in drop]
    path = _write_grid(tmp_path / "inbox" / "vierkant100m2014.csv", header, rows[:5])
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(IngestionError) as err:
        _load(warehouse, "cbs_vierkant100m", 2014, path)
    text = str(err.value)
    assert "vierkant100m2014.csv" in text and column in text
    assert _q(warehouse, "select count(*) from raw.grid_values") == [(0,)]
    assert _q(warehouse, "select status from raw.loads") == [("failed",)]


def test_grid_text_in_a_count_is_a_cell_in_the_quarantine(tmp_path):
    header, rows = _grid_rows()
    rows = [dict(r) for r in rows[:10]]
    rows[3]["INW2010"] = "veel"
    path = _write_grid(tmp_path / "inbox" / "vierkant100m2014.csv", header, rows)
    warehouse = tmp_path / "w.duckdb"
    r = _load(warehouse, "cbs_vierkant100m", 2014, path)
    assert (r.rows_read, r.rows_landed, r.rows_quarantined, r.cells_quarantined) == (10, 10, 0, 1)
    q = _q(warehouse, "select row_number, column_name, value, reason, scope from raw.quarantine")
    assert q[0][:3] == (4, "INW2010", "veel") and q[0][4] == "cell"
    assert "not a number" in q[0][3]
    assert _q(warehouse, """select value, missing_reason from raw.grid_values
        where _row_number = 4 and variable = 'inw' and year = 2010""") == [(None, "invalid")]


def test_grid_polygon_gives_the_centroid_where_no_xy(tmp_path):
    header, rows = _grid_rows()
    header = [h for h in header if h not in ("x", "y")]
    path = _write_grid(tmp_path / "inbox" / "vierkant100m2014.csv", header, rows[:20])
    warehouse = tmp_path / "w.duckdb"
    _load(warehouse, "cbs_vierkant100m", 2014, path)
    for code, x, y in _q(warehouse, "select distinct square_code, x_rd, y_rd "
                                    "from raw.grid_values"):
        e, n = code[1:].split("N")
        assert abs(x - (int(e) * 100 + 50)) < 1 and abs(y - (int(n) * 100 + 50)) < 1, code


# -- police incidents -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def theft_rows() -> tuple[list, list[tuple]]:
    from openpyxl import load_workbook

    wb = load_workbook(shared_path(*THEFTS), read_only=True, data_only=True)
    try:
        rows = wb["Incidenten"].iter_rows(values_only=True)
        header = list(next(rows))
        return header, [r for r in rows if any(v is not None for v in r)]
    finally:
        wb.close()


def test_incidents_all_accounted_for_by_year(real, theft_rows):
    warehouse, results = real
    header, rows = theft_rows
    r = results["thefts"]
    assert len(rows) == 15_947
    read, landed, quarantined = _reconciles(warehouse, r.load_id)
    assert read == 15_947 == landed + quarantined
    begin = header.index("Begin-pleegdatum/tijd")
    expected = Counter(row[begin].year for row in rows if row[begin] is not None)
    assert sorted(expected) == [2013, 2014, 2015, 2016, 2017]
    assert dict(_q(warehouse, "select year, count(*) from raw.incidents group by year")) == \
        dict(expected)
    # the key is the HMAC of the police id: the same as pseudonymise() with the key, never the id
    ident = header.index("Incident Identificatie")
    assert _q(warehouse, "select incident_key from raw.incidents where _row_number = 1") == \
        [(pseudonymise(rows[0][ident], KEY.encode()),)]
    assert _q(warehouse, """select count(*) from raw.incidents
        where incident_key like 'PL%' or incident_key = ?""", [rows[0][ident]]) == [(0,)]


def test_incidents_coordinates_are_the_files_rd_new_points(real, theft_rows):
    warehouse, _ = real
    header, rows = theft_rows
    x, y = header.index("X"), header.index("Y")
    lo_x, hi_x, lo_y, hi_y, n = _q(warehouse, """select min(x_rd), max(x_rd), min(y_rd),
        max(y_rd), count(x_rd) from raw.incidents""")[0]
    assert RD_X[0] <= lo_x <= hi_x <= RD_X[1] and RD_Y[0] <= lo_y <= hi_y <= RD_Y[1]
    assert lo_x > 220_000 and hi_x < 250_000 and lo_y > 570_000 and hi_y < 595_000  # Groningen
    numeric = [(i + 1, float(r[x]), float(r[y])) for i, r in enumerate(rows)
               if isinstance(r[x], int | float) and isinstance(r[y], int | float)]
    assert n == len(numeric)
    landed = {rn: (a, b) for rn, a, b in _q(warehouse, """select _row_number, x_rd, y_rd
        from raw.incidents where x_rd is not null""")}
    assert landed == {rn: (a, b) for rn, a, b in numeric}
    wijk = header.index("Pleegwijk")
    assert _q(warehouse, "select police_wijk from raw.incidents where _row_number = 1") == \
        [(rows[0][wijk],)]


def _theft_xlsx(path: Path, header: list, rows: list) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Incidenten"
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def test_incidents_text_in_xy_and_missing_begin(tmp_path, theft_rows, monkeypatch):
    monkeypatch.setenv("BASISMONITOR_PSEUDONYM_KEY", KEY)
    header, rows = theft_rows
    rows = [list(r) for r in rows[:8]]
    x, y = header.index("X"), header.index("Y")
    begin = header.index("Begin-pleegdatum/tijd")
    rows[2][x] = "onbekend"          # text in X: the incident lands without coordinates
    rows[4][y] = None                # half a pair
    rows[5][begin] = None            # no begin date: no year, the row is quarantined
    path = _theft_xlsx(tmp_path / "inbox" / "diefstal.xlsx", header, rows)
    warehouse = tmp_path / "w.duckdb"
    r = _load(warehouse, "politie_incidenten", 2017, path)
    assert (r.rows_read, r.rows_landed, r.rows_quarantined) == (8, 7, 1)
    q = {(row, col): (scope, reason, raw) for row, col, scope, reason, raw in _q(
        warehouse, "select row_number, column_name, scope, reason, raw_row from raw.quarantine")}
    scope, reason, _ = q[(3, "X")]
    assert scope == "cell" and "'onbekend' is not a number" in reason
    assert q[(5, "X/Y")][0] == "cell" and "one coordinate" in q[(5, "X/Y")][1]
    scope, reason, raw = q[(6, "Begin-pleegdatum/tijd")]
    assert scope == "row" and "no begin date-time" in reason
    # the quarantined row keeps the row as delivered, without the address
    street = rows[5][header.index("Pleegstraatnaam")]
    assert rows[5][header.index("Incident Identificatie")] in raw and street not in raw
    assert _q(warehouse, """select _row_number, x_rd, y_rd, police_wijk is not null
        from raw.incidents where _row_number in (3, 5) order by 1""") == [
        (3, None, None, True), (5, None, None, True)]
    assert str(path) in r.path


# -- facility points ------------------------------------------------------------------------------

def test_points_land_with_rd_new_coordinates(real):
    warehouse, results = real
    expected = {}
    for source, name in POINTS.items():
        with open(shared_path("data", "groningen-real", name), encoding="utf-8",
                  newline="") as fh:
            expected[source] = list(csv.DictReader(fh))
    assert {s: len(v) for s, v in expected.items()} == {"horeca": 621, "coffeeshops": 14,
                                                         "bushaltes": 543}
    for source in POINTS:
        r = results[source]
        assert _reconciles(warehouse, r.load_id) == (len(expected[source]),) * 2 + (0,)
    counts = dict((s, (n, nx)) for s, n, nx in _q(warehouse, """select _source, count(*),
        count(x_rd) filter (where x_rd between 220000 and 250000
                              and y_rd between 570000 and 595000) from raw.points group by 1"""))
    assert counts == {"horeca": (621, 621), "coffeeshops": (14, 14), "bushaltes": (543, 543)}
    categories = dict(_q(warehouse, """select category, count(*) from raw.points
        where _source = 'horeca' group by 1"""))
    assert categories == dict(Counter(r["horecatype"] for r in expected["horeca"]))
    assert _q(warehouse, "select distinct category from raw.points where _source <> 'horeca' "
                         "order by 1") == [("bushalte",), ("coffeeshop",)]
    assert _q(warehouse, "select point_key, name from raw.points where _source = 'bushaltes' "
                         "and _row_number = 1") == [(expected["bushaltes"][0]["quaycode"],
                                                     expected["bushaltes"][0]["quayname"])]
    # the other columns are attributes, as delivered
    attrs = _q(warehouse, "select attributes->>'shelter' from raw.points "
                          "where _source = 'bushaltes' and _row_number = 1")[0][0]
    assert attrs == expected["bushaltes"][0]["shelter"]
    # the transformation: the first horeca point, by DuckDB spatial outside the loader
    first = expected["horeca"][0]
    con = duckdb.connect()
    load_spatial(con)
    x, y = con.execute("""select ST_X(p), ST_Y(p) from (select ST_Transform(ST_Point(?, ?),
        'EPSG:4326', 'EPSG:28992', always_xy := true) p)""",
                       [float(first["x"]), float(first["y"])]).fetchone()
    assert _q(warehouse, "select x_rd, y_rd from raw.points where _source = 'horeca' "
                         "and _row_number = 1") == [(pytest.approx(x), pytest.approx(y))]


# -- areas as GIS files ---------------------------------------------------------------------------

CBS = ("data", "cbs-groningen-2017")


def _gis_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_spatial(con)
    return con


def _write_gis(csv_path: Path, target: Path, driver: str, srs: str,
               layer: str | None = None) -> Path:
    """The CSV's rows as a GIS file (attributes as text, geometry from the WKT), transformed to
    srs, written with DuckDB's GDAL writer."""
    con = _gis_con()
    geom = "ST_GeomFromText(geometry)"
    if srs != "EPSG:4326":
        geom = f"ST_Transform({geom}, 'EPSG:4326', '{srs}', always_xy := true)"
    target.parent.mkdir(parents=True, exist_ok=True)
    options = f", LAYER_NAME '{layer}'" if layer else ""
    con.execute(f"""copy (select columns(c -> c not in ('column0', 'column00', 'geometry')),
               {geom} as geom
        from read_csv('{csv_path}', all_varchar = true))
        to '{target}' (FORMAT GDAL, DRIVER '{driver}', SRS '{srs}'{options})""")
    con.close()
    return target


def _zip_shapefile(shp: Path, target: Path, without: tuple[str, ...] = ()) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w") as zf:
        for part in sorted(shp.parent.glob(shp.stem + ".*")):
            if part.suffix.lower() not in without:
                zf.write(part, part.name)
    return target


def _areas_and_values(warehouse: Path, load_id: str):
    areas = _q(warehouse, """select area_code, area_name, area_level, parent_code
        from raw.areas where _load_id = ? order by 1""", [load_id])
    values = _q(warehouse, """select area_code, variable, value, missing_reason
        from raw.registry_values where _load_id = ? order by 1, 2""", [load_id])
    return areas, values


def _same_geometry(warehouse: Path, csv_load: str, gis_load: str, crs: str) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    load_spatial(con)
    try:
        to_rd = "ST_Transform(ST_GeomFromText({g}), 'EPSG:4326', 'EPSG:28992', always_xy := true)"
        gis = ("ST_GeomFromText(b.geometry_wkt)" if crs == "EPSG:28992"
               else to_rd.format(g="b.geometry_wkt"))
        rows = con.execute(f"""select a.area_code,
                ST_Area(ST_SymDifference({to_rd.format(g='a.geometry_wkt')}, {gis})),
                ST_Area({to_rd.format(g='a.geometry_wkt')})
            from raw.areas a join raw.areas b using (area_code)
            where a._load_id = ? and b._load_id = ?""", [csv_load, gis_load]).fetchall()
    finally:
        con.close()
    assert rows
    for code, diff, area in rows:
        assert diff <= area * 1e-9, code


@pytest.mark.parametrize("kind", ["zip_rd", "gpkg_wgs84", "shp_rd"])
def test_area_divisions_as_gis_files_land_like_the_csv(tmp_path, kind):
    """CBS's wijk- and buurtkaart and the municipality's division as a zipped shapefile (RD New),
    a GeoPackage (WGS84) and a bare shapefile: the same areas, attributes and geometry as the
    CSV, with the file's own CRS."""
    warehouse = tmp_path / "w.duckdb"
    for source, name, stem in (("cbs_wijkbuurtkaart", "buurt2017.csv", "buurt2017"),
                               ("gemeentelijke_indeling", "wijkindeling.csv", "wijkindeling")):
        src = shared_path(*CBS, name)
        csv_load = _load(warehouse, source, 2017, src)
        folder = tmp_path / kind / source / "2018"
        if kind == "gpkg_wgs84":
            path = _write_gis(src, folder / f"{stem}.gpkg", "GPKG", "EPSG:4326")
            crs = "EPSG:4326"
        else:
            shp = _write_gis(src, tmp_path / "shp" / stem / f"{stem}.shp", "ESRI Shapefile",
                             "EPSG:28992")
            crs = "EPSG:28992"
            if kind == "zip_rd":
                folder.mkdir(parents=True, exist_ok=True)
                path = _zip_shapefile(shp, folder / f"{stem}.zip")
            else:
                path = shp
        gis_load = _load(warehouse, source, 2018, path)
        assert gis_load.status == "landed", gis_load.message
        assert (gis_load.rows_read, gis_load.rows_quarantined, gis_load.cells_quarantined) == \
            (csv_load.rows_read, 0, 0)
        _reconciles(warehouse, gis_load.load_id)
        assert _areas_and_values(warehouse, gis_load.load_id) == \
            _areas_and_values(warehouse, csv_load.load_id)
        assert _q(warehouse, "select distinct crs from raw.areas where _load_id = ?",
                  [gis_load.load_id]) == [(crs,)]
        _same_geometry(warehouse, csv_load.load_id, gis_load.load_id, crs)


def _config_with(tmp_path: Path, source: str, **options):
    data = yaml.safe_load(Path(load_config().path).read_text(encoding="utf-8"))
    data["sources"][source].update(options)
    path = tmp_path / "sources.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_config(path)


def test_zipped_shapefile_without_prj(tmp_path):
    src = shared_path(*CBS, "wijk2017.csv")
    shp = _write_gis(src, tmp_path / "shp" / "wijk2017.shp", "ESRI Shapefile", "EPSG:28992")
    path = _zip_shapefile(shp, tmp_path / "inbox" / "wijk2017.zip", without=(".prj",))
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(IngestionError) as err:
        _load(warehouse, "cbs_wijkbuurtkaart", 2017, path)
    text = str(err.value)
    assert "wijk2017.zip" in text and "wijk2017.shp" in text and ".prj" in text
    assert _q(warehouse, "select count(*) from raw.areas") == [(0,)]
    assert _q(warehouse, "select count(*) from raw.registry_values") == [(0,)]
    assert _q(warehouse, "select status from raw.loads") == [("failed",)]
    # declared by the source: it lands, in the declared CRS, and the message says so
    config = _config_with(tmp_path, "cbs_wijkbuurtkaart", crs="EPSG:28992")
    config.sources["cbs_wijkbuurtkaart"].files  # noqa: B018 (parsed)
    spec_crs = [f.get("crs") for f in config["cbs_wijkbuurtkaart"].files
                if f.pattern == "wijk*.zip"]
    assert spec_crs == ["EPSG:28992"]
    r = _load(warehouse, "cbs_wijkbuurtkaart", 2017, path, config=config)
    assert r.status == "landed" and r.rows_landed == 15 and "declares no coordinate" in r.message
    assert _q(warehouse, "select distinct crs from raw.areas") == [("EPSG:28992",)]
    # a declared CRS the file contradicts fails
    shp4326 = _write_gis(src, tmp_path / "shp2" / "wijk2017.shp", "ESRI Shapefile", "EPSG:4326")
    zipped = _zip_shapefile(shp4326, tmp_path / "inbox2" / "wijk2017.zip")
    with pytest.raises(IngestionError) as err:
        _load(tmp_path / "w2.duckdb", "cbs_wijkbuurtkaart", 2017, zipped, config=config)
    assert "EPSG:4326" in str(err.value) and "crs: EPSG:28992" in str(err.value)


def test_geopackage_with_two_layers(tmp_path):
    wijk = _write_gis(shared_path(*CBS, "wijk2017.csv"), tmp_path / "a.gpkg", "GPKG",
                      "EPSG:4326", layer="wijken")
    buurt = _write_gis(shared_path(*CBS, "buurt2017.csv"), tmp_path / "b.gpkg", "GPKG",
                       "EPSG:4326", layer="buurten")
    path = tmp_path / "inbox" / "buurt2017.gpkg"
    path.parent.mkdir(parents=True)
    path.write_bytes(wijk.read_bytes())
    # add the buurten layer: a GeoPackage is SQLite; a layer is a table registered in
    # gpkg_contents and gpkg_geometry_columns
    db = sqlite3.connect(path)
    db.execute("attach database ? as b", [str(buurt)])
    db.execute("create table buurten as select * from b.buurten")
    db.execute("insert into gpkg_contents select * from b.gpkg_contents")
    db.execute("insert into gpkg_geometry_columns select * from b.gpkg_geometry_columns")
    db.commit()
    db.close()
    warehouse = tmp_path / "w.duckdb"
    with pytest.raises(IngestionError) as err:
        _load(warehouse, "cbs_wijkbuurtkaart", 2017, path)
    text = str(err.value)
    assert "buurt2017.gpkg" in text and "wijken" in text and "buurten" in text
    assert "layer:" in text
    assert _q(warehouse, "select count(*) from raw.areas") == [(0,)]
    # layer: chooses one
    config = load_config()
    data = yaml.safe_load(Path(config.path).read_text(encoding="utf-8"))
    for entry in data["sources"]["cbs_wijkbuurtkaart"]["files"]:
        if entry["pattern"] == "buurt*.gpkg":
            entry["layer"] = "buurten"
    cfg = tmp_path / "sources.yml"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    r = _load(warehouse, "cbs_wijkbuurtkaart", 2017, path, config=load_config(cfg))
    assert r.status == "landed" and r.rows_landed == 108
    assert _q(warehouse, "select count(*), min(area_level), max(crs) from raw.areas") == \
        [(108, "buurt", "EPSG:4326")]
    # a layer the file does not have fails naming the layers it has
    for entry in data["sources"]["cbs_wijkbuurtkaart"]["files"]:
        if entry["pattern"] == "buurt*.gpkg":
            entry["layer"] = "buurt_2017"
    cfg.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(IngestionError) as err:
        _load(tmp_path / "w2.duckdb", "cbs_wijkbuurtkaart", 2017, path, config=load_config(cfg))
    assert "no layer 'buurt_2017'" in str(err.value) and "wijken, buurten" in str(err.value)


def test_shapefile_without_its_dbf(tmp_path):
    shp = _write_gis(shared_path(*CBS, "wijk2017.csv"), tmp_path / "shp" / "wijk2017.shp",
                     "ESRI Shapefile", "EPSG:28992")
    path = _zip_shapefile(shp, tmp_path / "inbox" / "wijk2017.zip", without=(".dbf",))
    with pytest.raises(IngestionError) as err:
        _load(tmp_path / "w.duckdb", "cbs_wijkbuurtkaart", 2017, path)
    assert "wijk2017.zip" in str(err.value) and ".dbf" in str(err.value)


def test_points_without_usable_coordinates_land_unplaced(tmp_path):
    path = tmp_path / "inbox" / "horeca" / "2017" / "horeca.csv"
    path.parent.mkdir(parents=True)
    lines = shared_path("data", "groningen-real", "horeca.csv").read_text(
        encoding="utf-8").splitlines()[:6]
    header = lines[0].split(",")
    bad = next(csv.reader([lines[2]]))
    bad[header.index("x")] = "zes"
    bad[header.index("geometry")] = ""
    lines[2] = ",".join(f'"{v}"' if "," in v or " " in v else v for v in bad)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    r = _load(warehouse, "horeca", 2017, path)
    assert (r.rows_read, r.rows_landed, r.rows_quarantined, r.cells_quarantined) == (5, 5, 0, 1)
    (row, column, reason), = _q(warehouse, "select row_number, column_name, reason "
                                           "from raw.quarantine")
    assert row == 2 and column == "x/y or geometry" and "not WKT" in reason
    assert _q(warehouse, "select x_rd, name from raw.points where _row_number = 2") == \
        [(None, bad[header.index("naam")])]


def test_the_inbox_finds_the_spatial_sources_after_the_areas(tmp_path):
    from basismonitor.ingestion import discover

    inbox = tmp_path / "inbox"
    for source, period, name in (("bushaltes", 2017, "bushaltes.csv"),
                                 ("cbs_vierkant100m", 2014, "vierkant100m2014.csv"),
                                 ("politie_incidenten", 2017, "diefstal.xlsx"),
                                 ("gemeentelijke_indeling", 2017, "wijkindeling.zip"),
                                 ("cbs_wijkbuurtkaart", 2017, "buurt2017.gpkg")):
        (inbox / source / str(period)).mkdir(parents=True)
        (inbox / source / str(period) / name).write_bytes(b"x")
    assert [(p.source, p.path.name) for p in discover(inbox)] == [
        ("gemeentelijke_indeling", "wijkindeling.zip"),
        ("cbs_vierkant100m", "vierkant100m2014.csv"),
        ("politie_incidenten", "diefstal.xlsx"),
        ("bushaltes", "bushaltes.csv"),
        ("cbs_wijkbuurtkaart", "buurt2017.gpkg")]


def test_grid_as_geopackage_in_rd_new(tmp_path):
    """The grid as CBS also distributes it: a GeoPackage with the squares' polygons in RD New and
    no centroid columns. The centroid is the polygon's, taken as delivered (no transformation),
    and the values land as from the CSV."""
    src = shared_path(*GRID)
    target = tmp_path / "inbox" / "cbs_vierkant100m" / "2014" / "vierkant100m2014.gpkg"
    target.parent.mkdir(parents=True)
    con = _gis_con()
    con.execute(f"""copy (select columns(c -> c not in ('column0', 'column00', 'geometry', 'x',
                                                         'y')),
               ST_Transform(ST_GeomFromText(geometry), 'EPSG:4326', 'EPSG:28992',
                            always_xy := true) as geom
        from read_csv('{src}', all_varchar = true) limit 200)
        to '{target}' (FORMAT GDAL, DRIVER 'GPKG', SRS 'EPSG:28992')""")
    con.close()
    warehouse = tmp_path / "w.duckdb"
    r = _load(warehouse, "cbs_vierkant100m", 2014, target)
    assert (r.rows_read, r.rows_landed, r.rows_quarantined) == (200, 200, 0)
    assert "EPSG:28992" in r.message
    squares = _q(warehouse, "select distinct square_code, x_rd, y_rd from raw.grid_values")
    assert len(squares) == 200
    for code, x, y in squares:
        e, n = code[1:].split("N")
        assert abs(x - (int(e) * 100 + 50)) < 1 and abs(y - (int(n) * 100 + 50)) < 1, code
    header, rows = _grid_rows()
    expected = sum(int(row["INW2014"]) for row in rows[:200] if int(row["INW2014"]) >= 0)
    assert _q(warehouse, "select sum(value) from raw.grid_values where variable = 'inw' "
                         "and year = 2014") == [(float(expected),)]


def test_a_corrected_dbf_of_a_bare_shapefile_is_a_new_delivery(tmp_path):
    """The checksum of a bare .shp covers its sidecars: a corrected .dbf (a renamed buurt) is not
    skipped as 'already landed' but replaces the load."""
    src = shared_path(*CBS, "wijkindeling.csv")
    folder = tmp_path / "inbox" / "gemeentelijke_indeling" / "2017"
    shp = _write_gis(src, folder / "wijkindeling.shp", "ESRI Shapefile", "EPSG:28992")
    warehouse = tmp_path / "w.duckdb"
    first = _load(warehouse, "gemeentelijke_indeling", 2017, shp)
    assert first.status == "landed"
    assert _load(warehouse, "gemeentelijke_indeling", 2017, shp).status == "skipped"
    corrected = tmp_path / "corrected.csv"
    corrected.write_text(src.read_text(encoding="utf-8").replace("Centrum", "Binnenstad", 1),
                         encoding="utf-8")
    before = shp.read_bytes()
    new = _write_gis(corrected, tmp_path / "new" / "wijkindeling.shp", "ESRI Shapefile",
                     "EPSG:28992")
    assert new.read_bytes() == before            # only the attributes (.dbf) changed
    assert new.with_suffix(".dbf").read_bytes() != shp.with_suffix(".dbf").read_bytes()
    shp.with_suffix(".dbf").write_bytes(new.with_suffix(".dbf").read_bytes())
    second = _load(warehouse, "gemeentelijke_indeling", 2017, shp)
    assert second.status == "replaced"
    assert _q(warehouse, "select count(*) from raw.areas where area_name = 'Binnenstad'") == \
        [(1,)]
