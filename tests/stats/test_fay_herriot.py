"""Fay-Herriot EBLUP against R's ``sae`` package on its ``milk`` data (all three fitting methods),
and the estimator's own properties (synthetic prediction, shares, bad input)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shared_data import shared_path

from basismonitor.stats.fay_herriot import fit_fay_herriot, fit_shares

TOL = 1e-4

# Published fixed effects and standard errors (R sae::eblupFH; reference README).
BETA = {
    "reml": ([0.9681890, 0.1327801, 0.2269462, -0.2413011],
             [0.06936208, 0.10300072, 0.09232981, 0.08161707]),
    "ml": ([0.9677986, 0.1278756, 0.2266909, -0.2425804],
           [0.06590747, 0.09840939, 0.08813973, 0.07753875]),
}
SIGMA_U_REML = 0.13619961509


@pytest.fixture(scope="module")
def milk() -> pd.DataFrame:
    return pd.read_csv(shared_path("reference", "sae-milk", "milk.csv"))


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(shared_path("reference", "sae-milk", "eblup_reference.csv"))


def design(milk: pd.DataFrame) -> np.ndarray:
    # R: yi ~ as.factor(MajorArea): intercept + dummies for MajorArea 2, 3, 4.
    return np.column_stack(
        [np.ones(len(milk))] + [(milk["MajorArea"] == k).to_numpy(float) for k in (2, 3, 4)]
    )


@pytest.mark.shared
@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_milk_eblup_and_mse(milk, reference, method):
    fit = fit_fay_herriot(milk["yi"], milk["SD"] ** 2, design(milk), method=method)
    ref = reference[reference["method"] == method].set_index("small_area").loc[milk["SmallArea"]]
    assert len(ref) == 43
    assert fit.converged
    np.testing.assert_allclose(fit.estimate, ref["eblup"], rtol=0, atol=TOL)
    np.testing.assert_allclose(fit.mse, ref["mse"], rtol=0, atol=TOL)
    # Tighter than the 1e-4: the MSEs agree to the printed digits.
    np.testing.assert_allclose(fit.mse, ref["mse"], rtol=1e-6, atol=0)


@pytest.mark.shared
@pytest.mark.parametrize("method", ["reml", "ml"])
def test_milk_fixed_effects(milk, method):
    fit = fit_fay_herriot(milk["yi"], milk["SD"] ** 2, design(milk), method=method)
    beta, se = BETA[method]
    np.testing.assert_allclose(fit.beta, beta, rtol=0, atol=TOL)
    np.testing.assert_allclose(fit.beta_se, se, rtol=0, atol=TOL)


@pytest.mark.shared
def test_milk_sigma_u_reml(milk):
    fit = fit_fay_herriot(milk["yi"], milk["SD"] ** 2, design(milk), method="reml")
    assert fit.sigma_u == pytest.approx(SIGMA_U_REML, abs=TOL)
    assert fit.sigma2_u == pytest.approx(0.0185503, abs=1e-6)


@pytest.mark.shared
def test_milk_fh_fixed_effects_are_gls_at_its_sigma(milk):
    # sae prints no FH beta in the reference; check it is the GLS estimate at FH's sigma_u^2 and
    # that the FH sigma_u lies between ML's and REML's (as for the published EBLUPs).
    x, y, psi = design(milk), milk["yi"].to_numpy(), (milk["SD"] ** 2).to_numpy()
    fh = fit_fay_herriot(y, psi, x, method="fh")
    vi = 1 / (fh.sigma2_u + psi)
    gls = np.linalg.solve((x * vi[:, None]).T @ x, (x * vi[:, None]).T @ y)
    np.testing.assert_allclose(fh.beta, gls, rtol=1e-12)
    ml = fit_fay_herriot(y, psi, x, method="ml")
    reml = fit_fay_herriot(y, psi, x, method="reml")
    assert ml.sigma_u < fh.sigma_u < reml.sigma_u


@pytest.mark.shared
@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_unsampled_area_gets_synthetic_prediction(milk, method):
    x, y, psi = design(milk), milk["yi"].to_numpy(), (milk["SD"] ** 2).to_numpy()
    full = fit_fay_herriot(y, psi, x, method=method)
    y2, psi2 = y.copy(), psi.copy()
    y2[0], psi2[0] = np.nan, np.nan
    part = fit_fay_herriot(y2, psi2, x, method=method)
    assert not part.sampled[0] and part.n_areas == 42
    assert part.estimate[0] == pytest.approx(float(x[0] @ part.beta))
    assert part.gamma[0] == 0
    # Synthetic MSE is the psi -> infinity limit: sigma_u^2 + x'Qx (- b for ML/FH), above the
    # sampled area's MSE.
    xqx = float(x[0] @ part.covariance @ x[0])
    if method == "reml":
        assert part.mse[0] == pytest.approx(part.sigma2_u + xqx)
    assert part.mse[0] > full.mse[0]
    huge = psi.copy()
    huge[0] = 1e12
    limit = fit_fay_herriot(y, huge, x, method=method)
    assert limit.estimate[0] == pytest.approx(float(x[0] @ limit.beta), abs=1e-9)


def test_recovers_known_model():
    # 2,000 areas from the model itself: sigma_u^2 and beta are recovered, and the EBLUP's mean
    # squared error against the true area means is below the direct estimates'.
    rng = np.random.default_rng(21)
    m = 2000
    x = np.column_stack([np.ones(m), rng.normal(size=m), rng.uniform(size=m)])
    beta, a = np.array([1.0, 0.5, -2.0]), 0.25
    theta = x @ beta + rng.normal(scale=np.sqrt(a), size=m)
    psi = rng.uniform(0.05, 2.0, size=m)
    y = theta + rng.normal(size=m) * np.sqrt(psi)
    for method in ("reml", "ml", "fh"):
        fit = fit_fay_herriot(y, psi, x, method=method)
        assert fit.sigma2_u == pytest.approx(a, rel=0.25)
        np.testing.assert_allclose(fit.beta, beta, atol=0.15)
        assert np.mean((fit.estimate - theta) ** 2) < 0.5 * np.mean((y - theta) ** 2)
        # The estimated MSE is on average close to the realised squared error.
        assert np.mean(fit.mse) == pytest.approx(np.mean((fit.estimate - theta) ** 2), rel=0.15)


def test_shares_published_within_unit_interval():
    rng = np.random.default_rng(5)
    m = 300
    x = np.column_stack([np.ones(m), rng.normal(size=m)])
    true = 1 / (1 + np.exp(-(-2.5 + 1.2 * x[:, 1] + rng.normal(scale=0.3, size=m))))
    n = rng.integers(0, 40, size=m)
    share = np.where(n > 0, rng.binomial(np.maximum(n, 1), true) / np.maximum(n, 1), np.nan)
    res = fit_shares(share, n, np.full(m, 1.3), x)
    assert np.all((res.estimate >= 0) & (res.estimate <= 1))
    assert np.all((res.ci_low >= 0) & (res.ci_high <= 1))
    assert np.all(res.ci_low <= res.estimate) and np.all(res.estimate <= res.ci_high)
    assert np.all(res.mse > 0) and np.all(np.isfinite(res.estimate))
    # Away from 0 and 1 the MSE is the delta method's; it stays positive where it gives 0.
    delta = 4 * res.estimate * (1 - res.estimate) * res.fit.mse
    inner = (res.ci_low > 0) & (res.ci_high < 1)
    np.testing.assert_allclose(res.mse[inner], delta[inner], rtol=0.25)
    zero = fit_shares(np.r_[0.0, share[1:]], np.r_[400, n[1:]], np.full(m, 1.3),
                      np.column_stack([x, np.r_[-50.0, np.zeros(m - 1)]]))
    assert zero.estimate[0] == 0 and zero.mse[0] > 0 and zero.ci_high[0] > 0
    assert not res.fit.sampled[n == 0].any()


def test_bad_input_is_refused():
    x = np.column_stack([np.ones(5), np.arange(5.0)])
    y, psi = np.arange(5.0), np.ones(5)
    with pytest.raises(ValueError, match="method must be one of"):
        fit_fay_herriot(y, psi, x, method="bayes")
    with pytest.raises(ValueError, match="same length"):
        fit_fay_herriot(y[:4], psi, x)
    with pytest.raises(ValueError, match="collinear"):
        fit_fay_herriot(y, psi, np.column_stack([x, 2 * x[:, 1]]))
    with pytest.raises(ValueError, match="need more areas than covariates"):
        fit_fay_herriot(y[:2], psi[:2], x[:2])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=r"row 3, column 1"):
        fit_fay_herriot(y, psi, bad)
    with pytest.raises(ValueError, match=r"shares must lie in \[0, 1\]"):
        fit_shares(np.array([0.1, 1.2, 0.3, 0.2, 0.1]), np.full(5, 10), np.ones(5), x)


@pytest.mark.shared
@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_direct_solution_where_fisher_scoring_stops_early(milk, method):
    # With too few Fisher-scoring steps the fit solves the equation directly instead (bounded
    # maximisation of the likelihood, or the moment equation's root) and lands on sae's optimum.
    x, y, psi = design(milk), milk["yi"].to_numpy(), (milk["SD"] ** 2).to_numpy()
    scored = fit_fay_herriot(y, psi, x, method=method)
    direct = fit_fay_herriot(y, psi, x, method=method, max_iter=1)
    assert scored.algorithm == "fisher_scoring"
    assert direct.algorithm == ("moment_root" if method == "fh" else "bounded_maximisation")
    assert direct.converged
    assert direct.sigma2_u == pytest.approx(scored.sigma2_u, rel=2e-3)
    np.testing.assert_allclose(direct.estimate, scored.estimate, atol=1e-4)


def test_no_area_variation_gives_sigma_u_zero():
    # Direct estimates exactly on the regression line: no between-area variance, sigma_u = 0
    # (at the boundary, where Fisher scoring's relative-change rule cannot settle).
    x = np.column_stack([np.ones(30), np.linspace(0, 1, 30)])
    y = x @ np.array([1.0, 2.0])
    psi = np.full(30, 0.04)
    for method in ("reml", "ml", "fh"):
        fit = fit_fay_herriot(y, psi, x, method=method)
        assert fit.sigma2_u == pytest.approx(0.0, abs=1e-8)
        assert fit.converged
        np.testing.assert_allclose(fit.estimate, y, atol=1e-6)
