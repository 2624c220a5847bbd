"""The walking skeleton end to end on a small generated municipality.

The marts' numbers are checked against values computed here, independently, from the generated
source files (pandas/pyreadstat on the files, not the warehouse).
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pyreadstat
import pytest


def _marts(refreshed, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        return con.sql(sql).df()


def _areas(refreshed, edition: int) -> pd.DataFrame:
    return pd.read_csv(
        refreshed.inbox / "areas" / str(edition) / f"gebiedsindeling_{edition}.csv", sep=";", dtype=str
    )


def _kwb(refreshed, year: int) -> pd.DataFrame:
    df = pd.read_csv(refreshed.inbox / "registry" / str(year) / f"kwb-{year}.csv", sep=";", dtype=str)
    df["gwb_code"] = df["gwb_code"].str.strip()
    return df


def _number(cell: str) -> float:
    cell = cell.strip()
    if cell in {".", "-99999999", "-99997", "-99998", "-99999", ""}:
        return np.nan
    return float(cell.replace(",", "."))


def test_every_layer_holds_data(refreshed):
    counts = _marts(
        refreshed,
        """
        select
            (select count(*) from raw.survey_respondents) as respondents,
            (select count(*) from raw.registry_values) as registry,
            (select count(*) from raw.activity_registrations) as activities,
            (select count(*) from marts.fct_indicator_value) as facts,
            (select count(*) from marts.mart_compass_status) as status,
            (select count(distinct indicator_code) from marts.fct_indicator_value) as indicators
        """,
    ).iloc[0]
    assert counts.respondents > 0 and counts.registry > 0 and counts.activities > 0
    assert counts.facts > 0 and counts.status > 0
    kinds = _marts(
        refreshed,
        """
        select distinct source_kind from marts.mart_compass_status s
        join marts.dim_indicator i on i.indicator_code = s.node_code
        where s.node_level = 'indicator' and not s.suppressed
        """,
    )
    assert set(kinds.source_kind) == {"survey", "registry", "activity"}


def test_export_holds_parquet_and_csv_of_every_mart(refreshed):
    edition = refreshed.exports / str(refreshed.edition)
    assert (refreshed.exports / "latest").resolve() == edition.resolve()
    manifest = json.loads((edition / "manifest.json").read_text())
    for mart in ("mart_compass_status", "fct_indicator_value", "mart_area_profile"):
        parquet = pd.read_parquet(edition / f"{mart}.parquet")
        csv = pd.read_csv(edition / f"{mart}.csv")
        warehouse_rows = _marts(refreshed, f"select count(*) n from marts.{mart}").n[0]
        assert len(parquet) == len(csv) == warehouse_rows > 0
        listed = {f["file"]: f for f in manifest["files"]}
        assert listed[f"{mart}.parquet"]["rows"] == warehouse_rows
    assert (edition / "validation" / "index.html").exists()


def test_registry_value_and_its_index_match_the_source_file(refreshed):
    """woz_waarde 2024 per wijk is the KWB file's g_woz, and its index follows docs/METHOD.md §7."""
    kwb = _kwb(refreshed, refreshed.edition)
    wijken = kwb[kwb.recs.str.strip() == "Wijk"].assign(v=lambda d: d.g_woz.map(_number))
    city = _number(kwb[kwb.recs.str.strip() == "Gemeente"].g_woz.iloc[0])
    status = _marts(
        refreshed,
        f"""select area_code, value, city_value, index_value, class from marts.mart_compass_status
            where node_level = 'indicator' and node_code = 'woz_waarde' and edition = {refreshed.edition}""",
    ).set_index("area_code")
    shown = wijken.dropna(subset=["v"]).set_index("gwb_code")
    assert set(shown.index) <= set(status.index)
    spread = (shown.v - city).abs().mean()
    for code, row in shown.iterrows():
        assert status.loc[code, "value"] == pytest.approx(row.v)
        assert status.loc[code, "city_value"] == pytest.approx(city)
        expected = min(max(100 + 20 * (row.v - city) / spread, 40), 160)
        assert status.loc[code, "index_value"] == pytest.approx(round(expected, 1), abs=0.051)


