"""Design-based survey estimates (Taylor linearisation) computed from moment sums.

Reproduces R's ``survey`` package for a one-stage design with independent sampling of
respondents within strata::

    svydesign(id=~1, strata=~stratum, weights=~w, fpc=~N_h)   # stratified, with fpc
    svydesign(id=~1, weights=~w)                              # weights only

and domain estimates as ``svyby(~y, ~domain, design, svymean, na.rm=TRUE)``.

Everything is computed from per (group, stratum, domain) moment sums that DuckDB aggregates in one
GROUP BY query; the variance algebra is vectorised with numpy (no loop over areas).  See
``docs/STATISTICS.md`` for the formulas.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from statistics import NormalDist
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

__all__ = [
    "MOMENT_COLUMNS",
    "Z95",
    "change_contrasts",
    "estimates_from_moments",
    "logit_interval",
    "moment_sums",
    "survey_estimates",
    "survey_totals",
]

#: Normal quantile for a two-sided 95% interval (R: ``qnorm(0.975)``, what ``confint`` uses).
Z95 = NormalDist().inv_cdf(0.975)

#: Columns of the moment table returned by :func:`moment_sums` (besides the group_by columns).
MOMENT_COLUMNS = (
    "stratum",
    "domain",
    "n_rows",  # all rows of the cell, missing values included (they count in n_h)
    "n",  # rows with a non-missing value
    "sum_w",
    "sum_wy",
    "sum_w2",
    "sum_w2y",
    "sum_w2y2",
    "population",  # N_h of the cell's stratum (NaN: no finite-population correction)
)

_SUMS = ("sum_w", "sum_wy", "sum_w2", "sum_w2y", "sum_w2y2")
_NUMERIC_PREFIXES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
    "FLOAT",
    "DOUBLE",
    "DECIMAL",
    "REAL",
    "BOOLEAN",
)
_RESERVED = (
    *MOMENT_COLUMNS,
    "weighted_n",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "contrast",
    "contrast_se",
    "significant",
)

LonelyPSU = Literal["fail", "certainty", "remove"]
Statistic = Literal["mean", "total"]
DegreesOfFreedom = float | Literal["design"] | None


def logit_interval(
    estimate: np.ndarray | pd.Series | float,
    se: np.ndarray | pd.Series | float,
    quantile: np.ndarray | float = Z95,
) -> tuple[np.ndarray, np.ndarray]:
    """The logit confidence interval of a proportion, as R's ``svyciprop(method = "logit")``.

    R transforms the estimate with ``svycontrast(m, quote(log(`1`/(1 - `1`))))`` (delta method:
    SE of logit(p) = se / (p (1 - p))) and back-transforms the symmetric interval of the logit:
    ``expit(logit(p) -/+ q se / (p (1 - p)))``, ``q`` being ``qt(1 - alpha/2, df)`` (``qnorm``
    for ``df = Inf``).  The interval lies inside (0, 1) and holds ``p``.

    Where R returns NaN, at ``p`` = 0 or 1 (the logit is infinite), the interval is [p, p], what
    the standard error of 0 that such a sample has gives on any scale; a NaN estimate or SE gives
    NaN bounds.
    """
    p = np.asarray(estimate, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    q = np.asarray(quantile, dtype=np.float64)
    inside = (p > 0.0) & (p < 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        safe = np.where(inside, p, 0.5)
        eta = np.log(safe / (1.0 - safe))
        half = q * s / (safe * (1.0 - safe))
        low = np.where(inside, 1.0 / (1.0 + np.exp(-(eta - half))), p)
        high = np.where(inside, 1.0 / (1.0 + np.exp(-(eta + half))), p)
    missing = np.isnan(p) | np.isnan(s) | np.isnan(q)
    low = np.where(missing, np.nan, low)
    high = np.where(missing, np.nan, high)
    return low, high


def _quantile(level: float, df: np.ndarray | float) -> np.ndarray:
    """Two-sided quantile of ``level``: Student's t with ``df`` degrees of freedom (R's
    ``qt(1 - alpha/2, df)``), the normal quantile for an infinite df; NaN for df <= 0."""
    from scipy.stats import t as student_t

    df = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        q = np.where(np.isinf(df), NormalDist().inv_cdf(0.5 + level / 2.0),
                     student_t.ppf(0.5 + level / 2.0, np.where(np.isinf(df), 1.0, df)))
    return np.where(df > 0, q, np.nan)


# --------------------------------------------------------------------------------------------
# SQL side: moment sums
# --------------------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + str(name).replace('"', '""') + '"'


class _Source:
    """A relation readable by ``con`` as SQL text; registers DataFrames/relations temporarily."""

    def __init__(self, con: duckdb.DuckDBPyConnection, relation: object) -> None:
        self.con = con
        self._view: str | None = None
        self._registered: str | None = None
        if isinstance(relation, str):
            self.sql = relation.strip()
            self.name = self.sql if len(self.sql) <= 80 else self.sql[:77] + "..."
        elif isinstance(relation, duckdb.DuckDBPyRelation):
            self._view = f"__bm_stats_{uuid.uuid4().hex}"
            relation.to_view(self._view, replace=True)
            self.sql = _quote(self._view)
            self.name = "the DuckDB relation"
        elif isinstance(relation, pd.DataFrame):
            self._registered = f"__bm_stats_{uuid.uuid4().hex}"
            con.register(self._registered, relation)
            self.sql = _quote(self._registered)
            self.name = "the DataFrame"
        else:
            raise TypeError(
                "relation must be a table/view name, a parenthesised SQL query, a DuckDB relation "
                f"or a pandas DataFrame, not {type(relation).__name__}"
            )

    def __enter__(self) -> _Source:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._view is not None:
            self.con.execute(f"DROP VIEW IF EXISTS {_quote(self._view)}")
        if self._registered is not None:
            self.con.unregister(self._registered)

    def column_types(self) -> dict[str, str]:
        rows = self.con.execute(f"DESCRIBE SELECT * FROM {self.sql} AS __src").fetchall()
        return {str(r[0]): str(r[1]) for r in rows}


def _check_columns(
    types: dict[str, str],
    relation_name: str,
    *,
    value: str,
    weight: str,
    domain: str | None,
    stratum: str | None,
    population: str | None,
    group_by: Sequence[str],
) -> None:
    for role, col in [
        ("value", value),
        ("weight", weight),
        ("domain", domain),
        ("stratum", stratum),
        ("population", population),
        *[("group_by", g) for g in group_by],
    ]:
        if col is not None and col not in types:
            raise KeyError(
                f"{role} column {col!r} not found in {relation_name}; "
                f"available columns: {', '.join(types)}"
            )
    for role, col in [("value", value), ("weight", weight), ("population", population)]:
        if col is not None and not types[col].upper().startswith(_NUMERIC_PREFIXES):
            raise TypeError(
                f"{role} column {col!r} in {relation_name} is not numeric (type {types[col]})"
            )
    clash = [g for g in group_by if g in _RESERVED]
    if clash:
        raise ValueError(f"group_by columns {clash} clash with output column names")


def moment_sums(
    con: duckdb.DuckDBPyConnection,
    relation: str | duckdb.DuckDBPyRelation | pd.DataFrame,
    *,
    value: str,
    weight: str,
    domain: str | None,
    stratum: str | None = None,
    population: str | None = None,
    group_by: Sequence[str] = (),
    binary: bool | str = False,
) -> pd.DataFrame:
    """Per (group_by..., stratum, domain) moment sums, aggregated by ONE DuckDB GROUP BY query.

    A value is missing when it is NULL (or NaN); the row still counts in ``n_rows`` (and so in
    its stratum's n_h) but adds nothing to the sums.  Returns the columns ``group_by`` +
    :data:`MOMENT_COLUMNS`; this table is the input of :func:`estimates_from_moments` (a dbt SQL
    model can produce the same table).

    ``binary`` (True, or a group_by column that marks the rows): those rows' values must be 0 or 1
    (or missing), as a proportion's are; the same pass counts the others, and a ValueError names
    them. One pass, not two: the relation may be an expensive view (a national wave's scored
    answers cost ~20 s to read, issue 22).
    """
    group_by = list(group_by)
    with _Source(con, relation) as src:
        types = src.column_types()
        _check_columns(
            types,
            src.name,
            value=value,
            weight=weight,
            domain=domain,
            stratum=stratum,
            population=population,
            group_by=group_by,
        )

        def as_double(col: str) -> str:
            expr = f"CAST({_quote(col)} AS DOUBLE)"
            if types[col].upper().startswith(("FLOAT", "DOUBLE", "REAL")):  # NaN = missing
                expr = f"CASE WHEN isnan({_quote(col)}) THEN NULL ELSE {expr} END"
            return expr

        same = domain is not None and domain == stratum
        keys = [_quote(g) for g in group_by]
        keys.append(f"{_quote(stratum)} AS __stratum" if stratum is not None else "1 AS __stratum")
        if domain is None:
            keys.append("CAST(NULL AS VARCHAR) AS __domain")
        elif not same:
            keys.append(f"{_quote(domain)} AS __domain")
        extra = ""
        if binary:
            rows = "" if binary is True else f"coalesce({_quote(binary)}, false) AND "
            extra = f", count(*) FILTER (WHERE {rows}__y NOT IN (0, 1)) AS __not_binary"
        pop = "NULL"
        if population is not None:
            pop = as_double(population)
            extra += ", min(coalesce(__pop, -1.0)) AS population, max(__pop) AS __pop_max"
        # one aggregate checks the weights: missing, NaN or negative weights give a minimum < 0
        sql = f"""
            SELECT * EXCLUDE (__y, __w, __wv, __pop),
                   count(*) AS n_rows,
                   count(__y) AS n,
                   coalesce(sum(__wv), 0.0) AS sum_w,
                   coalesce(sum(__wv * __y), 0.0) AS sum_wy,
                   coalesce(sum(__wv * __wv), 0.0) AS sum_w2,
                   coalesce(sum(__wv * __wv * __y), 0.0) AS sum_w2y,
                   coalesce(sum(__wv * __wv * __y * __y), 0.0) AS sum_w2y2,
                   min(coalesce(__w, -1.0)) AS __w_min{extra}
            FROM (
                SELECT *, CASE WHEN __y IS NULL THEN NULL ELSE __w END AS __wv
                FROM (
                    SELECT {", ".join(keys)},
                           {as_double(value)} AS __y,
                           {as_double(weight)} AS __w,
                           {pop} AS __pop
                    FROM {src.sql} AS __rel
                )
            )
            GROUP BY ALL
            ORDER BY {", ".join(str(i + 1) for i in range(len(keys)))}
        """
        # ordered: the estimator sums over cells (bincount), and a hash aggregate's output order
        # varies between runs, which changed the last bits of a domain's figures between builds
        cells = con.execute(sql).df()
        if (cells["__w_min"] < 0).any():
            bad = con.execute(
                f"SELECT count(*) FILTER (WHERE __w IS NULL), count(*) FILTER (WHERE __w < 0) "
                f"FROM (SELECT {as_double(weight)} AS __w FROM {src.sql} AS __rel)"
            ).fetchone()
            raise ValueError(
                f"weight column {weight!r} in {src.name} has {bad[0]} missing (or NaN) and "
                f"{bad[1]} negative values"
            )
        if binary and (cells["__not_binary"] > 0).any():
            _check_binary(con, src.sql, value, binary, name=src.name)
    cells = cells.rename(columns={"__stratum": "stratum", "__domain": "domain"})
    if same:
        cells.insert(len(group_by) + 1, "domain", cells["stratum"])
    if stratum is not None and cells["stratum"].isna().any():
        raise ValueError(f"stratum column {stratum!r} in {src.name} has missing values")
    if population is not None:
        if (cells["population"] < 0).any():
            raise ValueError(
                f"population column {population!r} in {src.name} has missing or negative values"
            )
        varies = (cells["population"] != cells["__pop_max"]).any()
        if not varies and domain is not None and not same:  # a stratum may span several cells
            per_stratum = cells.groupby([*group_by, "stratum"], dropna=False)["population"]
            varies = (per_stratum.nunique() > 1).any()
        if varies:
            raise ValueError(
                f"population column {population!r} in {src.name} is not constant within strata"
            )
    else:
        cells["population"] = np.nan
    cells = cells.drop(columns=[c for c in ("__w_min", "__pop_max", "__not_binary")
                                if c in cells.columns])
    columns = [*group_by, *MOMENT_COLUMNS]
    return cells if list(cells.columns) == columns else cells[columns]


# --------------------------------------------------------------------------------------------
# numpy side: variances from moments
# --------------------------------------------------------------------------------------------


def _factorize_full(values: pd.Series, *, keep_na: bool = True) -> tuple[np.ndarray, object]:
    """Sorted integer codes and the unique values of a column; nulls get their own (last) code,
    or -1 without ``keep_na``."""
    if values.dtype.kind in "iu" and len(values):  # integer codes (area numbers): no hashing
        arr = values.to_numpy()
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * len(arr) + 1024:
            present = np.zeros(hi - lo + 1, dtype=bool)
            present[arr - lo] = True
            relabel = np.cumsum(present) - 1
            uniques = np.flatnonzero(present) + lo
            return relabel[arr - lo].astype(np.int64), uniques.astype(arr.dtype)
    codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=not keep_na)
    return np.asarray(codes, dtype=np.int64), uniques


def _factorize(values: pd.Series, *, keep_na: bool = True) -> tuple[np.ndarray, int]:
    codes, uniques = _factorize_full(values, keep_na=keep_na)
    return codes, len(uniques)


def _dense(parts: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """Combine per-column codes into dense codes in lexicographic order; -1 anywhere -> -1."""
    n = len(parts[0][0])
    invalid = np.zeros(n, dtype=bool)
    combined = np.zeros(n, dtype=np.int64)
    radix = 1
    for codes, size in parts:
        radix *= size + 1
        if radix >= 2**62:
            raise OverflowError("too many key combinations")
        invalid |= codes < 0
        combined = combined * (size + 1) + np.maximum(codes, 0)
    out = np.full(n, -1, dtype=np.int64)
    ok = ~invalid
    if radix <= 8 * n + 1024:  # small key space: dense relabelling without hashing
        present = np.zeros(radix, dtype=bool)
        present[combined[ok]] = True
        relabel = np.cumsum(present) - 1
        out[ok] = relabel[combined[ok]]
        return out, int(present.sum())
    codes, uniques = pd.factorize(combined[ok], sort=True)
    out[ok] = codes
    return out, len(uniques)


def _combine(frame: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, int]:
    if not keys:
        return np.zeros(len(frame), dtype=np.int64), 1 if len(frame) else 0
    try:
        return _dense([_factorize(frame[k]) for k in keys])
    except OverflowError:
        codes = frame.groupby(keys, sort=True, dropna=False).ngroup().to_numpy(np.int64)
        return codes, int(codes.max()) + 1 if len(codes) else 0


def _first_rows(codes: np.ndarray, size: int) -> np.ndarray:
    """Index of the first row of every code (codes < 0 are ignored)."""
    first = np.full(size, -1, dtype=np.int64)
    rows = np.flatnonzero(codes >= 0)[::-1]
    first[codes[rows]] = rows
    return first


def _sum_u(m: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ u with u_i = w_i (a y_i + b) over a cell, from its moments."""
    return a * m["sum_wy"] + b * m["sum_w"]


def _sum_u2(m: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ u² with u_i = w_i (a y_i + b) over a cell, from its moments."""
    return a * a * m["sum_w2y2"] + 2.0 * a * b * m["sum_w2y"] + b * b * m["sum_w2"]


def _centred(sum_u2: np.ndarray, sum_u_sq_over_n: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Σu² - (Σu)²/n of a cell from its moments, with a result within float rounding of the
    moments' own size (``scale``) set to exactly 0: a cell whose values are all equal has no
    variance, and the few-ulp residue of cancelling the moments (which DuckDB's parallel sums do
    not reproduce bit for bit between runs) would otherwise show as a standard error of ~1e-7."""
    centred = sum_u2 - sum_u_sq_over_n
    return np.where(np.abs(centred) <= 1e-12 * scale, 0.0, centred)


def _scale_u2(m: dict[str, np.ndarray], a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The size of the terms _sum_u2 adds up (before they cancel)."""
    return a * a * m["sum_w2y2"] + np.abs(2.0 * a * b * m["sum_w2y"]) + b * b * m["sum_w2"]


def estimates_from_moments(
    cells: pd.DataFrame,
    *,
    group_by: Sequence[str] = (),
    statistic: Statistic = "mean",
    total_label: str = "TOTAL",
    level: float = 0.95,
    lonely_psu: LonelyPSU = "fail",
    proportion: bool | str = False,
    df: DegreesOfFreedom = None,
) -> pd.DataFrame:
    """Estimates, SEs, CIs and domain-minus-total contrasts from a :func:`moment_sums` table.

    ``proportion``: True when every group's value is 0/1, or the name of a boolean group_by
    column marking the groups that are; their interval is the logit interval of
    :func:`logit_interval` (R's ``svyciprop(method = "logit")``), the others' the symmetric
    ``estimate -/+ q se`` (R's ``confint``).  ``df``: degrees of freedom of ``q``: None (the
    normal quantile, R's ``confint`` default and ``svyciprop(..., df = Inf)``), a number, or
    ``"design"``: R's ``degf(design)``, the default of ``svyciprop``: for a total row the group's
    rows minus its strata, for a domain the domain's rows minus the strata it has rows in (what
    ``svyby(..., svyciprop)`` passes on).  ``significant`` always uses the normal quantile.

    Variance of a linearised variable z: ``Σ_h (1 - f_h) n_h/(n_h - 1) Σ_{i∈h} (z_i - z̄_h)²``
    with ``Σ_{i∈h}(z_i - z̄_h)² = Σz² - (Σz)²/n_h``; both sums are linear in the moments.
    """
    group_by = list(group_by)
    if statistic not in ("mean", "total"):
        raise ValueError(f"statistic must be 'mean' or 'total', not {statistic!r}")
    if lonely_psu not in ("fail", "certainty", "remove"):
        raise ValueError(f"lonely_psu must be 'fail', 'certainty' or 'remove', not {lonely_psu!r}")
    _check_proportion(proportion, statistic, group_by)
    if not (df is None or df == "design" or (isinstance(df, (int, float)) and df > 0)):
        raise ValueError(f"df must be None, 'design' or a positive number, not {df!r}")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    cells = cells.reset_index(drop=True)
    m = {k: cells[k].to_numpy(np.float64) for k in _SUMS}
    n_rows = cells["n_rows"].to_numpy(np.float64)
    n_obs = cells["n"].to_numpy(np.float64)

    # keys: group g; stratum h within g; domain d within g (null domain: in no domain, code -1)
    if group_by:
        gid, G = _combine(cells, group_by)
    else:
        gid, G = np.zeros(len(cells), dtype=np.int64), 1 if len(cells) else 0
    s_codes, s_uniques = _factorize_full(cells["stratum"])
    hid, H = _dense([(gid, G), (s_codes, len(s_uniques))])
    if cells["domain"].equals(cells["stratum"]):  # areas as strata and domains
        did, D = hid, H
        d_codes, d_uniques = s_codes, s_uniques
    else:
        d_codes, d_uniques = _factorize_full(cells["domain"], keep_na=False)
        did, D = _dense([(gid, G), (d_codes, len(d_uniques))])

    # strata: n_h (all rows), N_h, scale c_h = (1 - f_h) n_h / (n_h - 1)
    n_h = np.bincount(hid, n_rows, minlength=H)
    pop_h = np.full(H, np.nan)
    pop_h[hid] = cells["population"].to_numpy(np.float64)
    known = pop_h[~np.isnan(pop_h)]
    if known.size and (known <= 1).all():  # as R: fpc values all <= 1 are sampling fractions
        with np.errstate(divide="ignore"):
            pop_h = n_h / pop_h
    with np.errstate(divide="ignore", invalid="ignore"):
        one_minus_f = np.where(np.isnan(pop_h), 1.0, (pop_h - n_h) / pop_h)
    first_h = _first_rows(hid, H)
    if (one_minus_f < -1e-12).any():
        bad = cells["stratum"].to_numpy()[first_h[one_minus_f < -1e-12]]
        raise ValueError(
            "population (N_h) smaller than the number of sampled rows (n_h) in strata: "
            + ", ".join(map(str, bad[:10]))
        )
    self_repr = one_minus_f < 1e-7  # census stratum: no sampling variance (as in R)
    lonely = (n_h == 1) & ~self_repr
    if lonely.any() and lonely_psu == "fail":
        bad = cells["stratum"].to_numpy()[first_h[lonely]]
        raise ValueError(
            f"{int(lonely.sum())} strata have only one sampled row (R: 'Stratum has only one "
            "PSU'); pass lonely_psu='certainty' to let them contribute no variance. Strata: "
            + ", ".join(map(str, bad[:10]))
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        c_h = np.where(self_repr | (n_h <= 1), 0.0, one_minus_f * n_h / (n_h - 1.0))
        inv_n_h = np.where(n_h > 0, 1.0 / n_h, 0.0)
    g_of_h = np.zeros(H, dtype=np.int64)
    g_of_h[hid] = gid

    # moments per stratum (all rows, incl. rows in no domain), per domain and per group
    mh = {k: np.bincount(hid, v, minlength=H) for k, v in m.items()}
    W_g = np.bincount(gid, m["sum_w"], minlength=G)
    Y_g = np.bincount(gid, m["sum_wy"], minlength=G)
    n_g = np.bincount(gid, n_obs, minlength=G)
    sel = did >= 0
    dc, hc, gc = did[sel], hid[sel], gid[sel]
    mc = {k: v[sel] for k, v in m.items()}
    W_d = np.bincount(dc, mc["sum_w"], minlength=D)
    Y_d = np.bincount(dc, mc["sum_wy"], minlength=D)
    n_d = np.bincount(dc, n_obs[sel], minlength=D)
    g_of_d = np.zeros(D, dtype=np.int64)
    g_of_d[dc] = gc

    with np.errstate(divide="ignore", invalid="ignore"):
        # linear forms z_i = w_i (alpha y_i + beta) for rows with a value (0 otherwise)
        if statistic == "mean":
            est_g, est_d = Y_g / W_g, Y_d / W_d
            alpha_g, beta_g = 1.0 / W_g, -est_g / W_g
            alpha_d, beta_d = 1.0 / W_d, -est_d / W_d
        else:
            est_g, est_d = Y_g, Y_d
            alpha_g, beta_g = np.ones(G), np.zeros(G)
            alpha_d, beta_d = np.ones(D), np.zeros(D)

        # total (whole population of the group): z^T over every stratum
        aT_h, bT_h = alpha_g[g_of_h], beta_g[g_of_h]
        s1T_h = _sum_u(mh, aT_h, bT_h)
        vT_h = c_h * _centred(
            _sum_u2(mh, aT_h, bT_h), s1T_h * s1T_h * inv_n_h, _scale_u2(mh, aT_h, bT_h)
        )
        var_g = np.bincount(g_of_h, vT_h, minlength=G)

        # domain: z^d is zero outside the domain's cells
        a, b = alpha_d[dc], beta_d[dc]
        ch, inv_n = c_h[hc], inv_n_h[hc]
        s1d = _sum_u(mc, a, b)
        var_d = np.bincount(
            dc, ch * _centred(_sum_u2(mc, a, b), s1d * s1d * inv_n, _scale_u2(mc, a, b)), minlength=D
        )

        # contrast z^d - z^T: Var = Var(d) + Var(T) - 2 Cov(d, T), where (z^d being zero outside
        # the cell) Cov = Σ_h c_h (Σ_cell z^d z^T - Σ_cell z^d · Σ_h z^T / n_h)
        aT, bT = alpha_g[gc], beta_g[gc]
        cross = a * aT * mc["sum_w2y2"] + (a * bT + b * aT) * mc["sum_w2y"] + b * bT * mc["sum_w2"]
        cov = np.bincount(dc, ch * (cross - s1d * s1T_h[hc] * inv_n), minlength=D)
        var_c = var_d + var_g[g_of_d] - 2.0 * cov

    se_g = np.sqrt(np.maximum(var_g, 0.0))
    se_d = np.sqrt(np.maximum(var_d, 0.0))
    se_c = np.sqrt(np.maximum(var_c, 0.0))
    contrast = est_d - est_g[g_of_d]

    # output order: per group its domains (sorted), then its total row
    pos_d = np.arange(D) + g_of_d
    pos_g = np.cumsum(np.bincount(g_of_d, minlength=G)) + np.arange(G)
    N = D + G
    src = np.empty(N, dtype=np.int64)
    src[pos_d] = _first_rows(did, D)
    src[pos_g] = _first_rows(gid, G)

    def scatter(dom_vals: np.ndarray, tot_vals: np.ndarray | float, dtype: object) -> np.ndarray:
        out = np.empty(N, dtype=dtype)
        out[pos_d] = dom_vals
        out[pos_g] = tot_vals
        return out

    out = (
        cells[group_by].take(src).reset_index(drop=True)
        if group_by
        else pd.DataFrame(index=range(N))
    )
    # the domain column: the domain values (a few thousand distinct) plus the total label
    if isinstance(cells["domain"].dtype, pd.StringDtype):  # stays a string column
        values = pd.array(
            np.append(np.asarray(d_uniques, dtype=object), total_label), dtype=cells["domain"].dtype
        )
    else:
        values = np.append(np.asarray(d_uniques, dtype=object), np.array([total_label], object))
    out["domain"] = values.take(scatter(d_codes[src[pos_d]], len(d_uniques), np.int64))
    estimate = scatter(est_d, est_g, np.float64)
    se = scatter(se_d, se_g, np.float64)
    con_se = scatter(se_c, np.nan, np.float64)
    con = scatter(contrast, np.nan, np.float64)
    out["n"] = scatter(n_d, n_g, np.float64).astype(np.int64)
    out["weighted_n"] = scatter(W_d, W_g, np.float64)
    out["estimate"] = estimate
    out["se"] = se
    if df is None:
        q = np.full(N, z)
    elif df == "design":
        # R's degf(design): sampled rows (missing values included) minus strata; a domain's is that
        # of the subset svyby passes on: its rows minus the strata it has rows in (a cell is one
        # stratum x domain, so counting a domain's cells counts its strata)
        df_g = np.bincount(gid, n_rows, minlength=G) - np.bincount(g_of_h, minlength=G)
        df_d = np.bincount(dc, n_rows[sel], minlength=D) - np.bincount(dc, minlength=D)
        q = _quantile(level, scatter(df_d, df_g, np.float64))
    else:
        q = np.full(N, _quantile(level, float(df)))
    ci_low, ci_high = estimate - q * se, estimate + q * se
    if proportion is True:
        is_prop = np.ones(N, dtype=bool)
    elif proportion:
        is_prop = out[proportion].fillna(False).to_numpy(dtype=bool)
    else:
        is_prop = np.zeros(N, dtype=bool)
    if is_prop.any():
        outside = is_prop & ((estimate < -1e-12) | (estimate > 1 + 1e-12))
        if outside.any():
            raise ValueError(
                f"{int(outside.sum())} estimates marked as proportions lie outside [0, 1] (the "
                f"first {estimate[outside][0]!r}): their values are not 0/1"
            )
        low, high = logit_interval(estimate[is_prop], se[is_prop], q[is_prop])
        ci_low[is_prop], ci_high[is_prop] = low, high
    out["ci_low"] = ci_low
    out["ci_high"] = ci_high
    out["contrast"] = con
    out["contrast_se"] = con_se
    with np.errstate(divide="ignore", invalid="ignore"):
        out["significant"] = (con_se > 0) & np.isfinite(con_se) & (np.abs(con) / con_se > z)
    return out


def _check_proportion(proportion: bool | str, statistic: str, group_by: Sequence[str]) -> None:
    if proportion is False or proportion is None:
        return
    if statistic != "mean":
        raise ValueError("proportion applies to means (shares), not to totals")
    if proportion is not True and (not isinstance(proportion, str) or proportion not in group_by):
        raise ValueError(
            f"proportion must be True, False or the name of a group_by column, not {proportion!r}"
        )


def survey_estimates(
    con: duckdb.DuckDBPyConnection,
    relation: str | duckdb.DuckDBPyRelation | pd.DataFrame,
    *,
    value: str,
    weight: str,
    domain: str | None,
    stratum: str | None = None,
    population: str | None = None,
    group_by: Sequence[str] = (),
    total_label: str = "TOTAL",
    level: float = 0.95,
    lonely_psu: LonelyPSU = "fail",
    proportion: bool | str = False,
    df: DegreesOfFreedom = None,
) -> pd.DataFrame:
    """Weighted means (proportions for a 0/1 value) per group_by x domain, with the total.

    R equivalent (per group): ``svyby(~value, ~domain, design, svymean, na.rm=TRUE)`` and
    ``svymean(~value, design, na.rm=TRUE)`` for the ``total_label`` row, with
    ``design = svydesign(id=~1, strata=~stratum, weights=~weight, fpc=~population)``
    (``stratum=None``: one stratum; ``population=None``: no finite-population correction).

    ``relation``: a table/view name or a parenthesised SQL query readable by ``con`` (a DuckDB
    relation or a pandas DataFrame is registered temporarily), one row per respondent (per
    respondent x group in long format), rows with a missing value included: they stay in the
    design (count in n_h) but are outside every domain.  Rows with a NULL domain are in the total
    only.  ``group_by`` stacks separate analyses (items, waves of a long table): each group is a
    design of its own (n_h counts the group's rows); a subpopulation is a ``domain``, not a group.

    ``population``: N_h of the row's stratum (values all <= 1: sampling fractions, as in R).
    ``lonely_psu``: a stratum with one sampled row has no variance estimate; ``"fail"`` raises
    (R's default), ``"certainty"``/``"remove"`` let it contribute zero variance.  Strata with
    N_h = n_h (a census) contribute zero variance.  ``level``: confidence level of the interval
    and of ``significant`` (normal quantile, as R's ``confint``).

    ``proportion``: the value is 0/1 (True) or, naming a boolean group_by column, is 0/1 in the
    groups where that column is true; their ``ci_low``/``ci_high`` are the logit interval of R's
    ``svyciprop(~value, design, method = "logit", df = Inf)``, inside [0, 1] (a value other than
    0 or 1 in such a group raises ValueError).  ``df``: see :func:`estimates_from_moments`
    (``"design"`` gives ``svyciprop``'s default ``df = degf(design)``).

    Returns one row per group_by x domain plus one per group_by with ``domain == total_label``:
    group_by..., domain, n (unweighted non-missing), weighted_n, estimate, se, ci_low, ci_high,
    contrast (domain - total), contrast_se, significant (|contrast| / contrast_se > z_{0.975};
    False when contrast_se is 0 or NaN; the contrast columns are NaN on total rows).  Rows are
    sorted by group_by, then domain, each group's total last.
    """
    return _estimate(con, relation, "mean", value=value, weight=weight, domain=domain,
                     stratum=stratum, population=population, group_by=group_by,
                     total_label=total_label, level=level, lonely_psu=lonely_psu,
                     proportion=proportion, df=df)


def survey_totals(
    con: duckdb.DuckDBPyConnection,
    relation: str | duckdb.DuckDBPyRelation | pd.DataFrame,
    *,
    value: str,
    weight: str,
    domain: str | None,
    stratum: str | None = None,
    population: str | None = None,
    group_by: Sequence[str] = (),
    total_label: str = "TOTAL",
    level: float = 0.95,
    lonely_psu: LonelyPSU = "fail",
) -> pd.DataFrame:
    """Weighted totals (R: ``svytotal``/``svyby(..., svytotal)``); same shape as
    :func:`survey_estimates`, ``estimate`` being the weighted total Σ w y."""
    return _estimate(con, relation, "total", value=value, weight=weight, domain=domain,
                     stratum=stratum, population=population, group_by=group_by,
                     total_label=total_label, level=level, lonely_psu=lonely_psu)


def _estimate(con, relation, statistic: str, *, value, weight, domain, stratum, population,
              group_by, total_label, level, lonely_psu, proportion=False,
              df=None) -> pd.DataFrame:
    """Moment sums in one DuckDB pass, then the estimator of `statistic` ("mean" or "total")."""
    _check_proportion(proportion, statistic, group_by)
    cells = moment_sums(con, relation, value=value, weight=weight, domain=domain,
                        stratum=stratum, population=population, group_by=group_by,
                        binary=proportion or False)
    return estimates_from_moments(cells, group_by=group_by, statistic=statistic,
                                  total_label=total_label, level=level, lonely_psu=lonely_psu,
                                  proportion=proportion, df=df)


def _check_binary(con, source: str, value: str, proportion: bool | str, *, name: str) -> None:
    """Raise, naming them, when a proportion's rows (in `source`, SQL) hold values other than
    0 or 1; moment_sums counted them in its pass and calls this only then."""
    where = "" if proportion is True else f"coalesce({_quote(proportion)}, false) and "
    y = f"CAST({_quote(value)} AS DOUBLE)"
    bad = con.execute(
        f"SELECT count(*), min({y}) FROM {source} AS __rel "
        f"WHERE {where}{y} NOT IN (0, 1) AND NOT isnan({y})"
    ).fetchone()
    if bad[0]:
        scope = "" if proportion is True else f" where {proportion!r} is true"
        raise ValueError(
            f"value column {value!r} in {name} must be 0 or 1 for a proportion{scope}: "
            f"{bad[0]} rows are not (e.g. {bad[1]!r})"
        )


# --------------------------------------------------------------------------------------------
# development: change between two waves, area against city
# --------------------------------------------------------------------------------------------


def change_contrasts(
    current: pd.DataFrame,
    base: pd.DataFrame,
    keys: Sequence[str] = ("domain",),
    *,
    domain: str = "domain",
    total_label: str = "TOTAL",
    level: float = 0.95,
) -> pd.DataFrame:
    """Change between two independent waves, and area change minus city change.

    ``current`` and ``base`` are outputs of :func:`survey_estimates` (same group_by).  ``keys``
    are the columns identifying a row (the group_by columns and ``domain``; ``domain`` is added
    when absent).  Waves are independent samples, so variances add:

    - change = est_cur - est_base, SE sqrt(se_cur² + se_base²);
    - contrast = (area - city)_cur - (area - city)_base, SE sqrt(contrast_se_cur² +
      contrast_se_base²) -- each wave's contrast SE already accounts for the area being part of
      the city.

    Rows present in only one wave are kept with NaN changes (outer join, never silently dropped).
    Output: keys..., n_base, n_current, estimate_base, estimate_current, change, change_se,
    change_ci_low, change_ci_high, change_significant, city_change, contrast, contrast_se,
    significant.
    """
    keys = list(keys)
    if domain not in keys:
        keys.append(domain)
    group_keys = [k for k in keys if k != domain]
    need = {"n", "estimate", "se", "contrast", "contrast_se"}
    for name, frame in (("current", current), ("base", base)):
        missing = (need | set(keys)) - set(frame.columns)
        if missing:
            raise KeyError(f"{name} table lacks columns {sorted(missing)}")
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    cols = [*keys, "n", "estimate", "se", "contrast", "contrast_se"]
    merged = pd.merge(
        base[cols].assign(__order_base=np.arange(len(base))),
        current[cols].assign(__order=np.arange(len(current))),
        on=keys,
        how="outer",
        suffixes=("_base", "_current"),
        sort=False,
    )
    # rows in the order of the current table, rows only in the base wave after them
    order = merged["__order"].fillna(len(current) + merged["__order_base"]).to_numpy()
    merged = merged.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    out = merged[keys].copy()
    out["n_base"] = merged["n_base"].astype("Int64")
    out["n_current"] = merged["n_current"].astype("Int64")
    out["estimate_base"] = merged["estimate_base"]
    out["estimate_current"] = merged["estimate_current"]
    out["change"] = merged["estimate_current"] - merged["estimate_base"]
    out["change_se"] = np.sqrt(merged["se_current"] ** 2 + merged["se_base"] ** 2)
    out["change_ci_low"] = out["change"] - z * out["change_se"]
    out["change_ci_high"] = out["change"] + z * out["change_se"]
    out["change_significant"] = _significant(out["change"], out["change_se"], z)
    is_total = (merged[domain] == total_label).to_numpy()
    city = out.loc[is_total, [*group_keys, "change"]].rename(columns={"change": "city_change"})
    if group_keys:
        out = out.merge(city, on=group_keys, how="left", sort=False)
    else:
        out["city_change"] = city["city_change"].iloc[0] if len(city) else np.nan
    out["contrast"] = merged["contrast_current"].to_numpy() - merged["contrast_base"].to_numpy()
    out["contrast_se"] = np.sqrt(
        merged["contrast_se_current"].to_numpy() ** 2 + merged["contrast_se_base"].to_numpy() ** 2
    )
    out.loc[is_total, ["contrast", "contrast_se"]] = np.nan
    out["significant"] = _significant(out["contrast"], out["contrast_se"], z)
    return out


def _significant(estimate: pd.Series, se: pd.Series, z: float) -> np.ndarray:
    est = estimate.to_numpy(np.float64)
    s = se.to_numpy(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sig = (s > 0) & np.isfinite(s) & (np.abs(est) / s > z)
    return np.asarray(sig, dtype=bool)
