"""Issue 23: nothing lost, nothing leaked -- links out of the inbox, silent row loss, replacement by
an (almost) empty load, values that crashed the load. Real files, a real warehouse in tmp_path."""

from __future__ import annotations

import os
import random
from pathlib import Path

import duckdb
import pytest
from basismonitor.ingestion import IngestionError, discover_all, ingest_inbox
from basismonitor.ingestion.context import LoadContext
from basismonitor.ingestion.reader import MAX_REJECT_SHARE, _reconcile_lines
from basismonitor.ingestion.scan import scan_file
from conftest import BUURTEN_2008, Demo, areas_csv, csv_text, survey_rows

POLICE_HEADER = ["WijkenEnBuurten", "Perioden", "SoortMisdrijf", "GeregistreerdeMisdrijven_1"]


def statuses(results) -> dict[str, tuple[str, str]]:
    return {Path(r.path).name: (r.status, r.message) for r in results}


# -- 1. symbolic links ---------------------------------------------------------------------------

def test_links_out_of_the_inbox_are_refused_and_nothing_of_them_is_stored(demo: Demo, tmp_path):
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir()
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    demo.areas(2008)
    period = demo.inbox / "population" / "2014"
    period.mkdir(parents=True)
    os.symlink(secret, period / "bevolking_2014.csv")                 # a linked file
    os.symlink("/proc/self/environ", period / "bevolking_2015.csv")   # the process environment
    linked_period = tmp_path / "outside" / "2015"
    linked_period.mkdir()
    demo.population(2016).rename(linked_period / "bevolking_2015.csv")
    os.symlink(linked_period, demo.inbox / "population" / "2015")     # a linked period folder
    os.environ["BASISMONITOR_CANARY"] = "canary-value-that-must-not-leak"
    try:
        results = ingest_inbox(demo.warehouse, demo.inbox, config=demo.config)
    finally:
        del os.environ["BASISMONITOR_CANARY"]
    by_path = {r.path: (r.status, r.message) for r in results}
    assert by_path[str(period / "bevolking_2014.csv")][0] == "ignored"
    assert "symbolic link" in by_path[str(period / "bevolking_2014.csv")][1]
    assert by_path[str(period / "bevolking_2015.csv")][0] == "ignored"
    assert "symbolic link" in by_path[str(demo.inbox / "population" / "2015")][1]
    assert [r.source for r in results if r.status == "landed"] == ["areas"]
    dump = demo.q("select coalesce(string_agg(raw_row, '|'), '') || coalesce(string_agg(value, "
                  "'|'), '') from raw.quarantine")[0][0] + "".join(
        str(m) for (m,) in demo.q("select message from raw.loads"))
    assert "root:x:0:0" not in dump and "canary-value" not in dump
    assert demo.one("select count(*) from raw.population") == 0


def test_a_named_symbolic_link_is_refused(demo: Demo, tmp_path):
    target = demo.population(2014)
    link = tmp_path / "link.csv"
    os.symlink(target, link)
    with pytest.raises(IngestionError, match="symbolic link"):
        demo.load("population", 2014, link)


def test_a_foreign_header_is_not_echoed_whole(demo: Demo):
    """A file that is not what it claims has its header quoted in part only in the message."""
    demo.load("areas", 2008, demo.areas(2008))
    secret_header = ";".join(f"SECRET_{i}=value{i}" for i in range(40))
    path = demo.write("population", 2014, "bevolking_2014.csv", secret_header + "\nx\n")
    with pytest.raises(IngestionError) as caught:
        demo.load("population", 2014, path)
    message = str(caught.value)
    assert "missing column" in message and "SECRET_0" in message
    assert "SECRET_39" not in message and "(40 columns)" in message
    assert len(message) < 1200


def test_a_newline_in_a_file_name_keeps_one_line_per_file(demo: Demo):
    demo.load("areas", 2008, demo.areas(2008))
    path = demo.population(2014)
    odd = path.with_name("bevolking_2014\nlanded.csv")
    path.rename(odd)
    results = ingest_inbox(demo.warehouse, demo.inbox, config=demo.config,
                           sources=["population"])
    line = results[0].line()
    assert "\n" not in line and "bevolking_2014\\nlanded.csv" in line


