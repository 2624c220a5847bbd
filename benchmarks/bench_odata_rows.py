"""How the OData feed renders a page of rows: four ways of turning 5,000 fact rows into JSON,
timed on a synthetic edition (BENCHMARKS.md, "The OData feed (issue 20)").

    .venv/bin/python benchmarks/bench_odata_rows.py [--rows 400000] [--runs 7]

json_object with the INF/NaN guard on every double, json_object without it, to_json of a struct
(what the service does; the guard only where a column holds INF or NaN), and fetching the plain
rows into Python (what an ORM-based server would do before serialising). Median of --runs of
a page read from the middle of the table by row id, as the service pages.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import load, machine  # noqa: E402
from bench_odata import build_edition  # noqa: E402

from basismonitor.serve.app import json_object, json_value  # noqa: E402
from basismonitor.serve.catalogue import Catalogue  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=400_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--page", type=int, default=5000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-odata-rows-"))
    try:
        build_edition(work / "exports", 2024, args.rows)
        catalogue = Catalogue(work / "exports")
        print(f"{machine()}; {load()}; {args.rows:,} rows, pages of {args.page:,}")
        with catalogue.use(None) as edition:
            table = edition.tables["fct_indicator_value"]
            rel, names = edition.relation(table.name), list(table.columns)
            guarded = "json_object(" + ", ".join(
                f"'{n}', {json_value(f't.{chr(34)}{n}{chr(34)}', table.columns[n], True)}"
                for n in names) + ")"
            plain = "json_object(" + ", ".join(f"'{n}', t.\"{n}\"" for n in names) + ")"
            start = args.rows // 2
            where = f"from {rel} t where t.rowid > {start} limit {args.page}"
            variants = {
                "json_object, INF/NaN guard on every double": (f"select {guarded} {where}", True),
                "json_object, no guard": (f"select {plain} {where}", True),
                "to_json of a struct (the service)": (
                    f"select {json_object('t', table, names)} {where}", True),
                "plain rows fetched into Python": (f"select * {where}", False),
            }
            cursor = catalogue.cursor()
            for name, (sql, joined) in variants.items():
                times = []
                for _ in range(args.runs):
                    started = time.perf_counter()
                    rows = cursor.execute(sql).fetchall()
                    if joined:
                        ",".join(r[0] for r in rows)
                    times.append((time.perf_counter() - started) * 1000)
                print(f"{name:45s} median {statistics.median(times):7.1f} ms  "
                      f"runs {', '.join(f'{t:.0f}' for t in times)}")
        catalogue.close()
        print(load())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
