"""Buurt figures of the survey indicators, direct and model-based (Fay-Herriot), per wave.

Direct buurt estimates as int_survey_estimates computes the compass areas' (the same design:
strata = compass areas with their fpc, weights from int_respondents_weighted; buurten are domains
within them), then per wave x indicator one Fay-Herriot fit on the buurt covariates the
indicator_small_area seed lists (basismonitor.stats.small_area). Rows: estimation_method direct
(buurten with respondents) and fay_herriot (every buurt with all covariates: the EBLUP, or the
synthetic prediction where it has no respondents), with MSE, CV, suppression and the fit.

A table rebuilt in every build: the fit depends on the registry covariates and the seed too,
not only on the wave's survey inputs, so a stored wave could go stale (docs: _small_area__models.yml).
Only aggregates leave this model: no respondent key, no answer.
"""

import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    dbt.ref("int_survey_wave_inputs")  # read by waves_to_build: declared here for dbt's graph
    from basismonitor.stats.small_area import OUTPUT_COLUMNS, small_area_table
    from basismonitor.transform.dbt_models import typed, waves_to_build

    columns = {**OUTPUT_COLUMNS, "input_fingerprint": "varchar", "built_at": "timestamp"}
    todo = waves_to_build(dbt, session)
    if todo.empty:
        return typed(session, pd.DataFrame(), columns)
    waves = ", ".join(str(int(w)) for w in todo["wave"])
    scored = dbt.ref("int_survey_responses_scored")
    respondents = dbt.ref("stg_survey__respondents")
    located = dbt.ref("int_respondents_located")
    buurten = dbt.ref("int_buurten_mapped_to_compass_areas")
    covariates = dbt.ref("int_buurt_covariates")
    settings = dbt.ref("indicator_small_area")
    catalogue = dbt.ref("indicators")
    wijk = dbt.ref("int_survey_estimates")
    for name, rel in (("_sae_respondents", respondents), ("_sae_located", located),
                      ("_sae_buurten", buurten), ("_sae_cov", covariates),
                      ("_sae_settings", settings), ("_sae_catalogue", catalogue),
                      ("_sae_wijk", wijk)):
        session.register(name, rel)
    # Deterministic (issue 21): two builds of the same inputs gave fits differing by up to 1e-9
    # (and JSON betas differing in the last digits) because the inputs reached the fit in a
    # different order and with different last bits: the buurten from an unordered `select
    # distinct`, and the direct estimates from DuckDB's parallel float sums, whose order varies.
    # The direct sums run on one thread over rows in a fixed order, and every frame is sorted.
    threads = session.sql("select current_setting('threads')").fetchone()[0]
    try:
        universe = session.sql(
            f"""
            select distinct l.wave, b.gemeente_code, b.area_code, b.buurt_code
            from (select distinct wave, area_edition from _sae_located where wave in ({waves})) l
            join _sae_buurten b on b.area_edition = l.area_edition
            order by l.wave, b.buurt_code, b.area_code
            """
        ).df()
        cov = session.sql(
            f"""
            select w.wave, c.* exclude (period)
            from (select distinct wave from _sae_located where wave in ({waves})) w
            join _sae_cov c on c.period = (
                select max(period) from _sae_cov c2 where c2.period <= w.wave
            )
            order by w.wave, c.buurt_code
            """
        ).df()
        cfg = session.sql(
            """
            select s.indicator_code, i.kind, i.min_n, s.use_at_buurt, s.covariates, s.method,
                   s.max_cv
            from _sae_settings s join _sae_catalogue i using (indicator_code)
            order by s.indicator_code
            """
        ).df()
        wijk_rows = session.sql(
            f"select wave, indicator_code, area_code, estimate, se from _sae_wijk "
            f"where not is_city and wave in ({waves}) order by wave, indicator_code, area_code"
        ).df()
        # One wave at a time into a table, not one frame of every wave: a national wave has
        # 1.2 M rows (~0.6 GB in pandas, ~4 GB at its peak on the way into DuckDB), and the
        # frame of nine waves took the build to 18 GiB (issue 22's national run). The rows and
        # their order are the same: the fits are per wave x indicator.
        built_at = pd.Timestamp.now("UTC").tz_localize(None)
        session.execute("drop table if exists _sae_out")
        session.register("_sae_wave", typed(session, pd.DataFrame(), columns))
        session.execute("create temp table _sae_out as select * from _sae_wave")
        session.unregister("_sae_wave")
        for wave in sorted(todo["wave"]):
            session.execute("set threads = 1")
            try:
                direct = _direct(session, scored, int(wave))
            finally:
                session.execute(f"set threads = {int(threads)}")
            table = small_area_table(direct, universe, cov, cfg, wijk_rows)
            table = table.merge(todo, on="wave", how="inner")
            table["built_at"] = built_at
            session.register("_sae_wave", typed(session, table, columns))
            try:
                session.execute("insert into _sae_out select * from _sae_wave")
            finally:
                session.unregister("_sae_wave")
            del direct, table
    finally:
        for name in ("_sae_respondents", "_sae_located", "_sae_buurten", "_sae_cov",
                     "_sae_settings", "_sae_catalogue", "_sae_wijk"):
            session.unregister(name)
    return session.table("_sae_out")


def _direct(session, scored, wave: int) -> pd.DataFrame:
    """Direct buurt estimates of one wave (domains = buurten, strata = compass areas) with the
    Kish design effect of each buurt's respondents with a score."""
    from basismonitor.stats import survey_estimates

    relation = scored.filter(f"wave = {wave}")
    session.register("_sae_scored", relation)
    try:
        session.execute(
            """
            create or replace temp table _sae_buurt_scored as
            select s.wave, s.indicator_code, s.gemeente_code, s.area_code, r.buurt_code,
                   s.weight, s.area_population, s.y
            from _sae_scored s
            join _sae_respondents r using (wave, respondent_key)
            order by s.indicator_code, s.respondent_key
            """
        )
        est = survey_estimates(
            session,
            "_sae_buurt_scored",
            value="y",
            weight="weight",
            domain="buurt_code",
            stratum="area_code",
            population="area_population",
            group_by=["wave", "indicator_code"],
            total_label="__all__",
            lonely_psu="certainty",
        )
        deff = session.sql(
            """
            select wave, indicator_code, buurt_code,
                   count(*) * sum(weight * weight) / (sum(weight) * sum(weight)) as deff
            from _sae_buurt_scored where y is not null
            group by all
            order by all
            """
        ).df()
        session.execute("drop table _sae_buurt_scored")
    finally:
        session.unregister("_sae_scored")
    est = est[est["domain"] != "__all__"].rename(columns={"domain": "buurt_code"})
    est = est[["wave", "indicator_code", "buurt_code", "n", "estimate", "se"]]
    est = est.merge(deff, on=["wave", "indicator_code", "buurt_code"], how="left")
    return est.sort_values(["wave", "indicator_code", "buurt_code"], ignore_index=True)