# -- 2. a replacement that lands (almost) nothing ------------------------------------------------

def test_a_replacement_whose_rows_are_all_quarantined_does_not_supersede(demo: Demo):
    demo.load("areas", 2008, demo.areas(2008))
    first = demo.load("population", 2014, demo.population(2014))
    assert first.rows_landed == 16
    # another municipality's codes: every row quarantined (issue 23: landed=0, exit 0, then the
    # refresh died in the weighting)
    rows = [["2014-01-01", f"BU0{i:07d}", "15-24", "M", "5"] for i in range(16)]
    bad = demo.population(2014, rows=rows)
    with pytest.raises(IngestionError) as caught:
        demo.load("population", 2014, bad)
    message = str(caught.value)
    assert "lands 0 rows where the landed file it replaces" in message
    assert "16 of 16 rows quarantined" in message and "--allow-shrink" in message
    assert demo.q("select status from raw.loads where load_id = ?", [first.load_id]) == [
        ("landed",)]
    assert demo.one("select count(*) from raw.population") == 16
    assert demo.one("select count(*) from raw.quarantine where load_id <> ?",
                    [first.load_id]) == 0           # the failed load left nothing behind
    # on purpose: the operator overrides
    forced = demo.load("population", 2014, bad, allow_shrink=True)
    assert forced.status == "replaced" and forced.rows_landed == 0
    assert "--allow-shrink" in forced.message
    assert demo.one("select count(*) from raw.population") == 0


def test_a_smaller_but_sufficient_replacement_still_replaces(demo: Demo):
    demo.load("areas", 2008, demo.areas(2008))
    demo.load("population", 2014, demo.population(2014))
    rows = [["2014-01-01", b, g, s, "7"] for b in BUURTEN_2008 for g in ("15-24",)
            for s in "MV"]                                      # 8 of 16: exactly half
    r = demo.load("population", 2014, demo.population(2014, rows=rows))
    assert r.status == "replaced" and r.rows_landed == 8


# -- 3. silent loss of rows ----------------------------------------------------------------------

def _ctx(demo: Demo, con, path: Path) -> LoadContext:
    config = demo.config
    src = config.source("police")
    from datetime import datetime
    return LoadContext(con=con, config=config, source=src, spec=src.spec_for(path), load_id="t",
                       period=2014, path=path, file_label="police/2014/x.csv", sha256="0",
                       loaded_at=datetime(2024, 1, 1), scan=scan_file(path))


def test_reconciliation_fails_when_the_reader_returns_fewer_lines_than_the_file_has(
        demo: Demo, tmp_path):
    """The check itself, fast: 10 data lines in the file, the reader's table has 7 rows and 1
    reject -> 2 lines reached neither table: refused, with the counts."""
    path = demo.write("police", 2014, "misdrijven_2014.csv", csv_text(
        POLICE_HEADER, [[b, "2014JJ00", "0.0.0", str(i)] for i, b in
                        enumerate(BUURTEN_2008 * 3)][:10]))
    con = duckdb.connect()
    con.execute("create table _csv as select 'x' as a from range(7)")
    ctx = _ctx(demo, con, path)
    rejects = [(9, ["MISSING COLUMNS"], "BU1", "", [None])]
    with pytest.raises(IngestionError) as caught:
        _reconcile_lines(ctx, ctx.scan, ["a"], {}, 7, [9], [], [], rejects)
    assert "10 lines after the header, but only 8 were read" in str(caught.value)
    assert "2 lines reached neither" in str(caught.value)
    # line breaks inside quoted values account for lines: no false alarm
    con.execute("create or replace table _csv as select 'one' || chr(10) || 'two' || chr(10) || "
                "'three' as a union all select 'x' from range(6)")
    _reconcile_lines(ctx, ctx.scan, ["a"], {}, 7, [9], [], [], rejects)
    con.close()


