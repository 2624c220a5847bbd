"""Survey waves: pseudonymisation, age groups, the answers view, and every delivery format."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from basismonitor.ingestion import pseudonym
from basismonitor.ingestion.pseudonym import DemoKeyWarning, pseudonymise
from conftest import SURVEY_HEADER, TEST_KEY, Demo, csv_text, edited_config, survey_rows


def survey_frame(wave: int, n: int = 6) -> pd.DataFrame:
    return pd.DataFrame(survey_rows(wave, n), columns=SURVEY_HEADER)


def loaded(demo: Demo, wave: int, path) -> object:
    demo.load("survey", wave, demo.codebook(wave))
    return demo.load("survey", wave, path)


def test_respondents_are_pseudonymised_and_birth_years_become_age_groups(demo_areas):
    d = demo_areas
    rows = survey_rows(2014)
    r = loaded(d, 2014, d.survey_csv(2014, rows))
    assert (r.status, r.rows_read, r.rows_landed) == ("landed", 6, 6)
    got = d.q("select _row_number, respondent_key, area_code, age_group, sex "
              "from raw.survey_respondents order by 1")
    expected_age = {1: "15-24", 2: "25-44", 3: "25-44", 4: "45-64", 5: "45-64", 6: "65+"}
    for (row, key, area, age, sex), src in zip(got, rows, strict=True):
        assert key == pseudonymise(src[0], TEST_KEY.encode())
        assert area == src[2] and sex == ("M" if src[4] == 1 else "V")
        assert age == expected_age[row], (row, 2014 - src[3])
    # neither the agency id nor the birth year is stored anywhere in the warehouse
    for table, column in d.q("""select table_schema || '.' || table_name, column_name
                                from information_schema.columns where table_schema = 'raw'
                                and data_type = 'VARCHAR'"""):
        hits = d.one(f"select count(*) from {table} where {column} like '%W2014-%'")
        assert hits == 0, (table, column)
    columns = {c for (c,) in d.q("select column_name from information_schema.columns "
                                 "where table_name = 'survey_respondents'")}
    assert not {"geboortejaar", "birth_year", "respondent_id"} & columns


def test_answers_view_is_long_with_codebook_items_and_missing_reasons(demo_areas):
    d = demo_areas
    rows = survey_rows(2014)
    rows[0][5] = 9            # v01: 9 = weet niet
    rows[1][6] = 99           # v02: 99 = geen antwoord
    rows[2][7] = None         # v03: empty
    r = loaded(d, 2014, d.survey_csv(2014, rows))
    assert d.one("select count(*) from raw.survey_answers") == 6 * 3
    answers = d.q("""select _row_number, variable, item, answer_code, is_missing, missing_reason
                     from raw.survey_answers where is_missing order by 1""")
    assert answers == [(1, "v01", "cohesie_1", 9, True, "dont_know"),
                       (2, "v02", "cijfer_buurt", 99, True, "no_answer"),
                       (3, "v03", "onveilig", None, True, "empty")]
    real = d.q("""select variable, answer_code from raw.survey_answers
                  where _row_number = 4 order by variable""")
    assert real == [("v01", rows[3][5]), ("v02", rows[3][6]), ("v03", rows[3][7])]
    assert d.one("select count(distinct _load_id) from raw.survey_answers") == 1
    assert d.one("select min(_sha256) from raw.survey_answers") == r.sha256


def test_a_corrected_codebook_does_not_change_landed_answers(demo_areas):
    d = demo_areas
    loaded(d, 2014, d.survey_csv(2014))
    text = (d.inbox / "survey/2014/codeboek_2014.csv").read_text().replace("cohesie_1", "samen_1")
    fixed = d.load("survey", 2014, d.write("survey", 2014, "codeboek_2014.csv", text))
    assert fixed.status == "replaced"
    assert d.q("select distinct item from raw.survey_answers where variable = 'v01'") == [
        ("cohesie_1",)]
    again = d.load("survey", 2014, d.inbox / "survey/2014/wijkenquete_2014.csv", force=True)
    assert again.status == "replaced"
    assert d.q("select distinct item from raw.survey_answers where variable = 'v01'") == [
        ("samen_1",)]


def test_spss_sav_with_user_missing_codes(demo_areas):
    import pyreadstat

    d = demo_areas
    frame = survey_frame(2016)
    frame.loc[0, "v01"] = 9
    path = d.inbox / "survey" / "2016" / "wijkenquete_2016.sav"
    path.parent.mkdir(parents=True)
    labels = {"v01": {1: "helemaal oneens", 5: "helemaal eens", 9: "weet niet"}}
    pyreadstat.write_sav(frame, str(path), variable_value_labels=labels,
                         missing_ranges={"v01": [9], "v02": [99]})
    r = loaded(d, 2016, path)
    assert (r.rows_landed, r.rows_quarantined, r.cells_quarantined) == (6, 0, 0)
    assert d.q("""select answer_code, missing_reason from raw.survey_answers
                  where _row_number = 1 and variable = 'v01'""") == [(9, "dont_know")]
    assert d.q("select respondent_key from raw.survey_respondents where _row_number = 2") == [
        (pseudonymise(frame.loc[1, "respondent_id"], TEST_KEY.encode()),)]


def test_excel_and_parquet_deliveries(demo_areas):
    d = demo_areas
    frame = survey_frame(2018)
    xlsx = d.xlsx("survey", 2018, "wijkenquete_2018.xlsx", "Data", SURVEY_HEADER,
                  frame.values.tolist())
    r = loaded(d, 2018, xlsx)
    assert (r.rows_landed, r.cells_quarantined) == (6, 0)
    frame20 = survey_frame(2020, n=5)
    frame20["buurt_code"] = "BU90140102"
    pq = d.inbox / "survey" / "2020" / "wijkenquete_2020.parquet"
    pq.parent.mkdir(parents=True)
    frame20.to_parquet(pq)
    r20 = loaded(d, 2020, pq)
    assert (r20.rows_landed, r20.cells_quarantined) == (5, 0)
    assert d.one("select count(*) from raw.survey_answers where wave = 2020") == 15


def test_csv_utf8_with_commas_when_configured(demo_areas, tmp_path):
    d = demo_areas
    d.config = edited_config(
        tmp_path,
        "        role: data\n        encoding: cp1252\n",
        "        role: data\n        encoding: utf-8\n        delimiter: auto\n")
    path = d.write("survey", 2012, "wijkenquete_2012.csv",
                   csv_text(SURVEY_HEADER, survey_rows(2012), sep=","))
    r = loaded(d, 2012, path)
    assert (r.rows_landed, r.cells_quarantined) == (6, 0)


def test_cp1252_csv_with_accents_is_transcoded(demo_areas):
    d = demo_areas
    d.load("survey", 2010, d.codebook(2010))
    rows = survey_rows(2010)
    header = SURVEY_HEADER + ["opm_é"]
    items = "v04;opmerking_é;Opmerking;janee;1;ja;0\nv04;opmerking_é;Opmerking;janee;0;nee;0\n"
    cb = d.inbox / "survey/2010/codeboek_2010.csv"
    cb.write_text(cb.read_text() + items.replace("v04", "opm_é"), encoding="utf-8")
    d.load("survey", 2010, cb)
    r = d.load("survey", 2010, d.survey_csv(2010, [x + [1] for x in rows], header=header))
    assert r.rows_landed == 6
    assert d.q("select distinct variable, item from raw.survey_answers where variable like "
               "'opm%'") == [("opm_é", "opmerking_é")]


@pytest.mark.parametrize("key", [None, "short-key"])
def test_survey_file_without_an_adequate_key_is_refused(demo_areas, monkeypatch, key):
    """Issue 23.8: with no key (the public demo key) or a short one, pseudonyms of real survey
    data are reversible: the data file is refused, nothing lands, and the message says why."""
    from basismonitor.ingestion import IngestionError, load_file

    d = demo_areas
    d.load("survey", 2014, d.codebook(2014))
    if key is None:
        monkeypatch.delenv("BASISMONITOR_PSEUDONYM_KEY")
    else:
        monkeypatch.setenv("BASISMONITOR_PSEUDONYM_KEY", key)
    with pytest.raises(IngestionError) as caught:
        load_file(d.warehouse, "survey", "2014", d.survey_csv(2014), config=d.config)
    text = str(caught.value)
    assert "BASISMONITOR_PSEUDONYM_KEY" in text and "wijkenquete_2014" in text
    assert ("not set" in text) if key is None else ("9 characters" in text)
    assert d.one("select count(*) from raw.survey_respondents") == 0
    assert d.one("select status from raw.loads where file_name like 'wijkenquete_%'") == "failed"


def test_demo_files_keep_the_demo_key_and_say_so(demo_areas, monkeypatch):
    """The demo's own files (listed with their sha256 in the inbox's _demo_manifest.json) may use
    the public demo key; the load says so. The same file edited is no longer the demo's."""
    import hashlib
    import json

    from basismonitor.ingestion import IngestionError, load_file

    d = demo_areas
    monkeypatch.delenv("BASISMONITOR_PSEUDONYM_KEY")
    d.load("survey", 2014, d.codebook(2014))
    data = d.survey_csv(2014)
    rel = data.relative_to(d.inbox).as_posix()
    sha = hashlib.sha256(data.read_bytes()).hexdigest()
    (d.inbox / "_demo_manifest.json").write_text(
        json.dumps({"files": [{"path": rel, "sha256": sha}]}), encoding="utf-8")
    r = load_file(d.warehouse, "survey", "2014", data, config=d.config)
    assert r.status == "landed" and "public demo key" in r.message
    key = d.one("select respondent_key from raw.survey_respondents where _row_number = 1")
    assert key == pseudonymise("W2014-000000", b"demo-only-not-secret")
    assert "demo key" in d.one("select message from raw.loads where load_id = ?", [r.load_id])
    data.write_text(data.read_text() + "W2014-999999;2014;BU90140101;1980;1;1;1;1\n")
    with pytest.raises(IngestionError, match="not set"):
        load_file(d.warehouse, "survey", "2014", data, config=d.config)


