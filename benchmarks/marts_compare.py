"""Compare the marts of two implementations row by row: same keys, same values, or a loud failure.

Numbers must agree to REL_TOL relative (or ABS_TOL absolute, for values near zero); text, booleans
and integers exactly; load_ids as sets (list_distinct gives no order). NULL equals NULL (and NaN,
which pandas makes of a 0/0 DuckDB returns as NULL). The first differing row is reported with both
sides.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

REL_TOL = 1e-9
ABS_TOL = 1e-9

MARTS = {
    "fct_indicator_value": ["area_edition", "gemeente_code", "area_code", "is_city", "period", "indicator_code"],
    "mart_compass_status": ["edition", "gemeente_code", "area_code", "node_level", "node_code"],
    "mart_compass_development": ["edition", "gemeente_code", "area_code", "node_level", "node_code"],
}
SET_COLUMNS = {"load_ids"}


class MartsDiffer(AssertionError):
    """Two implementations gave different marts; the message shows the first difference."""


def _is_null(x) -> bool:
    if x is None or x is pd.NA or x is pd.NaT:
        return True
    return isinstance(x, float) and math.isnan(x)


def _norm_set(x):
    if _is_null(x) if not isinstance(x, list | tuple | np.ndarray) else False:
        return None
    return tuple(sorted(str(v) for v in x if not _is_null(v)))


def compare_frames(name: str, expected: pd.DataFrame, actual: pd.DataFrame, keys: list[str], *,
                   expected_label: str = "dbt", actual_label: str = "other") -> int:
    """Raise MartsDiffer at the first difference; return the number of rows compared."""
    missing_cols = [c for c in expected.columns if c not in actual.columns]
    if missing_cols:
        raise MartsDiffer(f"{name}: {actual_label} lacks columns {missing_cols}")
    actual = actual[list(expected.columns)]
    for label, frame in ((expected_label, expected), (actual_label, actual)):
        dup = frame.duplicated(keys, keep=False)
        if dup.any():
            raise MartsDiffer(f"{name}: {label} has duplicate keys, e.g.\n{frame[dup].head(4).to_string()}")
    merged = expected[keys].merge(actual[keys], on=keys, how="outer", indicator=True)
    only = merged[merged["_merge"] != "both"]
    if len(only):
        raise MartsDiffer(f"{name}: {expected_label} has {len(expected):,} rows, {actual_label} "
                          f"{len(actual):,}; {len(only):,} rows on one side only, e.g.:\n"
                          f"{only.head(5).to_string()}")
    exp = expected.sort_values(keys, kind="stable").reset_index(drop=True)
    act = actual.sort_values(keys, kind="stable").reset_index(drop=True)
    key_diff = ~(exp[keys].astype(str).to_numpy() == act[keys].astype(str).to_numpy()).all(axis=1)
    if key_diff.any():
        i = int(np.argmax(key_diff))
        raise MartsDiffer(f"{name}: row {i} has keys {dict(exp.loc[i, keys])} in {expected_label}, "
                          f"{dict(act.loc[i, keys])} in {actual_label}")
    for col in exp.columns:
        if col in keys:
            continue
        bad = _differing(exp[col], act[col], col)
        if bad.any():
            i = int(np.argmax(bad))
            n_bad = int(bad.sum())
            raise MartsDiffer(
                f"{name}: column {col} differs in {n_bad:,} of {len(exp):,} rows; first at "
                f"{dict(exp.loc[i, keys])}: {expected_label} {exp.loc[i, col]!r}, {actual_label} {act.loc[i, col]!r}\n"
                f"  {expected_label} row: {exp.loc[i].to_dict()}\n  {actual_label} row: {act.loc[i].to_dict()}")
    return len(exp)


def _differing(a: pd.Series, b: pd.Series, col: str) -> np.ndarray:
    if col in SET_COLUMNS:
        return np.array([_norm_set(x) != _norm_set(y) for x, y in zip(a, b, strict=True)], dtype=bool)
    a_null = a.isna().to_numpy()
    b_null = b.isna().to_numpy()
    differ = a_null != b_null
    both = ~a_null & ~b_null
    if pd.api.types.is_float_dtype(a) or pd.api.types.is_float_dtype(b):
        x = pd.to_numeric(a, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        y = pd.to_numeric(b, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        close = np.isclose(x, y, rtol=REL_TOL, atol=ABS_TOL, equal_nan=True)
        return differ | (both & ~close)
    xa = a.astype(object).to_numpy()
    xb = b.astype(object).to_numpy()
    neq = np.array([both[i] and xa[i] != xb[i] for i in range(len(xa))], dtype=bool)
    return differ | neq


def read_marts(con, schema: str) -> dict[str, pd.DataFrame]:
    return {name: con.sql(f'select * from "{schema}"."{name}"').df() for name in MARTS}


def compare_marts(expected: dict[str, pd.DataFrame], actual: dict[str, pd.DataFrame], *,
                  expected_label: str = "dbt", actual_label: str = "other") -> dict[str, int]:
    """Compare every mart; return the rows compared per mart."""
    return {name: compare_frames(name, expected[name], actual[name], keys,
                                 expected_label=expected_label, actual_label=actual_label)
            for name, keys in MARTS.items()}


def main(argv=None) -> int:
    """Compare the marts of two warehouses (e.g. before and after a change to the dbt models)."""
    import argparse

    import duckdb

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("expected", help="DuckDB file")
    parser.add_argument("actual", help="DuckDB file")
    parser.add_argument("--expected-schema", default="marts")
    parser.add_argument("--actual-schema", default="marts")
    args = parser.parse_args(argv)
    marts = []
    for path, schema in ((args.expected, args.expected_schema), (args.actual, args.actual_schema)):
        with duckdb.connect(path, read_only=True) as con:
            marts.append(read_marts(con, schema))
    try:
        rows = compare_marts(*marts, expected_label=args.expected, actual_label=args.actual)
    except MartsDiffer as exc:
        print(f"DIFFERENT: {exc}")
        return 1
    print("same numbers: " + ", ".join(f"{m} {n:,} rows" for m, n in rows.items()))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
