"""Issue 21, done-when: the demo built with the compass on buurten (`compass_level: buurt`)
publishes buurt survey figures marked as model-based (estimation_method fay_herriot, Dutch:
"modelschatting"), with MSE and CV, for every buurt with a covariate row; the pages label them and
link the method page.

The session's small generated municipality (`small_inbox`) in a warehouse of its own (the
session's `refreshed` warehouse is built at wijk level): ingest -> build at buurt level -> gate ->
publish (with the site).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

EDITION = 2024
BASE_PERIOD = 2016
quiet = lambda _: None  # noqa: E731


@dataclass
class BuurtBuild:
    warehouse: Path
    edition_dir: Path | None
    gate: object


@pytest.fixture(scope="module")
def buurt_build(small_inbox: Path, tmp_path_factory) -> BuurtBuild:
    from basismonitor.orchestration import pipeline
    from basismonitor.quality.validation import GateFailed

    root = tmp_path_factory.mktemp("sae_buurt")
    warehouse = root / "warehouse" / "basismonitor.duckdb"
    pipeline.ingest(warehouse, small_inbox, progress=quiet)
    pipeline.build(warehouse, EDITION, base_period=BASE_PERIOD, progress=quiet,
                   dbt_vars={"compass_level": "buurt"})
    try:
        gate = pipeline.validate(warehouse, EDITION, docs_root=root / "validation", progress=quiet)
    except GateFailed as failed:
        return BuurtBuild(warehouse, None, failed.result)
    pipeline.publish(warehouse, root / "exports", EDITION, docs_dir=gate.docs_dir, progress=quiet)
    pipeline.site(root / "exports", EDITION, progress=quiet)   # the site is a stage of its own
    return BuurtBuild(warehouse, root / "exports" / str(EDITION), gate)


def _covariate_buurten(con) -> pd.DataFrame:
    """Per use_at_buurt indicator asked in the wave: the buurten of the edition's wave with every covariate the seed
    lists (the covariates of the latest registry year up to the wave), from the warehouse's own
    tables, not from the small-area model."""
    # the indicators the wave asked (a wave need not ask every item)
    settings = con.sql("select indicator_code, covariates from catalogue.indicator_small_area "
                       "where use_at_buurt and indicator_code in (select indicator_code from "
                       f"intermediate.int_survey_estimates where wave = {EDITION})").df()
    edition = con.sql("select distinct area_edition from intermediate.int_respondents_located "
                      f"where wave = {EDITION}").fetchone()[0]
    year = con.sql(f"select max(period) from intermediate.int_buurt_covariates "
                   f"where period <= {EDITION}").fetchone()[0]
    frames = []
    for code, covariates in settings.itertuples(index=False):
        present = " and ".join(f"c.{name} is not null" for name in covariates.split("|"))
        frames.append(con.sql(
            f"select '{code}' as indicator_code, c.buurt_code "
            f"from intermediate.int_buurt_covariates c "
            f"join intermediate.int_buurten_mapped_to_compass_areas b "
            f"on b.buurt_code = c.buurt_code and b.area_edition = {edition} "
            f"where c.period = {year} and {present}").df())
    return pd.concat(frames, ignore_index=True)


def test_every_buurt_with_covariates_has_a_model_figure_with_mse_and_cv(buurt_build):
    with duckdb.connect(str(buurt_build.warehouse), read_only=True) as con:
        expected = _covariate_buurten(con)
        facts = con.sql(
            f"""select f.indicator_code, f.area_code as buurt_code, f.estimation_method, f.value,
                       f.mse, f.cv, f.ci_low, f.ci_high, f.suppressed, f.suppression_reason,
                       i.kind
                from marts.fct_indicator_value f
                join catalogue.indicators i using (indicator_code)
                where f.period = {EDITION} and not f.is_city
                  and f.area_edition = (select max(area_edition) from marts.dim_area
                                        where is_current_edition)
                  and i.source_kind = 'survey'"""
        ).df()
    assert len(expected) > 300, "the demo has buurten with covariates for every indicator"
    survey = expected.merge(facts, on=["indicator_code", "buurt_code"], how="left")
    missing = survey[survey["estimation_method"].isna()]
    assert missing.empty, f"buurten with covariates without a figure:\n{missing.head()}"
    assert set(survey["estimation_method"]) == {"fay_herriot"}
    shown = survey[~survey["suppressed"]]
    assert len(shown) > 0.5 * len(survey)
    assert shown["mse"].notna().all() and (shown["mse"] > 0).all()
    assert shown["cv"].notna().all()
    assert (shown["cv"] <= 0.3 + 1e-6).all()
    # the interval is the estimate +- 1.96 sqrt(mse), a share's clipped to [0, 1] (to the
    # published 6 decimals)
    half = 1.959963984540054 * shown["mse"] ** 0.5
    low, high = shown["value"] - half, shown["value"] + half
    share = shown["kind"] == "survey_share"
    low, high = low.where(~share, low.clip(lower=0)), high.where(~share, high.clip(upper=1))
    assert ((shown["ci_low"] - low).abs() <= 2e-6).all()
    assert ((shown["ci_high"] - high).abs() <= 2e-6).all()
    hidden = survey[survey["suppressed"]]
    assert hidden["suppression_reason"].str.fullmatch(r"cv > 0\.3").all()
    assert hidden["value"].isna().all() and hidden["mse"].isna().all()


def test_model_figures_have_fewer_respondents_than_a_direct_figure_needs(buurt_build):
    """The point of the model: shown buurt figures below the catalogue's min_n (suppressed as
    direct figures), which the gate's min-n checks accept for model figures only."""
    with duckdb.connect(str(buurt_build.warehouse), read_only=True) as con:
        below, direct_below = con.sql(
            f"""select count(*) filter (where f.estimation_method = 'fay_herriot'),
                       count(*) filter (where f.estimation_method = 'direct')
                from marts.fct_indicator_value f join marts.dim_indicator i using (indicator_code)
                where f.period = {EDITION} and not f.suppressed and not f.is_city
                  and f.n_unweighted < i.min_n"""
        ).fetchone()
    assert below > 0
    assert direct_below == 0


