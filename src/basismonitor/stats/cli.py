"""``basismonitor estimate``: ad-hoc design-based estimates per area for analysts.

Usable as a sub-command of the ``basismonitor`` CLI (:func:`register`) or directly
(``python -m basismonitor.stats.cli FILE --value COL --weight COL --area COL``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from .estimates import _NUMERIC_PREFIXES, Z95, survey_estimates
from .fay_herriot import METHODS, fit_fay_herriot, fit_shares

__all__ = ["main", "register", "run"]

DESCRIPTION = """\
Weighted mean (a proportion for a 0/1 column) of --value per area, with its standard error and
95% confidence interval (Taylor linearisation, as R's survey package), plus a TOTAL row.

Design:
  with --population   stratified by area with finite-population correction:
                        svydesign(id=~1, strata=~area, weights=~w, fpc=~population)
                      every area in FILE must be in the population file, with population >= its
                      number of rows.
  without it          weights only (one stratum, no fpc), areas are domains:
                        svydesign(id=~1, weights=~w); svyby(~value, ~area, design, svymean)

Interval (--ci):
  auto (default)      logit when every value of --value is 0 or 1 (a proportion), else wald
  logit               a proportion's logit interval, always inside [0, 1]:
                        svyciprop(~value, design, method="logit", df=Inf)
  wald                estimate -/+ 1.96 SE (R's confint of svymean)

Rows with a missing value (an empty field or NA) are left out of that estimate (they stay in
the design: R's na.rm=TRUE).  FILE is CSV or Parquet, one row per respondent.  Output columns:
area,n,estimate,se,ci_low,ci_high (n = respondents with a value); CSV with --out, else a table.

Small-area estimation (--model fay-herriot --covariates FILE [--method reml|ml|fh]):
  the area-level Fay-Herriot model on the direct estimates above and the covariates file (CSV:
  a column area and one numeric column per covariate; an intercept is added), fitted as R's
  sae::eblupFH, MSE as sae::mseFH (Prasad-Rao).  Every area of the covariates file gets a row:
  the EBLUP where it has respondents, the synthetic prediction x'beta where it has none (n 0, no
  direct figure).  A 0/1 value is modelled on the arcsine-square-root scale with design variance
  deff/(4n) (Kish's deff from the weights) and published as a share within [0, 1] (--scale).
  Output columns: area,n,direct,direct_se,estimate,mse,method,ci_low,ci_high,cv (method: eblup or
  synthetic); the fit (sigma_u, beta and SEs, iterations) is printed to stderr.
"""


class UsageError(Exception):
    """An input problem reported to the user (exit status 2)."""


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="respondent file (.csv or .parquet)")
    parser.add_argument("--value", required=True, metavar="COL", help="numeric column to average")
    parser.add_argument("--weight", required=True, metavar="COL", help="survey weight column")
    parser.add_argument("--area", required=True, metavar="COL", help="area column (domain)")
    parser.add_argument(
        "--population",
        metavar="FILE",
        help="CSV with columns area,population (N per area): stratify by area with fpc",
    )
    parser.add_argument("--out", metavar="FILE", help="write the result as CSV instead of printing")
    parser.add_argument(
        "--ci",
        choices=("auto", "logit", "wald"),
        default="auto",
        help="confidence interval: logit for a 0/1 value (auto: when every value is 0 or 1), "
        "wald otherwise",
    )
    parser.add_argument(
        "--lonely-psu",
        choices=("fail", "certainty"),
        default="fail",
        help="with --population, an area with a single respondent: fail (as R) or let it "
        "contribute no variance (certainty)",
    )
    parser.add_argument(
        "--model",
        choices=("direct", "fay-herriot"),
        default="direct",
        help="direct (design-based, the default) or fay-herriot (small-area EBLUP; needs "
        "--covariates)",
    )
    parser.add_argument(
        "--covariates",
        metavar="FILE",
        help="with --model fay-herriot: CSV with a column area and one numeric column per covariate",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="reml",
        help="with --model fay-herriot: fit sigma_u^2 by REML (default), ML or Fay-Herriot's "
        "moment method (fh)",
    )
    parser.add_argument(
        "--scale",
        choices=("auto", "identity", "arcsine"),
        default="auto",
        help="with --model fay-herriot: model scale; auto = arcsine (shares) for a 0/1 value, "
        "else identity",
    )


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``estimate`` sub-command to a ``basismonitor`` argparse subparsers object."""
    parser = subparsers.add_parser(
        "estimate",
        help="survey estimates per area (mean/proportion, SE, 95%% CI)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    parser.set_defaults(func=run)
    return parser


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _reader(path: Path, *, varchar: str | None = None) -> str:
    """DuckDB table function reading ``path``; ``varchar`` forces a CSV column to text (so area
    codes such as 0101 keep their leading zeros)."""
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet({_literal(str(path))})"
    types = f", types={{{_literal(varchar)}: 'VARCHAR'}}" if varchar else ""
    return f"read_csv({_literal(str(path))}, header=true, nullstr=['', 'NA']{types})"


def _types(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    return {str(r[0]): str(r[1]).upper() for r in con.execute(f"DESCRIBE {view}").fetchall()}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _estimate(args: argparse.Namespace) -> pd.DataFrame:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise UsageError(f"{path}: the file is empty (0 bytes)")
    if getattr(args, "model", "direct") == "fay-herriot":
        if not args.covariates:
            raise UsageError("--model fay-herriot needs --covariates FILE")
        cov_path = Path(args.covariates)
        if not cov_path.is_file():
            raise UsageError(f"{cov_path}: covariates file not found")
        covariates = _read_covariates(cov_path)
    elif getattr(args, "covariates", None):
        raise UsageError("--covariates is for --model fay-herriot (the direct model uses none)")
    con = duckdb.connect()
    try:
        direct = _estimate_with(con, path, args)
        if getattr(args, "model", "direct") != "fay-herriot":
            return direct
        return _fay_herriot(con, path, args, direct, covariates, cov_path)
    finally:
        con.close()


def _read_covariates(path: Path) -> pd.DataFrame:
    """The covariates file: column ``area`` (text) and numeric covariate columns, every cell
    filled, one row per area."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read as CSV: {exc}") from exc
    if "area" not in frame.columns:
        raise UsageError(
            f"{path}: column 'area' not found; expected area and one column per covariate "
            f"(got {', '.join(map(str, frame.columns))})"
        )
    if frame.empty:
        raise UsageError(f"{path}: no rows")
    blank = frame["area"].str.strip() == ""
    if blank.any():
        raise UsageError(f"{path}: column 'area' is empty on row {int(blank.idxmax()) + 2}")
    dup = frame["area"][frame["area"].duplicated()]
    if len(dup):
        raise UsageError(f"{path}: column 'area' has duplicates: {', '.join(dup.head(5))}")
    out = pd.DataFrame({"area": frame["area"]})
    for col in frame.columns:
        if col == "area":
            continue
        values = pd.to_numeric(frame[col].str.strip(), errors="coerce")
        bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan))
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UsageError(
                f"{path}: column {col!r} row {row + 2} (area {frame['area'].iloc[row]}): "
                f"{frame[col].iloc[row]!r} is not a number (every covariate must be filled)"
            )
        out[col] = values.astype(float)
    return out


def _fay_herriot(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    args: argparse.Namespace,
    direct: pd.DataFrame,
    covariates: pd.DataFrame,
    cov_path: Path,
) -> pd.DataFrame:
    q_area, q_w, q_v = _quote(args.area), _quote(args.weight), _quote(args.value)
    design = con.execute(
        f"""
        SELECT CAST({q_area} AS VARCHAR) AS area,
               count(*) * sum({q_w} * {q_w}) / nullif(sum({q_w}) * sum({q_w}), 0) AS deff,
               bool_and({q_v} IN (0, 1)) AS binary
        FROM respondents WHERE {q_v} IS NOT NULL AND NOT isnan({q_v}::DOUBLE)
          AND {q_area} IS NOT NULL
        GROUP BY 1
        """
    ).df()
    binary = bool(design["binary"].all()) if len(design) else False
    scale = args.scale if args.scale != "auto" else ("arcsine" if binary else "identity")
    if scale == "arcsine" and not binary:
        raise UsageError(f"{path}: column {args.value!r} (--value) is not 0/1; --scale arcsine "
                         "models shares only")
    areas = direct[direct["domain"] != "TOTAL"][["domain", "n", "estimate", "se"]]
    areas = areas.assign(domain=areas["domain"].astype(str))
    missing = sorted(set(areas["domain"]) - set(covariates["area"]))
    if missing:
        raise UsageError(
            f"{cov_path}: no covariate row for {len(missing)} area(s) of column {args.area!r} in "
            f"{path}: {', '.join(missing[:10])}"
        )
    table = covariates[["area"]].merge(
        areas.rename(columns={"domain": "area", "estimate": "direct", "se": "direct_se"}),
        on="area",
        how="left",
    ).merge(design[["area", "deff"]], on="area", how="left")
    table["n"] = table["n"].fillna(0).astype(int)
    has_direct = (table["n"] > 0) & table["direct"].notna()
    x = np.column_stack(
        [np.ones(len(covariates))] + [covariates[c].to_numpy() for c in covariates.columns[1:]]
    )
    try:
        if scale == "arcsine":
            res = fit_shares(
                table["direct"].where(has_direct).to_numpy(dtype=float, na_value=np.nan),
                table["n"].where(has_direct, 0).to_numpy(dtype=float),
                table["deff"].fillna(1.0).to_numpy(dtype=float),
                x,
                method=args.method,
            )
            fit, estimate, mse, lo, hi = res.fit, res.estimate, res.mse, res.ci_low, res.ci_high
        else:
            # An area whose design variance is 0 or undefined (one respondent, all values
            # equal) cannot enter the fit as a direct estimate: it gets the synthetic prediction.
            usable = has_direct & (table["direct_se"] > 0)
            fit = fit_fay_herriot(
                table["direct"].where(usable).to_numpy(dtype=float, na_value=np.nan),
                (table["direct_se"] ** 2).where(usable).to_numpy(dtype=float, na_value=np.nan),
                x,
                method=args.method,
            )
            estimate, mse = fit.estimate, fit.mse
            half = Z95 * np.sqrt(np.maximum(mse, 0))
            lo, hi = estimate - half, estimate + half
    except ValueError as exc:
        raise UsageError(f"{cov_path}: cannot fit the Fay-Herriot model: {exc}") from exc
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(estimate != 0, np.sqrt(np.maximum(mse, 0)) / np.abs(estimate), np.nan)
    names = ["intercept", *covariates.columns[1:]]
    summary = ", ".join(
        f"{n} {b:.6g} (se {s:.3g})" for n, b, s in zip(names, fit.beta, fit.beta_se, strict=True)
    )
    print(
        f"fay-herriot ({fit.method}, {scale} scale): {fit.n_areas} areas fitted, "
        f"{int((~fit.sampled).sum())} synthetic; sigma_u {fit.sigma_u:.6g}; "
        f"{'converged' if fit.converged else 'NOT converged'} in {fit.iterations} iterations"
        f"{'' if fit.algorithm == 'fisher_scoring' else ' (then ' + fit.algorithm + ')'}; "
        f"beta: {summary}",
        file=sys.stderr,
    )
    return pd.DataFrame(
        {
            "area": table["area"],
            "n": table["n"],
            "direct": table["direct"].where(has_direct),
            "direct_se": table["direct_se"].where(has_direct),
            "estimate": estimate,
            "mse": mse,
            "method": np.where(fit.sampled, "eblup", "synthetic"),
            "ci_low": lo,
            "ci_high": hi,
            "cv": cv,
        }
    )


def _estimate_with(
    con: duckdb.DuckDBPyConnection, path: Path, args: argparse.Namespace
) -> pd.DataFrame:
    try:
        con.execute(f"CREATE TEMP VIEW respondents AS SELECT * FROM {_reader(path)}")
        types = _types(con, "respondents")
        if not con.execute("SELECT count(*) FROM respondents").fetchone()[0]:
            raise UsageError(f"{path}: no data rows (only a header?); columns: "
                             f"{', '.join(types)}")
        for option, col in (
            ("--value", args.value),
            ("--weight", args.weight),
            ("--area", args.area),
        ):
            if col not in types:
                raise UsageError(
                    f"{path}: column {col!r} ({option}) not found; columns: {', '.join(types)}"
                )
        if types[args.area] != "VARCHAR" and path.suffix.lower() not in (".parquet", ".pq"):
            con.execute(
                "CREATE OR REPLACE TEMP VIEW respondents AS SELECT * FROM "
                + _reader(path, varchar=args.area)
            )
            types = _types(con, "respondents")
    except duckdb.Error as exc:
        raise UsageError(f"{path}: cannot read as {path.suffix or 'CSV'}: {exc}") from exc
    for option, col in (("--value", args.value), ("--weight", args.weight)):
        if not types[col].startswith(_NUMERIC_PREFIXES):
            raise UsageError(f"{path}: column {col!r} ({option}) is not numeric ({types[col]})")
    q_area, q_w = _quote(args.area), _quote(args.weight)
    bad_w = con.execute(
        f"SELECT count(*) FILTER (WHERE {q_w} IS NULL OR isnan({q_w}::DOUBLE)), "
        f"count(*) FILTER (WHERE {q_w} < 0) FROM respondents"
    ).fetchone()
    if bad_w[0] or bad_w[1]:
        raise UsageError(
            f"{path}: column {args.weight!r} (--weight) has {bad_w[0]} missing and {bad_w[1]} "
            "negative weights"
        )

    q_v = _quote(args.value)
    not_binary = con.execute(
        f"SELECT count(*) FILTER (WHERE {q_v}::DOUBLE NOT IN (0, 1) AND NOT isnan({q_v}::DOUBLE)) "
        "FROM respondents"
    ).fetchone()[0]
    ci = getattr(args, "ci", "auto")
    if ci == "logit" and not_binary:
        raise UsageError(
            f"{path}: column {args.value!r} (--value) has {not_binary} values other than 0 and 1; "
            "the logit interval (--ci logit) is for a proportion"
        )
    proportion = ci == "logit" or (ci == "auto" and not not_binary)

    if args.population is None:
        return survey_estimates(
            con,
            "respondents",
            value=args.value,
            weight=args.weight,
            domain=args.area,
            proportion=proportion,
        )

    pop_path = Path(args.population)
    if not pop_path.is_file():
        raise UsageError(f"{pop_path}: population file not found")
    try:
        con.execute(
            "CREATE TEMP TABLE population AS SELECT * FROM "
            f"read_csv({_literal(str(pop_path))}, header=true, all_varchar=true)"
        )
        pcols = [str(r[0]) for r in con.execute("DESCRIBE population").fetchall()]
    except duckdb.Error as exc:
        raise UsageError(f"{pop_path}: cannot read as CSV: {exc}") from exc
    for col in ("area", "population"):
        if col not in pcols:
            raise UsageError(
                f"{pop_path}: column {col!r} not found; expected columns area,population "
                f"(got {', '.join(pcols)})"
            )
    bad = con.execute(
        "SELECT area, population FROM population WHERE area IS NULL OR population IS NULL "
        "OR TRY_CAST(population AS DOUBLE) IS NULL OR TRY_CAST(population AS DOUBLE) <= 0 LIMIT 5"
    ).fetchall()
    if bad:
        raise UsageError(
            f"{pop_path}: column 'population' must be a positive number for every area; "
            f"bad rows: {bad}"
        )
    dup = con.execute(
        "SELECT area FROM population GROUP BY area HAVING count(*) > 1 LIMIT 5"
    ).fetchall()
    if dup:
        raise UsageError(f"{pop_path}: column 'area' has duplicates: {[r[0] for r in dup]}")
    n_null = con.execute(f"SELECT count(*) FROM respondents WHERE {q_area} IS NULL").fetchone()[0]
    if n_null:
        raise UsageError(
            f"{path}: column {args.area!r} (--area) is empty in {n_null} rows; with --population "
            "every respondent needs an area (stratum)"
        )
    checks = con.execute(
        f"""
        SELECT CAST(r.{q_area} AS VARCHAR) AS area, count(*) AS n,
               any_value(TRY_CAST(p.population AS DOUBLE)) AS population,
               bool_or(p.area IS NULL) AS missing
        FROM respondents r LEFT JOIN population p ON CAST(r.{q_area} AS VARCHAR) = p.area
        GROUP BY 1 ORDER BY 1
        """
    ).df()
    missing = checks.loc[checks["missing"], "area"].tolist()
    if missing:
        raise UsageError(
            f"{pop_path}: no population for {len(missing)} area(s) of column {args.area!r} in "
            f"{path}: {', '.join(map(str, missing[:10]))}"
        )
    small = checks[checks["population"] < checks["n"]]
    if len(small):
        rows = small[["area", "population", "n"]].head(10).itertuples(index=False)
        listed = ", ".join(f"{a} (population {p:g} < {n} respondents)" for a, p, n in rows)
        raise UsageError(f"{pop_path}: column 'population' smaller than the sample in {listed}")
    relation = (
        f"(SELECT r.*, TRY_CAST(p.population AS DOUBLE) AS __population FROM respondents r "
        f"JOIN population p ON CAST(r.{q_area} AS VARCHAR) = p.area)"
    )
    try:
        return survey_estimates(
            con,
            relation,
            value=args.value,
            weight=args.weight,
            domain=args.area,
            stratum=args.area,
            population="__population",
            lonely_psu=args.lonely_psu,
            proportion=proportion,
        )
    except ValueError as exc:
        hint = " (use --lonely-psu certainty)" if "only one sampled row" in str(exc) else ""
        raise UsageError(f"{path}: {exc}{hint}") from exc


def run(args: argparse.Namespace) -> int:
    """Run the ``estimate`` command; returns the process exit status."""
    try:
        result = _estimate(args)
    except UsageError as exc:
        print(f"basismonitor estimate: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, TypeError, duckdb.Error) as exc:
        print(f"basismonitor estimate: error: {args.file}: {exc}", file=sys.stderr)
        return 2
    if "direct" in result.columns:  # --model fay-herriot
        table = result
        numbers = table[["estimate"]].astype(float)
    else:
        table = result[["domain", "n", "estimate", "se", "ci_low", "ci_high"]].rename(
            columns={"domain": "area"}
        )
        numbers = table[["estimate", "se", "ci_low", "ci_high"]].astype(float)
    if numbers.isin([float("inf"), float("-inf")]).to_numpy().any():
        print(f"basismonitor estimate: error: {args.file}: the values of {args.value!r} are too "
              "large: the estimate overflows to infinity (values near 1e308?)", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out)
        try:
            table.to_csv(out, index=False)
        except OSError as exc:
            print(f"basismonitor estimate: error: {out}: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(table)} rows to {out}", file=sys.stderr)
    else:
        print(table.to_string(index=False, float_format=lambda v: f"{v:.6g}", na_rep="NA"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m basismonitor.stats.cli FILE --value ...``."""
    parser = argparse.ArgumentParser(
        prog="basismonitor estimate",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_arguments(parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error
        return int(exc.code or 0)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
