"""``basismonitor estimate --model fay-herriot``: a generated respondent file with known area
means, its covariates file, and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from basismonitor.stats.cli import main
from basismonitor.stats.fay_herriot import fit_fay_herriot

COLUMNS = ["area", "n", "direct", "direct_se", "estimate", "mse", "method", "ci_low", "ci_high",
           "cv"]


@pytest.fixture()
def survey(tmp_path):
    """60 areas (codes with leading zeros), area mean = 2 + 3 x + u; areas 0058 and 0059 are in the
    covariates file only (no respondents)."""
    rng = np.random.default_rng(7)
    areas = [f"{i:04d}" for i in range(60)]
    x = rng.uniform(0, 1, size=60)
    share = 1 / (1 + np.exp(-(-1.0 + 2.0 * x + rng.normal(scale=0.2, size=60))))
    mean = 2 + 3 * x + rng.normal(scale=0.3, size=60)
    rows = []
    for i, area in enumerate(areas[:58]):
        n = int(rng.integers(2, 40))
        rows.append(
            pd.DataFrame(
                {
                    "buurt": area,
                    "score": mean[i] + rng.normal(scale=1.5, size=n),
                    "smoker": rng.binomial(1, share[i], size=n),
                    "w": rng.uniform(0.5, 2.0, size=n),
                }
            )
        )
    resp = tmp_path / "resp.csv"
    pd.concat(rows).to_csv(resp, index=False)
    cov = tmp_path / "cov.csv"
    pd.DataFrame({"area": areas, "x": x}).to_csv(cov, index=False)
    return resp, cov, mean, share


def run(resp, cov, tmp_path, *extra: str, value: str = "score") -> tuple[int, pd.DataFrame | None]:
    out = tmp_path / "fh.csv"
    code = main([str(resp), "--value", value, "--weight", "w", "--area", "buurt", "--model",
                 "fay-herriot", "--covariates", str(cov), "--out", str(out), *extra])
    return code, (pd.read_csv(out, dtype={"area": str}) if code == 0 else None)


@pytest.mark.parametrize("method", ["reml", "ml", "fh"])
def test_fay_herriot_output(survey, tmp_path, method):
    resp, cov, mean, _ = survey
    code, res = run(resp, cov, tmp_path, "--method", method)
    assert code == 0
    assert list(res.columns) == COLUMNS
    assert res["area"].tolist() == [f"{i:04d}" for i in range(60)]
    assert res["method"].tolist() == ["eblup"] * 58 + ["synthetic"] * 2
    # No respondents: n 0, no direct figure, but an estimate and an MSE.
    tail = res.iloc[58:]
    assert (tail["n"] == 0).all() and tail["direct"].isna().all()
    assert tail["direct_se"].isna().all()
    assert tail["estimate"].notna().all() and (tail["mse"] > 0).all()
    # The direct columns are the design-based estimator's own output.
    code = main([str(resp), "--value", "score", "--weight", "w", "--area", "buurt", "--out",
                 str(tmp_path / "direct.csv")])
    direct = pd.read_csv(tmp_path / "direct.csv", dtype={"area": str}).set_index("area")
    head = res.iloc[:58].set_index("area")
    np.testing.assert_allclose(head["direct"], direct.loc[head.index, "estimate"], rtol=1e-12)
    np.testing.assert_allclose(head["direct_se"], direct.loc[head.index, "se"], rtol=1e-12)
    # The estimates are the library's fit on those direct figures.
    covs = pd.read_csv(cov, dtype={"area": str})
    xmat = np.column_stack([np.ones(60), covs["x"]])
    y = res["direct"].to_numpy()
    fit = fit_fay_herriot(y, res["direct_se"].to_numpy() ** 2, xmat, method=method)
    np.testing.assert_allclose(res["estimate"], fit.estimate, rtol=1e-10)
    np.testing.assert_allclose(res["mse"], fit.mse, rtol=1e-10)
    # Model-based estimates are closer to the true area means than the direct ones.
    err_fh = np.mean((head["estimate"] - mean[:58]) ** 2)
    err_direct = np.mean((head["direct"] - mean[:58]) ** 2)
    assert err_fh < err_direct
    assert (head["mse"] < head["direct_se"] ** 2).mean() > 0.9


def test_shares_on_arcsine_scale(survey, tmp_path, capsys):
    resp, cov, _, share = survey
    code, res = run(resp, cov, tmp_path, value="smoker")
    assert code == 0
    assert "arcsine scale" in capsys.readouterr().err
    assert res["estimate"].between(0, 1).all()
    assert (res["ci_low"] >= 0).all() and (res["ci_high"] <= 1).all()
    assert (res["ci_low"] <= res["estimate"]).all() and (res["estimate"] <= res["ci_high"]).all()
    assert res["mse"].notna().all()
    # An area whose direct share is 0 or 1 still gets shrunk (its variance is deff / 4n).
    edge = res[res["direct"].isin([0.0, 1.0])]
    assert len(edge) and (edge["estimate"] != edge["direct"]).all()
    code, _ = run(resp, cov, tmp_path, "--scale", "arcsine")
    assert code == 2


def test_missing_covariate_row_is_named(survey, tmp_path, capsys):
    resp, cov, *_ = survey
    covs = pd.read_csv(cov, dtype={"area": str})
    covs[covs["area"] != "0007"].to_csv(cov, index=False)
    code, _ = run(resp, cov, tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert str(cov) in err and "no covariate row for 1 area(s)" in err and "0007" in err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f.rename(columns={"area": "buurt"}), "column 'area' not found"),
        (lambda f: f.assign(x=f["x"].astype(str).where(f.index != 4, "n/a")),
         "column 'x' row 6 (area 0004): 'n/a' is not a number"),
        (lambda f: f.assign(x=f["x"].astype(str).where(f.index != 9, "")),
         "column 'x' row 11 (area 0009)"),
        (lambda f: pd.concat([f, f.iloc[[3]]]), "column 'area' has duplicates: 0003"),
        (lambda f: f.assign(x2=2 * f["x"]), "collinear"),
    ],
)
def test_bad_covariates_file(survey, tmp_path, capsys, edit, message):
    resp, cov, *_ = survey
    edit(pd.read_csv(cov, dtype={"area": str})).to_csv(cov, index=False)
    code, _ = run(resp, cov, tmp_path)
    err = capsys.readouterr().err
    assert code == 2
    assert str(cov) in err and message in err
    assert not (tmp_path / "fh.csv").exists()


def test_fay_herriot_needs_covariates(survey, tmp_path, capsys):
    resp, cov, *_ = survey
    args = [str(resp), "--value", "score", "--weight", "w", "--area", "buurt"]
    assert main([*args, "--model", "fay-herriot"]) == 2
    assert "--model fay-herriot needs --covariates FILE" in capsys.readouterr().err
    assert main([*args, "--covariates", str(cov)]) == 2
    assert "--covariates is for --model fay-herriot" in capsys.readouterr().err
    assert main([*args, "--model", "fay-herriot", "--covariates", str(tmp_path / "no.csv")]) == 2
    assert "covariates file not found" in capsys.readouterr().err


def test_with_population_and_parquet(survey, tmp_path):
    resp, cov, mean, _ = survey
    frame = pd.read_csv(resp, dtype={"buurt": str})
    parquet = tmp_path / "resp.parquet"
    frame.to_parquet(parquet)
    pop = tmp_path / "pop.csv"
    counts = frame.groupby("buurt").size()
    pd.DataFrame({"area": counts.index, "population": counts.to_numpy() * 20}).to_csv(pop, index=False)
    code, res = run(parquet, cov, tmp_path, "--population", str(pop), "--method", "fh")
    assert code == 0
    direct_out = tmp_path / "direct.csv"
    assert main([str(parquet), "--value", "score", "--weight", "w", "--area", "buurt",
                 "--population", str(pop), "--out", str(direct_out)]) == 0
    direct = pd.read_csv(direct_out, dtype={"area": str}).set_index("area")
    head = res[res["n"] > 0].set_index("area")
    # fpc: the direct SEs are the stratified ones, smaller than without --population.
    np.testing.assert_allclose(head["direct_se"], direct.loc[head.index, "se"], rtol=1e-12)
    assert res["estimate"].notna().all() and (res["mse"] > 0).all()
