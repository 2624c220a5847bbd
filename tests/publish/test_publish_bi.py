"""Issue 19, point 5: the published files as a BI tool reads them. Every mart is unique on its
documented key (so joins never double rows), the compass nodes are labelled, the Parquet files
carry the column descriptions, list columns are flat text and the DuckDB file opens read-write."""

from __future__ import annotations

import os
import shutil
import stat

import duckdb
import pyarrow.parquet as pq
import pytest

from basismonitor.publish import exports as publisher
from basismonitor.publish.exports import EXPORTED_TABLES, JOIN_KEYS


@pytest.fixture(scope="module")
def edition(refreshed, tmp_path_factory):
    exports = tmp_path_factory.mktemp("bi") / "exports"
    return publisher.publish_edition(refreshed.warehouse, exports, refreshed.edition,
                                     excel_max_rows=5_000, progress=lambda _: None).path


def parquet(edition, table: str) -> str:
    return f"read_parquet('{edition / (table.split('.')[-1] + '.parquet')}')"


def scalar(sql: str):
    """The one value a query on the exported files gives."""
    return duckdb.sql(sql).fetchone()[0]


def test_every_exported_mart_has_a_documented_key(refreshed):
    docs = publisher._mart_docs()
    assert set(JOIN_KEYS) == set(EXPORTED_TABLES)
    for table, key in JOIN_KEYS.items():
        name = table.split(".")[-1]
        if name.startswith(("fct_", "mart_")) or name == "dim_area":
            assert "Key: (" + ", ".join(key) + ")" in docs[name]["description"], name


def test_every_mart_is_unique_on_its_key(edition):
    for table, key in JOIN_KEYS.items():
        cols = ", ".join(key)
        rows, distinct = duckdb.sql(
            f"select count(*), count(distinct ({cols})) from {parquet(edition, table)}"
        ).fetchone()
        assert rows > 0 and rows == distinct, (table, key, rows, distinct)


def test_joins_on_the_keys_never_double_rows(edition):
    fct = parquet(edition, "fct_indicator_value")
    area = parquet(edition, "dim_area")
    status = parquet(edition, "mart_compass_status")
    n_fct = scalar(f"select count(*) from {fct}")
    joined = scalar(f"select count(*) from {fct} f join {area} a using (area_edition, area_code)")
    assert joined == n_fct
    # the current division has one row per code: joining on the code alone is safe there
    dup = scalar(f"select count(*) - count(distinct area_code) from {area} "
                 "where is_current_edition")
    assert dup == 0
    # node_code alone is ambiguous (an indicator and a theme may share it); node_key is not
    n_status = scalar(f"select count(*) from {status}")
    self_join = scalar(f"select count(*) from {status} a join {status} b "
                       "using (edition, area_code, node_key)")
    assert self_join == n_status
    shared = scalar(f"select count(*) from (select area_code, node_code from {status} "
                    "group by all having count(*) > 1)")
    keys_ok = scalar(f"select bool_and(node_key = node_level || ':' || node_code) from {status}")
    assert keys_ok and shared >= 0  # shared codes exist where an indicator and a theme coincide


def test_nodes_and_parents_are_labelled(edition):
    for mart in ("mart_compass_status", "mart_compass_development"):
        missing = duckdb.sql(
            f"select count(*) filter (where node_label_nl is null), count(*) "
            f"from {parquet(edition, mart)}"
        ).fetchone()
        assert missing[0] == 0 and missing[1] > 0, mart
    profile = duckdb.sql(
        f"select count(*) filter (where parent_code is not null and parent_name is null), "
        f"count(*) filter (where parent_name is not null) from {parquet(edition, 'mart_area_profile')}"
    ).fetchone()
    assert profile[0] == 0 and profile[1] > 0


def test_parquet_columns_carry_their_descriptions(edition):
    docs = publisher._mart_docs()
    for table in EXPORTED_TABLES:
        name = table.split(".")[-1]
        schema = pq.read_schema(edition / f"{name}.parquet")
        assert schema.metadata[b"description"].decode() == docs[name]["description"]
        for field in schema:
            assert field.metadata, (name, field.name)
            described = docs[name]["columns"].get(field.name)
            if field.name == "geometry" and name == "dim_area":  # the WKB copy of geometry_wkt
                described = field.metadata[b"description"].decode()
                assert "GeoParquet" in described
            assert field.metadata[b"description"].decode() == described


def test_area_geometry_is_geoparquet(edition):
    import json

    schema = pq.read_schema(edition / "dim_area.parquet")
    geo = json.loads(schema.metadata[b"geo"])
    assert geo["primary_column"] == "geometry" and geo["version"].startswith("1.")
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert set(column["geometry_types"]) <= {"Polygon", "MultiPolygon"} and column["geometry_types"]
    assert column["crs"]["id"]["authority"] == "EPSG"  # PROJJSON: QGIS places the layer
    xmin, ymin, xmax, ymax = column["bbox"]
    assert xmin < xmax and ymin < ymax
    # the WKB is the WKT's geometry
    con = duckdb.connect()
    publisher._load_spatial(con)
    # DuckDB spatial reads the column as a geometry with the CRS (as GDAL/QGIS do), equal to the WKT
    kind, differ = con.sql(
        f"select any_value(typeof(geometry)), count(*) filter (where not "
        f"ST_Equals(geometry::GEOMETRY, ST_GeomFromText(geometry_wkt))) "
        f"from read_parquet('{edition / 'dim_area.parquet'}')"
    ).fetchone()
    crs = scalar(f"select any_value(crs) from read_parquet('{edition / 'dim_area.parquet'}')")
    assert kind == f"GEOMETRY('{crs}')" and differ == 0


def test_list_columns_are_flat_text(edition, refreshed):
    schema = pq.read_schema(edition / "fct_indicator_value.parquet")
    assert str(schema.field("load_ids").type) == "string"
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        expected = con.sql(
            "select array_to_string(load_ids, ',') from marts.fct_indicator_value "
            "where len(load_ids) > 0 order by all limit 1"
        ).fetchone()[0]
    got = scalar(f"select load_ids from {parquet(edition, 'fct_indicator_value')} "
                 "where load_ids <> '' order by all limit 1")
    assert got == expected and "[" not in got
    header = (edition / "fct_indicator_value.csv").read_text().splitlines()[:3]
    assert not any("[" in line for line in header)


def test_the_duckdb_file_opens_read_write_by_default(edition, refreshed, tmp_path):
    database = edition / f"basismonitor_{refreshed.edition}.duckdb"
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o644
    copy = tmp_path / "bi.duckdb"  # a downloaded copy, opened as DBeaver does (read-write)
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as con:
        assert con.sql("select count(*) from marts.mart_area_profile").fetchone()[0] > 0
    with duckdb.connect(str(database)) as con:  # and in place, as the publishing account
        comments = con.sql("select count(*) from duckdb_columns() where schema_name = 'marts' "
                           "and comment is null").fetchone()[0]
        assert comments == 0
