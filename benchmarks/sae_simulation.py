"""Design-based simulation of the Fay-Herriot estimates on the demo municipality (issue 21).

    .venv/bin/python benchmarks/sae_simulation.py [--reps 200] [--respondents 8000 2000]

A known population of residents aged 15+ is generated once from the demo world (the 119 buurten
of the generated Groningen-like municipality, seed 2024, year 2024: the demo's own inhabitants
per buurt and age group and its latent deprivation per buurt), with two outcomes per resident:

- a share (``onveilig``: feels unsafe, 0/1): logit p = -1.6 + 0.9 dep + age effect + v_b,
- a mean (``rapportcijfer``, 1-10): 7.0 - 0.5 dep + age effect + v_b' + N(0, 1.4^2),

with buurt effects ``v_b ~ N(0, 0.3^2)`` and ``v_b' ~ N(0, 0.25^2)`` that no covariate explains.
The truth is each buurt's finite-population share / mean.  Covariates per buurt are the demo's
registry figures (benefit rate, owner-occupied share, share 65+, log density), as the warehouse
holds them.

Each replicate draws a stratified simple random sample without replacement by buurt, the demo's
allocation (n_b proportional to N_b^0.75, so small buurten are over-sampled but still get few
respondents), weights N_b / n_b.  Direct estimates and SEs come from the repository's own
estimator (``survey_estimates``: stratified by buurt with fpc; a buurt with one respondent
contributes no variance); the Fay-Herriot fit (REML) from ``fit_fay_herriot`` / ``fit_shares``
(share on the arcsine scale, variance deff/4n; mean on its own scale with the direct variance,
buurten with fewer than 2 respondents get the synthetic prediction).

Per class of buurt sample size it prints the coverage of the 95% intervals (direct: Wald;
Fay-Herriot: estimate +- 1.96 sqrt(MSE), for shares the back-transformed interval), the
empirical MSE of both against the truth, and the mean estimated MSE against the empirical one.
docs/STATISTICS.md records the output.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402

from basismonitor.demo.registry import _atom_registry  # noqa: E402
from basismonitor.demo.scale import DemoScale  # noqa: E402
from basismonitor.demo.world import build_world  # noqa: E402
from basismonitor.stats import Z95, survey_estimates  # noqa: E402
from basismonitor.stats.fay_herriot import fit_fay_herriot, fit_shares  # noqa: E402

YEAR, EDITION, SEED = 2024, 2019, 2024
CLASSES = [(0, 0), (1, 9), (10, 29), (30, 49), (50, 99), (100, 10**9)]


def population(seed: int = 11) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Residents aged 15+ (buurt, age group, outcomes) and the buurt covariates."""
    world = build_world(DemoScale(), SEED)
    rng = np.random.default_rng(seed)
    yi = world.year_index(YEAR)
    buurt_of_atom = world.a_buurt[EDITION]
    nb = len(world.buurten[EDITION])
    codes = np.array([b.code for b in world.buurten[EDITION]])
    pop = world.pop[:, yi, :]  # [atom, cell]
    dep_atom = world.dep[:, yi]

    reg = _atom_registry(world, YEAR)
    def per_buurt(v: np.ndarray) -> np.ndarray:
        out = np.zeros(nb)
        np.add.at(out, buurt_of_atom, v)
        return out

    inh = per_buurt(reg["inh"])
    adults = per_buurt(reg["pop"][:, 2:8].sum(axis=1).astype(float))
    old = per_buurt(reg["pop"][:, 8:10].sum(axis=1).astype(float))
    dwell = per_buurt(reg["dwell"])
    own = per_buurt(reg["own"])
    area = per_buurt(reg["area"].astype(float))
    with np.errstate(divide="ignore", invalid="ignore"):
        cov = pd.DataFrame(
            {
                "area": codes,
                "benefit_rate": per_buurt(reg["wb"]) / np.maximum(adults, 1),
                "owner_share": np.where(dwell > 0, own / np.maximum(dwell, 1), 0.0),
                "share_65plus": old / np.maximum(inh, 1),
                "log_density": np.log1p(inh / np.maximum(area, 1) * 1e6),
            }
        )

    v_share = rng.normal(0, 0.3, nb)
    v_mean = rng.normal(0, 0.25, nb)
    age_share = np.array([0.0, 0.0, 0.3, 0.1, -0.1, -0.2])  # per age group (15-24 .. 65+)
    age_mean = np.array([0.0, -0.2, -0.1, 0.1, 0.4])
    rows = []
    for atom in range(pop.shape[0]):
        b = buurt_of_atom[atom]
        for cell in range(2, 10):  # 15+
            k = int(pop[atom, cell])
            if k == 0:
                continue
            g = cell // 2
            eta = -1.6 + 0.9 * dep_atom[atom] + age_share[g] + v_share[b]
            onveilig = (rng.random(k) < 1 / (1 + np.exp(-eta))).astype(float)
            cijfer = np.clip(
                7.0 - 0.5 * dep_atom[atom] + age_mean[g] + v_mean[b] + rng.normal(0, 1.4, k),
                1,
                10,
            )
            rows.append(pd.DataFrame({"b": b, "onveilig": onveilig, "rapportcijfer": cijfer}))
    people = pd.concat(rows, ignore_index=True)
    people["buurt"] = codes[people["b"].to_numpy()]
    return people, cov


def allocation(big_n: np.ndarray, total: int) -> np.ndarray:
    share = np.power(big_n, 0.75)
    share = share / share.sum()
    n = np.floor(share * total).astype(int)
    n[np.argsort(-(share * total - n))[: total - n.sum()]] += 1
    return np.minimum(n, big_n)


