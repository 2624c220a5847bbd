"""One wave's design-based estimates as int_survey_estimates computes them (issue 22): the
estimator now (basismonitor.stats.estimates) against itself as it was at commit 8f97256, in one
run, on the same warehouse.

At 8f97256 the estimator read its relation twice for a share indicator: once for the moment sums
and once more for the check that a proportion's values are 0 or 1. The relation is the
`int_survey_responses_scored` view, whose national wave (150,000 respondents x 41 indicators)
costs ~20 s of CPU to read; the check is now counted in the moment sums' pass. Both versions get
the same relation (the view filtered on the wave, `is_share` added, as the model does) and must
give equal frames (to 1e-12: parallel float sums differ in the last bits between any two
reads). CPU seconds (this process's, DuckDB's threads included) and wall seconds.

    .venv/bin/python benchmarks/bench_survey_estimates.py --warehouse W [--wave 2016] [--runs 2]

W is a built warehouse (a national one: `bench_national.py` keeps it under its workdir; the demo's
works too). It is opened read-only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import load, machine, module_at  # noqa: E402

BASELINE_COMMIT = "8f97256"


def estimate(module, con, wave: int, shares: list[str]) -> pd.DataFrame:
    listed = ", ".join("'" + code.replace("'", "''") + "'" for code in shares) or "NULL"
    relation = con.sql(
        f"select *, coalesce(indicator_code in ({listed}), false) as is_share "
        f"from intermediate.int_survey_responses_scored where wave = {wave}"
    )
    con.register("_bm_scored", relation)
    try:
        return module.survey_estimates(
            con, "_bm_scored", value="y", weight="weight", domain="area_code",
            stratum="area_code", population="area_population",
            group_by=["gemeente_code", "wave", "indicator_code", "is_share"],
            proportion="is_share", total_label="__city__", lonely_psu="certainty",
        )
    finally:
        con.unregister("_bm_scored")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, required=True)
    parser.add_argument("--wave", type=int)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    from basismonitor.config import duckdb_config
    from basismonitor.stats import estimates as current

    baseline = module_at(BASELINE_COMMIT, "src/basismonitor/stats/estimates.py")
    con = duckdb.connect(str(args.warehouse), read_only=True, config=duckdb_config())
    con.execute("set enable_progress_bar = false")
    wave = args.wave or con.sql(
        "select max(wave) from intermediate.int_respondents_weighted").fetchone()[0]
    shares = [r[0] for r in con.sql(
        "select indicator_code from catalogue.indicators where kind = 'survey_share'").fetchall()]
    rows = con.sql("select count(*) from intermediate.int_respondents_weighted "
                   f"where wave = {wave}").fetchone()[0]
    print(f"{machine()}; {load()}")
    print(f"warehouse {args.warehouse}, wave {wave} ({rows:,} respondents), {args.runs} runs")
    times: dict[str, list[tuple[float, float]]] = {"baseline": [], "current": []}
    frames: dict[str, pd.DataFrame] = {}
    for run in range(args.runs):
        order = ("baseline", "current") if run % 2 == 0 else ("current", "baseline")
        for name in order:
            module = baseline if name == "baseline" else current
            wall, cpu = time.perf_counter(), time.process_time()
            frames[name] = estimate(module, con, wave, shares)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
            print(f"  run {run + 1} {name}: {times[name][-1][0]:.1f} s wall, "
                  f"{times[name][-1][1]:.1f} s CPU, {len(frames[name]):,} rows", flush=True)
    # equal to 1e-12: DuckDB's parallel float sums differ in the last bits between any two reads
    pd.testing.assert_frame_equal(frames["baseline"], frames["current"], check_exact=False,
                                  rtol=1e-12, atol=1e-12)
    med = {name: (statistics.median(t[0] for t in v), statistics.median(t[1] for t in v))
           for name, v in times.items()}
    print(f"median wall: baseline {med['baseline'][0]:.1f} s, current {med['current'][0]:.1f} s "
          f"(ratio {med['current'][0] / med['baseline'][0]:.2f})")
    print(f"median CPU:  baseline {med['baseline'][1]:.1f} s, current {med['current'][1]:.1f} s "
          f"(ratio {med['current'][1] / med['baseline'][1]:.2f})")
    print("the frames are equal (to 1e-12)")
    print(load())
    return 0


if __name__ == "__main__":
    sys.exit(main())