def test_quoted_line_breaks_and_blank_lines_load_without_a_false_alarm(demo: Demo):
    demo.load("areas", 2008, demo.areas(2008))
    lines = [";".join(f'"{h}"' for h in POLICE_HEADER)]
    for i, b in enumerate(BUURTEN_2008):
        kind = f'"0.0.{i}\nmet een regel-\neinde"' if i % 2 else f'"0.0.{i}"'
        lines.append(f'"{b}";"2014JJ00";{kind};"{i}"')
        lines.append("")
    path = demo.write("police", 2014, "misdrijven_2014.csv", "\n".join(lines) + "\n")
    r = demo.load("police", 2014, path)
    assert (r.rows_read, r.rows_landed, r.rows_quarantined) == (4, 4, 0)


def _junk_police_file(demo: Demo, n: int, *, good_first: int, bad_share: float) -> Path:
    """A police file of n data lines: the first good_first well-formed, then bad_share of the rest
    junk lines without delimiters (rejected: 'the row has 1 of 4 fields')."""
    rng = random.Random(1)
    path = demo.inbox / "police" / "2014" / "misdrijven_2014.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write(";".join(POLICE_HEADER) + "\n")
        for i in range(n):
            if i >= good_first and rng.random() < bad_share:
                out.write(f"junk line {i} with no delimiters at all xxxxxxxxxxxxxxx\n")
            else:
                out.write(f"BU{i:08d};2014JJ00;0.0.{i % 7};{i % 50}\n")
    return path


def test_a_file_that_is_mostly_rejects_is_refused_early(demo: Demo):
    demo.load("areas", 2008, demo.areas(2008))
    path = _junk_police_file(demo, 3000, good_first=0, bad_share=0.75)
    with pytest.raises(IngestionError) as caught:
        demo.load("police", 2014, path)
    text = str(caught.value)
    assert "not read further" in text and "do not have the header's 4 fields" in text
    assert f"more than {MAX_REJECT_SHARE:.0%}" in text
    assert demo.one("select count(*) from raw.quarantine") == 0


@pytest.mark.slow
def test_duckdb_early_stop_on_many_rejects_fails_the_load_instead_of_losing_rows(demo: Demo):
    """The reproduction: DuckDB 1.5.5's read_csv (ignore_errors + store_rejects) on a 200,000-line
    population file (8 MB) of which 3/4 after line 10,000 are junk returns ~47,000 rows and
    ~111,000 rejects: ~42,000 lines reach neither (measured with the same read_csv options; files
    of 150,000 lines of the same make, or 200,000 lines with 30-49 % junk, lost none). The first
    10,000 lines are good, so the early refusal does not decide: the line count does. 1-4
    minutes on a loaded machine."""
    demo.load("areas", 2008, demo.areas(2008))
    rng = random.Random(1)
    path = demo.inbox / "population" / "2014" / "bevolking_2014.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as out:
        out.write("peildatum;buurt_code;leeftijdsklasse;geslacht;aantal\n")
        for i in range(200_000):
            if i >= 10_000 and rng.random() < 0.75:
                out.write(f"junk line {i} with no delimiters at all xxxxxxxxxxxxxxx\n")
            else:
                out.write(f"2014-01-01;BU{i:08d};15-24;M;{i % 50}\n")
    with pytest.raises(IngestionError) as caught:
        demo.load("population", 2014, path)
    text = str(caught.value)
    assert "the CSV reader stopped early: the file has 200000 lines after the header" in text
    assert demo.one("select count(*) from raw.population") == 0
    assert demo.one("select count(*) from raw.quarantine") == 0
    assert demo.one("select status from raw.loads where source = 'population'") == "failed"


# -- 4. NaN, inf, 1e309 and counts beyond 64 bits ------------------------------------------------

@pytest.mark.parametrize("value", ["NaN", "inf", "1e309", "-inf"])
def test_non_finite_survey_answers_are_quarantined_cells(demo_areas: Demo, value):
    d = demo_areas
    d.load("survey", 2014, d.codebook(2014))
    rows = survey_rows(2014)
    rows[2][5] = value                          # v01 of the third respondent
    r = d.load("survey", 2014, d.survey_csv(2014, rows))
    assert (r.rows_read, r.rows_landed, r.rows_quarantined, r.cells_quarantined) == (6, 6, 0, 1)
    q = d.quarantine(r.load_id)
    assert len(q) == 1 and q[0]["row_number"] == 3 and q[0]["column_name"] == "v01"
    assert "is not a code of the codebook" in q[0]["reason"]


