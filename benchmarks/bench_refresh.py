"""The refresh on the demo municipality, per stage, directly and through Airflow, in one run.

    .venv/bin/python benchmarks/bench_refresh.py [--runs 3] [--scale demo|small] [--no-airflow]

For each run, on a fresh warehouse and export folder (same generated inbox):
- direct: ingest -> build -> validate -> publish called in this process (basismonitor.pipeline),
  wall time per stage;
- airflow: the same refresh as `airflow dags test basismonitor_refresh` in a subprocess with an
  embedded SQLite metadata DB (what `make run` does), wall time of the whole command.
Prints medians, all runs, the ratio airflow / direct (issue 7 target: <= 1.5x), dbt's share (issue
5 target: the demo's dbt build <= 60 s) and validation's share (issue 6 target: <= 15%).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, peak_rss_mib  # noqa: E402

from basismonitor import pipeline  # noqa: E402
from basismonitor.demo import DemoScale, generate  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EDITION = 2024


def direct(inbox: Path, work: Path) -> dict[str, float]:
    warehouse, exports = work / "direct.duckdb", work / "exports-direct"
    quiet = lambda _: None  # noqa: E731
    times = {}
    for name, fn in (
        ("ingest", lambda: pipeline.ingest(warehouse, inbox, progress=quiet)),
        ("build", lambda: pipeline.build(warehouse, EDITION, progress=quiet)),
        ("validate", lambda: pipeline.validate(warehouse, EDITION, docs_root=work / "docs", progress=quiet)),
        ("publish", lambda: pipeline.publish(warehouse, exports, EDITION, progress=quiet)),
    ):
        start = time.perf_counter()
        fn()
        times[name] = time.perf_counter() - start
    return times


def through_airflow(inbox: Path, work: Path) -> float:
    home = work / "airflow"
    home.mkdir()
    env = dict(
        os.environ,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(REPO / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        BASISMONITOR_WAREHOUSE=str(work / "airflow.duckdb"),
        BASISMONITOR_EXPORTS=str(work / "exports-airflow"),
        BASISMONITOR_INBOX=str(inbox),
    )
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run(
        [airflow, "dags", "test", "basismonitor_refresh", "--conf", f'{{"edition": {EDITION}}}'],
        env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"airflow dags test failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", choices=["demo", "small"], default="demo")
    parser.add_argument("--no-airflow", action="store_true")
    args = parser.parse_args(argv)
    scale = DemoScale() if args.scale == "demo" else DemoScale.small()
    root = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    try:
        inbox = root / "inbox"
        generate(inbox, scale=scale)
        print(f"machine: {machine()}; scale {args.scale}; {args.runs} runs")
        directs, airflows = [], []
        for i in range(args.runs):
            work = root / f"run{i}"
            work.mkdir()
            directs.append(direct(inbox, work))
            if not args.no_airflow:
                airflows.append(through_airflow(inbox, work))
            print(f"run {i + 1}: direct {sum(directs[-1].values()):.1f}s "
                  + " ".join(f"{k} {v:.1f}s" for k, v in directs[-1].items())
                  + (f"; airflow dags test {airflows[-1]:.1f}s" if airflows else ""))
        med = {k: statistics.median(d[k] for d in directs) for k in directs[0]}
        total = statistics.median(sum(d.values()) for d in directs)
        print("median per stage (direct): " + ", ".join(f"{k} {v:.1f}s" for k, v in med.items())
              + f"; total {total:.1f}s")
        print(f"dbt build: {med['build']:.1f}s (target <= 60 s)")
        print(f"validation share of the refresh: {med['validate'] / total:.1%} (target <= 15%)")
        if airflows:
            af = statistics.median(airflows)
            print(f"airflow dags test: median {af:.1f}s; ratio to direct {af / total:.2f}x (target <= 1.5x)")
        print(f"peak memory of this process: {peak_rss_mib():.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
