"""Survey statistics at national scale (issue 4's targets), measured in one run.

    .venv/bin/python benchmarks/bench_statistics.py [--runs 3]

- estimates: 150,000 respondents x 40 items x 14,500 areas (6 M answer rows), all means, SEs,
  CIs and contrasts with the city, against ONE hand-written DuckDB aggregate computing the same
  means and standard errors (target: at most 2x);
- raking: that wave raked within 14,500 areas to age-group and sex margins (target: <= 10 s).
Prints the medians, every run and the ratio; BENCHMARKS.md records the output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine, timed  # noqa: E402

from basismonitor.stats import rake, survey_estimates  # noqa: E402

HAND_WRITTEN = """
SELECT item, area, m AS estimate, n,
       sqrt((1 - nh / big_n) * nh / (nh - 1) * (s2 - 2 * m * s1 + m * m * s0)) / sw AS se
FROM (
    SELECT item, area, count(y) AS n, count(*) AS nh, any_value(N) AS big_n,
           sum(w * y) / sum(CASE WHEN y IS NOT NULL THEN w END) AS m,
           sum(CASE WHEN y IS NOT NULL THEN w END) AS sw,
           sum(w * w * y * y) AS s2, sum(w * w * y) AS s1,
           sum(CASE WHEN y IS NOT NULL THEN w * w END) AS s0
    FROM answers GROUP BY item, area
)
"""


def national_wave(con: duckdb.DuckDBPyConnection, respondents=150_000, areas=14_500, items=40) -> None:
    con.execute("select setseed(0.42)")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE resp AS SELECT i AS rid, i % {areas} AS area, 1 + random() * 3 AS w
        FROM range({respondents}) t(i);
        CREATE OR REPLACE TABLE answers AS
        SELECT r.rid, r.area, r.w, p.N, 'q' || j AS item,
               CASE WHEN random() < 0.1 THEN NULL ELSE floor(random() * 10) + 1 END AS y
        FROM resp r
        JOIN (SELECT area, 20 * count(*) + 50 AS N FROM resp GROUP BY area) p USING (area)
        CROSS JOIN range({items}) q(j);
        """
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}")
    con = duckdb.connect()
    national_wave(con)
    rows = con.sql("select count(*) from answers").fetchone()[0]
    hand, hand_runs, hand_df = timed(args.runs, lambda: con.execute(HAND_WRITTEN).df())
    ours, ours_runs, ours_df = timed(
        args.runs,
        lambda: survey_estimates(
            con, "answers", value="y", weight="w", domain="area", stratum="area",
            population="N", group_by=["item"], lonely_psu="certainty",
        ),
    )
    merged = ours_df.merge(hand_df, left_on=["item", "domain"], right_on=["item", "area"])
    np.testing.assert_allclose(merged["estimate_x"], merged["estimate_y"], rtol=1e-9)
    np.testing.assert_allclose(merged["se_x"], merged["se_y"], rtol=1e-6, atol=1e-12)
    print(f"estimates: {rows:,} answer rows, {len(ours_df):,} estimates (same numbers as the hand-written query)")
    print(f"  hand-written DuckDB aggregate: median {hand:.2f} s  runs {[round(t, 2) for t in hand_runs]}")
    print(f"  basismonitor.stats (+ CIs, contrasts, city rows): median {ours:.2f} s  runs {[round(t, 2) for t in ours_runs]}")
    print(f"  ratio {ours / hand:.2f}x (target <= 2x)")

    rng = np.random.default_rng(1)
    n, areas = 150_000, 14_500
    frame = pd.DataFrame({
        "area": rng.integers(0, areas, n),
        "age_group": rng.choice(["15-24", "25-44", "45-64", "65+"], n, p=[0.1, 0.25, 0.3, 0.35]),
        "sex": rng.choice(["M", "V"], n),
    })
    frame["w"] = 1.0
    age = frame.groupby(["area", "age_group"]).size().rename("population").reset_index()
    age["population"] = age["population"] * rng.uniform(5, 30, len(age))
    total = age.groupby("area")["population"].sum()
    sex = pd.DataFrame({"area": np.repeat(total.index, 2), "sex": ["M", "V"] * len(total)})
    sex["population"] = np.repeat(total.to_numpy(), 2) * np.tile([0.49, 0.51], len(total))
    raking, rake_runs, result = timed(
        args.runs, lambda: rake(frame, weight="w", margins={"age_group": age, "sex": sex}, by="area")
    )
    print(f"raking: {n:,} respondents in {areas:,} areas, converged in {result.report.converged.mean():.1%} of areas")
    print(f"  median {raking:.2f} s  runs {[round(t, 2) for t in rake_runs]} (target <= 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