def test_a_count_beyond_64_bits_names_its_row_and_keeps_the_text(demo: Demo):
    demo.load("areas", 2008, demo.areas(2008))
    rows = [["2014-01-01", b, g, s, "100"] for b in BUURTEN_2008 for g in ("15-24", "65+")
            for s in "MV"]
    rows[4][4] = "99999999999999999999"
    r = demo.load("population", 2014, demo.population(2014, rows=rows))
    assert (r.rows_read, r.rows_landed, r.rows_quarantined) == (16, 15, 1)
    q = demo.quarantine(r.load_id)
    assert q[0]["row_number"] == 5 and q[0]["column_name"] == "aantal"
    assert q[0]["value"] == "99999999999999999999"           # as delivered, not 1e+20
    assert "beyond the range of a count" in q[0]["reason"]


def test_a_codebook_code_beyond_32_bits_is_a_row_problem_not_a_crash(demo_areas: Demo):
    d = demo_areas
    cb = d.codebook(2014)
    cb.write_text(cb.read_text() + "v01;cohesie_1;Vraag cohesie_1;eens5;99999999999999999999;"
                  "te groot;0\n", encoding="utf-8")
    r = d.load("survey", 2014, cb)
    assert r.rows_quarantined == 1
    q = [x for x in d.quarantine(r.load_id) if x["scope"] == "row"]
    assert q[0]["value"] == "99999999999999999999" and "beyond the range" in q[0]["reason"]


def test_discover_all_lists_what_the_inbox_holds_that_is_not_loaded(demo: Demo):
    demo.areas(2008)
    (demo.inbox / "population").mkdir()
    (demo.inbox / "population" / "bevolking.csv").write_text("x")
    (demo.inbox / "polise" / "2014").mkdir(parents=True)
    (demo.inbox / ".hidden-upload.tmp").write_text("x")
    pending, ignored = discover_all(demo.inbox, demo.config)
    assert [p.path.name for p in pending] == ["gebiedsindeling_2008.csv"]
    reasons = {Path(r.path).name: r.message for r in ignored}
    assert set(reasons) == {"bevolking.csv", "polise"}
    assert "not in a period folder" in reasons["bevolking.csv"]
    assert "not the folder of a configured source" in reasons["polise"]


# -- 11. a formula cell without a computed value ---------------------------------------------------

def test_a_formula_without_a_computed_value_is_noted_not_silently_empty(demo_areas: Demo):
    """openpyxl (like many writers) saves formulas without their value: the cell reads empty.
    It lands empty with a quarantine entry naming row, column and formula."""
    d = demo_areas
    rows = survey_rows(2018)
    rows[1][5] = "=2+1"                     # v01 of respondent 2: a formula, never calculated
    xlsx = d.xlsx("survey", 2018, "wijkenquete_2018.xlsx", "Data",
                  ["respondent_id", "golf", "buurt_code", "geboortejaar", "geslacht",
                   "v01", "v02", "v03"], rows)
    d.load("survey", 2018, d.codebook(2018))
    r = d.load("survey", 2018, xlsx)
    assert (r.rows_landed, r.cells_quarantined) == (6, 1)
    assert "formula cell(s) without a computed value" in r.message
    (q,) = d.quarantine(r.load_id)
    assert (q["row_number"], q["column_name"], q["value"]) == (2, "v01", "=2+1")
    assert "without a computed value" in q["reason"]


# -- 11. a parent cycle in an areas file ------------------------------------------------------------

