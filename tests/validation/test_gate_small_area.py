"""Model-based buurt figures (issue 21) in the refreshed demo warehouse, and the gate's suite on
them: planted violations fail it."""

from __future__ import annotations

import re

import duckdb
import numpy as np
import pytest

from basismonitor.quality.validation import PERSONAL_COLUMN_PATTERN

TABLE = "intermediate.int_survey_small_area_estimates"


@pytest.fixture(scope="module")
def sae(refreshed):
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        rows = con.sql(f"select * from {TABLE}").df()
        covariates = con.sql(
            "select period, buurt_code, share_65plus, owner_share, log_density "
            "from intermediate.int_buurt_covariates"
        ).df()
        buurten = con.sql(
            "select distinct buurt_code from intermediate.int_buurten_mapped_to_compass_areas "
            "where area_edition = (select area_edition from intermediate.int_area_editions "
            f"where {refreshed.edition} between valid_from and valid_to)"
        ).df()
        settings = con.sql("select * from catalogue.indicator_small_area").df()
        kinds = con.sql("select indicator_code, kind from catalogue.indicators").df()
    return rows, covariates, buurten, settings, kinds


def test_every_buurt_with_covariates_has_model_based_figures(refreshed, sae):
    rows, covariates, buurten, settings, _ = sae
    wave = refreshed.edition
    cov = covariates[covariates["period"] == wave]
    complete = cov.dropna()["buurt_code"]
    expected = set(complete) & set(buurten["buurt_code"])
    assert len(expected) >= 15
    fh = rows[(rows["wave"] == wave) & (rows["estimation_method"] == "fay_herriot")]
    used = set(settings.loc[settings["use_at_buurt"], "indicator_code"])
    fitted = set(fh["indicator_code"])
    assert fitted and fitted <= used
    for code, part in fh.groupby("indicator_code"):
        assert set(part["buurt_code"]) == expected, code
    direct = rows[(rows["wave"] == wave) & (rows["estimation_method"] == "direct")]
    assert (direct["n"] > 0).all()
    # Model-based figures: an MSE, a CV, suppression by CV only, the fit recorded.
    assert (fh["mse"] > 0).all() and fh["cv"].notna().all()
    assert (fh["suppressed"] == ~(fh["cv"] <= fh["max_cv"])).all()
    assert (fh["sigma_u"] >= 0).all() and fh["converged"].notna().all()
    assert (fh["iterations"] >= 1).all() and fh["beta"].str.startswith('{"intercept"').all()
    # Most buurten are under the direct minimum n and suppressed; the model shows more of them.
    assert direct["suppressed"].mean() > fh["suppressed"].mean()


def test_shares_are_published_within_unit_interval(sae):
    rows, *_, kinds = sae
    shares = set(kinds.loc[kinds["kind"] == "survey_share", "indicator_code"])
    fh = rows[(rows["estimation_method"] == "fay_herriot") & rows["indicator_code"].isin(shares)]
    assert len(fh) and (fh["model_scale"] == "arcsine").all()
    assert fh["estimate"].between(0, 1).all()
    assert (fh["ci_low"] >= 0).all() and (fh["ci_high"] <= 1).all()
    assert np.all(fh["ci_low"] <= fh["estimate"]) and np.all(fh["estimate"] <= fh["ci_high"])


def test_no_respondent_level_column(sae):
    rows, *_ = sae
    assert not [c for c in rows.columns if re.fullmatch(PERSONAL_COLUMN_PATTERN, c)]


def test_the_gate_passes_the_refreshed_table(gate, failing):
    result = gate(TABLE)
    assert not failing(result, TABLE), result.failures


@pytest.mark.parametrize(
    ("column", "plant"),
    [
        ("bad__sae_cv_under_threshold_or_suppressed",
         lambda f, i: _set(f, i, cv=0.9, suppressed=False, suppression_reason=None)),
        ("bad__sae_share_within_unit", lambda f, i: _set(f, i, estimate=1.2, ci_high=1.3)),
        ("bad__sae_sigma_u_not_negative", lambda f, i: _set(f, i, sigma_u=-0.1)),
        ("bad__sae_model_figure_has_mse", lambda f, i: _set(f, i, mse=None)),
        ("bad__sae_convergence_recorded", lambda f, i: _set(f, i, converged=None)),
    ],
)
def test_planted_violations_fail_the_gate(gate, table, failing, column, plant):
    frame = table(TABLE)
    candidates = frame.index[(frame["estimation_method"] == "fay_herriot")
                             & (frame["model_scale"] == "arcsine")]
    plant(frame, candidates[0])
    result = gate(TABLE, frames={TABLE: frame})
    assert not result.passed
    [failure] = failing(result, TABLE, column)
    assert failure.unexpected_count == 1


def _set(frame, index, **values) -> None:
    for column, value in values.items():
        frame.loc[index, column] = value
