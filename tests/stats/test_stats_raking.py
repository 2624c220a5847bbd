"""Raking per area: margins matched, weights summing to each area's population, reporting."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from basismonitor.stats import rake

AGES = ["0-17", "18-34", "35-54", "55-74", "75+"]
SEXES = ["F", "M"]


def population_margins(areas, rng):
    rows = []
    for area in areas:
        size = int(rng.integers(300, 3000))
        age_share = rng.dirichlet(np.ones(len(AGES)) * 5)
        ages = np.round(age_share * size)
        ages[-1] = size - ages[:-1].sum()
        female = round(size * rng.uniform(0.45, 0.55))
        rows.append((area, ages, [female, size - female]))
    age = pd.DataFrame(
        [(a, k, v) for a, ages, _ in rows for k, v in zip(AGES, ages, strict=True)],
        columns=["area", "age", "population"],
    )
    sex = pd.DataFrame(
        [(a, k, v) for a, _, sexes in rows for k, v in zip(SEXES, sexes, strict=True)],
        columns=["area", "sex", "population"],
    )
    return age, sex


def sample(areas, per_area, rng):
    n = len(areas) * per_area
    return pd.DataFrame(
        {
            "area": np.repeat(areas, per_area),
            "age": rng.choice(AGES, size=n, p=[0.1, 0.15, 0.25, 0.3, 0.2]),
            "sex": rng.choice(SEXES, size=n, p=[0.55, 0.45]),
            "w0": rng.uniform(0.5, 2.0, size=n),
        }
    )


def weighted(frame, weights, var):
    return pd.Series(weights).groupby([frame["area"].to_numpy(), frame[var].to_numpy()]).sum()


def test_rake_per_area_matches_margins_and_population():
    rng = np.random.default_rng(42)
    areas = np.array([f"BU{i:04d}" for i in range(60)])
    frame = sample(areas, 80, rng)
    age, sex = population_margins(areas, rng)
    result = rake(frame, weight="w0", margins={"age": age, "sex": sex}, by="area")
    report = result.report.set_index("area")
    assert result.converged and report["converged"].all()
    assert (report["max_rel_error"] < 1e-6).all()
    pop = age.groupby("area")["population"].sum()
    sums = pd.Series(result.weights).groupby(frame["area"].to_numpy()).sum()
    np.testing.assert_allclose(sums.loc[pop.index], pop, rtol=1e-6)
    np.testing.assert_allclose(report.loc[pop.index, "weight_sum"], pop, rtol=1e-6)
    for margin, var in ((age, "age"), (sex, "sex")):
        target = margin.set_index(["area", var])["population"]
        got = weighted(frame, result.weights, var).reindex(target.index, fill_value=0.0)
        np.testing.assert_allclose(got, target, rtol=1e-6)
    # raking only rescales cells: weight ratios are constant within area x age x sex
    ratio = pd.Series(result.weights / frame["w0"].to_numpy())
    spread = ratio.groupby([frame["area"], frame["age"], frame["sex"]]).agg(np.ptp)
    assert spread.max() < 1e-9 * ratio.max()
    assert (report["n_dropped"] == 0).all() and (report["n_trimmed"] == 0).all()


def test_unmatched_category_is_dropped_and_reported():
    rng = np.random.default_rng(1)
    areas = np.array(["A", "B", "C"])
    frame = sample(areas, 60, rng)
    frame = frame[~((frame["area"] == "B") & (frame["age"] == "75+"))].reset_index(drop=True)
    age, sex = population_margins(areas, rng)
    result = rake(frame, weight="w0", margins={"age": age, "sex": sex}, by="area")
    report = result.report.set_index("area")
    assert report.loc["B", "dropped"] == ["age=75+"]
    assert report.loc["B", "n_dropped"] == 1
    assert report.loc["A", "dropped"] == [] and report.loc["C", "n_dropped"] == 0
    assert report["converged"].all()
    pop = sex.groupby("area")["population"].sum()
    sums = pd.Series(result.weights).groupby(frame["area"].to_numpy()).sum()
    np.testing.assert_allclose(sums.loc[pop.index], pop, rtol=1e-6)  # still the full population
    # the remaining age cells of B are scaled up together; sex is matched exactly
    got_sex = weighted(frame, result.weights, "sex").loc["B"]
    np.testing.assert_allclose(
        got_sex.loc[SEXES],
        sex.set_index(["area", "sex"]).loc["B"]["population"].loc[SEXES],
        rtol=1e-6,
    )


def test_bounds_trim_weights_and_count_them():
    rng = np.random.default_rng(5)
    areas = np.array(["A", "B"])
    frame = sample(areas, 400, rng)
    age, sex = population_margins(areas, rng)
    # 10% young respondents for 35% young inhabitants: their weights are ~3.5 x the mean
    size = age.groupby("area")["population"].transform("sum")
    young = age["age"] == "0-17"
    rest = age["population"].where(~young).groupby(age["area"]).transform("sum")
    age["population"] = np.where(young, 0.35 * size, age["population"] / rest * 0.65 * size)
    margins = {"age": age, "sex": sex}
    free = rake(frame, weight="w0", margins=margins, by="area")
    bounded = rake(frame, weight="w0", margins=margins, by="area", bounds=(0.1, 5.0))
    assert free.converged and bounded.converged
    rep = bounded.report.set_index("area")
    assert (rep["n_trimmed"] > 0).all()
    assert (free.report["n_trimmed"] == 0).all()
    mean = (rep["population"] / rep["n"]).loc[frame["area"]].to_numpy()
    assert (free.weights / mean).max() > 5.0  # unbounded raking exceeds the bound ...
    ratio = bounded.weights / mean  # ... bounded raking stays within it (to tolerance)
    assert ratio.max() <= 5.0 * (1 + 1e-5) and ratio.min() >= 0.1 * (1 - 1e-5)
    for margin, var in ((age, "age"), (sex, "sex")):  # and still matches the margins
        target = margin.set_index(["area", var])["population"]
        got = weighted(frame, bounded.weights, var).reindex(target.index, fill_value=0.0)
        np.testing.assert_allclose(got, target, rtol=1e-5)


def test_non_convergence_is_reported_not_raised():
    rng = np.random.default_rng(2)
    frame = sample(np.array(["A"]), 100, rng)
    age, sex = population_margins(np.array(["A"]), rng)
    sex["population"] *= 1.2  # inconsistent totals: IPF cannot satisfy both margins
    result = rake(frame, weight="w0", margins={"age": age, "sex": sex}, by="area", max_iter=20)
    assert not result.converged
    row = result.report.iloc[0]
    assert not row["converged"] and row["iterations"] == 20 and row["max_rel_error"] > 0.01


def test_margins_as_mappings_without_by():
    frame = pd.DataFrame(
        {
            "sex": ["F", "F", "M", "M", "M"],
            "age": ["y", "o", "y", "o", "o"],
            "w": [1.0, 1.0, 1.0, 1.0, 1.0],
        }
    )
    result = rake(
        frame, weight="w", margins={"sex": {"F": 60, "M": 40}, "age": pd.Series({"y": 30, "o": 70})}
    )
    w = pd.Series(result.weights)
    assert w.groupby(frame["sex"]).sum().to_dict() == pytest.approx({"F": 60, "M": 40})
    assert w.groupby(frame["age"]).sum().to_dict() == pytest.approx({"y": 30, "o": 70})
    assert "area" not in result.report.columns and len(result.report) == 1


def test_errors():
    frame = pd.DataFrame({"sex": ["F", "M", "X"], "w": [1.0, 1.0, 1.0]})
    with pytest.raises(ValueError, match="without a population total"):
        rake(frame, weight="w", margins={"sex": {"F": 50, "M": 50}})
    with pytest.raises(KeyError, match="nope"):
        rake(frame, weight="w", margins={"nope": {"F": 50}})
    with pytest.raises(ValueError, match="weight"):
        rake(
            frame.assign(w=[1.0, np.nan, 1.0]),
            weight="w",
            margins={"sex": {"F": 1, "M": 1, "X": 1}},
        )
    with pytest.raises(TypeError, match="DataFrame"):
        rake(
            frame.assign(area="A"), weight="w", margins={"sex": {"F": 1, "M": 1, "X": 1}}, by="area"
        )


def test_rake_scales_to_national_size():
    """150,000 respondents in 14,500 areas, two margins, vectorised over all areas at once."""
    rng = np.random.default_rng(0)
    n_areas, n = 14_500, 150_000
    area = rng.integers(0, n_areas, size=n)
    frame = pd.DataFrame(
        {
            "area": area,
            "age": rng.integers(0, 5, size=n),
            "sex": rng.integers(0, 2, size=n),
            "w0": np.ones(n),
        }
    )
    pop_size = rng.integers(200, 2000, size=n_areas).astype(float)
    age = pd.DataFrame(
        {
            "area": np.repeat(np.arange(n_areas), 5),
            "age": np.tile(np.arange(5), n_areas),
            "population": np.repeat(pop_size / 5, 5),
        }
    )
    sex = pd.DataFrame(
        {
            "area": np.repeat(np.arange(n_areas), 2),
            "sex": np.tile([0, 1], n_areas),
            "population": np.repeat(pop_size / 2, 2),
        }
    )
    start = time.perf_counter()
    result = rake(frame, weight="w0", margins={"age": age, "sex": sex}, by="area")
    elapsed = time.perf_counter() - start
    assert elapsed < 10.0
    rep = result.report
    present = np.isin(np.arange(n_areas), area)
    assert len(rep) == present.sum()
    sums = pd.Series(result.weights).groupby(area).sum()
    np.testing.assert_allclose(sums.to_numpy(), pop_size[sums.index], rtol=1e-5)
    # ~10 respondents for 5 x 2 cells: many areas miss a category (dropped and reported) and
    # some have no positive solution; those are reported as not converged, never raised
    assert (rep["n_dropped"] > 0).any()
    assert rep["converged"].any()
    assert ((rep["max_rel_error"] < 1e-6) == rep["converged"]).all()
    assert (rep.loc[~rep["converged"], "iterations"] == 100).all()