def test_the_gate_passes_at_buurt_level(buurt_build):
    gate = buurt_build.gate
    failing = sorted(str(f) for f in getattr(gate, "critical", []) or [])
    assert gate.passed, "\n".join(failing)


def test_exports_say_modelschatting_with_the_interval(buurt_build):
    if buurt_build.edition_dir is None:
        pytest.skip("the gate failed: nothing published (test_the_gate_passes_at_buurt_level)")
    edition_dir = buurt_build.edition_dir
    facts = pd.read_parquet(edition_dir / "fct_indicator_value.parquet")
    assert {"estimation_method", "mse", "cv"} <= set(facts.columns)
    assert (facts["estimation_method"] == "fay_herriot").sum() > 300
    dutch = pd.read_csv(edition_dir / "fct_indicator_value.nl.csv", sep=";", encoding="utf-8-sig",
                        dtype=str)
    assert "modelschatting" in set(dutch["estimation_method"])
    assert "fay_herriot" not in set(dutch["estimation_method"])
    model = dutch[(dutch["estimation_method"] == "modelschatting") & dutch["value"].notna()]
    assert model["ci_low"].notna().all() and model["ci_high"].notna().all()


def test_site_labels_model_figures_and_links_the_method_page(buurt_build):
    if buurt_build.edition_dir is None:
        pytest.skip("the gate failed: nothing published (test_the_gate_passes_at_buurt_level)")
    site = buurt_build.edition_dir / "site"
    page = (site / "modelschatting.html").read_text(encoding="utf-8")
    method = re.search(r'<p id="method">(.*?)</p>', page, re.S).group(1)
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", method.strip()) if s]
    assert len(sentences) == 5, sentences
    assert "Fay-Herriot" in method and "1,96" in method
    facts = pd.read_parquet(buurt_build.edition_dir / "fct_indicator_value.parquet")
    status = pd.read_parquet(buurt_build.edition_dir / "mart_compass_status.parquet")
    shown = status[(status["node_level"] == "indicator") & ~status["suppressed"]
                   & (status["estimation_method"] == "fay_herriot")]
    assert not shown.empty
    area = shown["area_code"].iloc[0]
    pages = list((site / "area").glob(f"{area}*.html"))
    assert pages, f"no page for {area}"
    html = pages[0].read_text(encoding="utf-8")
    links = re.findall(r'<a class="model" href="([^"]+)"[^>]*>modelschatting</a>', html)
    assert len(links) == len(shown[shown["area_code"] == area])
    assert set(links) == {"../modelschatting.html"}
    # a direct figure (registry or city-level) carries no such label: only model rows do
    assert len(facts) > 0
