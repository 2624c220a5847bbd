"""The refresh on the demo municipality, per stage, directly and through Airflow, in one run.

    .venv/bin/python benchmarks/bench_refresh.py [--runs 3] [--scale demo|small] [--no-airflow]
                                                  [--keep-logs DIR]

For each run, on a fresh warehouse and export folder (same generated inbox):
- direct: ingest -> build -> validate -> publish called in one fresh Python process
  (basismonitor.orchestration.pipeline, as `basismonitor refresh` calls them: the gate's report is published
  with the edition), wall time per stage and of the whole process (start-up and imports are
  `rest`), as the Airflow run pays for its own process;
- airflow: the same refresh as `airflow dags test basismonitor_refresh` in a subprocess with an
  embedded SQLite metadata DB (what `make run` does), wall time of the whole command (process
  start and DAG parsing included; `airflow db migrate` before it is not). Per stage from the
  task start/end lines of the dags-test log: ingest (all discover/load tasks), dbt build (the
  Cosmos producer), dbt node tasks (the Cosmos consumers), validate, publish, and the rest
  (airflow start-up, DAG parsing, the scheduling loop between tasks).
The dbt manifest the DAG renders from (basismonitor.orchestration.airflow_dbt.ensure_manifest) is made before
the first run: it is made once per change of the dbt project, not per refresh.
Prints medians, all runs, the ratio airflow / direct (issue 7 target: <= 1.5x), dbt's share (issue
5 target: the demo's dbt build <= 60 s) and validation's share (issue 6 target: <= 15%).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, peak_rss_mib  # noqa: E402

from basismonitor.demo import DemoScale, generate  # noqa: E402
from basismonitor.orchestration.airflow_support import local_airflow_env  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EDITION = 2024
TASK_LINE = re.compile(r"(\d{4}-\d\d-\d\dT[\d:.]+)Z.*?\[DAG TEST\] (starting|end task) "
                       r"task_id=(\S+) map_index=(-?\d+)")
AIRFLOW_STAGES = ("ingest", "dbt build", "dbt node tasks", "validate", "publish", "rest")


# The direct refresh, in a fresh interpreter as `airflow dags test` is: both pay for starting Python
# and importing dbt, Great Expectations and DuckDB once per refresh.
DIRECT = """
import json, sys, time
from pathlib import Path
from basismonitor.orchestration import pipeline
inbox, work, edition = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
warehouse, exports = work / "direct.duckdb", work / "exports-direct"
quiet = lambda _: None
times, gate = {}, {}
for name, fn in (
    ("ingest", lambda: pipeline.ingest(warehouse, inbox, progress=quiet)),
    ("build", lambda: pipeline.build(warehouse, edition, progress=quiet)),
    ("validate", lambda: gate.setdefault(
        "result", pipeline.validate(warehouse, edition, docs_root=work / "docs", progress=quiet))),
    # the validation report goes into the edition, as `basismonitor refresh` and the DAG do
    ("publish", lambda: pipeline.publish(warehouse, exports, edition,
                                         docs_dir=gate["result"].docs_dir, progress=quiet)),
):
    start = time.perf_counter()
    fn()
    times[name] = time.perf_counter() - start
print("STAGES " + json.dumps(times))
"""


def direct(inbox: Path, work: Path) -> dict[str, float]:
    """The four stages in one fresh Python process; per stage, and the rest (interpreter start-up
    and imports) so that the stages add up to the process's wall time."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", DIRECT, str(inbox), str(work), str(EDITION)],
                          capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    times = json.loads(done.stdout.rsplit("STAGES ", 1)[1])
    times["rest"] = seconds - sum(times.values())
    return times


def stage_of(task_id: str) -> str:
    if task_id.startswith("ingest."):
        return "ingest"
    if task_id.endswith(".dbt_producer_watcher"):
        return "dbt build"
    if task_id.startswith("transform."):
        return "dbt node tasks"
    return task_id


