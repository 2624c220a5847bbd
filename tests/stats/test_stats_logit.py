"""The logit interval of a proportion, as R's ``svyciprop(method = "logit")`` (issue 19.1).

The reference folder has R's published mean and SE of a proportion but no ``svyciprop`` output.
Two kinds of check: R's own ``svyciprop`` output on the same api data (``R_SVYCIPROP``: printed by
``Rscript tests/stats/r/svyciprop_logit.R`` with survey 4.1.1, Debian's r-cran-survey), and R's
formula (``svycontrast`` of ``log(p / (1 - p))``, ``confint`` with ``df``, ``expit``) applied to
R's published mean and SE, written out here independently of the estimator's code.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest

from basismonitor.stats import (
    estimates_from_moments,
    logit_interval,
    moment_sums,
    survey_estimates,
)
from basismonitor.stats.cli import main

pytestmark = pytest.mark.shared

IMPROVED = "(SELECT *, CAST(api00 - api99 > 50 AS INTEGER) AS improved FROM apistrat)"
SCH_WIDE = "(SELECT *, CAST(\"sch.wide\" = 'Yes' AS INTEGER) AS yes FROM apistrat)"
# R's svyciprop(..., method = "logit"): estimate, lower, upper (tests/stats/r/svyciprop_logit.R)
R_SVYCIPROP = {
    "dstrat_schwide_default_df": (0.8279480110, 0.7745396544, 0.8708148545),
    "dstrat_schwide_df_inf": (0.8279480110, 0.7749010103, 0.8705817557),
    "wonly_improved_default_df": (0.2938488838, 0.2275226205, 0.3702430686),
    "wonly_improved_df_inf": (0.2938488838, 0.2278922222, 0.3697531586),
    "dstrat_schwide_E": (0.9100000000, 0.8354459442, 0.9526888940),
    "dstrat_schwide_H": (0.5200000000, 0.3833795166, 0.6536933598),
    "dstrat_schwide_M": (0.7000000000, 0.5588291506, 0.8112547870),
    "small_default_df": (0.1250000000, 0.0094866494, 0.6805971829),
}
# R: qt(0.975, 199), qt(0.975, 197) (printed with 7 significant digits)
QT_199 = 1.971957
QT_197 = 1.972079


def r_logit_ci(p: float, se: float, q: float) -> tuple[float, float]:
    """R's svyciprop(method = "logit") from a mean and its SE, written out by hand."""
    eta = math.log(p / (1 - p))
    se_eta = se / (p * (1 - p))  # the derivative of log(p/(1-p)) is 1/(p(1-p))
    expit = lambda x: math.exp(x) / (1 + math.exp(x))  # noqa: E731
    return expit(eta - q * se_eta), expit(eta + q * se_eta)


def total_row(frame: pd.DataFrame) -> pd.Series:
    return frame[frame["domain"] == "TOTAL"].iloc[0]


def test_logit_interval_from_r_published_mean_and_se(con):
    # svymean(~I(api00 - api99 > 50), wonly): 0.2938489 SE 0.0363651 (published);
    # svyciprop(~I(api00 - api99 > 50), wonly, method = "logit", df = Inf) from them:
    low, high = r_logit_ci(0.2938489, 0.0363651, NormalDist().inv_cdf(0.975))
    row = total_row(
        survey_estimates(con, IMPROVED, value="improved", weight="pw", domain=None, proportion=True)
    )
    assert row["ci_low"] == pytest.approx(low, abs=2e-7)
    assert row["ci_high"] == pytest.approx(high, abs=2e-7)
    # it is not the Wald interval, and it is asymmetric around p (wider towards 0.5)
    assert row["ci_low"] > 0.2938489 - 1.96 * 0.0363651
    assert row["ci_high"] - row["estimate"] > row["estimate"] - row["ci_low"]


def test_logit_interval_with_design_df_is_svyciprop_default(con):
    # svyciprop's default df = degf(wonly) = 200 - 1
    low, high = r_logit_ci(0.2938489, 0.0363651, QT_199)
    row = total_row(
        survey_estimates(
            con, IMPROVED, value="improved", weight="pw", domain=None, proportion=True,
            df="design",
        )
    )
    assert row["ci_low"] == pytest.approx(low, abs=5e-7)
    assert row["ci_high"] == pytest.approx(high, abs=5e-7)
    # a fixed df gives the same
    fixed = total_row(
        survey_estimates(
            con, IMPROVED, value="improved", weight="pw", domain=None, proportion=True, df=199
        )
    )
    assert fixed["ci_low"] == pytest.approx(row["ci_low"], rel=1e-12)


