"""Changing the catalogue as a data engineer does (issue 22, point 8; docs/CATALOGUE.md): one row
appended to dbt_project/seeds/indicators.csv with `echo ... >>` flows through the facts, the
compass marts and the pages; a malformed row stops the build before dbt with the file, row and
column named. The seeds are LF, pinned by .gitattributes.

The end-to-end tests work on a copy of the project (src/, dbt_project/, expectations/) run in a
subprocess with the copy first on PYTHONPATH, so the repository's own catalogue is never touched.
"""

from __future__ import annotations

import csv
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from basismonitor.transform.preflight import PreflightError, check_seeds, seed_problems

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "dbt_project" / "seeds"
# a new survey indicator: the share that disagrees that people know each other (item cohesie_1)
NEW_CODE = "kennen_elkaar_niet"
NEW_LABEL = "Mensen kennen elkaar niet"
NEW_ROW = (f"{NEW_CODE},{NEW_LABEL},Aandeel (helemaal) oneens: de mensen in deze buurt kennen "
           "elkaar goed,wijkenquete,survey,aandeel,samenhang,-1,survey_share,cohesie_1,1|2,,,,50,"
           ",,,,1")


def append(path: Path, line: str, *, printf: bool = False) -> None:
    """Append a line the way a data engineer does in a shell: `echo '...' >> file`."""
    command = "printf" if printf else "echo"
    subprocess.run(["bash", "-c", f"{command} {shlex.quote(line)} >> {shlex.quote(str(path))}"],
                   check=True)


def data_rows(path: Path) -> int:
    with open(path, encoding="utf-8", newline="") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


# --- the seeds as written -----------------------------------------------------------------------


def test_the_seeds_are_lf_pinned_for_git_and_pass_the_check():
    seeds = sorted(SEEDS.glob("*.csv"))
    assert {p.name for p in seeds} >= {"indicators.csv", "themes.csv", "quadrants.csv"}
    for path in seeds:
        data = path.read_bytes()
        assert b"\r" not in data and data.endswith(b"\n"), path.name
    attrs = subprocess.run(["git", "-C", str(REPO), "check-attr", "text", "eol", "--",
                            *(p.relative_to(REPO).as_posix() for p in seeds)],
                           check=True, capture_output=True, text=True).stdout
    for path in seeds:
        name = path.relative_to(REPO).as_posix()
        assert f"{name}: text: set" in attrs and f"{name}: eol: lf" in attrs, attrs
    assert seed_problems() == []


# --- a malformed row, named ----------------------------------------------------------------------