def test_the_python_api_still_warns_on_the_demo_key(monkeypatch):
    monkeypatch.delenv("BASISMONITOR_PSEUDONYM_KEY", raising=False)
    monkeypatch.setattr(pseudonym, "_warned", False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pseudonymise("x")
    assert any(issubclass(w.category, DemoKeyWarning) for w in caught)


def test_reconciliation_counts_respondents(demo_areas):
    d = demo_areas
    rows = survey_rows(2014, 10)
    rows[0][2] = "BU00000000"        # unknown buurt: respondent quarantined
    rows[1][5] = 6                   # invalid answer: cell only
    r = loaded(d, 2014, d.survey_csv(2014, rows))
    assert (r.rows_read, r.rows_landed, r.rows_quarantined, r.cells_quarantined) == (10, 9, 1, 1)
    assert d.q("select rows_read, rows_landed, rows_quarantined, cells_quarantined "
               "from raw.loads where load_id = ?", [r.load_id]) == [(10, 9, 1, 1)]


@pytest.mark.parametrize("value, reason", [("3.5", "invalid"), ("x", "invalid"), ("", "empty"),
                                           ("03", None), (" 3 ", None)])
def test_odd_answer_spellings(demo_areas, value, reason):
    d = demo_areas
    rows = survey_rows(2014)
    rows[0][5] = value
    loaded(d, 2014, d.survey_csv(2014, rows))
    assert d.one("select missing_reason from raw.survey_answers "
                 "where _row_number = 1 and variable = 'v01'") == reason
