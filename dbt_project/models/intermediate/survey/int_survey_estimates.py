"""Design-based estimates per wave x survey indicator x compass area, and for the whole city.

Stratified design with strata = compass areas, weights from int_respondents_weighted and the
finite-population correction from the area's 15+ population (R: svydesign(id=~1, strata=~area,
weights=~w, fpc=~population)). Standard errors by Taylor linearisation; the contrast area - city
is tested with its own linearised variance (the area is part of the city). A survey_share's
interval is the logit interval of R's svyciprop(method = "logit", df = Inf), inside [0, 1]; other
kinds get estimate -/+ 1.96 se. The estimator lives in basismonitor.stats; this model only calls it.

Incremental per wave, like int_respondents_weighted: every wave is a design of its own, so a run
estimates only the waves that are new or whose inputs changed (int_survey_wave_inputs), reading
only their rows of the int_survey_responses_scored view (one wave at a time); the pre-hook delete_stale_waves removes
the old rows of those waves and of waves that are gone.
"""

import pandas as pd

COLUMNS = {
    "gemeente_code": "varchar",
    "wave": "integer",
    "indicator_code": "varchar",
    "area_code": "varchar",
    "is_city": "boolean",
    "n": "bigint",
    "weighted_n": "double",
    "estimate": "double",
    "se": "double",
    "ci_low": "double",
    "ci_high": "double",
    "contrast": "double",
    "contrast_se": "double",
    "significant": "boolean",
    "input_fingerprint": "varchar",
    "built_at": "timestamp",
}


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="append")
    from basismonitor.transform.dbt_models import typed, waves_to_build

    todo = waves_to_build(dbt, session)
    if todo.empty:
        return typed(session, pd.DataFrame(), COLUMNS)
    scored = dbt.ref("int_survey_responses_scored")
    # One pass per wave with `wave = w`, which DuckDB pushes through the view's joins down to the
    # answers (a `wave in (...)` list is not pushed there: every wave's answers were scored to
    # estimate one). Every wave is a design of its own, so this is also the cheaper way to build
    # all of them: 9 national waves took 171 s in one pass, one wave 9 s.
    shares = [
        str(r[0])
        for r in dbt.ref("indicators").filter("kind = 'survey_share'").project("indicator_code")
        .fetchall()
    ]
    estimates = pd.concat(
        [_estimate(session, scored, int(wave), shares) for wave in sorted(todo["wave"])],
        ignore_index=True,
    )
    is_city = estimates["domain"] == "__city__"
    estimates["area_code"] = estimates["domain"].where(~is_city, estimates["gemeente_code"])
    estimates["is_city"] = is_city
    estimates = estimates.merge(todo, on="wave", how="inner")
    estimates["built_at"] = pd.Timestamp.now("UTC").tz_localize(None)
    return typed(session, pd.DataFrame(estimates), COLUMNS)


def _estimate(session, scored, wave: int, shares: list[str]):
    """survey_estimates of one wave's scored responses; `shares`: the survey_share indicators."""
    from basismonitor.stats import survey_estimates

    listed = ", ".join("'" + code.replace("'", "''") + "'" for code in shares) or "NULL"
    relation = scored.filter(f"wave = {wave}").project(
        f"*, coalesce(indicator_code in ({listed}), false) as is_share"
    )
    session.register("_bm_scored", relation)  # a temporary view on the relation: no copy
    try:
        return survey_estimates(
            session,
            "_bm_scored",
            value="y",
            weight="weight",
            domain="area_code",
            stratum="area_code",
            population="area_population",
            group_by=["gemeente_code", "wave", "indicator_code", "is_share"],
            proportion="is_share",
            total_label="__city__",
            lonely_psu="certainty",  # a one-respondent area adds no variance; it is suppressed anyway
        )
    finally:
        session.unregister("_bm_scored")