MALFORMED = {
    # what is appended -> (column named, words of the message)
    "an unquoted comma": (NEW_ROW.replace("Aandeel (helemaal) oneens:", "Aandeel, oneens:"),
                          None, "21 fields where the header has 20"),
    "an unknown kind": (NEW_ROW.replace("survey_share", "survey_shar"),
                        "kind", "'survey_shar' is not a known kind"),
    "a bad number": (NEW_ROW.replace(",50,", ",5O,"), "min_n", "'5O' is not a whole number"),
    "a duplicate code": (NEW_ROW.replace(NEW_CODE, "kennen_elkaar", 1),
                         "indicator_code", "'kennen_elkaar' is already used in row 3"),
    "an unknown theme": (NEW_ROW.replace(",samenhang,", ",samenhng,"),
                         "theme_code", "'samenhng' is not a theme_code of"),
    "a kind without its item": (NEW_ROW.replace(",cohesie_1,", ",,"),
                                "item", "empty, and kind 'survey_share' needs it"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_appended_row_is_named(case, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    row_number = data_rows(seeds / "indicators.csv") + 2  # the header is row 1
    line, column, words = MALFORMED[case]
    append(seeds / "indicators.csv", line)
    with pytest.raises(PreflightError) as raised:
        check_seeds(seeds)
    message = str(raised.value)
    where = f"{seeds / 'indicators.csv'} row {row_number}"
    if column:
        where += f", column {column}"
    named = [m for m in message.splitlines() if where in m]
    assert named and words in named[0], message


def test_a_crlf_row_in_an_lf_file_is_named(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    lines = data_rows(seeds / "indicators.csv") + 2
    append(seeds / "indicators.csv", NEW_ROW + "\\r\\n", printf=True)
    problems = seed_problems(seeds)
    assert problems == [
        f"{seeds / 'indicators.csv'} line {lines}: line endings are mixed (line 1 ends with LF, "
        f"line {lines} with CRLF); convert it with `sed -i 's/\\r$//' "
        f"{seeds / 'indicators.csv'}` (the seeds are LF, see .gitattributes)"]


def test_a_last_row_without_newline_is_named(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    themes = seeds / "themes.csv"
    themes.write_bytes(themes.read_bytes().rstrip(b"\n"))
    rows = data_rows(themes) + 1
    assert seed_problems(seeds) == [
        f"{themes} row {rows}: the file does not end with a newline, so a row appended with "
        "`echo ... >>` would be joined to this last row"]


# --- the project copy: the real CLI, the real build -----------------------------------------------


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project whose basismonitor (and so dbt project and catalogue) is its own."""
    copy = tmp_path / "project"
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "target", "logs", ".user.yml")
    for part in ("src", "dbt_project", "expectations"):
        shutil.copytree(REPO / part, copy / part, ignore=skip)
    root = run(copy, "-c", "from basismonitor.config import PROJECT_ROOT; print(PROJECT_ROOT)")
    assert Path(root.stdout.strip()) == copy, root.stdout
    return copy


def run(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = {**os.environ, **(env or {}),
               "PYTHONPATH": os.pathsep.join([str(project / "src"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, *args], cwd=project, env=environ,
                          capture_output=True, text=True, timeout=1800)


def test_a_malformed_row_stops_the_build_before_dbt(project, tmp_path):
    catalogue = project / "dbt_project" / "seeds" / "indicators.csv"
    row_number = data_rows(catalogue) + 2
    append(catalogue, NEW_ROW.replace("survey_share", "survey_shar"))
    built = run(project, "-m", "basismonitor.cli", "build",
                "--warehouse", str(tmp_path / "no-warehouse.duckdb"))
    assert built.returncode == 2, built.stdout + built.stderr
    assert (f"dbt_project/seeds/indicators.csv row {row_number}, column kind: 'survey_shar' "
            "is not a known kind") in built.stderr
    assert "dbt build on" not in built.stdout  # refused before dbt started


@pytest.mark.slow
def test_adding_an_indicator_reaches_facts_compass_and_pages(project, refreshed, tmp_path):
    catalogue = project / "dbt_project" / "seeds" / "indicators.csv"
    append(catalogue, NEW_ROW)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(refreshed.warehouse, warehouse)
    exports = tmp_path / "exports"
    env = {"BASISMONITOR_WAREHOUSE": str(warehouse)}
    edition = str(refreshed.edition)
    for step in (["build", "--edition", edition, "--base-period", str(refreshed.base_period)],
                 ["publish", "--edition", edition, "--exports", str(exports)]):
        done = run(project, "-m", "basismonitor.cli", *step, "--warehouse", str(warehouse), env=env)
        assert done.returncode == 0, f"{step[0]}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"

    with duckdb.connect(str(warehouse), read_only=True) as con:
        facts = con.execute("""select count(*), count(*) filter (where not suppressed)
                               from marts.fct_indicator_value
                               where indicator_code = ? and period = ?""",
                            [NEW_CODE, refreshed.edition]).fetchone()
        compass = con.execute("""select count(distinct area_code), any_value(node_label_nl),
                                        any_value(parent_node_code), count(index_value)
                                 from marts.mart_compass_status
                                 where node_level = 'indicator' and node_code = ?""",
                              [NEW_CODE]).fetchone()
        areas = con.execute("select count(distinct area_code) from marts.mart_compass_status"
                            ).fetchone()[0]
        development = con.execute("""select count(distinct area_code) from
                                     marts.mart_compass_development
                                     where node_level = 'indicator' and node_code = ?""",
                                  [NEW_CODE]).fetchone()[0]
        described = con.execute("select label_nl from marts.dim_indicator where indicator_code = ?",
                                [NEW_CODE]).fetchall()
    assert facts[0] > 0 and facts[1] > 0, facts  # figures, some of them shown
    assert compass[0] == areas and compass[1:3] == (NEW_LABEL, "samenhang"), compass
    assert compass[3] > 0  # indexed against the city
    assert development == areas and described == [(NEW_LABEL,)]

    published = exports / edition
    with open(published / "mart_compass_status.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["node_code"] == NEW_CODE]
    assert len(rows) == areas
    pages = sorted((published / "site" / "area").glob("*.html"))
    assert pages and all(NEW_LABEL in page.read_text(encoding="utf-8") for page in pages)
