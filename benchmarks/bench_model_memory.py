"""Peak memory of one dbt Python model, run alone on a built warehouse (issue 22: the national
build's 18 GiB peak).

The national benchmark samples one peak per stage, so it cannot say which model of `dbt build`
holds the memory. This runs one Python model's `model(dbt, session)` outside dbt, on a built
warehouse opened read-only with the platform's DuckDB config (memory_limit 5 GB by default), and
samples this process's RSS every 0.2 s until the returned relation is materialised into a
temporary table (as dbt-duckdb does). `--at COMMIT` runs the model file as it was at that commit
(read from git), for a before/after in the same run; the rest of the code is the current one.

    .venv/bin/python benchmarks/bench_model_memory.py --warehouse W \
        --model intermediate/small_area/int_survey_small_area_estimates [--waves 2014,2016] \
        [--at 8f97256] [--out rows.parquet]

`--waves` limits the waves the model computes (its `waves_to_build`); `--out` writes the rows
(without built_at) for comparing two runs. W must be named basismonitor.duckdb (the views name
their catalog). A warehouse built before issue 22.2 (its `edition` columns not yet renamed
`area_edition`) is read through a renaming view.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import MemorySampler  # noqa: E402

MODELS = REPO / "dbt_project" / "models"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--model", required=True, help="path under dbt_project/models, no .py")
    parser.add_argument("--waves", help="comma-separated waves (default: all)")
    parser.add_argument("--at", help="run the model file as it was at this commit")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from basismonitor.config import duckdb_config
    from basismonitor.transform import dbt_models

    con = duckdb.connect(str(args.warehouse), read_only=True, config=duckdb_config())
    con.execute("set enable_progress_bar = false")

    def qualified(name: str) -> str:
        found = con.sql("select table_schema from information_schema.tables "
                        f"where table_name = '{name}'").fetchall()
        if not found:
            raise SystemExit(f"{name} is not in {args.warehouse}")
        return f"{found[0][0]}.{name}"

    class Dbt:
        is_incremental = False
        this = None

        def config(self, **_):
            pass

        def ref(self, name: str):
            relation = con.sql(f"select * from {qualified(name)}")
            if ("edition" in relation.columns and "area_edition" not in relation.columns
                    and name.startswith(("int_respondents", "int_buurten", "int_area"))):
                relation = con.sql(f"select * rename (edition as area_edition) "
                                   f"from {qualified(name)}")
            return relation

    if args.waves:
        wanted = [int(w) for w in args.waves.split(",")]
        everything = dbt_models.waves_to_build
        def some_waves(dbt, session):
            todo = everything(dbt, session)
            return todo[todo["wave"].isin(wanted)]

        dbt_models.waves_to_build = some_waves
    path = MODELS / f"{args.model}.py"
    if args.at:
        source = subprocess.run(["git", "-C", str(REPO), "show",
                                 f"{args.at}:{path.relative_to(REPO)}"],
                                check=True, capture_output=True, text=True).stdout
        path = Path("/tmp") / f"bm_model_{path.stem}_{args.at}.py"
        path.write_text(source)
    spec = importlib.util.spec_from_file_location("bm_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    mem = MemorySampler(interval=0.2).start()
    wall, cpu = time.perf_counter(), time.process_time()
    relation = module.model(Dbt(), con)
    con.register("_bm_result", relation)
    con.execute("create temp table _bm_rows as select * from _bm_result")
    rows = con.sql("select count(*) from _bm_rows").fetchone()[0]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    mem.stop()
    print(f"{args.model}{' at ' + args.at if args.at else ''}: {rows:,} rows, {wall:.1f} s wall, "
          f"{cpu:.1f} s CPU, peak {mem.peak_mib:,.0f} MiB RSS; "
          f"load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.out:
        columns = [c for c in con.sql("select * from _bm_rows limit 0").columns if c != "built_at"]
        con.execute(f"copy (select {', '.join(columns)} from _bm_rows) to '{args.out}' "
                    "(format parquet)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