def simulate(people: pd.DataFrame, cov: pd.DataFrame, total: int, reps: int, seed: int):
    rng = np.random.default_rng(seed)
    codes = cov["area"].to_numpy()
    nb = len(codes)
    big_n = np.bincount(people["b"], minlength=nb)
    n_alloc = allocation(big_n, total)
    truth = {
        v: people.groupby("b")[v].mean().reindex(range(nb)).to_numpy()
        for v in ("onveilig", "rapportcijfer")
    }
    order = np.argsort(people["b"].to_numpy(), kind="stable")
    starts = np.concatenate([[0], np.cumsum(big_n)])
    samples = []
    for r in range(reps):
        idx = np.concatenate(
            [order[starts[b] + rng.choice(big_n[b], n_alloc[b], replace=False)]
             for b in range(nb) if n_alloc[b] > 0]
        )
        s = people.iloc[idx][["buurt", "b", "onveilig", "rapportcijfer"]].copy()
        s["rep"] = r
        samples.append(s)
    sample = pd.concat(samples, ignore_index=True)
    sample["N"] = big_n[sample["b"].to_numpy()].astype(float)
    sample["w"] = sample["N"] / n_alloc[sample["b"].to_numpy()]

    x = np.column_stack([np.ones(nb), cov.drop(columns="area").to_numpy()])
    con = duckdb.connect()
    results = []
    for value in ("onveilig", "rapportcijfer"):
        est = survey_estimates(
            con, sample, value=value, weight="w", domain="buurt", stratum="buurt",
            population="N", group_by=["rep"], lonely_psu="certainty",
        )
        est = est[est["domain"] != "TOTAL"]
        for r, part in est.groupby("rep"):
            part = part.set_index("domain").reindex(codes)
            n = part["n"].fillna(0).to_numpy()
            direct = part["estimate"].to_numpy(dtype=float)
            se = part["se"].to_numpy(dtype=float)
            if value == "onveilig":
                fit = fit_shares(np.where(n > 0, direct, np.nan), n, np.ones(nb), x)
                est_fh, mse_fh, lo, hi = fit.estimate, fit.mse, fit.ci_low, fit.ci_high
                converged = fit.fit.converged
            else:
                ok = (n >= 2) & (se > 0)
                f = fit_fay_herriot(np.where(ok, direct, np.nan), np.where(ok, se**2, np.nan), x)
                est_fh, mse_fh = f.estimate, f.mse
                lo, hi = est_fh - Z95 * np.sqrt(mse_fh), est_fh + Z95 * np.sqrt(mse_fh)
                converged = f.converged
            t = truth[value]
            results.append(
                pd.DataFrame(
                    {
                        "indicator": value, "rep": r, "b": range(nb), "n": n, "truth": t,
                        "direct": direct, "se": se, "fh": est_fh, "mse": mse_fh,
                        "fh_cover": (lo <= t) & (t <= hi),
                        "direct_cover": (n >= 2) & (direct - Z95 * se <= t)
                        & (t <= direct + Z95 * se),
                        "converged": converged,
                    }
                )
            )
    con.close()
    out = pd.concat(results, ignore_index=True)
    # A buurt without residents aged 15+ has no truth to compare with (it still is in the fit).
    return out[big_n[out["b"].to_numpy()] > 0], n_alloc


def table(res: pd.DataFrame, n_alloc: np.ndarray, total: int) -> str:
    lines = [
        f"Respondents per replicate: {total:,}; buurten with residents aged 15+: "
        f"{res['b'].nunique()}; replicates: {res['rep'].nunique()}; "
        f"fits converged: {res.groupby(['indicator', 'rep'])['converged'].first().mean():.0%}",
        "",
        "| indicator | buurt n | buurten | coverage direct | coverage FH (mean, min-max over "
        "buurten) | RMSE direct | RMSE FH | est. RMSE FH | MSE FH / MSE direct |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ind, part in res.groupby("indicator", sort=False):
        scale = 100 if ind == "onveilig" else 1
        unit = " (pp)" if ind == "onveilig" else ""
        for lo, hi in CLASSES:
            c = part[(part["n"] >= lo) & (part["n"] <= hi)]
            if c.empty:
                continue
            per_b = c.groupby("b")
            fh_cov = per_b["fh_cover"].mean()
            has_direct = c[c["n"] >= 2]
            emp_fh = np.sqrt(np.mean((c["fh"] - c["truth"]) ** 2)) * scale
            est_fh = np.sqrt(np.mean(c["mse"])) * scale
            if len(has_direct):
                d_cov = f"{has_direct['direct_cover'].mean():.1%}"
                mse_d = np.mean((has_direct["direct"] - has_direct["truth"]) ** 2)
                mse_f = np.mean((has_direct["fh"] - has_direct["truth"]) ** 2)
                emp_d = f"{np.sqrt(mse_d) * scale:.3g}"
                ratio = f"{mse_f / mse_d:.2f}"
            else:
                d_cov, emp_d, ratio = "-", "-", "-"
            label = "0" if hi == 0 else (f"{lo}+" if hi > 10**6 else f"{lo}-{hi}")
            lines.append(
                f"| {ind}{unit} | {label} | {per_b.ngroups} | {d_cov} | {fh_cov.mean():.1%} "
                f"({fh_cov.min():.0%}-{fh_cov.max():.0%}) | {emp_d} | {emp_fh:.3g} | "
                f"{est_fh:.3g} | {ratio} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--respondents", type=int, nargs="+", default=[8000, 2000, 1000])
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    people, cov = population()
    print(f"population: {len(people):,} residents aged 15+ in {len(cov)} buurten "
          f"(demo seed {SEED}, year {YEAR}); {machine()}")
    for total in args.respondents:
        res, n_alloc = simulate(people, cov, total, args.reps, args.seed)
        print()
        print(table(res, n_alloc, total))
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
