"""The OData feed (issue 20) at national size: paging through the whole fact table, and 50
clients reading filtered 1,000-row pages for 60 s while the next edition is published.

    .venv/bin/python benchmarks/bench_odata.py [--rows 5100000] [--clients 50] [--seconds 60]
                                               [--page 5000] [--out var/bench/odata.json]

1. A synthetic edition of national size is generated into a scratch exports folder: the marts
   fct_indicator_value, dim_area, dim_indicator and dim_period with the columns and types of the
   dbt contract (dbt_project/models/marts/<model>.yml), --rows fact rows (100 indicators x
   4 periods x areas), sorted by the publisher's grain (publish.SORT_KEYS) as a published edition
   is; written read-only as exports/2024/basismonitor_2024.duckdb.
2. `basismonitor serve` runs as its own process (the command users run) on 127.0.0.1.
3. Paging: one client reads all fact rows through @odata.nextLink (Prefer: odata.maxpagesize
   --page), as Power BI's OData connector does; rows/s over the whole read (target >= 50,000).
   Baseline in the same run: the first 1,000,000 rows written straight from the DuckDB file by
   DuckDB's own JSON writer (no HTTP, no OData), the ceiling a feed could reach.
4. Load: --clients threads for --seconds, each reading the first 1,000-row page (Prefer:
   odata.maxpagesize=1000) of a random indicator x period filter of the newest edition; after a
   quarter of the time the next edition (2025, a copy of the same file) is written into a staging
   folder and moved into place with the publisher's own atomic swap and `latest` switch
   (publish._move_into_place, publish._point_latest); the load goes on until the server serves
   2025 as latest, and 2 s more. Reports failed requests (target 0), p50/p95
   latency (target p95 <= 200 ms), requests/s, and the server's peak resident memory.
The clients run in this process, beside the server, on the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from _common import load, machine  # noqa: E402

from basismonitor.publish.exports import SORT_KEYS, _move_into_place, _point_latest, mart_models  # noqa: E402
from basismonitor.serve.loadtest import run_load  # noqa: E402

INDICATORS, PERIODS = 100, (2021, 2022, 2023, 2024)
TABLES = ("fct_indicator_value", "dim_area", "dim_indicator", "dim_period")


def contract() -> dict[str, list[tuple[str, str]]]:
    return {m["name"]: [(c["name"], c.get("data_type") or "varchar") for c in m["columns"]]
            for m in mart_models() if m["name"] in TABLES}


def synthetic(name: str, dtype: str, n: str) -> str:
    """A value of the column's type, or the key columns' known values."""
    known = {
        "area_edition": "2024", "gemeente_code": "'GM' || lpad((a % 340)::varchar, 4, '0')",
        "area_code": "'BU' || lpad(a::varchar, 8, '0')", "period": "p",
        "indicator_code": "'ind_' || lpad(i::varchar, 3, '0')", "is_city": "false",
        "suppressed": "(hash(a, i, p) % 10 = 0)",
        "suppression_reason": "case when hash(a, i, p) % 10 = 0 then 'n < min_n' end",
    }
    if name in known:
        return known[name]
    dtype = dtype.lower()
    if name == "value":
        return "case when hash(a, i, p) % 10 <> 0 then (hash(a, i, p) % 10000) / 100.0 end"
    if dtype.endswith("[]"):
        return "['load_' || (i % 7)::varchar]"
    if dtype in ("integer", "bigint", "smallint"):
        return f"(hash(a, i, p, '{name}') % 1000)::{dtype}"
    if dtype in ("double", "float") or dtype.startswith("decimal"):
        return f"(hash(a, i, p, '{name}') % 100000) / 1000.0"
    if dtype == "boolean":
        return f"(hash(a, i, p, '{name}') % 2 = 0)"
    return f"'{name}_' || ((hash(a, i, p, '{name}') % 50)::varchar)"


def build_edition(exports: Path, edition: int, rows: int, staging: bool = False) -> Path:
    """exports/<edition>/basismonitor_<edition>.duckdb with `rows` synthetic fact rows; with
    staging, written to a hidden staging folder and moved into place as publish/exports.py does."""
    areas = max(1, rows // (INDICATORS * len(PERIODS)))
    columns = contract()
    folder = exports / (f".staging-{edition}-bench" if staging else str(edition))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"basismonitor_{edition}.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        grids = {
            "fct_indicator_value": f"range(1, {areas + 1}) ta(a), range(1, {INDICATORS + 1}) "
                                   f"ti(i), (select unnest({list(PERIODS)}) p) tp",
            "dim_area": f"(select range a, 0 i, 0 p from range(1, {areas + 1}))",
            "dim_indicator": f"(select 0 a, range i, 0 p from range(1, {INDICATORS + 1}))",
            "dim_period": f"(select 0 a, 0 i, unnest({list(PERIODS)}) p)",
        }
        for table in TABLES:
            select = ", ".join(f"{synthetic(c, t, table)}::{t} as \"{c}\""
                               for c, t in columns[table])
            order = ", ".join(f'"{k}"' for k in SORT_KEYS[f"marts.{table}"])
            con.execute(f"create table marts.{table} as select * from "
                        f"(select {select} from {grids[table]}) order by {order}")
            con.execute(f"comment on table marts.{table} is 'Synthetic {table} (benchmark).'")
        con.execute("checkpoint")
    os.chmod(path, 0o444)
    if staging:
        _move_into_place(folder, exports / str(edition), lambda _s: None)
        _point_latest(exports, edition)
    else:
        _point_latest(exports, edition)
    return exports / str(edition) / path.name


def copy_edition(exports: Path, source: int, edition: int) -> None:
    """Publish `edition` as a copy of `source`'s file, the way publish/exports.py puts an edition in
    place: written (and fsynced) into a hidden staging folder, swapped in with one rename, then
    `latest` moved. (Copying, not regenerating, keeps the run short; the server's side of a
    publish is the same: a new file of the same size appears in one rename.)"""
    staging = exports / f".staging-{edition}-bench"
    staging.mkdir()
    target = staging / f"basismonitor_{edition}.duckdb"
    shutil.copyfile(exports / str(source) / f"basismonitor_{source}.duckdb", target)
    with target.open("rb") as handle:
        os.fsync(handle.fileno())
    os.chmod(target, 0o444)
    _move_into_place(staging, exports / str(edition), lambda _s: None)
    _point_latest(exports, edition)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NEXT = re.compile(rb'"@odata\.nextLink":"([^"]+)"')


def page_through(url: str, page: int) -> tuple[int, int, float]:
    """(rows, pages, seconds) of reading the whole set through nextLink."""
    session = requests.Session()
    session.headers.update({"Prefer": f"odata.maxpagesize={page}", "OData-MaxVersion": "4.0"})
    rows = pages = 0
    started = time.perf_counter()
    while url:
        response = session.get(url, timeout=120)
        response.raise_for_status()
        body = response.content
        rows += body.count(b'{"area_edition":')
        pages += 1
        match = NEXT.search(body[-2000:])
        url = match.group(1).decode().replace("\\/", "/") if match else None
    return rows, pages, time.perf_counter() - started


def baseline_json(path: Path, out: Path, rows: int) -> tuple[int, float]:
    """DuckDB's own JSON writer on the first `rows` fact rows in stored order: the ceiling."""
    with duckdb.connect(str(path), read_only=True) as con:
        started = time.perf_counter()
        con.execute(f"copy (select * from marts.fct_indicator_value limit {int(rows)}) "
                    f"to '{out}' (format json)")
        return rows, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--no-paging", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench" / "odata.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-odata-"))
    exports = work / "exports"
    report: dict = {"machine": machine(), "load_before": load(), "rows": args.rows,
                    "clients": args.clients, "seconds": args.seconds, "page": args.page}
    server = None
    try:
        started = time.perf_counter()
        path = build_edition(exports, 2024, args.rows)
        report["generate_s"] = round(time.perf_counter() - started, 1)
        print(f"synthetic edition: {args.rows:,} fact rows in {report['generate_s']} s", flush=True)

        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("basismonitor")), "serve", "--exports",
             str(exports), "--port", str(port)], stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if requests.get(base + "/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        process = psutil.Process(server.pid)
        peak = [process.memory_info().rss]
        sampling = threading.Event()

        def sample():
            while not sampling.wait(0.25):
                peak[0] = max(peak[0], process.memory_info().rss)
        threading.Thread(target=sample, daemon=True).start()

        if not args.no_paging:
            rows, seconds = baseline_json(path, work / "baseline.json", min(args.rows, 1_000_000))
            report["baseline_duckdb_json"] = {"rows": rows, "seconds": round(seconds, 2),
                                              "rows_per_s": round(rows / seconds)}
            print(f"baseline, DuckDB COPY to JSON: {rows / seconds:,.0f} rows/s", flush=True)
            (work / "baseline.json").unlink()
            rows, pages, seconds = page_through(base + "/odata/fct_indicator_value", args.page)
            report["paging"] = {"rows": rows, "pages": pages, "seconds": round(seconds, 1),
                                "rows_per_s": round(rows / seconds),
                                "vs_baseline": round((rows / seconds) /
                                                     report["baseline_duckdb_json"]["rows_per_s"],
                                                     2)}
            print(f"paging: {rows:,} rows in {pages:,} pages, {seconds:.1f} s, "
                  f"{rows / seconds:,.0f} rows/s", flush=True)
            assert rows == args.rows // (INDICATORS * len(PERIODS)) * INDICATORS * len(PERIODS)

        queries = [{"$filter": f"indicator_code eq 'ind_{i:03d}' and period eq {p}"}
                   for i in range(1, INDICATORS + 1) for p in PERIODS]
        published: list[float] = []

        def publish_next():
            t0 = time.perf_counter()
            copy_edition(exports, 2024, 2025)
            published.append(time.perf_counter() - t0)
            # the load goes on until the server serves 2025 as latest (and 2 s more)
            while time.perf_counter() - t0 < 300:
                if requests.get(base + "/health", timeout=10).json().get("latest") == "2025":
                    published.append(time.perf_counter() - t0)
                    break
                time.sleep(0.2)

        result = run_load(base + "/odata/fct_indicator_value", queries, clients=args.clients,
                             seconds=args.seconds, during=publish_next,
                             expect_rows=lambda _p, rows: rows == min(1000, args.rows // (INDICATORS * len(PERIODS))),
                             headers={"Prefer": "odata.maxpagesize=1000"})
        sampling.set()
        latest = requests.get(base + "/health", timeout=10).json()
        report["load"] = result.summary()
        report["load"]["publish_s"] = round(published[0], 1) if published else None
        report["load"]["serving_new_edition_after_s"] = round(published[1], 1) \
            if len(published) > 1 else None
        report["load"]["latest_after"] = latest["latest"]
        report["server_peak_rss_mib"] = round(peak[0] / 2**20)
        report["load_after"] = load()
        print(json.dumps(report, indent=2), flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        return 0 if not result.failures else 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