def test_a_parent_cycle_is_refused_at_ingest_naming_the_codes(demo: Demo):
    """A wijk whose parent is one of its own buurten (and a buurt that is its own parent): the
    rows of each cycle are quarantined with the cycle's codes, the rest of the file lands."""
    text = areas_csv(BUURTEN_2008)
    wijk = "WK" + BUURTEN_2008[0][2:8]
    buurt = BUURTEN_2008[0]
    lines = text.splitlines()
    lines = [line.replace(f"{wijk};Wijk {wijk[-2:]};wijk;GM9014",
                          f"{wijk};Wijk {wijk[-2:]};wijk;{buurt}") for line in lines]
    selfish = BUURTEN_2008[-1]
    lines = [line.replace(f";buurt;WK{selfish[2:8]};", f";buurt;{selfish};")
             if line.startswith(selfish) else line for line in lines]
    path = demo.write("areas", 2008, "gebiedsindeling_2008.csv", "\n".join(lines) + "\n")
    r = demo.load("areas", 2008, path)
    q = {x["row_number"]: x for x in demo.quarantine(r.load_id) if x["scope"] == "row"}
    reasons = {x["reason"] for x in q.values()}
    assert f"parent cycle: {wijk} -> {buurt} -> {wijk} (area {wijk} is its own grandparent); " \
           "every area of the cycle is quarantined" in reasons
    assert any(f"parent cycle: {selfish} -> {selfish} (area {selfish} is its own parent)" in x
               for x in reasons)
    assert {x["column_name"] for x in q.values()} == {"ouder_code"}
    assert r.rows_quarantined == 3 and r.rows_landed == r.rows_read - 3


@pytest.mark.parametrize("value", ["99999999999999999999", "-0", "3.50", "1E2", "07", "NaN"])
def test_a_survey_answer_is_quarantined_as_delivered_not_reformatted(demo_areas: Demo, value):
    """The answers of a CSV are read typed (numbers); the quarantine shows the cell's text as
    the file has it, not the number it was read as (1e+20, 0, 3.5, 100.0)."""
    d = demo_areas
    d.load("survey", 2014, d.codebook(2014))
    rows = survey_rows(2014)
    rows[2][5] = value                          # v01 of the third respondent
    r = d.load("survey", 2014, d.survey_csv(2014, rows))
    q = [x for x in d.quarantine(r.load_id) if x["column_name"] == "v01"]
    assert len(q) == 1 and q[0]["row_number"] == 3
    assert q[0]["value"] == value
    assert f"v01 '{value}' is not a code of the codebook" in q[0]["reason"]


# -- 8. the pseudonym key also guards police incident ids ------------------------------------------

def _incidents_csv(demo: Demo) -> Path:
    header = ["Incident Identificatie", "Incidentsoort code", "Begin-pleegdatum/tijd", "X", "Y"]
    rows = [[f"2017{i:08d}", "A72", "01-03-2017 14:00", "233500", "582500"] for i in range(1, 4)]
    return demo.write("politie_incidenten", 2017, "fietsdiefstal_2017.csv",
                      csv_text(header, rows))


def test_a_real_incident_export_is_refused_without_the_key(demo: Demo, monkeypatch):
    """Sequential incident ids under the public demo key would be reversed by trying every id:
    without the deployment's own key the export is refused, naming the setting."""
    path = _incidents_csv(demo)
    monkeypatch.delenv("BASISMONITOR_PSEUDONYM_KEY")
    with pytest.raises(IngestionError, match="BASISMONITOR_PSEUDONYM_KEY is not set: police "
                                             "incident ids cannot be pseudonymised"):
        demo.load("politie_incidenten", 2017, path)


def test_incident_keys_depend_on_the_deployment_key(demo: Demo, monkeypatch):
    path = _incidents_csv(demo)
    r = demo.load("politie_incidenten", 2017, path)
    assert r.rows_landed == 3
    keys = {k for (k,) in demo.q("select incident_key from raw.incidents")}
    from basismonitor.ingestion.pseudonym import DEMO_KEY, pseudonymise
    assert keys == {pseudonymise(f"2017{i:08d}", os.environ["BASISMONITOR_PSEUDONYM_KEY"].encode())
                    for i in range(1, 4)}
    assert not keys & {pseudonymise(f"2017{i:08d}", DEMO_KEY.encode()) for i in range(1, 4)}
