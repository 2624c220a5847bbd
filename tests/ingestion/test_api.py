"""The ingestion API: config, schema, discovery, the load lifecycle and the reconciliation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest
from basismonitor.ingestion import (
    IngestionError,
    LoadResult,
    PendingFile,
    discover,
    ensure_schema,
    ingest_inbox,
    load_config,
)
from conftest import BUURTEN_2008, Demo, csv_text

ALL_SOURCES = ["areas", "crosswalk", "survey", "population", "registry", "police",
               "buurtbemiddeling", "straathoekwerk", "buurtconcierges", "buurtinitiatieven"]


def write_full_inbox(demo: Demo) -> None:
    """One delivery of every demo source (docs/SOURCES.md layout)."""
    demo.areas(2008)
    demo.areas(2019)
    demo.crosswalk()
    demo.population(2014)
    demo.registry(2014)
    demo.police(2014)
    demo.codebook(2014)
    demo.survey_csv(2014)
    demo.mediation(2014)
    demo.concierges(2014)
    demo.write("straathoekwerk", 2014, "straathoekwerk_2014.csv", csv_text(
        ["contact_id", "datum", "buurt_code", "leeftijdsgroep", "aard_contact"],
        [["C1", "2014-05-01", BUURTEN_2008[0], "12-17", "ontmoeting"],
         ["C2", "2014-05-02", BUURTEN_2008[1], "18-23", "hulpvraag"]]))
    demo.xlsx("buurtinitiatieven", 2014, "buurtinitiatieven_2014.xlsx", "initiatieven",
              ["initiatief_id", "datum_aanvraag", "buurt_code", "titel", "bedrag_aangevraagd",
               "bedrag_toegekend", "status"],
              [["I1", date(2014, 3, 1), BUURTEN_2008[0], "Buurtfeest", 1250.5, 1000, "toegekend"],
               ["I2", "2014-04-01", BUURTEN_2008[2], "Moestuin", 800, None, "in behandeling"]])
    (demo.inbox / "survey" / "2014" / "README.txt").write_text("not a source file")
    (demo.inbox / "survey" / "oud").mkdir()


# -- configuration ------------------------------------------------------------------------------

def test_default_config_has_every_demo_source_and_no_urls():
    config = load_config()
    assert set(ALL_SOURCES) <= set(config.sources)
    assert {"registry_wbk", "registry_odata", "areas", "activity"} <= {
        s.kind for s in config.sources.values()}
    text = Path(config.path).read_text()
    assert "http://" not in text.replace("https://opendata.cbs.nl", "")
    odata = config["cbs_kerncijfers_odata"]
    assert odata.url_env == "BASISMONITOR_CBS_ODATA_URL"


@pytest.mark.parametrize("body, message", [
    ("sources:\n  x:\n    kind: nonsense\n    files: ['a.csv']\n", "kind 'nonsense'"),
    ("sources:\n  x:\n    kind: police\n    delimter: ';'\n    files: ['a.csv']\n",
     "unknown option(s) delimter"),
    ("sources:\n  x:\n    kind: police\n    location: https://example.org/x\n"
     "    files: ['a.csv']\n", "environment variable"),
    ("sources:\n  x:\n    kind: police\n    files: ['a.doc']\n", "no supported extension"),
])
def test_bad_config_is_refused_with_its_path(tmp_path, body, message):
    path = tmp_path / "sources.yml"
    path.write_text(body)
    with pytest.raises(IngestionError) as err:
        load_config(path)
    assert message in str(err.value) and str(path) in str(err.value)


def test_unknown_source_names_the_known_ones(demo):
    with pytest.raises(IngestionError, match="known sources: areas"):
        demo.load("nonsense", 2014, demo.areas(2008))


# -- schema ---------------------------------------------------------------------------------------

def test_ensure_schema_is_idempotent_and_answers_keep_the_contract(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    ensure_schema(con)
    columns = con.execute("""select column_name, data_type from information_schema.columns
        where table_schema = 'raw' and table_name = 'survey_answers'
        order by ordinal_position""").fetchall()
    assert columns == [
        ("wave", "INTEGER"), ("respondent_key", "VARCHAR"), ("variable", "VARCHAR"),
        ("item", "VARCHAR"), ("answer_code", "INTEGER"), ("is_missing", "BOOLEAN"),
        ("missing_reason", "VARCHAR"), ("_source", "VARCHAR"), ("_file", "VARCHAR"),
        ("_sha256", "VARCHAR"), ("_row_number", "BIGINT"), ("_load_id", "VARCHAR"),
        ("_loaded_at", "TIMESTAMP")]
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw'").fetchall()}
    assert {"loads", "quarantine", "areas", "crosswalk", "survey_respondents", "survey_answers",
            "survey_codebook", "population", "registry_values", "police_crimes",
            "activity_registrations", "survey_variables", "survey_value_codes"} <= tables


def test_ensure_schema_replaces_an_empty_old_answers_table(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema raw; create table raw.survey_answers (wave integer)")
    ensure_schema(con)
    kind = con.execute("select table_type from information_schema.tables where table_schema = "
                       "'raw' and table_name = 'survey_answers'").fetchone()[0]
    assert kind == "VIEW"


# -- discovery ----------------------------------------------------------------------------------

def test_discover_lists_files_in_dependency_order(demo):
    write_full_inbox(demo)
    pending = discover(demo.inbox)
    assert all(isinstance(p, PendingFile) for p in pending)
    order = [p.source for p in pending]
    firsts = list(dict.fromkeys(order))
    assert firsts == ["areas", "crosswalk", "population", "registry", "police", "survey",
                      "buurtbemiddeling", "straathoekwerk", "buurtconcierges",
                      "buurtinitiatieven"]
    assert [p.period for p in pending[:2]] == ["2008", "2019"]
    survey = [p.path.name for p in pending if p.source == "survey"]
    assert survey == ["codeboek_2014.csv", "wijkenquete_2014.csv"]   # codebook first, no README
    only = discover(demo.inbox, sources=["survey", "areas"])
    assert [p.source for p in only] == ["areas", "areas", "survey", "survey"]


# -- the lifecycle --------------------------------------------------------------------------------

def test_ingest_inbox_lands_everything_then_skips_it(demo):
    write_full_inbox(demo)
    lines: list[str] = []
    results = ingest_inbox(demo.warehouse, demo.inbox, config=demo.config, progress=lines.append)
    assert all(isinstance(r, LoadResult) for r in results)
    # the README and the folder 'oud' are not loaded: listed, with the reason (issue 18)
    ignored = {Path(r.path).name: r.message for r in results if r.status == "ignored"}
    assert set(ignored) == {"README.txt", "oud"}
    assert "matches no file of source survey" in ignored["README.txt"]
    assert "is no period" in ignored["oud"]
    results = [r for r in results if r.status != "ignored"]
    assert {r.status for r in results} == {"landed"}, [r.message for r in results]
    assert len(lines) == len(results) + 2 == 14
    again = [r for r in ingest_inbox(demo.warehouse, demo.inbox, config=demo.config)
             if r.status != "ignored"]
    assert {r.status for r in again} == {"skipped"}
    assert [r.load_id for r in again] == [r.load_id for r in results]
    assert demo.one("select count(*) from raw.loads") == 12
    # straathoekwerk's age group and the initiatives' amounts landed
    assert demo.q("select registration_id, age_group from raw.activity_registrations "
                  "where programme = 'straathoekwerk' order by 1") == [("C1", "12-17"),
                                                                      ("C2", "18-23")]
    assert demo.q("""select registration_id, event_date, amount_requested, amount_granted,
                     outcome from raw.activity_registrations where programme = 'buurtinitiatieven'
                     order by 1""") == [
        ("I1", date(2014, 3, 1), pytest.approx(1250.5), 1000, "toegekend"),
        ("I2", date(2014, 4, 1), 800, None, "in behandeling")]


LANDING = {  # source -> (table, how a landed source row is counted)
    "areas": ("raw.areas", "count(*)"),
    "crosswalk": ("raw.crosswalk", "count(*)"),
    "population": ("raw.population", "count(*)"),
    "registry": ("raw.registry_values", "count(distinct _row_number)"),
    "police": ("raw.police_crimes", "count(*)"),
    "buurtconcierges": ("raw.activity_registrations", "count(*)"),
}


def test_every_load_reconciles_with_the_tables_and_the_quarantine(demo):
    write_full_inbox(demo)
    # some bad rows in several sources
    demo.population(2014, rows=[["2014-01-01", BUURTEN_2008[0], "15-24", "M", "10"],
                                ["2014-01-01", "BU99999999", "15-24", "V", "11"],
                                ["2014-01-01", BUURTEN_2008[1], "15-24", "V", "-3"]])
    demo.concierges(2014, rows=[["M1", "2014-02-01", BUURTEN_2008[0], "overlast"],
                                ["M2", "2014-02-31", BUURTEN_2008[0], "overlast"]])
    ingest_inbox(demo.warehouse, demo.inbox, config=demo.config)
    loads = demo.q("""select load_id, source, rows_read, rows_landed, rows_quarantined
                      from raw.loads where status = 'landed'""")
    assert loads
    for load_id, source, read, landed, quarantined in loads:
        assert read == landed + quarantined, source
        rows_q = demo.one("select count(distinct row_number) from raw.quarantine "
                          "where load_id = ? and scope = 'row'", [load_id])
        assert rows_q == quarantined, source
        if source in LANDING:
            table, how = LANDING[source]
            assert demo.one(f"select {how} from {table} where _load_id = ?", [load_id]) == landed
    pop = demo.q("select rows_read, rows_landed, rows_quarantined from raw.loads "
                 "where source = 'population'")
    assert pop == [(3, 1, 2)]


def test_lineage_columns_are_filled(demo):
    path = demo.areas(2008)
    result = demo.load("areas", 2008, path)
    rows = demo.q("select _source, _file, _sha256, _row_number, _load_id, _loaded_at "
                  "from raw.areas order by _row_number")
    assert [r[3] for r in rows] == list(range(1, 8))
    assert {r[:3] for r in rows} == {("areas", "areas/2008/gebiedsindeling_2008.csv",
                                      result.sha256)}
    assert {r[4] for r in rows} == {result.load_id}
    assert all(r[5] is not None for r in rows)


def test_a_corrected_file_replaces_its_predecessor_in_one_transaction(demo):
    demo.load("areas", 2008, demo.areas(2008))
    first = demo.load("population", 2014, demo.population(2014, rows=[
        ["2014-01-01", BUURTEN_2008[0], "15-24", "M", "10"],
        ["2014-01-01", "BU99999999", "15-24", "M", "10"]]))
    assert (first.status, first.rows_quarantined) == ("landed", 1)
    second = demo.load("population", 2014, demo.population(2014, rows=[
        ["2014-01-01", BUURTEN_2008[0], "15-24", "M", "12"],
        ["2014-01-01", BUURTEN_2008[1], "15-24", "M", "13"]]))
    assert second.status == "replaced" and first.load_id in second.message
    assert demo.q("select status, superseded_by from raw.loads where load_id = ?",
                  [first.load_id]) == [("superseded", second.load_id)]
    assert demo.q("select area_code, population, _load_id from raw.population order by 1") == [
        (BUURTEN_2008[0], 12, second.load_id), (BUURTEN_2008[1], 13, second.load_id)]
    # the old load's quarantine stays for the record
    assert demo.one("select count(*) from raw.quarantine where load_id = ?", [first.load_id]) == 1
    # the same bytes again: skipped; force: loaded again, replacing
    assert demo.load("population", 2014, demo.inbox / "population/2014/bevolking_2014.csv"
                     ).status == "skipped"
    forced = demo.load("population", 2014, demo.inbox / "population/2014/bevolking_2014.csv",
                       force=True)
    assert forced.status == "replaced"
    assert demo.one("select count(*) from raw.population") == 2


def test_a_failed_replacement_keeps_the_landed_rows(demo):
    demo.load("areas", 2008, demo.areas(2008))
    first = demo.load("population", 2014, demo.population(2014))
    demo.write("population", 2014, "bevolking_2014.csv", "peildatum;buurt_code\n2014-01-01;x\n")
    with pytest.raises(IngestionError, match="missing column"):
        demo.load("population", 2014, demo.inbox / "population/2014/bevolking_2014.csv")
    assert demo.one("select count(*) from raw.population where _load_id = ?",
                    [first.load_id]) == 16
    assert demo.q("select status from raw.loads where source = 'population' order by loaded_at"
                  ) == [("landed",), ("failed",)]


def test_a_second_file_for_the_same_slot_is_refused(demo):
    demo.load("areas", 2008, demo.areas(2008))
    demo.load("population", 2014, demo.population(2014))
    other = demo.write("population", 2014, "bevolking_2014_v2.csv",
                       (demo.inbox / "population/2014/bevolking_2014.csv").read_text()
                       .replace(";100", ";101"))
    with pytest.raises(IngestionError) as err:
        demo.load("population", 2014, other)
    assert "bevolking_2014.csv is already landed" in str(err.value)
    assert "same name" in str(err.value)


def test_ingest_inbox_stops_at_a_failed_file_and_keeps_earlier_loads(demo):
    demo.areas(2008)
    demo.population(2014)
    demo.write("police", 2014, "misdrijven_2014.csv", b"")       # empty: fails
    demo.concierges(2014)                                          # after police: not reached
    with pytest.raises(IngestionError) as err:
        ingest_inbox(demo.warehouse, demo.inbox, config=demo.config)
    assert "misdrijven_2014.csv" in str(err.value) and "empty" in str(err.value)
    assert [r.status for r in err.value.results] == ["landed", "landed", "failed"]
    assert demo.q("select source, status from raw.loads order by loaded_at") == [
        ("areas", "landed"), ("population", "landed"), ("police", "failed")]
    message = demo.one("select message from raw.loads where status = 'failed'")
    assert "misdrijven_2014.csv" in message and "0 bytes" in message


def test_error_text_names_file_row_column_and_what_to_do():
    err = IngestionError("is not a number", file="x/y.csv", row=3, column="aantal",
                         hint="fix the export")
    assert str(err) == "x/y.csv, row 3, column aantal: is not a number -- fix the export"


def test_period_must_be_a_year(demo):
    with pytest.raises(IngestionError, match="not a year"):
        demo.load("areas", "latest", demo.areas(2008))
