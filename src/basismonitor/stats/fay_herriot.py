"""Area-level small-area estimation: the Fay-Herriot model and its EBLUP.

Reproduces R's ``sae`` package (Molina and Marhuenda, 2015)::

    eblupFH(y ~ x, vardir, method = "REML" | "ML" | "FH")   # fit + EBLUP
    mseFH(y ~ x, vardir, method = ...)                       # Prasad-Rao MSE

The model, per area ``d = 1..m``::

    y_d = x_d' beta + u_d + e_d,   u_d ~ N(0, A),   e_d ~ N(0, psi_d)   (psi_d known)

``y_d`` is the direct (design-based) estimate, ``psi_d`` its design variance and ``A = sigma_u^2``
the random-effect (model) variance.  ``A`` is fitted by Fisher scoring exactly as ``sae`` does it
(start at ``median(psi)``, stop when the relative change is below ``precision`` = 1e-4 or after
``max_iter`` = 100 steps, then truncate at 0), so the published numbers match ``sae``'s to the
digits it prints.  The REML score needs ``tr(P)``, ``tr(P P)`` and ``P y`` with
``P = V^-1 - V^-1 X Q X' V^-1``; they are computed from ``p x p`` matrices (``V`` is diagonal), so a
fit costs ``O(m p^2)`` per step rather than the ``O(m^2)`` memory of ``sae``'s ``m x m`` matrix P.

The EBLUP is ``x_d' beta + gamma_d (y_d - x_d' beta)`` with ``gamma_d = A / (A + psi_d)``; its MSE is
Prasad-Rao's ``g1 + g2 + 2 g3`` with ``sae``'s bias corrections for ML and FH (``- b * B_d^2``).

Areas without a direct estimate (no respondents) get the synthetic prediction ``x_d' beta``; its
MSE is the limit of the same formula for ``psi_d -> infinity``: ``A + x_d' Q x_d - b`` (``g3 -> 0``,
``B_d -> 1``; ``b = 0`` for REML).

Shares can be modelled on the arcsine-square-root scale (:func:`fit_shares`); see
``docs/STATISTICS.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from .estimates import Z95

__all__ = [
    "FHFit",
    "METHODS",
    "ShareFit",
    "fit_fay_herriot",
    "fit_shares",
]

Method = Literal["reml", "ml", "fh"]
METHODS: tuple[str, ...] = ("reml", "ml", "fh")


@dataclass
class FHFit:
    """A fitted Fay-Herriot model and its predictions for every area of the covariate matrix.

    Arrays of length ``m_all`` (all areas passed, sampled or not): ``estimate`` (EBLUP, or the
    synthetic prediction where ``sampled`` is false), ``mse``, ``gamma`` (shrinkage weight on the
    direct estimate, 0 for unsampled areas), ``synthetic`` (``x' beta``), ``sampled``.
    """

    method: str
    sigma2_u: float
    beta: np.ndarray
    beta_se: np.ndarray
    covariance: np.ndarray  # Q = (X' V^-1 X)^-1, the covariance of beta
    iterations: int
    converged: bool
    estimate: np.ndarray
    mse: np.ndarray
    gamma: np.ndarray
    synthetic: np.ndarray
    sampled: np.ndarray
    loglik: float
    n_areas: int  # areas used in the fit (sampled)
    diagnostics: dict[str, object] = field(default_factory=dict)

    @property
    def algorithm(self) -> str:
        """fisher_scoring (as sae), or bounded_maximisation / moment_root where Fisher scoring
        did not converge (see :func:`fit_fay_herriot`)."""
        return str(self.diagnostics.get("algorithm", "fisher_scoring"))

    @property
    def sigma_u(self) -> float:
        return float(np.sqrt(self.sigma2_u))


def _as_matrix(x: np.ndarray | pd.DataFrame) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    return arr


def _score_step(
    method: str, a: float, y: np.ndarray, x: np.ndarray, psi: np.ndarray
) -> tuple[float, float]:
    """Fisher-scoring score ``s`` and information ``F`` of ``sae::eblupFH`` at ``A = a``."""
    m, p = x.shape
    vi = 1.0 / (a + psi)
    xtvi = (x * vi[:, None]).T
    q = np.linalg.inv(xtvi @ x)
    beta = q @ (xtvi @ y)
    res = y - x @ beta
    if method == "ml":
        s = -0.5 * vi.sum() + 0.5 * np.sum(vi**2 * res**2)
        f = 0.5 * np.sum(vi**2)
    elif method == "reml":
        # P = D - D X Q X' D with D = diag(vi); Py = D res.
        xtv2x = (x * (vi**2)[:, None]).T @ x
        xtv3x = (x * (vi**3)[:, None]).T @ x
        qv2 = q @ xtv2x
        tr_p = vi.sum() - np.trace(qv2)
        tr_pp = np.sum(vi**2) - 2.0 * np.trace(q @ xtv3x) + np.trace(qv2 @ qv2)
        py = vi * res
        s = -0.5 * tr_p + 0.5 * float(py @ py)
        f = 0.5 * tr_pp
    else:  # fh moment method
        s = float(np.sum(res**2 * vi)) - (m - p)
        f = float(vi.sum())
    return float(s), float(f)


def _loglik(method: str, a: float, y: np.ndarray, x: np.ndarray, psi: np.ndarray) -> float:
    """Log-likelihood at the fitted ``A`` (ML form; REML adds ``-1/2 log|X'V^-1X|``)."""
    m = len(y)
    v = a + psi
    vi = 1.0 / v
    xtvi = (x * vi[:, None]).T
    xtvx = xtvi @ x
    beta = np.linalg.solve(xtvx, xtvi @ y)
    res = y - x @ beta
    ll = -0.5 * (m * np.log(2 * np.pi) + np.sum(np.log(v)) + np.sum(vi * res**2))
    if method == "reml":
        ll -= 0.5 * np.linalg.slogdet(xtvx)[1]
    return float(ll)


def _moment_equation(a: float, y: np.ndarray, x: np.ndarray, psi: np.ndarray) -> float:
    """Fay-Herriot's moment equation: sum (y - X beta(a))^2 / (a + psi) - (m - p)."""
    vi = 1.0 / (a + psi)
    xtvi = (x * vi[:, None]).T
    beta = np.linalg.solve(xtvi @ x, xtvi @ y)
    res = y - x @ beta
    return float(np.sum(vi * res**2) - (x.shape[0] - x.shape[1]))


def _solve_directly(method: str, y: np.ndarray, x: np.ndarray, psi: np.ndarray) -> tuple[float, bool]:
    """sigma_u^2 >= 0 without Fisher scoring: the root of the moment equation (fh) or the
    maximiser of the (restricted) log-likelihood (ml, reml) on [0, upper]."""
    from scipy.optimize import brentq, minimize_scalar

    upper = max(float(np.var(y)) * 10.0, float(np.max(psi)) * 10.0, 1e-12)
    if method == "fh":
        if _moment_equation(0.0, y, x, psi) <= 0:
            return 0.0, True
        while _moment_equation(upper, y, x, psi) > 0:
            upper *= 10.0
        root = brentq(_moment_equation, 0.0, upper, args=(y, x, psi), xtol=1e-14, rtol=1e-12)
        return float(root), True
    res = minimize_scalar(
        lambda a: -_loglik(method, a, y, x, psi), bounds=(0.0, upper), method="bounded",
        options={"xatol": 1e-12 * upper},
    )
    a = float(res.x)
    if _loglik(method, 0.0, y, x, psi) >= _loglik(method, a, y, x, psi):
        a = 0.0
    return a, bool(res.success)


def fit_fay_herriot(
    direct: np.ndarray | pd.Series,
    vardir: np.ndarray | pd.Series,
    x: np.ndarray | pd.DataFrame,
    *,
    method: Method = "reml",
    max_iter: int = 100,
    precision: float = 1e-4,
) -> FHFit:
    """Fit the Fay-Herriot model and predict every area.

    ``direct`` and ``vardir`` may be NaN for areas without a direct estimate: those rows are left
    out of the fit and get the synthetic prediction.  ``x`` is the full design matrix (include the
    intercept column yourself).  Raises ``ValueError`` on unusable input.
    """
    method = method.lower()  # type: ignore[assignment]
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    y_all = np.asarray(direct, dtype=float)
    psi_all = np.asarray(vardir, dtype=float)
    x_all = _as_matrix(x)
    if not (len(y_all) == len(psi_all) == x_all.shape[0]):
        raise ValueError(
            f"direct ({len(y_all)}), vardir ({len(psi_all)}) and x ({x_all.shape[0]} rows) "
            "must have the same length"
        )
    if not np.all(np.isfinite(x_all)):
        bad = np.argwhere(~np.isfinite(x_all))[0]
        raise ValueError(f"covariate matrix has a missing or infinite value (row {bad[0]}, "
                         f"column {bad[1]})")
    sampled = np.isfinite(y_all) & np.isfinite(psi_all)
    if np.any(psi_all[sampled] < 0):
        raise ValueError("vardir must be >= 0")
    y, psi, xs = y_all[sampled], psi_all[sampled], x_all[sampled]
    m, p = xs.shape
    if m <= p:
        raise ValueError(f"{m} area(s) with a direct estimate for {p} fixed effect(s): need more "
                         "areas than covariates")
    if np.linalg.matrix_rank(xs) < p:
        raise ValueError("the covariates are collinear over the sampled areas (X has rank "
                         f"{np.linalg.matrix_rank(xs)} < {p} columns)")

    a_k = float(np.median(psi))
    k = 0
    diff = precision + 1.0
    with np.errstate(all="ignore"):  # a step below -min(psi) makes V singular: caught below
        while diff > precision and k < max_iter:
            k += 1
            s, f = _score_step(method, a_k, y, xs, psi)
            a_next = a_k + s / f
            diff = abs((a_next - a_k) / a_k) if a_k != 0 else abs(a_next - a_k)
            a_k = a_next
            if not np.isfinite(a_k):
                break
    converged = bool(diff <= precision) and bool(np.isfinite(a_k))
    a = max(a_k, 0.0)
    algorithm = "fisher_scoring"
    if not converged:
        # sae stops here with a warning. Fisher scoring can oscillate when sigma_u^2 is near 0
        # (every step overshoots 0); the estimate it stopped at is no optimum. Solve the same
        # equation directly instead: maximise the (restricted) likelihood over sigma_u^2 >= 0,
        # or find the root of FH's moment equation, and record that this was done.
        a, converged = _solve_directly(method, y, xs, psi)
        algorithm = "bounded_maximisation" if method != "fh" else "moment_root"

    vi = 1.0 / (a + psi)
    xtvi = (xs * vi[:, None]).T
    q = np.linalg.inv(xtvi @ xs)
    beta = q @ (xtvi @ y)
    beta_se = np.sqrt(np.diag(q))

    synthetic = x_all @ beta
    gamma = np.zeros(len(y_all))
    gamma[sampled] = a * vi
    estimate = synthetic.copy()
    estimate[sampled] = synthetic[sampled] + gamma[sampled] * (y - synthetic[sampled])

    # Prasad-Rao MSE as sae::mseFH.
    sum_ad2 = float(np.sum(vi**2))
    if method == "reml":
        var_a = 2.0 / sum_ad2
        b = 0.0
    elif method == "ml":
        var_a = 2.0 / sum_ad2
        b = -np.trace(q @ ((xs * (vi**2)[:, None]).T @ xs)) / sum_ad2
    else:
        sum_ad = float(vi.sum())
        var_a = 2.0 * m / sum_ad**2
        b = 2.0 * (m * sum_ad2 - sum_ad**2) / sum_ad**3
    xqx = np.einsum("ij,jk,ik->i", x_all, q, x_all)
    mse = np.empty(len(y_all))
    bd = psi / (a + psi)
    g1 = psi * (1.0 - bd)
    g2 = bd**2 * xqx[sampled]
    g3 = bd**2 * var_a / (a + psi)
    mse[sampled] = g1 + g2 + 2.0 * g3 - b * bd**2
    mse[~sampled] = a + xqx[~sampled] - b

    ll = _loglik(method, a, y, xs, psi)
    res_std = (y - synthetic[sampled]) / np.sqrt(a + psi)
    diagnostics = {
        "algorithm": algorithm,
        "loglik": ll,
        "aic": -2 * ll + 2 * (p + 1),
        "bic": -2 * ll + np.log(m) * (p + 1),
        "mean_gamma": float(np.mean(gamma[sampled])),
        "std_residual_sd": float(np.std(res_std, ddof=1)) if m > 1 else float("nan"),
        "max_abs_std_residual": float(np.max(np.abs(res_std))),
    }
    return FHFit(
        method=method,
        sigma2_u=a,
        beta=beta,
        beta_se=beta_se,
        covariance=q,
        iterations=k,
        converged=converged,
        estimate=estimate,
        mse=mse,
        gamma=gamma,
        synthetic=synthetic,
        sampled=sampled,
        loglik=ll,
        n_areas=m,
        diagnostics=diagnostics,
    )


# --- shares ---------------------------------------------------------------------------------


@dataclass
class ShareFit:
    """Fay-Herriot fit of shares on the arcsine-square-root scale, published on the share scale.

    ``estimate`` = ``sin^2(theta)`` with ``theta`` the EBLUP (or synthetic prediction) on the
    transformed scale, clipped to ``[0, pi/2]`` so the share lies in ``[0, 1]``;
    ``ci_low``/``ci_high`` the back-transformed 95% interval ``theta +- 1.96 sqrt(mse_theta)``
    (clipped), which stays inside ``[0, 1]`` and is not symmetric; ``mse`` its squared half-width
    over 1.96^2: the delta method ``4 p (1 - p) mse_theta`` away from 0 and 1, and still positive
    at a share of 0 or 1 (where the delta method gives 0).
    """

    fit: FHFit
    estimate: np.ndarray
    mse: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray


def arcsine_variance(n: np.ndarray, deff: np.ndarray) -> np.ndarray:
    """Design variance of ``asin(sqrt(p_hat))``: ``deff / (4 n)`` (variance-stabilised: it does not
    depend on ``p``, so areas whose direct share is 0 or 1 keep a usable variance)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, np.asarray(deff, dtype=float) / (4.0 * n), np.nan)


def fit_shares(
    share: np.ndarray | pd.Series,
    n: np.ndarray | pd.Series,
    deff: np.ndarray | pd.Series,
    x: np.ndarray | pd.DataFrame,
    *,
    method: Method = "reml",
    max_iter: int = 100,
    precision: float = 1e-4,
) -> ShareFit:
    """Fit shares (direct ``share`` in [0, 1] from ``n`` respondents with design effect ``deff``)
    on the arcsine-square-root scale.  Areas with ``n == 0`` or a NaN share get the synthetic
    prediction."""
    p = np.asarray(share, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ValueError("shares must lie in [0, 1]")
    n_arr = np.asarray(n, dtype=float)
    y = np.where(n_arr > 0, np.arcsin(np.sqrt(p)), np.nan)
    psi = arcsine_variance(n_arr, np.asarray(deff, dtype=float))
    fit = fit_fay_herriot(y, psi, x, method=method, max_iter=max_iter, precision=precision)
    theta = np.clip(fit.estimate, 0.0, np.pi / 2)
    est = np.sin(theta) ** 2
    se_t = np.sqrt(np.maximum(fit.mse, 0.0))
    lo = np.sin(np.clip(theta - Z95 * se_t, 0.0, np.pi / 2)) ** 2
    hi = np.sin(np.clip(theta + Z95 * se_t, 0.0, np.pi / 2)) ** 2
    # MSE on the share scale: the squared half-width of the back-transformed interval over z^2.
    # Away from 0 and 1 this is the delta method 4 p (1 - p) mse_theta; at a share of 0 or 1,
    # where the delta method gives 0, it stays positive.
    mse = ((hi - lo) / (2.0 * Z95)) ** 2
    return ShareFit(fit=fit, estimate=est, mse=mse, ci_low=lo, ci_high=hi)
