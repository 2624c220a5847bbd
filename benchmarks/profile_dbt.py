"""Where a dbt run's time goes: `dbt seed` + `dbt run` on a warehouse, the models by execution time.

    python benchmarks/profile_dbt.py WAREHOUSE [--edition 2024] [--select ...] [--exclude ...]
                                     [--threads N] [--no-seed] [--json FILE]

    # the models bench_marts.py times, one at a time (beside run_marts.py --per-statement):
    python benchmarks/profile_dbt.py WAREHOUSE --no-seed --threads 1 \
        --select +mart_compass_status +mart_compass_development --exclude path:models/intermediate/survey

Runs dbt as the pipeline does (basismonitor.transform.dbt.run_dbt, in this process) on a warehouse after
`basismonitor ingest` and prints each model's execution_time from dbt's run results, slowest
first. Two dbt threads run models side by side, so the per-model times overlap and add up to more
than the wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, machine  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--edition", type=int, default=2024)
    parser.add_argument("--select", nargs="+", help="dbt node selection (default: every model)")
    parser.add_argument("--exclude", nargs="+", help="dbt nodes to leave out")
    parser.add_argument("--threads", type=int, help="dbt threads (default: the profile's 2)")
    parser.add_argument("--no-seed", action="store_true", help="the catalogue is already seeded")
    parser.add_argument("--json", type=Path, help="write the timings here")
    args = parser.parse_args(argv)

    from basismonitor.transform.dbt import run_dbt

    print(f"machine: {machine()}; {load()}", flush=True)
    if not args.no_seed:
        start = time.perf_counter()
        run_dbt("seed", args.warehouse)
        print(f"dbt seed: {time.perf_counter() - start:.1f}s", flush=True)
    start = time.perf_counter()
    dbt_args = (["--select", *args.select] if args.select else []) + (
        ["--exclude", *args.exclude] if args.exclude else []) + (
        ["--threads", str(args.threads)] if args.threads else [])
    nodes = run_dbt("run", args.warehouse, args=dbt_args, vars={"edition": args.edition})
    wall = time.perf_counter() - start
    summed = sum(n["seconds"] for n in nodes)
    print(f"dbt run: {wall:.1f}s wall (dbt's start-up, parsing and closing the warehouse included), "
          f"{summed:.1f}s summed over the nodes; {load()}")
    for node in sorted(nodes, key=lambda n: -n["seconds"]):
        print(f"  {node['seconds']:8.2f}s  {node['node'].split('.', 2)[-1]}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"wall": wall, "nodes": nodes, "machine": machine()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
