"""Design-based estimates per wave x survey indicator x compass area, and for the whole city.

Stratified design with strata = compass areas, weights from int_respondents_weighted and the
finite-population correction from the area's 15+ population (R: svydesign(id=~1, strata=~area,
weights=~w, fpc=~population)). Standard errors by Taylor linearisation; the contrast area - city
is tested with its own linearised variance (the area is part of the city). The estimator lives in
basismonitor.stats; this model only calls it.
"""

import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    from basismonitor.stats import survey_estimates

    scored = dbt.ref("int_survey_responses_scored")
    session.register("_bm_scored", scored)  # a temporary view on the relation: no copy
    try:
        estimates = survey_estimates(
            session,
            "_bm_scored",
            value="y",
            weight="weight",
            domain="area_code",
            stratum="area_code",
            population="area_population",
            group_by=["gemeente_code", "wave", "indicator_code"],
            total_label="__city__",
            lonely_psu="certainty",  # a one-respondent area adds no variance; it is suppressed anyway
        )
    finally:
        session.unregister("_bm_scored")
    is_city = estimates["domain"] == "__city__"
    estimates["area_code"] = estimates["domain"].where(~is_city, estimates["gemeente_code"])
    estimates["is_city"] = is_city
    columns = [
        "gemeente_code",
        "wave",
        "indicator_code",
        "area_code",
        "is_city",
        "n",
        "weighted_n",
        "estimate",
        "se",
        "ci_low",
        "ci_high",
        "contrast",
        "contrast_se",
        "significant",
    ]
    return pd.DataFrame(estimates[columns])
