"""Checks before and after `dbt build` that turn a wrong setting into a plain message.

dbt's tests say *that* something is wrong (a uniqueness test with 123 results, an empty mart);
these say *why*, naming the files, sources and periods involved, before the build starts or
right after it ends:

- the compass division (dbt var ``area_source``) must have landed areas; when other sources did,
  the message lists them so the setting can be corrected;
- the same division file delivered by two sources is refused, naming both files;
- a build whose edition has no figure at all fails, naming the edition and the periods that do
  have data (the gate would otherwise refuse it later with a check name only).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from basismonitor.config import duckdb_config


class PreflightError(RuntimeError):
    """The warehouse's inputs cannot make the edition asked for; the message says why."""


def _dbt_var(vars_: dict, name: str):
    if name in vars_:
        return vars_[name]
    import yaml

    from basismonitor.config import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return (project.get("vars") or {}).get(name)


def _connect(warehouse: Path):
    return duckdb.connect(str(warehouse), read_only=True, config=duckdb_config())


def check_inputs(warehouse: Path, vars_: dict) -> list[str]:
    """Before the build: raise PreflightError for inputs that cannot make a compass; return notes
    worth printing (e.g. which sources' divisions reach the compass by overlay)."""
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise PreflightError(f"warehouse {warehouse} does not exist: run `basismonitor ingest` first")
    area_source = str(_dbt_var(vars_, "area_source") or "areas")
    level = str(_dbt_var(vars_, "compass_level") or "wijk")
    notes: list[str] = []
    with _connect(warehouse) as con:
        tables = {r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if "raw.areas" not in tables:
            raise PreflightError(f"{warehouse} has no raw.areas: run `basismonitor ingest` first")
        divisions = con.execute("""
            select _source, edition, count(*) filter (where area_level = 'buurt'),
                   count(*) filter (where area_level = ?), string_agg(distinct _file, ', ' order by _file)
            from raw.areas group by all order by 1, 2""", [level]).fetchall()
        if not divisions:
            raise PreflightError("no area division has landed (raw.areas is empty): deliver one "
                                 "under inbox/<areas source>/<edition>/ and run `basismonitor ingest`")
        ours = [d for d in divisions if d[0] == area_source]
        if not ours:
            others = "; ".join(f"{s} {e} ({files})" for s, e, _, _, files in divisions)
            raise PreflightError(
                f"the compass is drawn on the division of source '{area_source}' (dbt var "
                f"area_source), but that source landed no areas. Landed divisions: {others}. "
                f"Set area_source to one of them (e.g. --vars '{{area_source: {divisions[0][0]}}}' "
                f"or `vars:` in the settings file).")
        for source, edition, buurten, compass_areas, files in ours:
            if buurten == 0:
                raise PreflightError(
                    f"the division of '{source}' edition {edition} ({files}) has no buurten: an "
                    f"edition is a buurt division (add the buurt file)")
            if compass_areas == 0:
                raise PreflightError(
                    f"the division of '{source}' edition {edition} ({files}) has no areas at the "
                    f"compass level '{level}' (dbt var compass_level)")
        same = con.execute("""
            select a._source, a._file, b._source, b._file
            from (select distinct _source, _file, _sha256, edition from raw.areas) a
            join (select distinct _source, _file, _sha256, edition from raw.areas) b
              on a._sha256 = b._sha256 and a.edition = b.edition and a._source < b._source
            order by all""").fetchall()
        if same:
            raise PreflightError("the same division is delivered by two sources for one edition: "
                                 + "; ".join(f"{a} {fa} and {b} {fb}" for a, fa, b, fb in same)
                                 + ". Keep it in one source's folder (the compass division's is "
                                 f"'{area_source}')")
        for source, edition, _, _, _ in divisions:
            if source != area_source:
                notes.append(f"areas of '{source}' {edition} are another division: its figures "
                             f"reach '{area_source}' through the overlay (int_division_overlay)")
    return notes


def check_edition_has_figures(warehouse: Path, edition: int) -> None:
    """After the build (and before the gate): the edition must have figures."""
    with _connect(Path(warehouse)) as con:
        try:
            periods = con.execute("""
                select period, count(*) from marts.fct_indicator_value
                where area_edition = (select max(area_edition) from marts.fct_indicator_value)
                group by all order by 1""").fetchall()
            survey = con.execute("select distinct wave from raw.survey_respondents order by 1").fetchall()
        except duckdb.CatalogException:
            return
    counts = dict(periods)
    if counts.get(edition, 0) == 0:
        have = ", ".join(f"{p} ({n:,} figures)" for p, n in periods) or "none"
        waves = ", ".join(str(w) for (w,) in survey) or "none"
        raise PreflightError(
            f"no figure for edition {edition}: the warehouse has figures for the periods {have}; "
            f"survey waves landed: {waves}. Build an edition that has data (--edition, "
            f"BASISMONITOR_EDITION or `edition:` in the settings file), or deliver the data of "
            f"{edition}")
