"""Raking (iterative proportional fitting) of survey weights to population margins.

Reproduces R's ``survey::rake`` (a cycle of post-stratifications on each margin in turn) and runs
vectorised over all ``by`` groups (areas) at once: every margin is turned into integer cell codes
``group * n_categories + category`` and each step is one ``np.bincount``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["RakeResult", "rake"]

_POPULATION_COLUMNS = ("population", "Freq")


@dataclass(frozen=True)
class RakeResult:
    """Raked weights (aligned with the input frame) and a per-group report.

    ``report`` columns: [by], n (respondents), population (target total), weight_sum,
    converged, iterations, max_rel_error, n_trimmed, n_dropped, dropped (list of
    ``"variable=category"`` cells with population > 0 but no respondents, left out of that group's
    margin).
    """

    weights: np.ndarray
    report: pd.DataFrame

    @property
    def converged(self) -> bool:
        return bool(self.report["converged"].all())


@dataclass
class _Margin:
    name: str
    cell: np.ndarray  # respondent -> cell code (group * K + category)
    target: np.ndarray  # per cell, after dropping unmatched categories and rescaling
    categories: np.ndarray  # category values, index = category code
    K: int


def _margin_frame(name: str, spec: object, by: str | None) -> pd.DataFrame:
    """Normalise a margin spec to a DataFrame with columns [by], name, population."""
    if isinstance(spec, pd.DataFrame):
        frame = spec
    elif isinstance(spec, pd.Series):
        frame = pd.DataFrame({name: spec.index, "population": spec.to_numpy()})
    elif isinstance(spec, Mapping):
        frame = pd.DataFrame({name: list(spec.keys()), "population": list(spec.values())})
    else:
        raise TypeError(f"margin {name!r}: expected a mapping or a DataFrame, not {type(spec)}")
    pop_col = next((c for c in _POPULATION_COLUMNS if c in frame.columns), None)
    needed = [c for c in ([by] if by else []) + [name] if c not in frame.columns]
    if pop_col is None or needed:
        cols = ([by] if by else []) + [name, "population"]
        raise KeyError(f"margin {name!r} must have columns {cols}; got {list(frame.columns)}")
    out = frame[([by] if by else []) + [name]].copy()
    out["population"] = pd.to_numeric(frame[pop_col], errors="raise").astype(float)
    if out["population"].isna().any() or (out["population"] < 0).any():
        raise ValueError(f"margin {name!r}: population totals must be non-negative numbers")
    return out


def rake(
    frame: pd.DataFrame,
    *,
    weight: str,
    margins: Mapping[str, Mapping[Hashable, float] | pd.DataFrame],
    by: str | None = None,
    tol: float = 1e-6,
    max_iter: int = 100,
    bounds: tuple[float, float] | None = None,
) -> RakeResult:
    """Rake ``frame[weight]`` so that, within each ``by`` group, weighted counts match the margins.

    ``margins`` maps a categorical column of ``frame`` to its population totals: a mapping
    ``{category: total}`` (or a DataFrame ``[column, population]``) without ``by``; with ``by`` a
    DataFrame ``[by, column, population]`` (``Freq`` is accepted for ``population``, as in R).

    - Convergence: a group stops when the largest relative error |weighted - target| / target over
      all its margin cells is below ``tol`` after a full cycle (the last margin is then exact, as in
      R's ``rake``); groups that do not converge within ``max_iter`` cycles are reported
      (``converged=False``), never raised.
    - A category with population > 0 but no respondents (or only zero starting weights) cannot be
      matched: it is dropped from that group's margin, the group's remaining targets of that margin
      are rescaled to the margin's full total (so the weights still sum to the population), and the
      cell is listed in ``report['dropped']``.
    - ``bounds=(low, high)``: after every cycle, weights are trimmed to
      [low, high] x the group's mean weight (population / respondents) and raking continues;
      ``n_trimmed`` counts respondents trimmed at least once.
    - Respondents in a category that has no population row raise ``ValueError`` (as R does), as
      do missing categories, missing or negative starting weights and groups without margins.
    """
    if not margins:
        raise ValueError("rake needs at least one margin")
    if bounds is not None:
        low, high = bounds
        if not (0 <= low <= 1 <= high):
            raise ValueError(f"bounds must satisfy 0 <= low <= 1 <= high, got {bounds}")
    if weight not in frame.columns:
        raise KeyError(f"weight column {weight!r} not in frame")
    w0 = pd.to_numeric(frame[weight], errors="raise").to_numpy(np.float64, copy=True)
    if not np.isfinite(w0).all() or (w0 < 0).any():
        raise ValueError(f"weight column {weight!r} has missing, infinite or negative values")

    # groups
    if by is None:
        gcode = np.zeros(len(frame), dtype=np.int64)
        groups = pd.Index([None])
    else:
        if by not in frame.columns:
            raise KeyError(f"by column {by!r} not in frame")
        codes, uniques = pd.factorize(frame[by], sort=True)
        if (codes < 0).any():
            raise ValueError(f"by column {by!r} has {int((codes < 0).sum())} missing values")
        gcode = codes.astype(np.int64)
        groups = pd.Index(uniques)
    G = len(groups)
    n_g = np.bincount(gcode, minlength=G)

    prepared: list[_Margin] = []
    dropped_rows: list[tuple[int, str]] = []
    for name, spec in margins.items():
        if name not in frame.columns:
            raise KeyError(f"margin column {name!r} not in frame")
        if by is not None and not isinstance(spec, pd.DataFrame):
            raise TypeError(
                f"with by={by!r}, margin {name!r} must be a DataFrame [by, {name}, population]"
            )
        mf = _margin_frame(name, spec, by)
        values = frame[name]
        if values.isna().any():
            raise ValueError(
                f"margin column {name!r} has {int(values.isna().sum())} missing values in the frame"
            )
        allcats = pd.concat([values.astype(object), mf[name].astype(object)], ignore_index=True)
        cat_codes, categories = pd.factorize(allcats, sort=False)
        K = len(categories)
        r_cat = cat_codes[: len(frame)].astype(np.int64)
        m_cat = cat_codes[len(frame) :].astype(np.int64)
        m_grp = np.zeros(len(mf), dtype=np.int64) if by is None else groups.get_indexer(mf[by])
        keep = m_grp >= 0  # margin rows of groups without respondents are ignored
        m_cell = m_grp[keep] * K + m_cat[keep]
        if len(np.unique(m_cell)) != len(m_cell):
            raise ValueError(f"margin {name!r} has duplicate rows for a group and category")
        target = np.zeros(G * K)
        defined = np.zeros(G * K, dtype=bool)
        target[m_cell] = mf["population"].to_numpy()[keep]
        defined[m_cell] = True
        cell = gcode * K + r_cat
        undefined = ~defined[cell]
        if undefined.any():
            i = np.flatnonzero(undefined)[:5]
            examples = ", ".join(
                (f"{by}={frame[by].iloc[j]!r} " if by else "") + f"{name}={values.iloc[j]!r}"
                for j in i
            )
            raise ValueError(
                f"margin {name!r}: {int(undefined.sum())} respondents fall in a category without a "
                f"population total (e.g. {examples})"
            )
        # cells with population but nothing to weight: drop and rescale within the group
        start = np.bincount(cell, w0, minlength=G * K)
        drop = defined & (target > 0) & (start <= 0)
        if drop.any():
            total_g = target.reshape(G, K).sum(axis=1)
            target[drop] = 0.0
            kept_g = target.reshape(G, K).sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(kept_g > 0, total_g / kept_g, 0.0)
            target *= np.repeat(factor, K)
            for c in np.flatnonzero(drop):
                dropped_rows.append((int(c // K), f"{name}={categories[c % K]}"))
        prepared.append(_Margin(name, cell, target, np.asarray(categories), K))

    pop_g = prepared[0].target.reshape(G, prepared[0].K).sum(axis=1)
    positive = w0 > 0
    n_pos = np.bincount(gcode, positive.astype(np.float64), minlength=G)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_g = np.where(n_pos > 0, pop_g / n_pos, 0.0)

    w = w0.copy()
    active = np.ones(G, dtype=bool)
    converged = np.zeros(G, dtype=bool)
    iterations = np.zeros(G, dtype=np.int64)
    max_err = np.full(G, np.inf)
    trimmed = np.zeros(len(frame), dtype=bool)
    if bounds is not None:
        lo_w, hi_w = bounds[0] * mean_g[gcode], bounds[1] * mean_g[gcode]

    for it in range(1, max_iter + 1):
        act_row = active[gcode]
        for mg in prepared:
            cur = np.bincount(mg.cell, w, minlength=G * mg.K)
            with np.errstate(divide="ignore", invalid="ignore"):
                fac = np.where(cur > 0, mg.target / cur, 1.0)
            fac[~np.repeat(active, mg.K)] = 1.0
            w *= fac[mg.cell]
        if bounds is not None:
            out = act_row & positive & ((w < lo_w) | (w > hi_w))
            if out.any():
                trimmed |= out
                w = np.where(out, np.clip(w, lo_w, hi_w), w)
        err = _group_errors(prepared, w, G, pop_g)
        iterations[active] = it
        max_err[active] = err[active]
        done = active & (err < tol)
        converged |= done
        active &= ~done
        if not active.any():
            break

    report = pd.DataFrame(
        {
            "n": n_g.astype(np.int64),
            "population": pop_g,
            "weight_sum": np.bincount(gcode, w, minlength=G),
            "converged": converged,
            "iterations": iterations,
            "max_rel_error": max_err,
            "n_trimmed": np.bincount(gcode, trimmed.astype(np.int64), minlength=G).astype(np.int64),
        }
    )
    dropped: list[list[str]] = [[] for _ in range(G)]
    for g, label in dropped_rows:
        dropped[g].append(label)
    report["n_dropped"] = [len(d) for d in dropped]
    report["dropped"] = dropped
    if by is not None:
        report.insert(0, by, groups.to_numpy())
    return RakeResult(weights=w, report=report)


def _group_errors(prepared: list[_Margin], w: np.ndarray, G: int, pop_g: np.ndarray) -> np.ndarray:
    """Largest relative margin error per group (target 0 cells: relative to the group total)."""
    err = np.zeros(G)
    for mg in prepared:
        cur = np.bincount(mg.cell, w, minlength=G * mg.K)
        denom = np.where(mg.target > 0, mg.target, np.repeat(np.maximum(pop_g, 1e-300), mg.K))
        rel = (np.abs(cur - mg.target) / denom).reshape(G, mg.K)
        err = np.maximum(err, rel.max(axis=1))
    return err
