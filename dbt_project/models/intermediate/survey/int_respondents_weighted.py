"""Survey weights: rake respondents within each wave x compass area to the register margins.

Weights start equal within an area (15+ population / respondents) and are raked by iterative
proportional fitting to the area's age-group and sex margins, so they sum to its population.
A respondent without age or sex (a few per wave) keeps the base weight's share on that margin: the
category "onbekend" gets their base-weight total as target and the known categories share the
rest in register proportions. Non-convergence, trimmed weights and margin categories without
respondents are reported per area and wave (columns below, summarised in int_weighting_report),
never silently. The method lives in basismonitor.stats (one implementation for dbt and the CLI).

Incremental per wave: each wave's strata are raked on their own, so a run computes only the waves
that are new or whose inputs changed (int_survey_wave_inputs' fingerprint differs from the one
stored with the wave's rows); the pre-hook delete_stale_waves deletes the old rows of those waves
and of waves that are gone. `basismonitor build --full-refresh` recomputes every wave.
"""

import pandas as pd

UNKNOWN = "onbekend"


def _margin(margins, respondents, var):
    """[stratum, var, population] with an 'onbekend' cell for respondents missing var."""
    known = margins.groupby(["stratum", var], as_index=False)["population"].sum()
    totals = known.groupby("stratum")["population"].sum()
    missing = respondents[respondents[var].isna()]
    unknown = missing.groupby("stratum")["base_weight"].sum()
    if unknown.empty:
        return known
    # a stratum whose register population is 0 (a buurt without inhabitants aged 15+ on a buurt
    # compass, issue 21) has nothing to share out: factor 1, not 0/0 = NaN, which the raking
    # refused as a margin ("population totals must be non-negative numbers")
    share = (totals - unknown.reindex(totals.index).fillna(0.0)) / totals.where(totals > 0)
    factor = share.where(totals > 0, 1.0).rename("factor")
    known = known.join(factor, on="stratum")
    known["population"] = known["population"] * known.pop("factor")
    extra = unknown.rename("population").reset_index()
    extra[var] = UNKNOWN
    return pd.concat([known, extra[["stratum", var, "population"]]], ignore_index=True)


# Column types are explicit: a run that adds one wave must give the types of a full build (pandas
# would type an all-null `dropped` as INTEGER, an empty frame as VARCHAR).
COLUMNS = {
    "wave": "integer",
    "area_code": "varchar",
    "respondent_key": "varchar",
    "area_edition": "integer",
    "gemeente_code": "varchar",
    "age_group": "varchar",
    "sex": "varchar",
    "base_weight": "double",
    "weight": "double",
    "area_population": "double",
    "converged": "boolean",
    "iterations": "bigint",
    "max_rel_error": "double",
    "n_trimmed": "bigint",
    "dropped": "varchar",
    "load_id": "varchar",
    "input_fingerprint": "varchar",
    "built_at": "timestamp",
}


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    from basismonitor.stats import rake
    from basismonitor.transform.dbt_models import typed, waves_to_build

    todo = waves_to_build(dbt, session)
    if todo.empty:
        return typed(session, pd.DataFrame(), COLUMNS)
    waves = ", ".join(str(int(w)) for w in sorted(todo["wave"]))
    # sorted: the float sums of the raking then do not depend on the order DuckDB returns rows in
    respondents = (
        dbt.ref("int_respondents_located")
        .filter(f"wave in ({waves})")
        .order("wave, area_code, respondent_key")
        .df()
    )
    margins = (
        dbt.ref("int_survey_margins")
        .filter(f"wave in ({waves})")
        .order("wave, area_code, age_group, sex")
        .df()
    )
    respondents["stratum"] = respondents["wave"].astype(str) + ":" + respondents["area_code"]
    margins["stratum"] = margins["wave"].astype(str) + ":" + margins["area_code"]

    totals = margins.groupby("stratum", as_index=False)["population"].sum()
    counts = respondents.groupby("stratum").size().rename("n").reset_index()
    base = totals.merge(counts, on="stratum", how="inner")
    base["base_weight"] = base["population"] / base["n"]
    respondents = respondents.merge(
        base[["stratum", "base_weight", "population"]], on="stratum", how="inner"
    ).rename(columns={"population": "area_population"})

    margin_frames = {var: _margin(margins, respondents, var) for var in ("age_group", "sex")}
    frame = respondents.copy()
    for var in margin_frames:
        frame[var] = frame[var].fillna(UNKNOWN)
    result = rake(
        frame,
        weight="base_weight",
        margins=margin_frames,
        by="stratum",
        tol=float(dbt.config.get("rake_tol")),
        max_iter=int(dbt.config.get("rake_max_iter")),
        bounds=(float(dbt.config.get("weight_bound_low")), float(dbt.config.get("weight_bound_high"))),
    )
    respondents["weight"] = result.weights
    # Trimming can keep an area from converging (reported below); the weights then still sum to
    # the area's population, so the total is right even where a margin is off by max_rel_error.
    sums = respondents.groupby("stratum")["weight"].transform("sum")
    respondents["weight"] = respondents["weight"] * respondents["area_population"] / sums
    report = result.report.copy()
    report["dropped"] = (
        report["dropped"].map(lambda cells: "; ".join(map(str, cells)) or None).astype("string")
    )
    respondents = respondents.merge(
        report[["stratum", "converged", "iterations", "max_rel_error", "n_trimmed", "dropped"]],
        on="stratum",
        how="left",
    )
    respondents = respondents.merge(todo, on="wave", how="inner")
    respondents["built_at"] = pd.Timestamp.now("UTC").tz_localize(None)
    return typed(session, respondents, COLUMNS)