def test_activity_rate_matches_the_registrations(refreshed):
    """Mediation cases per 1,000 inhabitants in 2024 per wijk, from the xlsx and the register."""
    year = refreshed.edition
    cases = pd.read_excel(
        refreshed.inbox / "buurtbemiddeling" / str(year) / f"buurtbemiddeling_{year}.xlsx",
        sheet_name="zaken", dtype=str,
    )
    areas = _areas(refreshed, 2019)
    parent = areas.set_index("code").ouder_code
    population = pd.read_csv(
        refreshed.inbox / "population" / str(year) / f"bevolking_{year}.csv", sep=";", dtype={"aantal": int}
    )
    population["wijk"] = population.buurt_code.map(parent)
    inhabitants = population.groupby("wijk").aantal.sum()
    counted = cases.buurt_code.map(parent).value_counts()
    facts = _marts(
        refreshed,
        f"""select area_code, value, numerator, suppressed from marts.fct_indicator_value
            where indicator_code = 'bemiddeling_per_1000' and period = {year}
              and area_edition = 2019 and not is_city""",
    ).set_index("area_code")
    assert len(facts) == len(inhabitants)
    for wijk, people in inhabitants.items():
        n = int(counted.get(wijk, 0))
        if n < 5:
            assert facts.loc[wijk, "suppressed"]
        else:
            assert facts.loc[wijk, "numerator"] == n
            assert facts.loc[wijk, "value"] == pytest.approx(1000 * n / people)


def _rake(frame: pd.DataFrame, targets: dict[str, pd.Series], total: float) -> np.ndarray:
    """Plain iterative proportional fitting, written out for the test."""
    w = np.full(len(frame), total / len(frame))
    for _ in range(200):
        for var, target in targets.items():
            sums = pd.Series(w).groupby(frame[var].to_numpy()).sum()
            w = w * frame[var].map(target / sums).to_numpy()
    return w


def test_survey_estimate_matches_an_independent_weighting(refreshed):
    """cijfer_buurt 2024 per wijk: raking to the register margins, then the weighted mean."""
    wave = refreshed.edition
    data, meta = pyreadstat.read_sav(str(refreshed.inbox / "survey" / str(wave) / f"wijkenquete_{wave}.sav"))
    codebook = pd.read_csv(refreshed.inbox / "survey" / str(wave) / f"codeboek_{wave}.csv", sep=";")
    variable = codebook.loc[codebook.item == "cijfer_buurt", "variabele"].iloc[0]
    parent = _areas(refreshed, 2019).set_index("code").ouder_code
    data["wijk"] = data.buurt_code.map(parent)
    age = wave - data.geboortejaar
    data["age_group"] = pd.cut(age, [0, 24, 44, 64, 200], labels=["15-24", "25-44", "45-64", "65+"]).astype(object)
    data["sex"] = data.geslacht.map({1: "M", 2: "V"})
    population = pd.read_csv(refreshed.inbox / "population" / str(wave) / f"bevolking_{wave}.csv", sep=";")
    population["wijk"] = population.buurt_code.map(parent)
    population = population[population.leeftijdsklasse != "0-14"]

    facts = _marts(
        refreshed,
        f"""select area_code, value, n_unweighted from marts.fct_indicator_value
            where indicator_code = 'cijfer_buurt' and period = {wave} and area_edition = 2019
              and not is_city and not suppressed""",
    ).set_index("area_code")
    assert len(facts) > 0
    for wijk, fact in facts.iterrows():
        people = population[population.wijk == wijk]
        respondents = data[data.wijk == wijk].copy()
        complete = respondents.dropna(subset=["age_group", "sex"])
        if len(complete) < len(respondents):
            continue  # respondents without age or sex: checked by the stats tests, not here
        targets = {
            "age_group": people.groupby("leeftijdsklasse").aantal.sum(),
            "sex": people.groupby("geslacht").aantal.sum(),
        }
        if set(targets["age_group"][targets["age_group"] > 0].index) - set(complete.age_group):
            continue  # an empty cell: collapsed by the weighting, checked elsewhere
        w = _rake(complete, targets, people.aantal.sum())
        answer = complete[variable]
        valid = answer.notna() & ~answer.isin([99, -1])
        assert fact.n_unweighted == valid.sum()
        assert fact.value == pytest.approx(np.average(answer[valid], weights=w[valid.to_numpy()]), rel=1e-6)
