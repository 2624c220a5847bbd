"""The load test in its short form (10 clients x 10 s; the full 50 x 60 s is
benchmarks/bench_odata.py): filtered fact pages on loopback while the real publisher republishes
the edition into the served exports folder. 0 failed requests, every page complete, the switch to
the new file seen by the server, its memory bounded."""

from __future__ import annotations

import duckdb
import psutil
from odata_helpers import copy_exports, start_server, stop_server

from basismonitor.orchestration import pipeline
from basismonitor.serve.loadtest import run_load

FACT = "fct_indicator_value"
CLIENTS, SECONDS = 10, 10


def test_load_during_a_publish(refreshed, tmp_path):
    exports = copy_exports(refreshed.exports, tmp_path / "exports")
    database = exports / "2024" / "basismonitor_2024.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        expected = dict(con.execute(
            f"select 'period eq ' || period, least(count(*), 1000) from marts.{FACT} "
            "group by period union all "
            f"select 'indicator_code eq ''' || indicator_code || '''', least(count(*), 1000) "
            f"from marts.{FACT} group by indicator_code").fetchall())
    queries = [{"$filter": f} for f in expected]
    served = start_server(exports)
    service = served.server.config.app.state.service
    before = service.catalogue._editions["2024"].identity
    process = psutil.Process()
    rss_before = process.memory_info().rss
    published = []

    def publish_and_wait_for_the_switch():
        import time

        # forced: the same warehouse, which publish would otherwise leave as published
        published.append(pipeline.publish(refreshed.warehouse, exports, 2024,
                                           progress=lambda _: None, force=True))
        deadline = time.monotonic() + 60
        while service.catalogue._editions["2024"].identity == before \
                and time.monotonic() < deadline:
            time.sleep(0.05)

    try:
        result = run_load(
            served.url + FACT, queries, clients=CLIENTS, seconds=SECONDS,
            during=publish_and_wait_for_the_switch,
            expect_rows=lambda params, rows: rows == expected[params["$filter"]])
        rss_after = process.memory_info().rss
        after = service.catalogue._editions["2024"].identity
        summary = result.summary()
        print(f"\nOData load ({CLIENTS} clients x {SECONDS} s, republish during): {summary}, "
              f"RSS {rss_before / 2**20:.0f} -> {rss_after / 2**20:.0f} MiB")
        assert published, "the publish did not finish during the load"
        assert result.failures == [], result.failures[:5]
        assert result.requests > CLIENTS * 5
        assert after != before, "the server did not switch to the republished file"
        assert rss_after - rss_before < 512 * 2**20, "memory grew by more than 512 MiB"
        # the old file was detached once its last request finished
        aliases = {r[0] for r in service.cursor().execute(
            "select database_name from duckdb_databases()").fetchall()}
        assert sum(a.startswith("edition_2024_") for a in aliases) == 1, aliases
    finally:
        stop_server(served)


def test_a_read_goes_on_across_a_republish(refreshed, tmp_path):
    """Page 1, then the edition is republished (another file), then the rest through the
    next links: every row exactly once, in the grain's order."""
    import time

    import requests

    exports = copy_exports(refreshed.exports, tmp_path / "exports")
    database = exports / "2024" / "basismonitor_2024.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        expected = con.execute(f"select indicator_code, period, area_edition, area_code from "
                               f"marts.{FACT} order by all").fetchall()
    served = start_server(exports)
    service = served.server.config.app.state.service
    try:
        headers = {"Prefer": "odata.maxpagesize=500"}
        first = requests.get(served.url + FACT, headers=headers, timeout=60).json()
        before = service.catalogue._editions["2024"].identity
        pipeline.publish(refreshed.warehouse, exports, 2024, progress=lambda _: None,
                         force=True)  # the same warehouse: forced, or nothing is rewritten
        deadline = time.monotonic() + 60
        while service.catalogue._editions["2024"].identity == before:
            assert time.monotonic() < deadline, "the server did not see the republished file"
            time.sleep(0.1)
        rows, url = first["value"], first["@odata.nextLink"]
        while url:
            page = requests.get(url, headers=headers, timeout=60).json()
            rows += page["value"]
            url = page.get("@odata.nextLink")
        got = [(r["indicator_code"], r["period"], r["area_edition"], r["area_code"]) for r in rows]
        assert got == expected
    finally:
        stop_server(served)
