"""Hostile requests: each gets an OData JSON error with a 4xx status that names the bad part, no
query runs for it (the service's executed-query counter does not move), the published file is
unchanged, and the server answers normally afterwards."""

from __future__ import annotations

import hashlib
import socket

import pytest
import requests

FACT = "fct_indicator_value"
NESTED = "(" * 200 + "period eq 2024" + ")" * 200
DEEP_AND = " and ".join(["period eq 2024"] * 60)

HOSTILE = [
    # $filter
    (FACT, {"$filter": "area_code eq ''; drop table marts.dim_area; --'"}, "$filter"),
    (FACT, {"$filter": "area_code eq 'x'; drop table marts.dim_area"}, "$filter"),
    (FACT, {"$filter": "1 eq 1; select * from read_csv('/etc/passwd')"}, "$filter"),
    (FACT, {"$filter": "read_csv('/etc/passwd') eq 1"}, "$filter"),
    (FACT, {"$filter": "marts.dim_area/area_code eq 'x'"}, "$filter"),
    (FACT, {"$filter": "\"area_code\" eq 'x'"}, "$filter"),
    (FACT, {"$filter": "area_code eq 1"}, "$filter"),
    (FACT, {"$filter": "no_such_column eq 1"}, "no_such_column"),
    (FACT, {"$filter": "period eq 2024 or"}, "$filter"),
    (FACT, {"$filter": NESTED}, "$filter"),
    (FACT, {"$filter": DEEP_AND}, "deep"),
    (FACT, {"$filter": "period eq " + "1" * 5000}, "characters"),
    (FACT, {"$filter": "substringof('a', area_code)"}, "substringof"),
    # $orderby, $select, $expand, $top, $skip, $skiptoken
    (FACT, {"$orderby": "period; drop table marts.dim_area"}, "$orderby"),
    (FACT, {"$orderby": "(select 1)"}, "$orderby"),
    (FACT, {"$orderby": "period desc, nope"}, "nope"),
    (FACT, {"$select": "area_code,\"value\""}, "$select"),
    (FACT, {"$select": "*, (select 1)"}, "$select"),
    (FACT, {"$select": "area_code from marts.dim_area --"}, "$select"),
    (FACT, {"$expand": "dim_area($filter=1 eq 1)"}, "$expand"),
    (FACT, {"$expand": "marts.dim_area"}, "$expand"),
    (FACT, {"$top": "1; drop table x"}, "$top"),
    (FACT, {"$top": "-1"}, "$top"),
    (FACT, {"$top": "99999999999"}, "$top"),
    (FACT, {"$skip": "1e9"}, "$skip"),
    (FACT, {"$skiptoken": "Jzsgc2VsZWN0IDE="}, "$skiptoken"),
    (FACT, {"$skiptoken": "WyInOyBkcm9wIHRhYmxlIHgiLCAxLCAyLCAzXQ"}, "$skiptoken"),
    (FACT, {"$format": "xml"}, "$format"),
    (FACT, {"$apply": "groupby((period))"}, "$apply"),
    (FACT, {"$bogus": "1"}, "$bogus"),
    # keys
    (f"{FACT}(1)", {}, "key"),
    ("dim_indicator('x'' or 1=1 --')", {}, None),
    ("dim_indicator(indicator_code=read_csv('/etc/passwd'))", {}, "key"),
]


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def service(served):
    return served.server.config.app.state.service


@pytest.mark.parametrize(("path", "params", "named"), HOSTILE,
                         ids=[f"{i}" for i in range(len(HOSTILE))])
def test_hostile_query_is_refused_before_sql(served, service, path, params, named):
    before = service.executed
    database = served.exports / "2024" / "basismonitor_2024.duckdb"
    digest = _digest(database)
    response = served.get(path, params=params)
    assert 400 <= response.status_code < 500 or response.status_code == 501, response.text
    if path.startswith("dim_indicator('x''"):
        # a well-formed key (the quote is escaped): looked up as a value, and not found
        assert response.status_code == 404
    else:
        assert service.executed == before, "a query ran for a refused request"
    error = response.json()["error"]
    assert error["code"] and error["message"]
    if named:
        assert named in error["message"] or named == error.get("target"), error
    assert response.headers["OData-Version"] == "4.0"
    assert _digest(database) == digest
    assert served.get("dim_period").status_code == 200


@pytest.mark.parametrize("segment", [
    "..", "../..", "%2e%2e", "%2e%2e%2f%2e%2e", "..%2f..%2fetc", "2024%2f..%2f..", "....//",
    "%252e%252e", "2024/../../", "latest/../..", "2024abc", "0000", "9999", "%00", "2024%00",
    "C:%5cWindows", "%2fetc%2fpasswd",
])
def test_edition_segment_reaches_nothing_outside_exports(served, service, segment):
    before = service.executed
    url = served.url + segment + "/dim_period"
    response = requests.get(url, timeout=30)
    assert response.status_code in (400, 404), (segment, response.status_code)
    assert service.executed == before
    assert response.headers.get("Content-Type", "").startswith("application/json")
    assert "root:" not in response.text


def test_raw_path_traversal_on_the_socket(served, service):
    """The same without a client that normalises the path."""
    host, port = served.url.split("//")[1].split("/")[0].split(":")
    for raw in ("/odata/../../etc/passwd", "/odata/2024/../../../etc/passwd",
                "/odata/%2e%2e/%2e%2e/etc/passwd"):
        with socket.create_connection((host, int(port)), timeout=30) as sock:
            sock.sendall(f"GET {raw} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        status = int(reply.split(b" ", 2)[1])
        assert status in (400, 404), (raw, reply[:200])
        assert b"root:" not in reply


def test_overlong_url_and_write_methods(served, service):
    before = service.executed
    long = served.get(FACT, params={"$filter": "area_code eq '" + "x" * 9000 + "'"})
    assert long.status_code in (400, 414)
    for method in ("post", "put", "patch", "delete"):
        response = getattr(requests, method)(served.url + FACT, data=b"x" * 1000, timeout=30)
        assert response.status_code == 405 and response.json()["error"]["message"]
    assert service.executed == before
    assert served.get().status_code == 200


def test_no_respondent_level_data_is_reachable(served):
    """Only the marts of the published file are served: no raw, staging or respondent table."""
    from basismonitor.quality.validation import is_personal_column

    names = [e["name"] for e in served.get().json()["value"]]
    assert names and all(not n.startswith(("raw", "stg_", "int_")) for n in names)
    metadata = served.get("$metadata", params={"$format": "json"}).json()["Basismonitor"]
    for spec in metadata.values():
        if isinstance(spec, dict) and spec.get("$Kind") == "EntityType":
            assert not [p for p in spec if not p.startswith(("$", "@")) and is_personal_column(p)]
    for table in ("raw.survey_responses", "stg_survey_responses", "respondents"):
        assert served.get(table).status_code == 404
