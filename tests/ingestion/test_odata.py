"""CBS OData over HTTP: a local http.server on 127.0.0.1 serves a small recorded response."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest
from basismonitor.ingestion import IngestionError, fetch_odata, ingest_inbox
from conftest import edited_config

ROWS_V3 = [
    {"ID": 0, "WijkenEnBuurten": "GM0014    ", "Gemeentenaam_1": "Groningen                ",
     "SoortRegio_2": "Gemeente  ", "Codering_3": "GM0014    ", "Perioden": "2017JJ00",
     "AantalInwoners_5": 202810, "Mannen_6": 101015, "GemiddeldeWoningwaarde_35": 190.0,
     "PercentageKoopwoningen_40": None},
    {"ID": 1, "WijkenEnBuurten": "WK001400  ", "Gemeentenaam_1": "Groningen                ",
     "SoortRegio_2": "Wijk      ", "Codering_3": "WK001400  ", "Perioden": "2017JJ00",
     "AantalInwoners_5": 22635, "Mannen_6": 11980, "GemiddeldeWoningwaarde_35": 177.5,
     "PercentageKoopwoningen_40": 21},
    {"ID": 2, "WijkenEnBuurten": "BU00140000", "Gemeentenaam_1": "Groningen                ",
     "SoortRegio_2": "Buurt     ", "Codering_3": "BU00140000", "Perioden": "2017JJ00",
     "AantalInwoners_5": 4440, "Mannen_6": 2335, "GemiddeldeWoningwaarde_35": None,
     "PercentageKoopwoningen_40": 12},
]
ROWS_V4 = [
    {"Id": 1, "Measure": "M000352", "ValueAttribute": "None", "Value": 202810.0,
     "WijkenEnBuurten": "GM0014", "Perioden": "2017JJ00"},
    {"Id": 2, "Measure": "M000352", "ValueAttribute": "None", "Value": 22635.0,
     "WijkenEnBuurten": "WK001400", "Perioden": "2017JJ00"},
    {"Id": 3, "Measure": "T001036", "ValueAttribute": "Impossible", "Value": None,
     "WijkenEnBuurten": "WK001400", "Perioden": "2017JJ00"},
]


class Server:
    """Serves /<table>/TypedDataSet in pages of two rows (v3: odata.nextLink), 404 otherwise."""

    def __init__(self, tables: dict[str, list[dict]], version: int = 3) -> None:
        self.tables = tables
        self.version = version
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server API)
                outer.requests.append(self.path)
                url = urlparse(self.path)
                table = url.path.strip("/").split("/")[0]
                if table not in outer.tables or not url.path.endswith("/TypedDataSet"):
                    self.send_response(404)
                    self.end_headers()
                    return
                skip = int(dict(p.split("=") for p in url.query.split("&") if "=" in p)
                           .get("$skip", 0))
                rows = outer.tables[table]
                body: dict = {"value": rows[skip:skip + 2]}
                if skip + 2 < len(rows):
                    link = f"/{table}/TypedDataSet?$skip={skip + 2}"
                    if outer.version == 3:
                        body["odata.metadata"] = "recorded"
                        body["odata.nextLink"] = f"{outer.url}{link}"
                    else:
                        body["@odata.context"] = "recorded"
                        body["@odata.nextLink"] = link          # relative
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def odata_config(tmp_path):
    return edited_config(tmp_path, '      "2018": "84286NED"\n      "2019": "84583NED"\n', "")


def test_fetch_follows_next_links_and_lands_long(demo, odata_config):
    demo.config = odata_config
    with Server({"83765NED": ROWS_V3}) as server:
        path = fetch_odata(demo.inbox, "cbs_kerncijfers_odata", "2017", config=odata_config,
                           base_url=server.url)
    assert path == demo.inbox / "cbs_kerncijfers_odata" / "2017" / "83765NED.json"
    assert len(server.requests) == 2 and "$filter=" in server.requests[0]
    assert len(json.loads(path.read_text())["value"]) == 3
    r = demo.load("cbs_kerncijfers_odata", 2017, path)
    assert (r.rows_read, r.rows_landed, r.rows_quarantined) == (3, 3, 0)
    values = {(a, v): (val, reason) for a, v, val, reason in demo.q(
        "select area_code, variable, value, missing_reason from raw.registry_values")}
    assert values[("GM0014", "aantalinwoners_5")] == (202810, None)
    assert values[("WK001400", "gemiddeldewoningwaarde_35")] == (177.5, None)
    assert values[("GM0014", "percentagekoopwoningen_40")] == (None, "hidden")   # JSON null
    assert ("GM0014", "gemeentenaam_1") not in values                            # id column
    levels = dict(demo.q("select distinct area_code, area_level from raw.registry_values"))
    assert levels == {"GM0014": "gemeente", "WK001400": "wijk", "BU00140000": "buurt"}
    assert demo.one("select area_name from raw.registry_values where area_code = 'GM0014' "
                    "limit 1") == "Groningen"


def test_v4_observations_are_read_long(demo, odata_config):
    demo.config = odata_config
    with Server({"83765NED": ROWS_V4}, version=4) as server:
        path = fetch_odata(demo.inbox, "cbs_kerncijfers_odata", "2017", config=odata_config,
                           base_url=server.url)
    r = demo.load("cbs_kerncijfers_odata", 2017, path)
    assert (r.rows_read, r.rows_landed) == (3, 3)
    assert demo.q("select area_code, variable, value, missing_reason "
                  "from raw.registry_values order by all") == [
        ("GM0014", "m000352", 202810.0, None), ("WK001400", "m000352", 22635.0, None),
        ("WK001400", "t001036", None, "hidden")]


def test_ingest_inbox_fetches_when_the_url_variable_is_set(demo, odata_config, monkeypatch):
    with Server({"83765NED": ROWS_V3}) as server:
        monkeypatch.setenv("BASISMONITOR_CBS_ODATA_URL", server.url)
        lines: list[str] = []
        results = ingest_inbox(demo.warehouse, demo.inbox, config=odata_config,
                               sources=["cbs_kerncijfers_odata"], progress=lines.append)
        assert lines[0].startswith("fetched ") and len(server.requests) == 2
        assert [r.status for r in results] == ["landed"]
        # already in the inbox: not fetched again, and skipped
        again = ingest_inbox(demo.warehouse, demo.inbox, config=odata_config,
                             sources=["cbs_kerncijfers_odata"])
        assert len(server.requests) == 2 and [r.status for r in again] == ["skipped"]


def test_without_the_url_variable_nothing_is_fetched(demo, odata_config, monkeypatch):
    monkeypatch.delenv("BASISMONITOR_CBS_ODATA_URL", raising=False)
    assert ingest_inbox(demo.warehouse, demo.inbox, config=odata_config,
                        sources=["cbs_kerncijfers_odata"]) == []
    with pytest.raises(IngestionError, match="BASISMONITOR_CBS_ODATA_URL is not set"):
        fetch_odata(demo.inbox, "cbs_kerncijfers_odata", "2017", config=odata_config)


def test_http_errors_are_clear(demo, odata_config):
    with Server({}) as server, pytest.raises(IngestionError) as err:
        fetch_odata(demo.inbox, "cbs_kerncijfers_odata", "2017", config=odata_config,
                    base_url=server.url)
    assert "HTTP 404" in str(err.value) and "83765NED/TypedDataSet" in str(err.value)
    with pytest.raises(IngestionError, match="no OData table for period 2016"):
        fetch_odata(demo.inbox, "cbs_kerncijfers_odata", "2016", config=odata_config,
                    base_url="http://127.0.0.1:9")


def test_a_response_of_another_period_fails(demo, odata_config):
    demo.config = odata_config
    rows = [dict(r, Perioden="2016JJ00") for r in ROWS_V3]
    path = demo.write("cbs_kerncijfers_odata", 2017, "83765NED.json",
                      json.dumps({"value": rows}))
    with pytest.raises(IngestionError, match="Perioden is '2016JJ00'"):
        demo.load("cbs_kerncijfers_odata", 2017, path)


def test_a_damaged_json_file_fails(demo, odata_config):
    demo.config = odata_config
    path = demo.write("cbs_kerncijfers_odata", 2017, "83765NED.json", '{"value": [{"ID": 0,')
    with pytest.raises(IngestionError, match="not valid JSON"):
        demo.load("cbs_kerncijfers_odata", 2017, path)
    other = demo.write("cbs_kerncijfers_odata", 2017, "83765NED.json", '{"rows": []}')
    with pytest.raises(IngestionError, match="no 'value' array"):
        demo.load("cbs_kerncijfers_odata", 2017, other)
