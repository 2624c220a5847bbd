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
    "fit_algorithm": "varchar",
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
    settings = settings.set_index("indicator_code")
    parts: list[dict[str, object]] = []
    for wave, in_wave in direct.groupby("wave", sort=True):
        base = buurten[buurten["wave"] == wave].drop_duplicates("buurt_code")
        codes = base["buurt_code"].to_numpy()
        gemeente = base["gemeente_code"].to_numpy()
        area = base["area_code"].to_numpy()
        index = pd.Index(codes)
        cov_w = covariates[covariates["wave"] == wave].drop_duplicates("buurt_code")
        cov_w = cov_w.set_index("buurt_code").reindex(index)
        inhabitants = (cov_w["inhabitants"].to_numpy(float) if "inhabitants" in cov_w
                       else np.zeros(len(codes)))
        wijk_w = None if wijk is None else wijk[wijk["wave"] == wave]
        for code, part in in_wave.groupby("indicator_code", sort=True):
            if code not in settings.index:
                continue
            cfg = settings.loc[code]
            pos = index.get_indexer(part["buurt_code"])
            part = part[pos >= 0]
            pos = pos[pos >= 0]
            n = np.zeros(len(codes), dtype=np.int64)
            y = np.full(len(codes), np.nan)
            se = np.full(len(codes), np.nan)
            deff = np.ones(len(codes))
            n[pos] = part["n"].to_numpy(np.int64)
            y[pos] = part["estimate"].to_numpy(float)
            se[pos] = part["se"].to_numpy(float)
            if "deff" in part:
                deff[pos] = part["deff"].fillna(1.0).to_numpy(float)
            min_n = float(cfg["min_n"]) if pd.notna(cfg["min_n"]) else 0.0
            d = n > 0
            mse_d = se[d] ** 2
            supp_d = n[d] < min_n
            parts.append({
                "gemeente_code": gemeente[d], "wave": wave, "indicator_code": code,
                "buurt_code": codes[d], "area_code": area[d], "estimation_method": "direct",
                "n": n[d], "estimate": y[d], "se": se[d], "mse": mse_d,
                "cv": _cv(y[d], mse_d), "ci_low": y[d] - Z95 * se[d],
                "ci_high": y[d] + Z95 * se[d], "suppressed": supp_d,
                "suppression_reason": np.where(supp_d, f"n < {int(min_n)}", None),
            })
            if not bool(cfg["use_at_buurt"]):
                continue
            fh = _fay_herriot(cfg, cov_w, n, y, se, deff)
            if fh is None:
                continue
            keep, row = fh
            row.update({
                "gemeente_code": gemeente[keep], "wave": wave, "indicator_code": code,
                "buurt_code": codes[keep], "area_code": area[keep],
                "estimation_method": "fay_herriot", "n": n[keep],
            })
            if wijk_w is not None:
                row["wijk_benchmark_z"] = _benchmark(
                    area[keep], row["estimate"], inhabitants[keep],
                    wijk_w[wijk_w["indicator_code"] == code],
                )
            parts.append(row)
    if not parts:
        return pd.DataFrame(columns=list(OUTPUT_COLUMNS))
    frames = [pd.DataFrame(p) for p in parts]
    return pd.concat(frames, ignore_index=True).reindex(columns=list(OUTPUT_COLUMNS))


def _fay_herriot(cfg, cov_w: pd.DataFrame, n, y, se, deff):
    """The Fay-Herriot columns of one wave x indicator, over the buurten with every covariate;
    None when the model cannot be fitted (too few buurten with respondents, collinearity)."""
    names = [c for c in str(cfg["covariates"] or "").split("|") if c]
    missing = [c for c in names if c not in cov_w.columns]
    if missing:
        raise ValueError(f"indicator_small_area: unknown covariate(s) {', '.join(missing)} for "
                         f"{cfg.name}; known: {', '.join(c for c in cov_w.columns if c != 'wave')}")
    xs = cov_w[names].to_numpy(float) if names else np.empty((len(n), 0))
    keep = np.isfinite(xs).all(axis=1)
    if keep.sum() <= len(names) + 2:
        return None
    x = np.column_stack([np.ones(int(keep.sum())), xs[keep]])
    nk, yk, sek = n[keep], y[keep], se[keep]
    has = (nk > 0) & np.isfinite(yk)
    share = cfg["kind"] == "survey_share"
    try:
        if share:
            res = fit_shares(np.where(has, yk, np.nan), np.where(has, nk, 0), deff[keep], x,
                             method=cfg["method"])
            fit, est, mse, lo, hi = res.fit, res.estimate, res.mse, res.ci_low, res.ci_high
        else:
            ok = has & (nk >= 2) & (sek > 0)
            fit = fit_fay_herriot(np.where(ok, yk, np.nan), np.where(ok, sek**2, np.nan), x,
                                  method=cfg["method"])
            est, mse = fit.estimate, fit.mse
            lo, hi = est - Z95 * np.sqrt(mse), est + Z95 * np.sqrt(mse)
    except ValueError:
        # Too few buurten with respondents, or collinear covariates, in this wave: no
        # model-based figures for it (the direct rows stand).
        return None
    cv = _cv(est, mse)
    max_cv = float(cfg["max_cv"])
    suppressed = ~(cv <= max_cv)
    labels = ["intercept", *names]
    return keep, {
        "prediction": np.where(fit.sampled, "eblup", "synthetic"),
        "estimate": est, "se": np.sqrt(np.maximum(mse, 0)), "mse": mse, "cv": cv,
        "ci_low": lo, "ci_high": hi, "gamma": fit.gamma, "suppressed": suppressed,
        "suppression_reason": np.where(suppressed, f"cv > {max_cv:g}", None),
        "max_cv": max_cv, "fit_method": fit.method,
        "model_scale": "arcsine" if share else "identity", "sigma_u": fit.sigma_u,
        "converged": fit.converged, "iterations": fit.iterations,
        "fit_algorithm": fit.algorithm,
        "n_areas_fitted": fit.n_areas, "covariates": "|".join(names),
        "beta": json.dumps(dict(zip(labels, map(float, fit.beta), strict=True))),
        "beta_se": json.dumps(dict(zip(labels, map(float, fit.beta_se), strict=True))),
        "loglik": fit.loglik,
    }


def _benchmark(area: np.ndarray, estimate: np.ndarray, inhabitants: np.ndarray,
               wijk: pd.DataFrame) -> np.ndarray:
    """Per buurt, for its compass area: (inhabitant-weighted mean of the area's model-based buurt
    figures - the area's direct figure) / the direct figure's SE. Not used to rescale
    (docs/STATISTICS.md section 9)."""
    codes, inv = np.unique(area.astype(str), return_inverse=True)
    pop = np.nan_to_num(inhabitants, nan=0.0)
    wsum = np.bincount(inv, weights=pop, minlength=len(codes))
    wx = np.bincount(inv, weights=pop * np.nan_to_num(estimate), minlength=len(codes))
    direct = wijk.drop_duplicates("area_code").set_index("area_code").reindex(codes)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(wsum > 0, wx / wsum, np.nan)
        se = direct["se"].to_numpy(float)
        z = np.where(se > 0, (mean - direct["estimate"].to_numpy(float)) / se, np.nan)
    return z[inv]