def r_close(row, name: str) -> None:
    """The estimator's row equals R's printed svyciprop figures (10 decimals)."""
    estimate, low, high = R_SVYCIPROP[name]
    assert row["estimate"] == pytest.approx(estimate, abs=1e-9), name
    assert row["ci_low"] == pytest.approx(low, abs=1e-9), name
    assert row["ci_high"] == pytest.approx(high, abs=1e-9), name


@pytest.mark.parametrize(("df", "suffix"), [("design", "default_df"), (None, "df_inf")])
def test_equals_r_svyciprop_on_the_api_data(con, df, suffix):
    # svyciprop(~I(sch.wide == "Yes"), dstrat, method = "logit"[, df = Inf])
    stratified = survey_estimates(
        con, SCH_WIDE, value="yes", weight="pw", domain=None, stratum="stype",
        population="fpc", proportion=True, df=df,
    )
    r_close(total_row(stratified), f"dstrat_schwide_{suffix}")
    # svyciprop(~I(api00 - api99 > 50), wonly, method = "logit"[, df = Inf])
    weights_only = survey_estimates(
        con, IMPROVED, value="improved", weight="pw", domain=None, proportion=True, df=df
    )
    r_close(total_row(weights_only), f"wonly_improved_{suffix}")


def test_equals_r_svyby_svyciprop_per_stratum(con):
    # svyby(~I(sch.wide == "Yes"), ~stype, dstrat, svyciprop, method = "logit", vartype = "ci"):
    # each stratum's interval uses its own subset's degf (E: 100 - 1, H and M: 50 - 1)
    out = survey_estimates(
        con, SCH_WIDE, value="yes", weight="pw", domain="stype", stratum="stype",
        population="fpc", proportion=True, df="design",
    ).set_index("domain")
    for stype in ("E", "H", "M"):
        r_close(out.loc[stype], f"dstrat_schwide_{stype}")
    r_close(out.loc["TOTAL"], "dstrat_schwide_default_df")


def test_equals_r_on_a_small_sample():
    import duckdb

    # one yes in eight: the Wald interval goes below 0, R's logit interval does not
    frame = pd.DataFrame({"y": [1, 0, 0, 0, 0, 0, 0, 0], "w": [1.0] * 8})
    con = duckdb.connect()
    row = total_row(
        survey_estimates(con, frame, value="y", weight="w", domain=None, proportion=True,
                         df="design")
    )
    r_close(row, "small_default_df")
    wald = total_row(survey_estimates(con, frame, value="y", weight="w", domain=None))
    assert wald["ci_low"] < 0 < row["ci_low"]


def test_stratified_sch_wide_per_stratum(con):
    # svyciprop(~I(sch.wide == "Yes"), dstrat, method = "logit") and per stratum with svyby;
    # degf(dstrat) = 200 - 3 strata = 197
    out = survey_estimates(
        con, SCH_WIDE, value="yes", weight="pw", domain="stype", stratum="stype",
        population="fpc", proportion=True, df=197,
    )
    assert out["domain"].tolist() == ["E", "H", "M", "TOTAL"]
    for row in out.itertuples():
        assert 0 < row.estimate < 1
        low, high = r_logit_ci(row.estimate, row.se, QT_197)
        assert row.ci_low == pytest.approx(low, abs=5e-7)
        assert row.ci_high == pytest.approx(high, abs=5e-7)
        assert 0 < row.ci_low < row.estimate < row.ci_high < 1
    # the means themselves are R's (stratum means of a 0/1 variable: plain weighted shares)
    frame = con.execute(f"SELECT stype, yes, pw FROM {SCH_WIDE}").df()
    share = frame.groupby("stype").apply(lambda g: np.average(g["yes"], weights=g["pw"]))
    assert out.set_index("domain").loc[["E", "H", "M"], "estimate"].to_numpy() == pytest.approx(
        share.to_numpy(), rel=1e-12
    )


