"""Properties of the moment-based estimator against brute-force z-variables (numpy, per row)."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from basismonitor.stats import (
    Z95,
    change_contrasts,
    estimates_from_moments,
    moment_sums,
    survey_estimates,
    survey_totals,
)

# ------------------------------------------------------------------------------------------
# brute force: build z_i for every row, then the stratified variance formula directly
# ------------------------------------------------------------------------------------------


def design_variance(z, strata, n_h, pop_h):
    """Σ_h (1 - f_h) n_h/(n_h - 1) Σ_{i∈h} (z_i - z̄_h)², n_h = ALL rows of the stratum."""
    total = 0.0
    for h in np.unique(strata):
        zh = z[strata == h]
        n = n_h[h]
        assert len(zh) == n
        f = 0.0 if pop_h is None else n / pop_h[h]
        total += (1 - f) * n / (n - 1) * np.sum((zh - zh.mean()) ** 2)
    return total


def brute_force(frame, *, value, weight, domain, stratum=None, population=None, total=False):
    y = frame[value].to_numpy(float)
    w = frame[weight].to_numpy(float)
    ok = ~np.isnan(y)
    y0 = np.where(ok, y, 0.0)
    strata = frame[stratum].to_numpy() if stratum else np.zeros(len(frame), dtype=int)
    n_h = pd.Series(strata).value_counts().to_dict()  # missing values included
    pop_h = None
    if population:
        pop_h = pd.Series(frame[population].to_numpy(), index=strata).groupby(level=0).first()

    def z_of(mask):
        inside = mask & ok
        if total:
            return np.where(inside, w * y0, 0.0), np.sum(w * y0 * inside)
        W = np.sum(w * inside)
        m = np.sum(w * y0 * inside) / W
        return np.where(inside, w * (y0 - m) / W, 0.0), m

    z_t, est_t = z_of(np.ones(len(frame), dtype=bool))
    rows = {"TOTAL": (est_t, np.sqrt(design_variance(z_t, strata, n_h, pop_h)), np.nan)}
    if domain is not None:
        for d in sorted(frame[domain].dropna().unique()):
            z_d, est_d = z_of((frame[domain] == d).to_numpy())
            rows[d] = (
                est_d,
                np.sqrt(design_variance(z_d, strata, n_h, pop_h)),
                np.sqrt(design_variance(z_d - z_t, strata, n_h, pop_h)),
            )
    return rows


# the stratified design of synthetic()'s frame: y by area, strata with their population N
STRATIFIED = {"value": "y", "weight": "w", "domain": "area", "stratum": "stratum", "population": "N"}


def synthetic(seed=1, n=3000, missing=0.15):
    rng = np.random.default_rng(seed)
    stratum = rng.choice(["s1", "s2", "s3", "s4", "s5"], size=n, p=[0.3, 0.25, 0.2, 0.15, 0.1])
    frame = pd.DataFrame(
        {
            "stratum": stratum,
            # areas nest in strata (an area spans one stratum, area a1 spans two: s1 and s2)
            "area": [f"{s}-{k}" for s, k in zip(stratum, rng.integers(0, 4, size=n), strict=True)],
            # a domain that cuts across strata
            "sex": rng.choice(["F", "M", "X"], size=n, p=[0.5, 0.45, 0.05]),
            "w": rng.gamma(2.0, 20.0, size=n) + 1.0,
            "y": rng.normal(50, 15, size=n).round(1),
            "flag": (rng.random(n) < 0.3).astype(float),
        }
    )
    frame.loc[frame["area"].isin(["s1-0", "s2-0"]), "area"] = "spans"
    frame.loc[rng.random(n) < missing, "y"] = np.nan
    sizes = frame.groupby("stratum").size()
    frame["N"] = frame["stratum"].map(sizes * np.array([3, 5, 8, 2, 10])).astype(float)
    return frame


def check(out, expected, *, rel=1e-9):
    got = out.set_index("domain")
    assert set(got.index) == set(expected)
    for key, (est, se, cse) in expected.items():
        assert got.loc[key, "estimate"] == pytest.approx(est, rel=rel), key
        assert got.loc[key, "se"] == pytest.approx(se, rel=1e-7), key
        if key == "TOTAL":
            assert np.isnan(got.loc[key, "contrast"])
            assert not got.loc[key, "significant"]
        else:
            assert got.loc[key, "contrast_se"] == pytest.approx(cse, rel=1e-7), key
            assert got.loc[key, "contrast"] == pytest.approx(est - expected["TOTAL"][0], rel=1e-7)
            assert got.loc[key, "significant"] == (abs(got.loc[key, "contrast"]) / cse > 1.959964)


@pytest.fixture()
def db():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.mark.parametrize("domain", ["area", "sex", "stratum"])
@pytest.mark.parametrize("design", ["stratified_fpc", "stratified", "weights_only"])
def test_matches_brute_force_z_variables(db, domain, design):
    frame = synthetic()
    db.register("frame", frame)
    kw = {
        "stratified_fpc": {"stratum": "stratum", "population": "N"},
        "stratified": {"stratum": "stratum"},
        "weights_only": {},
    }[design]
    out = survey_estimates(db, "frame", value="y", weight="w", domain=domain, **kw)
    check(out, brute_force(frame, value="y", weight="w", domain=domain, **kw))
    totals = survey_totals(db, "frame", value="y", weight="w", domain=domain, **kw)
    check(totals, brute_force(frame, value="y", weight="w", domain=domain, total=True, **kw))


def test_domain_spanning_several_strata(db):
    frame = synthetic(seed=7)
    assert frame.loc[frame["area"] == "spans", "stratum"].nunique() == 2
    db.register("frame", frame)
    out = survey_estimates(db, "frame", **STRATIFIED)
    expected = brute_force(frame, **STRATIFIED)
    check(out, expected)
    # the contrast variance is not the sum of the two variances (the area is part of the city)
    row = out.set_index("domain").loc["spans"]
    independent = np.hypot(row["se"], out.set_index("domain").loc["TOTAL", "se"])
    assert abs(row["contrast_se"] - independent) > 1e-3 * independent


def test_missing_values_count_in_stratum_size(db):
    """R's na.rm=TRUE subsets the design: missing rows still count in n_h (weight-0 rows)."""
    frame = synthetic(seed=3, missing=0.3)
    db.register("frame", frame)
    out = survey_estimates(db, "frame", **STRATIFIED)
    # the same design with the missing rows kept at weight 0 (how R subsets a design)
    zeroed = frame.assign(w=np.where(frame["y"].isna(), 0.0, frame["w"]), y=frame["y"].fillna(0))
    db.register("zeroed", zeroed)
    ref = survey_estimates(db, "zeroed", **STRATIFIED)
    for col in ("estimate", "se", "contrast", "contrast_se", "weighted_n"):
        np.testing.assert_allclose(out[col], ref[col], rtol=1e-9)
    assert (out["n"] < ref["n"]).all()  # n counts respondents with a value only
    # dropping the missing rows instead (n_h without them) gives different SEs
    dropped = frame.dropna(subset=["y"])
    db.register("dropped", dropped)
    other = survey_estimates(db, "dropped", **STRATIFIED)
    assert not np.allclose(out["se"], other["se"], rtol=1e-6)


