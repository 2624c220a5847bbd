"""The compass marts three ways on one warehouse, in one run: dbt, hand-written SQL and pandas.

    python benchmarks/bench_marts.py [--scale small|demo|national | --inbox PATH | --ingested FILE]
                                     [--runs 3] [--timeout 1800] [--workdir DIR] [--json FILE]
                                     [--build | --no-build] [--no-full] [--built]

Once: the inbox (generated at --scale, or --inbox), `basismonitor ingest` into a fresh warehouse
(or a copy of --ingested, a warehouse right after ingest), `dbt seed` (the catalogue) and one
full `dbt run`, and an untimed `dbt parse` with the runs' vars (a deployed project's manifest).
Then per run, each in a fresh Python process (all pay for start-up and imports), the page cache
written out (os.sync) before each, on that one warehouse:
  dbt          `dbt run` (basismonitor.transform.dbt.run_dbt, as the pipeline runs dbt) of the models the
               other two compute: +mart_compass_status +mart_compass_development, without the
               survey estimator (dbt_project/models/intermediate/survey: raking and design-based
               estimates, a Python model on basismonitor.stats)
  dbt full     `dbt run` of every model, the survey estimator included (unless --no-full)
  build        `basismonitor build` = dbt build with all tests (default on small and demo)
  hand-written benchmarks/handwritten/run_marts.py: one DuckDB script, written for speed
  pandas       benchmarks/pandas_baseline.py: read the tables into DataFrames, merge, groupby
               (killed after --timeout seconds; the figure is then a lower bound)
The hand-written SQL and pandas read raw.*, catalogue.* and ONE intermediate of the dbt build:
intermediate.int_survey_estimates (the survey estimator's output). Everything else they compute
from the raw tables.

After the last run the three results are compared row by row (benchmarks/marts_compare.py:
fct_indicator_value, mart_compass_status, mart_compass_development; numbers to 1e-9 relative);
any difference fails the benchmark with the first differing row. Prints medians, all runs, the
ratios (issue 5: dbt <= 1.5x hand-written at national scale and the demo's `basismonitor build`
<= 60 s; issue 9: pandas >= 10x dbt), the slowest models of the last full dbt run (run_results timings),
the machine and load, and writes everything as JSON (--json, default var/bench/marts-<scale>.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _common import MemorySampler, load, machine  # noqa: E402
from marts_compare import MARTS, MartsDiffer, compare_marts, read_marts  # noqa: E402

REPO = HERE.parent
EDITION = 2024
SELECT_MARTS = ["--select", "+mart_compass_status", "+mart_compass_development",
                "--exclude", "path:models/intermediate/survey"]

# dbt in a fresh process, as a pipeline stage runs it: prints the node timings as JSON
DBT_CHILD = """
import json, sys, time
from pathlib import Path
from basismonitor.transform.dbt import run_dbt
warehouse, command, args, vars_ = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
start = time.perf_counter()
nodes = run_dbt(command, warehouse, args=args, vars=vars_)
print("RESULT " + json.dumps({"seconds": time.perf_counter() - start, "nodes": nodes}))
"""


class Timeout(Exception):
    pass


def run_child(cmd: list[str], *, timeout: float | None = None, log: Path | None = None) -> tuple[float, float, str]:
    """Run a command, sampling its process tree's memory; returns (wall seconds, peak MiB, stdout).

    The page cache's dirty pages are written out first (os.sync, not timed): the implementations
    run one after the other, and the previous one's writes (pandas' Parquet files, a dbt build's
    tables) would otherwise be flushed by the kernel during the next one's timing.
    """
    os.sync()
    start = time.perf_counter()
    out = open(log, "w") if log else subprocess.PIPE  # noqa: SIM115
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=out if log else subprocess.STDOUT, text=True)
    sampler = MemorySampler(child.pid, 0.2).start()
    try:
        stdout, _ = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        child.kill()
        child.communicate()
        raise Timeout(f"{cmd[1]} killed after {timeout:.0f} s") from exc
    finally:
        sampler.stop()
        if log:
            out.close()
    seconds = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed ({child.returncode}):\n{stdout[-4000:]}")
    return seconds, sampler.peak_mib, stdout


def dbt(warehouse: Path, command: str, args: list[str], work: Path, name: str) -> dict:
    seconds, peak, stdout = run_child(
        [sys.executable, "-c", DBT_CHILD, str(warehouse), command, json.dumps(args),
         json.dumps({"edition": EDITION})], log=work / f"{name}.log")
    result = json.loads(stdout.rsplit("RESULT ", 1)[1])
    models = {n["node"].split(".", 2)[-1]: n["seconds"] for n in result["nodes"] if n["node"].startswith("model.")}
    return {"seconds": seconds, "inside": result["seconds"], "peak_mib": peak,
            "model_seconds": sum(models.values()), "models": models}


def prepare(args, work: Path) -> Path:
    from basismonitor.orchestration import pipeline

    warehouse = work / "warehouse.duckdb"
    if args.ingested:
        shutil.copyfile(args.ingested, warehouse)
        print(f"warehouse: copy of {args.ingested} (after ingest)", flush=True)
    else:
        if args.inbox:
            inbox = Path(args.inbox)
        else:
            from basismonitor.demo import DemoScale, generate

            scale = {"small": DemoScale.small, "demo": DemoScale, "national": DemoScale.national}[args.scale]()
            inbox = work / "inbox"
            start = time.perf_counter()
            generate(inbox, scale=scale)
            print(f"generated the {args.scale} inbox in {time.perf_counter() - start:.1f}s", flush=True)
        start = time.perf_counter()
        pipeline.ingest(warehouse, inbox, progress=lambda _: None)
        print(f"basismonitor ingest: {time.perf_counter() - start:.1f}s", flush=True)
    if not args.built:
        seed = dbt(warehouse, "seed", [], work, "dbt-seed")
        print(f"dbt seed (the catalogue, not timed below): {seed['seconds']:.1f}s", flush=True)
    return warehouse


def sizes(warehouse: Path) -> dict[str, int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = ["raw.registry_values", "raw.population", "raw.police_crimes", "raw.activity_registrations",
                  "raw.survey_respondents", "intermediate.int_survey_estimates"] + [f"marts.{m}" for m in MARTS]
        return {t: con.sql(f"select count(*) from {t}").fetchone()[0] for t in tables}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--scale", choices=["small", "demo", "national"], default="small")
    source.add_argument("--inbox", type=Path, help="use this inbox instead of generating one")
    source.add_argument("--ingested", type=Path, help="a copy of this warehouse (right after ingest)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before pandas is stopped")
    parser.add_argument("--workdir", type=Path, help="keep the warehouse and logs here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="result file (default var/bench/marts-<scale>.json)")
    parser.add_argument("--build", action=argparse.BooleanOptionalAction, default=None,
                        help="time `basismonitor build` (dbt with tests) too; default on small and demo")
    parser.add_argument("--no-full", action="store_true", help="skip the full dbt runs (after the first)")
    parser.add_argument("--built", action="store_true",
                        help="the --ingested warehouse already holds a full dbt build: skip dbt seed and "
                             "the first full dbt run (it only makes the survey estimates)")
    args = parser.parse_args(argv)
    label = "inbox" if args.inbox else "ingested" if args.ingested else args.scale
    do_build = args.build if args.build is not None else (label in ("small", "demo"))
    out_json = args.json or REPO / "var" / "bench" / f"marts-{label}.json"

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-marts-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        warehouse = prepare(args, work)
        if args.built:
            if not args.ingested:
                parser.error("--built needs --ingested")
            print("the warehouse holds a dbt build: its survey estimates are used", flush=True)
        else:
            first = dbt(warehouse, "run", [], work, "dbt-full-0")
            print(f"first full dbt run (creates the survey estimates): {first['seconds']:.1f}s; slowest: "
                  + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(first["models"].items(), key=lambda kv: -kv[1])[:4]),
                  flush=True)
        # dbt parses the project once, untimed, with the vars of the runs below: a deployed project
        # has the manifest of its last run, so every timed run reads it as a pipeline run does
        # (partial parsing) instead of the first one paying for a full parse after the --vars change
        dbt(warehouse, "parse", [], work, "dbt-parse")
        print(f"machine: {machine()}; {label}; {args.runs} runs; {load()}", flush=True)
        runs = []
        for i in range(args.runs):
            r = {"dbt": dbt(warehouse, "run", SELECT_MARTS, work, f"dbt-{i}")}
            if not args.no_full:
                r["dbt_full"] = dbt(warehouse, "run", [], work, f"dbt-full-{i + 1}")
            if do_build:
                seconds, peak, _ = run_child(
                    [sys.executable, "-m", "basismonitor.cli", "build", "--warehouse", str(warehouse),
                     "--edition", str(EDITION)], log=work / f"build-{i}.log")
                r["build"] = {"seconds": seconds, "peak_mib": peak}
            seconds, peak, stdout = run_child(
                [sys.executable, str(HERE / "handwritten" / "run_marts.py"), str(warehouse),
                 "--edition", str(EDITION)])
            r["handwritten"] = {"seconds": seconds, "peak_mib": peak,
                                "inside": float(stdout.rsplit("marts: ", 1)[1].split("s")[0])}
            pandas_out = work / "pandas"
            try:
                seconds, peak, stdout = run_child(
                    [sys.executable, str(HERE / "pandas_baseline.py"), str(warehouse),
                     "--edition", str(EDITION), "--out", str(pandas_out)], timeout=args.timeout)
                r["pandas"] = {"seconds": seconds, "peak_mib": peak,
                               "inside": float(stdout.rsplit("marts: ", 1)[1].split("s")[0])}
            except Timeout:
                r["pandas"] = {"seconds": args.timeout, "timed_out": True}
            runs.append(r)
            print(f"run {i + 1}: " + ", ".join(
                f"{k} {v['seconds']:.1f}s" + (" (timed out)" if v.get("timed_out") else "")
                for k, v in r.items()) + f"; {load()}", flush=True)

        # --- the same numbers? -------------------------------------------------------------------
        import duckdb
        import pandas as pd

        with duckdb.connect(str(warehouse), read_only=True) as con:
            dbt_marts = read_marts(con, "marts")
            hand_marts = read_marts(con, "hand")
        checked = {"handwritten": compare_marts(dbt_marts, hand_marts, actual_label="hand-written")}
        if not runs[-1]["pandas"].get("timed_out"):
            pandas_marts = {m: pd.read_parquet(work / "pandas" / f"{m}.parquet") for m in MARTS}
            checked["pandas"] = compare_marts(dbt_marts, pandas_marts, actual_label="pandas")
        for who, rows in checked.items():
            print(f"same numbers: dbt = {who} on " + ", ".join(f"{m} {n:,} rows" for m, n in rows.items()))
        if "pandas" not in checked:
            print("pandas timed out in the last run: its result was NOT compared")

        # --- report ------------------------------------------------------------------------------
        kinds = list(runs[0])
        med = {k: statistics.median(r[k]["seconds"] for r in runs) for k in kinds}
        print(f"\nmedian of {args.runs} runs (wall time of a fresh process each):")
        for k in kinds:
            extra = ""
            if k.startswith("dbt"):
                extra = (f" (sum of the model times {statistics.median(r[k]['model_seconds'] for r in runs):.1f}s: "
                         f"two dbt threads overlap; dbt start-up and parsing come on top)")
            lower = " (lower bound: timed out)" if any(r[k].get("timed_out") for r in runs) else ""
            print(f"  {k:12s} {med[k]:8.2f}s  runs " + ", ".join(f"{r[k]['seconds']:.2f}" for r in runs)
                  + extra + lower)
        ratios = {"dbt/handwritten": med["dbt"] / med["handwritten"], "pandas/dbt": med["pandas"] / med["dbt"]}
        print(f"ratio dbt / hand-written: {ratios['dbt/handwritten']:.2f}x (target at national scale <= 1.5x)")
        print(f"ratio pandas / dbt: {ratios['pandas/dbt']:.2f}x (target >= 10x)")
        if "build" in med:
            print(f"basismonitor build (dbt with tests): {med['build']:.1f}s (target on demo <= 60 s)")
        profile_key = "dbt_full" if "dbt_full" in kinds else "dbt"
        slowest = sorted(runs[-1][profile_key]["models"].items(), key=lambda kv: -kv[1])[:12]
        print(f"slowest models (last run, {profile_key}, dbt run_results execution_time):")
        for name, seconds in slowest:
            print(f"  {seconds:7.2f}s  {name}")
        print("peak memory (process tree): " + ", ".join(
            f"{k} {max(r[k].get('peak_mib', 0) for r in runs):.0f} MiB" for k in kinds))
        result = {
            "benchmark": "bench_marts", "label": label, "machine": machine(), "load_at_end": load(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "runs": runs, "median": med,
            "ratios": ratios, "rows": sizes(warehouse), "compared": checked,
            "survey_estimates_from_dbt": True, "select_dbt": SELECT_MARTS,
        }
        out_json.parent.mkdir(parents=True, exist_ok=True)
        out_json.write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"{load()}; result: {out_json}")
    except MartsDiffer as exc:
        print(f"\nTHE IMPLEMENTATIONS DISAGREE:\n{exc}", file=sys.stderr)
        return 1
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
