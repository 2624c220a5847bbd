"""What a DAG parse costs now that it only reads the prebuilt dbt manifest (issue 22.7).

    .venv/bin/python benchmarks/bench_dag_parse.py [--runs 5]

In one process, interleaved, `--runs` times each (the manifest is made first, as `make run`,
`make airflow` and the image do):
- now: `DagBag(dags/)`, the two refresh DAGs (basismonitor.orchestration.airflow_dbt.current_manifest reads the
  manifest);
- before: the same parse plus `ensure_manifest()`, which every parse ran before: the dbt
  project's fingerprint (every file of dbt_project/ hashed) compared with the manifest's;
- the fingerprint alone.
Prints medians, all runs and the ratio before / now.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import load, machine  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="bench-dag-parse-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    from airflow.dag_processing.dagbag import DagBag

    from basismonitor.orchestration.airflow_dbt import ensure_manifest, project_fingerprint

    ensure_manifest()

    def parse() -> None:
        bag = DagBag(dag_folder=str(REPO / "dags"))
        assert not bag.import_errors, bag.import_errors
        assert len(bag.dags) >= 2

    parse()  # imports (Airflow, Cosmos, basismonitor) once, outside the timings
    runs: dict[str, list[float]] = {"now": [], "before": [], "fingerprint": []}
    for _ in range(args.runs):
        for name, fn in (("now", parse), ("before", lambda: (ensure_manifest(), parse())),
                         ("fingerprint", project_fingerprint)):
            start = time.perf_counter()
            fn()
            runs[name].append(time.perf_counter() - start)
    print(f"machine: {machine()}; {args.runs} runs; {load()}")
    med = {k: statistics.median(v) for k, v in runs.items()}
    for name, values in runs.items():
        print(f"  {name}: {med[name]:.3f} s ({', '.join(f'{x:.3f}' for x in values)})")
    print(f"ratio before / now: {med['before'] / med['now']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
