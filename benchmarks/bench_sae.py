"""Small-area estimation at national scale (issue 21's target), measured in one run.

    .venv/bin/python benchmarks/bench_sae.py [--runs 3] [--items 30]

A synthetic national survey wave generated here: 150,000 respondents in 14,500 buurten (on
average 10 a buurt, about 1 in 2,000 buurten has none), 30 survey indicators (half 0/1 shares,
half 1-10 means) whose buurt means follow a Fay-Herriot model on 5 registry covariates.

Timed, each over ``--runs`` runs:
- baseline: the direct estimates of all indicators (``survey_estimates``, stratified by buurt with
  fpc, one call with ``group_by=item``), what the warehouse computes already;
- fay-herriot: the REML fit, EBLUP, MSE and synthetic predictions of every indicator for all
  14,500 buurten from those direct estimates (shares on the arcsine scale) (target: <= 60 s);
- the same fits with ML and FH's moment method.
Prints the medians, every run and the ratio to the baseline; BENCHMARKS.md records the output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import load, machine, timed  # noqa: E402

from basismonitor.stats import survey_estimates  # noqa: E402
from basismonitor.stats.fay_herriot import fit_fay_herriot, fit_shares  # noqa: E402


def national_wave(respondents: int, areas: int, items: int, seed: int = 21):
    rng = np.random.default_rng(seed)
    cov = rng.normal(size=(areas, 5))
    x = np.column_stack([np.ones(areas), cov])
    area = rng.integers(0, areas, respondents)
    big_n = np.bincount(area, minlength=areas) * 40 + 50
    n_a = np.bincount(area, minlength=areas)
    frame = {"area": area, "w": big_n[area] / np.maximum(n_a[area], 1), "N": big_n[area] * 1.0}
    for j in range(items):
        beta = rng.normal(0, 0.3, 6)
        u = rng.normal(0, 0.3, areas)
        if j % 2 == 0:
            eta = -1.0 + x @ beta + u
            frame[f"q{j:02d}"] = (rng.random(respondents) < 1 / (1 + np.exp(-eta[area]))) * 1.0
        else:
            mu = 7 + x @ beta + u
            frame[f"q{j:02d}"] = np.clip(mu[area] + rng.normal(0, 1.5, respondents), 1, 10)
    wide = pd.DataFrame(frame)
    long = wide.melt(id_vars=["area", "w", "N"], var_name="item", value_name="y")
    return long, x


def fit_all(direct: pd.DataFrame, x: np.ndarray, areas: int, method: str) -> list:
    fits = []
    for item, part in direct.groupby("item", sort=True):
        part = part.set_index("domain").reindex(np.arange(areas))
        n = part["n"].fillna(0).to_numpy()
        y = part["estimate"].to_numpy(dtype=float)
        se = part["se"].to_numpy(dtype=float)
        if int(item[1:]) % 2 == 0:
            fits.append(fit_shares(np.where(n > 0, y, np.nan), n, part["deff"].fillna(1.0), x,
                                   method=method).fit)
        else:
            ok = (n >= 2) & (se > 0)
            fits.append(fit_fay_herriot(np.where(ok, y, np.nan), np.where(ok, se**2, np.nan), x,
                                        method=method))
    return fits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--respondents", type=int, default=150_000)
    parser.add_argument("--areas", type=int, default=14_500)
    parser.add_argument("--items", type=int, default=30)
    args = parser.parse_args(argv)
    print(f"machine: {machine()}; {load()}")
    long, x = national_wave(args.respondents, args.areas, args.items)
    con = duckdb.connect()
    con.register("answers", long)

    def direct_estimates() -> pd.DataFrame:
        est = survey_estimates(con, "answers", value="y", weight="w", domain="area",
                               stratum="area", population="N", group_by=["item"],
                               lonely_psu="certainty")
        return est[est["domain"] != "TOTAL"]

    base, base_runs, direct = timed(args.runs, direct_estimates)
    deff = con.execute(
        "SELECT area AS domain, count(*) * sum(w * w) / (sum(w) * sum(w)) AS deff "
        "FROM answers WHERE item = 'q00' GROUP BY area"
    ).df()
    direct = direct.assign(domain=direct["domain"].astype(int)).merge(deff, on="domain",
                                                                      how="left")
    sampled = direct.groupby("item")["domain"].nunique().iloc[0]
    print(f"wave: {args.respondents:,} respondents, {args.areas:,} buurten ({sampled:,} with "
          f"respondents), {args.items} indicators, {len(direct):,} direct buurt estimates")
    print(f"  baseline, direct estimates (survey_estimates): median {base:.2f} s  "
          f"runs {[round(t, 2) for t in base_runs]}")
    for method in ("reml", "ml", "fh"):
        t, runs, fits = timed(args.runs, lambda m=method: fit_all(direct, x, args.areas, m))
        conv = sum(f.converged for f in fits)
        iters = [f.iterations for f in fits]
        target = " (target <= 60 s)" if method == "reml" else ""
        print(f"  fay-herriot {method}: {len(fits)} indicators x {args.areas:,} buurten, "
              f"{conv}/{len(fits)} converged, {min(iters)}-{max(iters)} iterations: "
              f"median {t:.2f} s  runs {[round(r, 2) for r in runs]}{target}; "
              f"{t / base:.2f}x the direct estimates")
    con.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
