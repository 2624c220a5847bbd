"""Published outputs of R's survey package on the api data, to their printed precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from basismonitor.stats import rake, survey_estimates, survey_totals

pytestmark = pytest.mark.shared


# dstrat <- svydesign(id=~1, strata=~stype, weights=~pw, data=apistrat, fpc=~fpc)
DSTRAT = {"weight": "pw", "domain": None, "stratum": "stype", "population": "fpc"}


def close(actual: float, printed: float, decimals: int) -> bool:
    """``actual`` rounds to the number R printed with ``decimals`` decimals."""
    return abs(actual - printed) <= 0.5 * 10.0**-decimals + 1e-12


def total_row(frame: pd.DataFrame) -> pd.Series:
    rows = frame[frame["domain"] == "TOTAL"]
    assert len(rows) == 1
    return rows.iloc[0]


def test_stratified_mean_with_fpc(con):
    # svymean(~api00, dstrat): 662.29 (662.2874) SE 9.4089
    row = total_row(survey_estimates(con, "apistrat", value="api00", **DSTRAT))
    assert close(row["estimate"], 662.2874, 4)
    assert close(row["se"], 9.4089, 4)
    assert row["n"] == 200
    assert row["weighted_n"] == pytest.approx(6194, abs=1e-3)


def test_stratified_total_with_fpc(con):
    # svytotal(~enroll, dstrat): 3687178 SE 114642
    row = total_row(survey_totals(con, "apistrat", value="enroll", **DSTRAT))
    assert close(row["estimate"], 3687178, 0)
    assert close(row["se"], 114642, 0)


def test_weights_only_mean_and_normal_ci(con):
    # wonly <- svydesign(id=~1, weights=~pw, data=apistrat)
    # svymean(~api00, wonly): 662.2874 SE 9.585429; confint: 643.5003 .. 681.0745
    row = total_row(survey_estimates(con, "apistrat", value="api00", weight="pw", domain=None))
    assert close(row["estimate"], 662.2874, 4)
    assert close(row["se"], 9.585429, 6)
    assert close(row["ci_low"], 643.5003, 4)
    assert close(row["ci_high"], 681.0745, 4)


def test_weights_only_svyby_domains(con):
    # svyby(~api00, ~stype, wonly, svymean)
    out = survey_estimates(con, "apistrat", value="api00", weight="pw", domain="stype")
    assert out["domain"].tolist() == ["E", "H", "M", "TOTAL"]
    got = out.set_index("domain")
    for stype, mean, se in [
        ("E", 674.43, 12.49343),
        ("H", 625.82, 15.34078),
        ("M", 636.60, 16.50239),
    ]:
        assert close(got.loc[stype, "estimate"], mean, 2)
        assert close(got.loc[stype, "se"], se, 5)
    assert close(got.loc["TOTAL", "se"], 9.585429, 6)  # the total of svyby equals svymean


def test_weights_only_proportion(con):
    # svymean(~I(api00 - api99 > 50), wonly): 0.2938489 SE 0.0363651
    query = "(SELECT *, (api00 - api99 > 50) AS improved FROM apistrat)"
    row = total_row(survey_estimates(con, query, value="improved", weight="pw", domain=None))
    assert close(row["estimate"], 0.2938489, 7)
    assert close(row["se"], 0.0363651, 7)


def test_rake_apiclus1(apiclus1):
    # r <- rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide))
    # svymean(~api00, r): 641.23; svytotal(~enroll, r): 3647280
    pop_types = pd.DataFrame({"stype": ["E", "H", "M"], "Freq": [4421, 755, 1018]})
    pop_schwide = pd.DataFrame({"sch.wide": ["No", "Yes"], "Freq": [1072, 5122]})
    result = rake(apiclus1, weight="pw", margins={"stype": pop_types, "sch.wide": pop_schwide})
    w = result.weights
    assert result.converged
    assert close(float(np.sum(w * apiclus1["api00"]) / np.sum(w)), 641.23, 2)
    assert close(float(np.sum(w * apiclus1["enroll"])), 3647280, 0)
    assert w.sum() == pytest.approx(6194, rel=1e-9)
    cells = pd.Series(w).groupby([apiclus1["stype"], apiclus1["sch.wide"]])
    assert (cells.max() - cells.min()).max() < 1e-9 * w.max()
    # the raked weights reproduce both margins
    by_type = pd.Series(w).groupby(apiclus1["stype"]).sum()
    assert by_type.to_dict() == pytest.approx({"E": 4421, "H": 755, "M": 1018}, rel=1e-6)
    by_wide = pd.Series(w).groupby(apiclus1["sch.wide"]).sum()
    assert by_wide.to_dict() == pytest.approx({"No": 1072, "Yes": 5122}, rel=1e-6)
