"""Model-based buurt figures for the warehouse: direct buurt estimates in, direct and Fay-Herriot
rows out (the dbt model int_survey_small_area_estimates calls :func:`small_area_table`).

Per wave x indicator, one Fay-Herriot fit over all buurten of the wave that have every covariate
the indicator's catalogue row lists (indicator_small_area seed): shares on the arcsine scale with
variance deff / 4n, means and scale scores on their own scale with the direct variance (a buurt
with fewer than 2 respondents, or a direct variance of 0, gets the synthetic prediction).  A
model-based figure is suppressed when its CV (sqrt(MSE) / estimate) exceeds the indicator's
``max_cv``; a direct buurt figure when it has fewer than ``min_n`` respondents, as the compass does.
See docs/STATISTICS.md section 9.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .estimates import Z95
from .fay_herriot import fit_fay_herriot, fit_shares

__all__ = ["OUTPUT_COLUMNS", "small_area_table"]

OUTPUT_COLUMNS = {
    "gemeente_code": "varchar",
    "wave": "integer",
    "indicator_code": "varchar",
    "buurt_code": "varchar",
    "area_code": "varchar",
    "estimation_method": "varchar",
    "prediction": "varchar",
    "n": "bigint",
    "estimate": "double",
    "se": "double",
    "mse": "double",
    "cv": "double",
    "ci_low": "double",
    "ci_high": "double",
    "gamma": "double",
    "suppressed": "boolean",
    "suppression_reason": "varchar",
    "max_cv": "double",
    "fit_method": "varchar",
    "model_scale": "varchar",
    "sigma_u": "double",
    "converged": "boolean",
    "iterations": "integer",
    "n_areas_fitted": "integer",
    "covariates": "varchar",
    "beta": "varchar",
    "beta_se": "varchar",
    "loglik": "double",
    "wijk_benchmark_z": "double",
}


def _cv(estimate: np.ndarray, mse: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(estimate != 0, np.sqrt(np.maximum(mse, 0)) / np.abs(estimate), np.inf)


def small_area_table(
    direct: pd.DataFrame,
    buurten: pd.DataFrame,
    covariates: pd.DataFrame,
    settings: pd.DataFrame,
    wijk: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Direct and Fay-Herriot rows per wave x indicator x buurt.

    - ``direct``: wave, indicator_code, buurt_code, n, estimate, se, deff (Kish, of the buurt's
      respondents with a score): the direct buurt estimates (buurten with respondents).
    - ``buurten``: wave, gemeente_code, area_code (compass area), buurt_code: every buurt of the
      wave's edition (the ones without respondents get a synthetic prediction).
    - ``covariates``: wave, buurt_code, inhabitants and one column per covariate (NaN: unknown).
    - ``settings``: indicator_code, kind, min_n, use_at_buurt, covariates (``a|b|c``), method,
      max_cv: the catalogue.
    - ``wijk``: wave, indicator_code, area_code, estimate, se: the direct compass-area figures, for
      the benchmark diagnostic (optional).
    """
    out = []
    settings = settings.set_index("indicator_code")
    for (wave, code), part in direct.groupby(["wave", "indicator_code"], sort=True):
        if code not in settings.index:
            continue
        cfg = settings.loc[code]
        areas = buurten[buurten["wave"] == wave].merge(
            part.drop(columns=["wave", "indicator_code"]), on="buurt_code", how="left"
        )
        areas["n"] = areas["n"].fillna(0).astype(int)
        min_n = cfg["min_n"] if pd.notna(cfg["min_n"]) else 0
        rows = pd.DataFrame(
            {
                "gemeente_code": areas["gemeente_code"],
                "wave": wave,
                "indicator_code": code,
                "buurt_code": areas["buurt_code"],
                "area_code": areas["area_code"],
                "estimation_method": "direct",
                "n": areas["n"],
                "estimate": areas["estimate"],
                "se": areas["se"],
                "mse": areas["se"] ** 2,
                "ci_low": areas["estimate"] - Z95 * areas["se"],
                "ci_high": areas["estimate"] + Z95 * areas["se"],
            }
        )
        rows = rows[rows["n"] > 0]
        rows["cv"] = _cv(rows["estimate"].to_numpy(float), rows["mse"].to_numpy(float))
        rows["suppressed"] = rows["n"] < min_n
        rows["suppression_reason"] = np.where(rows["suppressed"], f"n < {int(min_n)}", None)
        out.append(rows)
        if not bool(cfg["use_at_buurt"]):
            continue
        names = [c for c in str(cfg["covariates"] or "").split("|") if c]
        keep = ["buurt_code", *names] + (["inhabitants"] if "inhabitants" not in names else [])
        cov = covariates[covariates["wave"] == wave][keep]
        model = areas.merge(cov, on="buurt_code", how="inner")
        model = model[model[names].notna().all(axis=1)].reset_index(drop=True)
        if len(model) <= len(names) + 2:
            continue
        x = np.column_stack([np.ones(len(model)), model[names].to_numpy(float)])
        share = cfg["kind"] == "survey_share"
        has = (model["n"] > 0) & model["estimate"].notna()
        try:
            if share:
                res = fit_shares(
                    model["estimate"].where(has).to_numpy(float, na_value=np.nan),
                    model["n"].where(has, 0).to_numpy(float),
                    model["deff"].fillna(1.0).to_numpy(float),
                    x,
                    method=cfg["method"],
                )
                fit, est, mse, lo, hi = res.fit, res.estimate, res.mse, res.ci_low, res.ci_high
            else:
                ok = has & (model["n"] >= 2) & (model["se"] > 0)
                fit = fit_fay_herriot(
                    model["estimate"].where(ok).to_numpy(float, na_value=np.nan),
                    (model["se"] ** 2).where(ok).to_numpy(float, na_value=np.nan),
                    x,
                    method=cfg["method"],
                )
                est, mse = fit.estimate, fit.mse
                lo, hi = est - Z95 * np.sqrt(mse), est + Z95 * np.sqrt(mse)
        except ValueError:
            # Too few buurten with respondents, or collinear covariates, in this wave: no
            # model-based figures for it (the direct rows stand).
            continue
        cv = _cv(est, mse)
        max_cv = float(cfg["max_cv"])
        suppressed = ~(cv <= max_cv)
        fh = pd.DataFrame(
            {
                "gemeente_code": model["gemeente_code"],
                "wave": wave,
                "indicator_code": code,
                "buurt_code": model["buurt_code"],
                "area_code": model["area_code"],
                "estimation_method": "fay_herriot",
                "prediction": np.where(fit.sampled, "eblup", "synthetic"),
                "n": model["n"],
                "estimate": est,
                "se": np.sqrt(np.maximum(mse, 0)),
                "mse": mse,
                "cv": cv,
                "ci_low": lo,
                "ci_high": hi,
                "gamma": fit.gamma,
                "suppressed": suppressed,
                "suppression_reason": np.where(suppressed, f"cv > {max_cv:g}", None),
                "max_cv": max_cv,
                "fit_method": fit.method,
                "model_scale": "arcsine" if share else "identity",
                "sigma_u": fit.sigma_u,
                "converged": fit.converged,
                "iterations": fit.iterations,
                "n_areas_fitted": fit.n_areas,
                "covariates": "|".join(names),
                "beta": json.dumps(dict(zip(["intercept", *names], map(float, fit.beta),
                                            strict=True))),
                "beta_se": json.dumps(dict(zip(["intercept", *names], map(float, fit.beta_se),
                                               strict=True))),
                "loglik": fit.loglik,
            }
        )
        if wijk is not None:
            fh = fh.merge(_benchmark(fh, model, wijk[(wijk["wave"] == wave)
                                                     & (wijk["indicator_code"] == code)]),
                          on="area_code", how="left")
        out.append(fh)
    if not out:
        return pd.DataFrame(columns=list(OUTPUT_COLUMNS))
    return pd.concat(out, ignore_index=True).reindex(columns=list(OUTPUT_COLUMNS))


def _benchmark(fh: pd.DataFrame, model: pd.DataFrame, wijk: pd.DataFrame) -> pd.DataFrame:
    """Per compass area: (inhabitant-weighted mean of its buurten's model-based figures minus the
    area's direct figure) / the direct figure's SE. Not used to rescale (docs/STATISTICS.md)."""
    frame = pd.DataFrame(
        {"area_code": fh["area_code"], "estimate": fh["estimate"],
         "pop": model["inhabitants"].fillna(0).to_numpy(float)}
    )
    frame["wx"] = frame["estimate"] * frame["pop"]
    agg = frame.groupby("area_code")[["wx", "pop"]].sum()
    agg = agg[agg["pop"] > 0]
    agg["weighted"] = agg["wx"] / agg["pop"]
    agg = agg.join(wijk.set_index("area_code")[["estimate", "se"]], how="inner")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(agg["se"] > 0, (agg["weighted"] - agg["estimate"]) / agg["se"], np.nan)
    return pd.DataFrame({"area_code": agg.index, "wijk_benchmark_z": z})
