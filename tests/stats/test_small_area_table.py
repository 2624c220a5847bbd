"""basismonitor.stats.small_area.small_area_table: the rows the warehouse model stores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from basismonitor.stats.small_area import OUTPUT_COLUMNS, small_area_table


@pytest.fixture()
def inputs():
    rng = np.random.default_rng(3)
    m = 40
    buurt = [f"BU{i:03d}" for i in range(m)]
    wijk = [f"WK{i // 5}" for i in range(m)]
    x = rng.uniform(0, 1, m)
    n = rng.integers(0, 30, m)
    n[:3] = 0
    p_true = 1 / (1 + np.exp(-(-1 + 2 * x)))
    share = np.where(n > 0, rng.binomial(np.maximum(n, 1), p_true) / np.maximum(n, 1), np.nan)
    mean = 6 + 2 * x + rng.normal(0, 0.3, m)
    se_mean = 1.5 / np.sqrt(np.maximum(n, 1))
    direct = pd.concat([
        pd.DataFrame({"wave": 2024, "indicator_code": "onveilig", "buurt_code": buurt, "n": n,
                      "estimate": share, "se": np.sqrt(share * (1 - share) / np.maximum(n, 1)),
                      "deff": 1.2}),
        pd.DataFrame({"wave": 2024, "indicator_code": "cijfer", "buurt_code": buurt, "n": n,
                      "estimate": mean + rng.normal(0, 1, m) * se_mean, "se": se_mean,
                      "deff": 1.2}),
    ])
    direct = direct[direct["n"] > 0]
    buurten = pd.DataFrame({"wave": 2024, "gemeente_code": "GM01", "area_code": wijk,
                            "buurt_code": buurt})
    cov = pd.DataFrame({"wave": 2024, "buurt_code": buurt, "inhabitants": 1000.0, "x": x,
                        "z": rng.normal(size=m)})
    cov.loc[5, "z"] = np.nan  # a buurt without a covariate figure
    settings = pd.DataFrame({
        "indicator_code": ["onveilig", "cijfer"], "kind": ["survey_share", "survey_mean"],
        "min_n": [50, 50], "use_at_buurt": [True, True], "covariates": ["x|z", "x"],
        "method": ["reml", "ml"], "max_cv": [0.3, 0.3],
    })
    wijk_direct = pd.DataFrame({"wave": 2024, "indicator_code": "onveilig",
                                "area_code": [f"WK{i}" for i in range(8)], "estimate": 0.5,
                                "se": 0.05})
    return direct, buurten, cov, settings, wijk_direct


def test_rows(inputs):
    direct, buurten, cov, settings, wijk = inputs
    table = small_area_table(direct, buurten, cov, settings, wijk)
    assert list(table.columns) == list(OUTPUT_COLUMNS)
    fh = table[table["estimation_method"] == "fay_herriot"]
    dr = table[table["estimation_method"] == "direct"]
    share = fh[fh["indicator_code"] == "onveilig"]
    # Every buurt with all its covariates gets a model-based figure; BU005 lacks z.
    assert sorted(share["buurt_code"]) == [f"BU{i:03d}" for i in range(40) if i != 5]
    assert len(fh[fh["indicator_code"] == "cijfer"]) == 40
    assert (share["estimate"].between(0, 1)).all()
    assert (share["model_scale"] == "arcsine").all()
    assert (fh["mse"] > 0).all() and (fh["sigma_u"] >= 0).all() and fh["converged"].all()
    assert fh["fit_algorithm"].isin(["fisher_scoring", "bounded_maximisation"]).all()
    # No respondents: synthetic, no direct row.
    assert set(fh.loc[fh["n"] == 0, "prediction"]) == {"synthetic"}
    assert not dr["buurt_code"].isin(["BU000", "BU001", "BU002"]).any()
    # Suppression: direct by n, model-based by CV.
    assert (dr["suppressed"] == (dr["n"] < 50)).all()
    assert (fh["suppressed"] == ~(fh["cv"] <= 0.3)).all()
    assert set(fh.loc[fh["suppressed"], "suppression_reason"]) <= {"cv > 0.3"}
    assert json.loads(share["beta"].iloc[0]).keys() == {"intercept", "x", "z"}
    assert (fh.loc[fh["indicator_code"] == "cijfer", "fit_method"] == "ml").all()
    assert share["wijk_benchmark_z"].notna().all()
    assert fh.loc[fh["indicator_code"] == "cijfer", "wijk_benchmark_z"].isna().all()


def test_indicator_not_used_at_buurt_has_direct_rows_only(inputs):
    direct, buurten, cov, settings, wijk = inputs
    settings.loc[0, "use_at_buurt"] = False
    table = small_area_table(direct, buurten, cov, settings, wijk)
    share = table[table["indicator_code"] == "onveilig"]
    assert set(share["estimation_method"]) == {"direct"}