def test_nan_and_null_are_both_missing(db):
    frame = synthetic(seed=5)
    nulls = frame.assign(y=frame["y"].astype("float64"))
    db.register("nulls", nulls)
    db.execute(
        "CREATE TABLE t AS SELECT * REPLACE (CASE WHEN y IS NULL THEN 'NaN'::DOUBLE "
        "ELSE y END AS y) FROM nulls"
    )
    assert db.execute("SELECT count(*) FROM t WHERE isnan(y)").fetchone()[0] > 0
    with_nan = survey_estimates(db, "t", value="y", weight="w", domain="area")
    with_null = survey_estimates(db, nulls, value="y", weight="w", domain="area")
    pd.testing.assert_frame_equal(with_nan, with_null)


def test_group_by_equals_separate_runs(db):
    frames = [synthetic(seed=s).assign(item=f"q{s}") for s in (11, 12, 13)]
    long = pd.concat(frames, ignore_index=True)
    db.register("long", long)
    out = survey_estimates(
        db,
        "long",
        **STRATIFIED,
        group_by=["item"],
    )
    assert list(out.columns[:2]) == ["item", "domain"]
    for frame in frames:
        item = frame["item"].iloc[0]
        db.register("one", frame)
        single = survey_estimates(db, "one", **STRATIFIED)
        part = out[out["item"] == item].drop(columns="item").reset_index(drop=True)
        pd.testing.assert_frame_equal(part, single, check_dtype=False)


def test_output_shape_and_ci(db):
    frame = synthetic()
    db.register("frame", frame)
    out = survey_estimates(db, "frame", value="flag", weight="w", domain="sex", total_label="Stad")
    assert out["domain"].tolist() == ["F", "M", "X", "Stad"]
    for col in (
        "n",
        "weighted_n",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "contrast",
        "contrast_se",
        "significant",
    ):
        assert col in out.columns
    np.testing.assert_allclose(out["ci_low"], out["estimate"] - Z95 * out["se"])
    np.testing.assert_allclose(out["ci_high"], out["estimate"] + Z95 * out["se"])
    assert abs(Z95 - 1.959964) < 1e-6
    assert out["significant"].dtype == bool
    assert ((out["estimate"] >= 0) & (out["estimate"] <= 1)).all()


