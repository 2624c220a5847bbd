"""OData v4 minimal conformance of `basismonitor serve`, checked against the edition's own DuckDB
file (the oracle is SQL on the published file, never a hard-coded figure), with python-odata (an
OData v4 client from PyPI) as a caller beside plain HTTP, and the requests Power Query's OData
connector makes."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import duckdb
import pytest

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
FACT = "fct_indicator_value"

# What Excel / Power BI's OData.Feed (Implementation 2.0) sends: the Accept list it offers and the
# version headers (docs/ODATA.md, "What Power Query asks").
POWER_QUERY_HEADERS = {
    "Accept": "application/json;odata.metadata=minimal;q=1.0,application/json;"
              "odata=minimalmetadata;q=0.9,application/atomsvc+xml;q=0.8,"
              "application/atom+xml;q=0.8,application/xml;q=0.7,text/plain;q=0.7",
    "OData-MaxVersion": "4.0",
    "MaxDataServiceVersion": "3.0",
    "User-Agent": "Microsoft.Data.Mashup (https://go.microsoft.com/fwlink/?LinkID=304225)",
}


@pytest.fixture(scope="module")
def oracle(served):
    """The published DuckDB file of the served edition, opened read-only."""
    path = served.exports / "2024" / "basismonitor_2024.duckdb"
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


def tables_of(con) -> list[str]:
    return [r[0] for r in con.execute("select table_name from duckdb_tables() "
                                      "where schema_name = 'marts' order by 1").fetchall()]


def columns_of(con, table: str) -> list[tuple[str, str, str | None]]:
    return con.execute("select column_name, data_type, comment from duckdb_columns() where "
                       "schema_name = 'marts' and table_name = ? order by column_index",
                       [table]).fetchall()


def read_all(served, path: str, headers=None) -> tuple[list[dict], int]:
    """Every row of a collection, following @odata.nextLink; returns (rows, pages)."""
    url, rows, pages = served.url + path, [], 0
    import requests

    while url:
        response = requests.get(url, headers=headers or {}, timeout=60)
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["value"]
        pages += 1
        url = body.get("@odata.nextLink")
        assert pages < 10_000
    return rows, pages


# --- service document, $metadata ----------------------------------------------------------------

def test_service_document_lists_every_mart(served, oracle):
    response = served.get()
    assert response.status_code == 200
    assert response.headers["OData-Version"] == "4.0"
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["@odata.context"] == served.url + "$metadata"
    assert sorted(e["name"] for e in body["value"]) == tables_of(oracle)
    assert {e["kind"] for e in body["value"]} == {"EntitySet"}
    assert FACT in {e["url"] for e in body["value"]}


def test_metadata_is_derived_from_the_edition(served, oracle):
    response = served.get("$metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    schema = root.find(f".//{EDM}Schema")
    types = {t.get("Name"): t for t in schema.findall(f"{EDM}EntityType")}
    assert sorted(types) == tables_of(oracle)
    sets = {s.get("Name") for s in schema.find(f"{EDM}EntityContainer").findall(f"{EDM}EntitySet")}
    assert sorted(sets) == tables_of(oracle)
    for table, entity in types.items():
        properties = {p.get("Name"): p for p in entity.findall(f"{EDM}Property")}
        expected = columns_of(oracle, table)
        assert list(properties) == [c for c, _, _ in expected], table
        for name, dtype, comment in expected:
            edm = properties[name].get("Type")
            want = {"INTEGER": "Edm.Int32", "BIGINT": "Edm.Int64", "DOUBLE": "Edm.Double",
                    "VARCHAR": "Edm.String", "BOOLEAN": "Edm.Boolean", "DATE": "Edm.Date",
                    "VARCHAR[]": "Collection(Edm.String)"}.get(dtype)
            if want:
                assert edm == want, (table, name, dtype, edm)
            described = properties[name].find(f"{EDM}Annotation[@Term='Core.Description']")
            if comment:
                assert described is not None and comment.startswith(described.get("String"))
    fact = types[FACT]
    keys = [k.get("Name") for k in fact.find(f"{EDM}Key").findall(f"{EDM}PropertyRef")]
    assert keys == ["area_edition", "area_code", "period", "indicator_code"]
    navs = {n.get("Name"): n for n in fact.findall(f"{EDM}NavigationProperty")}
    assert {"dim_area", "dim_indicator", "dim_period"} <= set(navs)
    area = {(c.get("Property"), c.get("ReferencedProperty"))
            for c in navs["dim_area"].findall(f"{EDM}ReferentialConstraint")}
    assert area == {("area_edition", "area_edition"), ("area_code", "area_code")}
    assert fact.find(f"{EDM}Annotation[@Term='Core.Description']") is not None


def test_metadata_as_json_csdl(served, oracle):
    body = served.get("$metadata", params={"$format": "json"}).json()
    assert body["$Version"] == "4.0"
    schema = body["Basismonitor"]
    assert sorted(k for k, v in schema.items() if v.get("$Kind") == "EntityType") == \
        tables_of(oracle)
    assert schema[FACT]["$Key"] == ["area_edition", "area_code", "period", "indicator_code"]
    assert schema[FACT]["dim_indicator"]["$Kind"] == "NavigationProperty"


# --- reading ------------------------------------------------------------------------------------

def test_power_query_session(served, oracle):
    """The requests OData.Feed makes: service document, $metadata, then the table page by page
    following @odata.nextLink (and Table.Skip/FirstN folded into $skip/$top)."""
    document = served.get("", headers=POWER_QUERY_HEADERS)
    assert document.status_code == 200 and document.json()["value"]
    metadata = served.get("$metadata", headers=POWER_QUERY_HEADERS)
    assert metadata.status_code == 200 and metadata.text.startswith("<?xml")
    rows, pages = read_all(served, FACT, POWER_QUERY_HEADERS)
    total = oracle.execute(f"select count(*) from marts.{FACT}").fetchone()[0]
    assert len(rows) == total and pages == -(-total // 1000)
    keys = {(r["area_edition"], r["area_code"], r["period"], r["indicator_code"]) for r in rows}
    assert len(keys) == total
    folded = served.get(FACT, params={"$skip": "10", "$top": "100"}, headers=POWER_QUERY_HEADERS)
    assert folded.json()["value"] == rows[10:110]


def test_small_pages_read_every_row_once(served, oracle):
    rows, pages = read_all(served, "dim_area", {"Prefer": "odata.maxpagesize=7"})
    expected = oracle.execute("select area_edition, area_code from marts.dim_area "
                              "order by 1, 2").fetchall()
    assert [(r["area_edition"], r["area_code"]) for r in rows] == expected
    assert pages == -(-len(expected) // 7)


@pytest.mark.parametrize(("odata", "sql"), [
    ("period eq 2024", "period = 2024"),
    ("period ge 2020 and not suppressed", "period >= 2020 and not suppressed"),
    ("indicator_code in ('inwoners', 'cijfer_veiligheid') or period lt 2018",
     "indicator_code in ('inwoners', 'cijfer_veiligheid') or period < 2018"),
    ("value eq null", "value is null"),
    ("value ne null and value add 10 gt 60", "value is not null and value + 10 > 60"),
    ("value mul 2 le 30 and value sub 1 ge 0", "value * 2 <= 30 and value - 1 >= 0"),
    ("startswith(area_code, 'WK') and contains(indicator_code, 'a')",
     "starts_with(area_code, 'WK') and contains(indicator_code, 'a')"),
    ("endswith(tolower(area_code), '01') or length(area_code) eq 6",
     "ends_with(lower(area_code), '01') or length(area_code) = 6"),
    ("dim_indicator/source_kind eq 'survey'",
     "indicator_code in (select indicator_code from marts.dim_indicator "
     "where source_kind = 'survey')"),
])
def test_filter_matches_sql(served, oracle, odata, sql):
    expected = oracle.execute(f"select count(*) from marts.{FACT} where {sql}").fetchone()[0]
    response = served.get(FACT, params={"$filter": odata, "$count": "true", "$top": "5"})
    assert response.status_code == 200, response.text
    assert response.json()["@odata.count"] == expected
    counted = served.get(f"{FACT}/$count", params={"$filter": odata})
    assert counted.status_code == 200 and int(counted.text) == expected


def test_filter_is_not_vacuous(served, oracle):
    """The parametrised filters above select something and leave something out."""
    total = oracle.execute(f"select count(*) from marts.{FACT}").fetchone()[0]
    part = int(served.get(f"{FACT}/$count", params={"$filter": "period eq 2024"}).text)
    assert 0 < part < total


def test_select_orderby_top_skip(served, oracle):
    params = {"$select": "area_code,period,value", "$orderby": "value desc,area_code",
              "$filter": "value ne null", "$top": "25", "$skip": "5"}
    body = served.get(FACT, params=params).json()
    assert body["@odata.context"].endswith(f"$metadata#{FACT}(area_code,period,value)")
    expected = oracle.execute(
        f"select area_code, period, value from marts.{FACT} where value is not null order by "
        "value desc, area_code, indicator_code, period, area_edition, area_code "
        "limit 25 offset 5").fetchall()
    assert [(r["area_code"], r["period"], r["value"]) for r in body["value"]] == \
        [tuple(r) for r in expected]
    assert all(set(r) == {"area_code", "period", "value"} for r in body["value"])
    assert "@odata.nextLink" not in body


def test_top_beyond_a_page_is_paged(served):
    rows, pages = read_all(served, "dim_area?$top=12", {"Prefer": "odata.maxpagesize=5"})
    assert len(rows) == 12 and pages == 3


def test_expand_one_level(served, oracle):
    body = served.get(FACT, params={"$expand": "dim_indicator($select=label_nl,unit),dim_area",
                                    "$top": "50"}).json()
    labels = dict(oracle.execute("select indicator_code, label_nl from marts.dim_indicator"
                                 ).fetchall())
    names = dict(oracle.execute("select area_edition || '/' || area_code, area_name "
                                "from marts.dim_area").fetchall())
    for row in body["value"]:
        assert row["dim_indicator"] == {"label_nl": labels[row["indicator_code"]],
                                        "unit": row["dim_indicator"]["unit"]}
        area = row["dim_area"]
        if area is not None:
            assert area["area_name"] == names[f"{row['area_edition']}/{row['area_code']}"]
    assert any(row["dim_area"] for row in body["value"])


def test_entity_by_key(served, oracle):
    edition, area, period, code = oracle.execute(
        f"select area_edition, area_code, period, indicator_code from marts.{FACT} "
        "where value is not null limit 1").fetchone()
    response = served.get(f"{FACT}(area_edition={edition},area_code='{area}',period={period},"
                          f"indicator_code='{code}')")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith(f"$metadata#{FACT}/$entity")
    assert (body["area_code"], body["indicator_code"]) == (area, code)
    assert served.get(f"dim_indicator('{code}')").json()["indicator_code"] == code
    missing = served.get("dim_indicator('no such indicator')")
    assert missing.status_code == 404 and "error" in missing.json()


def test_suppressed_figures_stay_suppressed(served, oracle):
    expected = oracle.execute(f"select count(*) from marts.{FACT} where suppressed").fetchone()[0]
    assert expected > 0, "the test edition has suppressed figures"
    rows, _ = read_all(served, f"{FACT}?$filter=suppressed eq true")
    assert len(rows) == expected
    assert all(r["value"] is None and r["suppression_reason"] for r in rows)


def test_csv_download_of_a_query(served, oracle):
    response = served.get(FACT, params={"$format": "csv", "$filter": "period eq 2024",
                                        "$select": "area_code,indicator_code,value"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["area_code", "indicator_code", "value"]
    expected = oracle.execute(f"select count(*) from marts.{FACT} where period = 2024"
                              ).fetchone()[0]
    assert len(rows) - 1 == expected


def test_editions_are_addressable(served):
    root = served.get().json()["value"]
    for prefix in ("2024/", "latest/"):
        response = served.get(prefix)
        assert response.status_code == 200
        assert response.json()["value"] == root
        assert response.json()["@odata.context"] == served.url + prefix + "$metadata"
    page = served.get(f"2024/{FACT}", params={"$top": "3"}).json()
    assert page["value"] == served.get(FACT, params={"$top": "3"}).json()["value"]
    missing = served.get("1999/")
    assert missing.status_code == 404
    assert "1999" in missing.json()["error"]["message"]


def test_odata_version_and_format_negotiation(served):
    assert served.get("", headers={"OData-MaxVersion": "3.0"}).status_code == 400
    assert served.get(FACT, headers={"Accept": "application/atom+xml"}).status_code == 406
    none = served.get(FACT, params={"$top": "1", "$format": "application/json;odata.metadata=none"})
    assert "@odata.context" not in none.json()
    assert served.get(FACT, params={"$search": "x"}).status_code == 501
    import requests

    refused = requests.post(served.url + FACT, json={"value": 1}, timeout=30)
    assert refused.status_code == 405 and refused.headers["Allow"] == "GET, HEAD"


# --- a real OData v4 client ---------------------------------------------------------------------

def test_python_odata_client(served, oracle):
    from odata import ODataService

    service = ODataService(served.url, reflect_entities=True, quiet_progress=True)
    assert set(tables_of(oracle)) <= set(service.entities)
    Fact = service.entities[FACT]
    query = service.query(Fact).filter(Fact.period == 2024).order_by(Fact.area_code.asc())
    rows = list(query)   # follows @odata.nextLink
    expected = oracle.execute(f"select count(*) from marts.{FACT} where period = 2024"
                              ).fetchone()[0]
    assert len(rows) == expected
    assert [r.area_code for r in rows] == sorted(r.area_code for r in rows)
    Indicator = service.entities["dim_indicator"]
    first = service.query(Indicator).order_by(Indicator.indicator_code.asc()).first()
    assert first.indicator_code == oracle.execute(
        "select min(indicator_code) from marts.dim_indicator").fetchone()[0]