def test_small_sample_interval_stays_in_unit_range():
    # four respondents, a share of 0.5: the Wald interval crosses 0 and 1, the logit one cannot
    frame = pd.DataFrame({"y": [1, 0, 1, 0], "w": [1.0, 1.0, 1.0, 1.0], "a": ["X"] * 4})
    import duckdb

    con = duckdb.connect()
    wald = total_row(survey_estimates(con, frame, value="y", weight="w", domain=None))
    logit = total_row(
        survey_estimates(con, frame, value="y", weight="w", domain=None, proportion=True)
    )
    assert wald["ci_low"] < 0 and wald["ci_high"] > 1
    assert 0 < logit["ci_low"] < 0.5 < logit["ci_high"] < 1
    assert logit["se"] == wald["se"] and logit["estimate"] == wald["estimate"]


def test_zero_and_one_shares_and_missing():
    low, high = logit_interval(
        np.array([0.0, 1.0, np.nan, 0.3]), np.array([0.0, 0.0, 0.1, np.nan])
    )
    assert low[:2].tolist() == [0.0, 1.0] and high[:2].tolist() == [0.0, 1.0]
    assert np.isnan(low[2:]).all() and np.isnan(high[2:]).all()


def test_proportion_per_group_column():
    import duckdb

    frame = pd.DataFrame(
        {
            "item": ["share"] * 4 + ["score"] * 4,
            "is_share": [True] * 4 + [False] * 4,
            "y": [1, 0, 1, 1, 7, 3, 9, 8],
            "w": [1.0, 2.0, 1.0, 1.0, 1.0, 2.0, 1.0, 1.0],
        }
    )
    con = duckdb.connect()
    out = survey_estimates(
        con, frame, value="y", weight="w", domain=None, group_by=["item", "is_share"],
        proportion="is_share",
    ).set_index("item")
    share, score = out.loc["share"], out.loc["score"]
    z = NormalDist().inv_cdf(0.975)
    assert (share["ci_low"], share["ci_high"]) == pytest.approx(
        r_logit_ci(share["estimate"], share["se"], z), abs=1e-12
    )
    assert score["ci_low"] == pytest.approx(score["estimate"] - z * score["se"], abs=1e-12)
    # a value other than 0/1 in a proportion's group is an error naming the column
    frame.loc[0, "y"] = 2
    with pytest.raises(ValueError, match="'y'.*0 or 1.*is_share"):
        survey_estimates(
            con, frame, value="y", weight="w", domain=None, group_by=["item", "is_share"],
            proportion="is_share",
        )
    with pytest.raises(ValueError, match="totals"):
        estimates_from_moments(
            moment_sums(con, frame, value="y", weight="w", domain=None), statistic="total",
            proportion=True,
        )
    with pytest.raises(ValueError, match="group_by"):
        survey_estimates(con, frame, value="y", weight="w", domain=None, proportion="nope")


def test_cli_proportion_gets_logit_interval(tmp_path, capsys):
    data = tmp_path / "resp.csv"
    # the small sample shape: a share near 0.5 from a handful of respondents
    data.write_text("area,w,y\nA,1,1\nA,1,0\nA,1,1\nB,1,0\nB,1,1\nB,1,0\nB,1,0\n")
    out = tmp_path / "out.csv"
    base = [str(data), "--value", "y", "--weight", "w", "--area", "area", "--out", str(out)]
    assert main(base) == 0
    got = pd.read_csv(out)
    assert (got["ci_low"] >= 0).all() and (got["ci_high"] <= 1).all()
    z = NormalDist().inv_cdf(0.975)
    for row in got.itertuples():
        assert (row.ci_low, row.ci_high) == pytest.approx(
            r_logit_ci(row.estimate, row.se, z), abs=1e-9
        )
    assert main([*base, "--ci", "wald"]) == 0
    wald = pd.read_csv(out)
    assert (wald["ci_low"] < 0).any()
    # a non-0/1 value: auto falls back to wald, logit is refused with the column named
    data.write_text("area,w,y\nA,1,2\nA,1,0\nB,1,1\nB,1,0\n")
    assert main(base) == 0
    assert main([*base, "--ci", "logit"]) == 2
    assert "'y' (--value) has 1 values other than 0 and 1" in capsys.readouterr().err