def test_relation_kinds_agree(db):
    frame = synthetic()
    db.register("frame", frame)
    by_name = survey_estimates(db, "frame", value="y", weight="w", domain="area")
    by_query = survey_estimates(
        db, "(SELECT * FROM frame WHERE true)", value="y", weight="w", domain="area"
    )
    by_frame = survey_estimates(db, frame, value="y", weight="w", domain="area")
    by_rel = survey_estimates(
        db, db.sql("SELECT * FROM frame"), value="y", weight="w", domain="area"
    )
    for other in (by_query, by_frame, by_rel):
        pd.testing.assert_frame_equal(by_name, other)


def test_moments_roundtrip(db):
    frame = synthetic()
    db.register("frame", frame)
    cells = moment_sums(db, "frame", **STRATIFIED)
    assert cells["n_rows"].sum() == len(frame)
    assert cells["n"].sum() == frame["y"].notna().sum()
    out = estimates_from_moments(cells)
    ref = survey_estimates(db, "frame", **STRATIFIED)
    pd.testing.assert_frame_equal(out, ref)


def test_census_stratum_has_no_variance(db):
    frame = pd.DataFrame(
        {
            "s": ["a"] * 4 + ["b"] * 3,
            "w": [2.0] * 4 + [1.0] * 3,
            "y": [1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 9.0],
        }
    )
    frame["N"] = frame["s"].map({"a": 8, "b": 3})
    db.register("frame", frame)
    out = survey_estimates(
        db, "frame", value="y", weight="w", domain="s", stratum="s", population="N"
    ).set_index("domain")
    assert out.loc["b", "se"] == 0.0
    assert out.loc["a", "se"] > 0
    # every stratum a census: no sampling variance at all, so no contrast is flagged
    frame["N"] = frame["s"].map({"a": 4, "b": 3})
    db.register("census", frame)
    out = survey_estimates(
        db, "census", value="y", weight="w", domain="s", stratum="s", population="N"
    ).set_index("domain")
    assert (out["se"] == 0).all()
    assert (out.loc[["a", "b"], "contrast_se"] == 0).all()
    assert (out.loc[["a", "b"], "contrast"].abs() > 1).all()
    assert not out["significant"].any()


def test_lonely_stratum(db):
    frame = pd.DataFrame(
        {
            "s": ["a", "a", "a", "b"],
            "w": [1.0, 1.0, 1.0, 2.0],
            "y": [1.0, 2.0, 4.0, 3.0],
            "N": [10.0, 10.0, 10.0, 5.0],
        }
    )
    db.register("frame", frame)
    with pytest.raises(ValueError, match="only one sampled row"):
        survey_estimates(
            db, "frame", value="y", weight="w", domain="s", stratum="s", population="N"
        )
    out = survey_estimates(
        db,
        "frame",
        value="y",
        weight="w",
        domain="s",
        stratum="s",
        population="N",
        lonely_psu="certainty",
    ).set_index("domain")
    assert out.loc["b", "se"] == 0.0


def test_input_errors(db):
    frame = synthetic().assign(label="x")
    db.register("frame", frame)
    with pytest.raises(KeyError, match="nope"):
        survey_estimates(db, "frame", value="nope", weight="w", domain="area")
    with pytest.raises(TypeError, match="label"):
        survey_estimates(db, "frame", value="label", weight="w", domain="area")
    small = frame.assign(N=5.0)
    db.register("small", small)
    with pytest.raises(ValueError, match="smaller than"):
        survey_estimates(db, "small", **STRATIFIED)
    bad_w = frame.assign(w=np.where(np.arange(len(frame)) == 3, np.nan, frame["w"]))
    db.register("bad_w", bad_w)
    with pytest.raises(ValueError, match="missing"):
        survey_estimates(db, "bad_w", value="y", weight="w", domain="area")
    varying = frame.assign(N=frame["N"] + np.arange(len(frame)) % 2)
    db.register("varying", varying)
    with pytest.raises(ValueError, match="not constant"):
        survey_estimates(db, "varying", **STRATIFIED)