def task_seconds(log: str) -> dict[str, float]:
    """Seconds per stage from the `[DAG TEST] starting/end task` lines of a dags-test log."""
    started: dict[tuple[str, str], dt.datetime] = {}
    seconds: dict[str, float] = {}
    for match in TASK_LINE.finditer(log):
        at = dt.datetime.fromisoformat(match.group(1))
        key = (match.group(3), match.group(4))
        if match.group(2) == "starting":
            started[key] = at
        elif key in started:
            stage = stage_of(key[0])
            seconds[stage] = seconds.get(stage, 0.0) + (at - started.pop(key)).total_seconds()
    return seconds


def airflow_env(work: Path, inbox: Path) -> dict[str, str]:
    return local_airflow_env(work, inbox=inbox, warehouse=work / "airflow.duckdb",
                             exports=work / "exports-airflow")


def through_airflow(inbox: Path, work: Path, keep_logs: Path | None) -> dict[str, float]:
    env = airflow_env(work, inbox)
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True)
    start = time.perf_counter()
    done = subprocess.run(
        [airflow, "dags", "test", "basismonitor_refresh", "--conf", f'{{"edition": {EDITION}}}'],
        env=env, capture_output=True, text=True,
    )
    seconds = time.perf_counter() - start
    log = done.stdout + done.stderr
    if keep_logs:
        keep_logs.mkdir(parents=True, exist_ok=True)
        (keep_logs / f"dags-test-{work.name}.log").write_text(log, encoding="utf-8")
    if done.returncode != 0:
        raise SystemExit(f"airflow dags test failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    stages = task_seconds(log)
    times = {name: stages.get(name, 0.0) for name in AIRFLOW_STAGES[:-1]}
    times["rest"] = seconds - sum(times.values())
    times["total"] = seconds
    return times


def fmt(times: dict[str, float]) -> str:
    return " ".join(f"{k} {v:.1f}s" for k, v in times.items())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", choices=["demo", "small"], default="demo")
    parser.add_argument("--no-airflow", action="store_true")
    parser.add_argument("--keep-logs", type=Path, help="keep each run's dags-test log in this folder")
    args = parser.parse_args(argv)
    scale = DemoScale() if args.scale == "demo" else DemoScale.small()
    root = Path(tempfile.mkdtemp(prefix="bench-refresh-"))
    try:
        inbox = root / "inbox"
        generate(inbox, scale=scale)
        if not args.no_airflow:
            from basismonitor.orchestration.airflow_dbt import ensure_manifest

            ensure_manifest()
        print(f"machine: {machine()}; scale {args.scale}; {args.runs} runs; "
              f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        directs, airflows = [], []
        for i in range(args.runs):
            work = root / f"run{i}"
            work.mkdir()
            directs.append(direct(inbox, work))
            if not args.no_airflow:
                airflows.append(through_airflow(inbox, work, args.keep_logs))
            print(f"run {i + 1}: direct {sum(directs[-1].values()):.1f}s ({fmt(directs[-1])})"
                  + (f"; airflow dags test {airflows[-1]['total']:.1f}s "
                     f"({fmt({k: v for k, v in airflows[-1].items() if k != 'total'})})"
                     if airflows else ""), flush=True)
        med = {k: statistics.median(d[k] for d in directs) for k in directs[0]}
        total = statistics.median(sum(d.values()) for d in directs)
        print("median per stage (direct): " + ", ".join(f"{k} {v:.1f}s" for k, v in med.items())
              + f"; total {total:.1f}s")
        print(f"dbt build: {med['build']:.1f}s (target <= 60 s)")
        print(f"validation share of the refresh: {med['validate'] / total:.1%} (target <= 15%)")
        if airflows:
            af_med = {k: statistics.median(a[k] for a in airflows) for k in airflows[0]}
            print("median per stage (airflow): " + ", ".join(
                f"{k} {v:.1f}s" for k, v in af_med.items() if k != "total"))
            af = af_med["total"]
            print(f"airflow dags test: median {af:.1f}s (runs: "
                  + ", ".join(f"{a['total']:.1f}" for a in airflows)
                  + f"); ratio to direct {af / total:.2f}x (target <= 1.5x)")
        print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"peak memory of this process: {peak_rss_mib():.0f} MiB")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