def test_change_contrasts():
    rng = np.random.default_rng(0)
    db = duckdb.connect()
    tables = []
    for wave in ("base", "current"):
        frame = synthetic(seed=int(rng.integers(1000)))
        frame["item"] = "q1"
        db.register(wave, frame)
        tables.append(
            survey_estimates(
                db,
                wave,
                **STRATIFIED,
                group_by=["item"],
            )
        )
    base, current = tables
    out = change_contrasts(current, base, ["item"])
    merged = current.merge(base, on=["item", "domain"], suffixes=("_c", "_b"))
    assert len(out) == len(merged)
    m = merged.set_index("domain")
    out = out.set_index("domain").loc[m.index]
    np.testing.assert_allclose(out["change"], m["estimate_c"] - m["estimate_b"])
    np.testing.assert_allclose(out["change_se"], np.hypot(m["se_c"], m["se_b"]))
    city = m.loc["TOTAL", "estimate_c"] - m.loc["TOTAL", "estimate_b"]
    areas = out.index != "TOTAL"
    np.testing.assert_allclose(out.loc[areas, "city_change"], city)
    np.testing.assert_allclose(
        out.loc[areas, "contrast"], out.loc[areas, "change"] - city, rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(
        out.loc[areas, "contrast_se"],
        np.hypot(m.loc[areas, "contrast_se_c"], m.loc[areas, "contrast_se_b"]),
    )
    expected_sig = (out.loc[areas, "contrast"].abs() / out.loc[areas, "contrast_se"]) > Z95
    assert (out.loc[areas, "significant"] == expected_sig).all()
    assert np.isnan(out.loc["TOTAL", "contrast"]) and not out.loc["TOTAL", "significant"]


def test_change_contrasts_keeps_unmatched_rows():
    cols = {
        "n": [10, 10],
        "estimate": [1.0, 2.0],
        "se": [0.1, 0.1],
        "contrast": [-1.0, np.nan],
        "contrast_se": [0.1, np.nan],
    }
    base = pd.DataFrame({"domain": ["a", "TOTAL"], **cols})
    current = pd.DataFrame({"domain": ["b", "TOTAL"], **cols})
    out = change_contrasts(current, base).set_index("domain")
    assert set(out.index) == {"a", "b", "TOTAL"}
    assert np.isnan(out.loc["a", "change"]) and np.isnan(out.loc["b", "change"])
    assert out.loc["TOTAL", "change"] == 0.0


def test_fpc_as_sampling_fractions_like_r(db):
    """R's svydesign treats fpc values that are all <= 1 as sampling fractions n_h / N_h."""
    frame = synthetic(seed=9)
    n_h = frame.groupby("stratum")["stratum"].transform("size")
    frame["f"] = n_h / frame["N"]
    db.register("frame", frame)
    kw = {"value": "y", "weight": "w", "domain": "area", "stratum": "stratum"}
    by_size = survey_estimates(db, "frame", population="N", **kw)
    by_fraction = survey_estimates(db, "frame", population="f", **kw)
    pd.testing.assert_frame_equal(by_size, by_fraction, check_exact=False, rtol=1e-12)


def test_equal_values_have_exactly_zero_se(db):
    """An area whose respondents all gave the same answer has no variance: its se is exactly 0,
    not the rounding residue of cancelling the moments (which differed between two builds of the
    same data at national scale: 1.03e-07 against 0.0)."""
    rng = np.random.default_rng(5)
    n = 400
    frame = pd.DataFrame(
        {
            "area": np.repeat(["a", "b", "c"], [3, 200, 197]),
            "w": rng.gamma(2.0, 50.0, size=n) + 1.0,  # unequal weights, as after raking
            "y": np.r_[[7.0, 7.0, 7.0], rng.integers(1, 11, size=n - 3).astype(float)],
        }
    )
    frame["N"] = frame["area"].map({"a": 900.0, "b": 40_000.0, "c": 35_000.0})
    for seed in range(5):  # in any row order (DuckDB's sums are not bit for bit repeatable)
        shuffled = frame.sample(frac=1.0, random_state=seed)
        db.register("frame", shuffled)
        out = survey_estimates(
            db, "frame", value="y", weight="w", domain="area", stratum="area", population="N"
        ).set_index("domain")
        assert out.loc["a", "estimate"] == pytest.approx(7.0, rel=1e-15)
        assert out.loc["a", "se"] == 0.0
        assert out.loc[["b", "c"], "se"].gt(0.01).all()
        expected = brute_force(shuffled, value="y", weight="w", domain="area", stratum="area",
                               population="N")
        assert out.loc["b", "se"] == pytest.approx(expected["b"][1], rel=1e-9)
        assert out.loc["a", "contrast_se"] == pytest.approx(expected["a"][2], rel=1e-9)
