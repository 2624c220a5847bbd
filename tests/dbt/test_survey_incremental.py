"""Survey waves are built incrementally: landing a wave computes only that wave.

On a small generated municipality of its own (not the session's `refreshed` warehouse, which these
tests change): build with all waves but the last, land the last wave, build again. The second
build must rake and estimate only the new wave (the old waves keep their `built_at`) and give the
same warehouse, to 1e-12, as a --full-refresh build on the same inputs. Then a wave reloaded as
is (a new load of the same file) and a corrected population file of another wave's year make
exactly those two waves recomputed, again equal to a full refresh.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

EDITION = 2024  # as tests/conftest.py
BASE_PERIOD = 2016

SURVEY_TABLES = ("intermediate.int_respondents_weighted", "intermediate.int_survey_estimates")
TOLERANCE = 1e-12
# The small-area table (Fay-Herriot fits) is rebuilt by every build; two builds of the same inputs
# must agree to 1e-9 (issue 21). Its fits used to differ by up to 1e-9 and its JSON betas in their
# last digits (2,660-3,999 of 8,181 rows), because the inputs reached the fit in a varying order
# with varying last bits (parallel float sums); the model now fixes both, and is compared here.
TABLE_TOLERANCE = {"intermediate.int_survey_small_area_estimates": 1e-9}
NOT_COMPARED: set[str] = set()
# Text columns holding a JSON object of floats (the fit's betas and their SEs): compared as numbers
# to the table's tolerance. The raking of a wave landed alone and of all waves in one run can differ
# in the last bits (int_respondents_weighted agrees to 1e-12, not bit for bit: 94 weights of one
# trimmed wijk by 6e-14 on the small demo), the fits then by ~1e-12, and the JSON text differs.
JSON_FLOAT_COLUMNS = {"intermediate.int_survey_small_area_estimates": ("beta", "beta_se")}
quiet = lambda _: None  # noqa: E731


def build(warehouse: Path, *, full_refresh: bool = False) -> list[dict]:
    """The pipeline's build (dbt build: models and their tests)."""
    from basismonitor.orchestration import pipeline

    return pipeline.build(
        warehouse, EDITION, base_period=BASE_PERIOD, progress=quiet, full_refresh=full_refresh
    )


def run(warehouse: Path, *, full_refresh: bool = False) -> None:
    """Seeds and models without dbt's tests (their time is spent on the builds under test)."""
    from basismonitor.transform.dbt import run_dbt

    args = ["--exclude-resource-type", "test", "--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    run_dbt(
        "build", warehouse, args=args, vars={"edition": EDITION, "base_period": BASE_PERIOD}
    )


def built_at(warehouse: Path) -> dict[str, dict[int, tuple]]:
    """Per survey table: wave -> (built_at values, input fingerprints, rows)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return {
            table: {
                wave: (stamps, fingerprints, rows)
                for wave, stamps, fingerprints, rows in con.execute(
                    f"select wave, list(distinct built_at), list(distinct input_fingerprint),"
                    f" count(*) from {table} group by wave"
                ).fetchall()
            }
            for table in SURVEY_TABLES
        }


def full_refresh_copy(warehouse: Path, root: Path) -> Path:
    """The same warehouse (same inputs), rebuilt with --full-refresh in another directory."""
    copy = root / warehouse.name  # the file name is the catalog name the views refer to
    root.mkdir(parents=True)
    shutil.copyfile(warehouse, copy)
    run(copy, full_refresh=True)
    return copy


def differences(a: Path, b: Path, *, tol: float = TOLERANCE) -> dict[str, str]:
    """Tables of the intermediate and marts schemas that differ (built_at left out): row counts,
    exact equality of all other columns, floats within tol (relative above 1)."""
    con = duckdb.connect()
    con.execute(f"attach '{a}' as wa (read_only)")
    con.execute(f"attach '{b}' as wb (read_only)")
    listing = (
        "select schema_name || '.' || table_name from duckdb_tables()"
        " where database_name = ? and schema_name in ('intermediate', 'marts')"
    )
    tables_a = {r[0] for r in con.execute(listing, ["wa"]).fetchall()}
    tables_b = {r[0] for r in con.execute(listing, ["wb"]).fetchall()}
    out = {t: "in one warehouse only" for t in tables_a ^ tables_b}
    for table in sorted((tables_a & tables_b) - NOT_COMPARED):
        schema, name = table.split(".")
        columns = [
            (c, t)
            for c, t in con.execute(
                "select column_name, data_type from duckdb_columns() where database_name = 'wa'"
                " and schema_name = ? and table_name = ? order by column_index",
                [schema, name],
            ).fetchall()
            if c != "built_at"
        ]
        select = ", ".join(f'"{c}"' for c, _ in columns)
        na, nb = (
            con.execute(f"select count(*) from {db}.{table}").fetchone()[0] for db in ("wa", "wb")
        )
        if na != nb:
            out[table] = f"{na} rows against {nb}"
            continue
        exact = con.execute(
            f"select count(*) from (select {select} from wa.{table}"
            f" except all select {select} from wb.{table})"
        ).fetchone()[0]
        if exact == 0:
            continue
        floats = [c for c, t in columns if t in ("DOUBLE", "FLOAT")]
        jsons = [c for c in JSON_FLOAT_COLUMNS.get(table, ()) if c in dict(columns)]
        others = [c for c, _ in columns if c not in floats and c not in jsons]
        tol_t = max(tol, TABLE_TOLERANCE.get(table, tol))
        order = ", ".join(f'"{c}"' for c in others + floats)
        same = [f'x."{c}" is not distinct from y."{c}"' for c in others] + [
            f'(x."{c}" is not distinct from y."{c}"'
            f' or abs(x."{c}" - y."{c}") <= {tol_t} * greatest(1, abs(x."{c}")))'
            for c in floats
        ] + [
            f'(x."{c}" is not distinct from y."{c}" or (json_keys(x."{c}") = json_keys(y."{c}")'
            f' and list_max(list_transform(json_keys(x."{c}"), k -> abs('
            f'cast(json_extract(x."{c}", \'$."\' || k || \'"\') as double)'
            f' - cast(json_extract(y."{c}", \'$."\' || k || \'"\') as double)))) <= {tol_t}))'
            for c in jsons
        ]
        bad = con.execute(
            f"with x as (select {select}, row_number() over (order by {order}) as _rn"
            f" from wa.{table}), y as (select {select}, row_number() over (order by {order})"
            f" as _rn from wb.{table})"
            f" select count(*) from x join y using (_rn) where not ({' and '.join(same)})"
        ).fetchone()[0]
        if bad:
            out[table] = f"{bad} of {na} rows differ beyond {tol_t}"
    con.close()
    return out


def leftover_temp_tables(warehouse: Path) -> list[str]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
                " and table_name like '%__dbt_tmp%'"
            ).fetchall()
        ]


@dataclass
class Landed:
    root: Path
    inbox: Path
    warehouse: Path
    waves: list[int]
    before: dict
    after: dict
    full: Path


@pytest.fixture(scope="module")
def landed(small_inbox: Path, tmp_path_factory) -> Landed:
    """Build waves 1..N-1, land wave N, build incrementally; and the full refresh of the same."""
    from basismonitor.orchestration import pipeline

    root = tmp_path_factory.mktemp("survey_incremental")
    inbox = root / "inbox"
    shutil.copytree(small_inbox, inbox)  # a copy: a wave is held back from it
    waves = sorted(int(p.name) for p in (inbox / "survey").iterdir())
    held_back = root / "held_back"
    shutil.move(inbox / "survey" / str(waves[-1]), held_back)

    warehouse = root / "incremental" / "basismonitor.duckdb"
    pipeline.ingest(warehouse, inbox, progress=quiet)
    run(warehouse)
    before = built_at(warehouse)

    shutil.move(held_back, inbox / "survey" / str(waves[-1]))
    pipeline.ingest(warehouse, inbox, progress=quiet)
    build(warehouse)
    after = built_at(warehouse)
    full = full_refresh_copy(warehouse, root / "full")
    return Landed(root, inbox, warehouse, waves, before, after, full)


def test_landing_a_wave_computes_only_that_wave(landed: Landed):
    *old, new = landed.waves
    for table in SURVEY_TABLES:
        assert sorted(landed.before[table]) == old, table
        assert sorted(landed.after[table]) == landed.waves, table
        for wave in old:  # same rows, same fingerprint, not rebuilt
            assert landed.after[table][wave] == landed.before[table][wave], (table, wave)
        (stamp,) = landed.after[table][new][0]
        assert all(stamp > landed.before[table][w][0][0] for w in old), table
        assert landed.after[table][new][2] > 0
    assert leftover_temp_tables(landed.warehouse) == []


def test_incremental_build_equals_full_refresh(landed: Landed):
    assert differences(landed.warehouse, landed.full) == {}
    # the full refresh recomputed every wave in one run
    stamps = {s for t in built_at(landed.full).values() for v in t.values() for s in v[0]}
    assert len(stamps) == len(SURVEY_TABLES)


def test_reloaded_wave_and_changed_margins_are_recomputed(landed: Landed, tmp_path):
    """A wave landed again (new load, same file) and a corrected population file of another
    wave's year: exactly those two waves are recomputed, and the result is a full refresh's."""
    from basismonitor.ingestion import load_file

    from basismonitor.orchestration import pipeline

    warehouse = tmp_path / "reload" / landed.warehouse.name
    warehouse.parent.mkdir()
    shutil.copyfile(landed.warehouse, warehouse)
    inbox = tmp_path / "inbox"
    shutil.copytree(landed.inbox, inbox)

    reloaded, recounted = landed.waves[1], landed.waves[3]
    (data_file,) = [
        p for p in (inbox / "survey" / str(reloaded)).iterdir() if not p.name.startswith("codeboek")
    ]
    load_file(warehouse, "survey", str(reloaded), data_file, force=True)

    (population_file,) = (inbox / "population" / str(recounted)).iterdir()
    lines = population_file.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if ";25-44;" in line)
    cells = lines[row].rstrip("\n").split(";")
    cells[-1] = str(int(cells[-1]) + 40)
    lines[row] = ";".join(cells) + "\n"
    population_file.write_text("".join(lines), encoding="utf-8")
    pipeline.ingest(warehouse, inbox, progress=quiet)  # replaces the corrected file's load

    build(warehouse)
    after = built_at(warehouse)
    for table in SURVEY_TABLES:
        for wave in landed.waves:
            changed = after[table][wave] != landed.after[table][wave]
            assert changed == (wave in (reloaded, recounted)), (table, wave)
        # the reloaded wave's inputs are the same file again: only the load differs
        assert after[table][reloaded][2] == landed.after[table][reloaded][2]
    assert differences(warehouse, full_refresh_copy(warehouse, tmp_path / "full")) == {}


def test_changed_only_build_builds_what_the_changed_source_reaches(landed: Landed, tmp_path):
    """After a build, `changed_only` builds nothing while nothing changed; a survey wave landed
    again builds the survey source and what depends on it (not the registry or activity models),
    and gives a full refresh's warehouse; other vars mean everything is built again."""
    from basismonitor.ingestion import load_file

    from basismonitor.orchestration import pipeline
    from basismonitor.transform.build_state import plan_build

    warehouse = tmp_path / "changed" / landed.warehouse.name
    warehouse.parent.mkdir()
    shutil.copyfile(landed.warehouse, warehouse)  # the fixture's last build recorded its state
    vars_ = {"edition": EDITION, "base_period": BASE_PERIOD}

    unchanged = plan_build(warehouse, vars_)
    assert unchanged.nothing_to_build, unchanged.reason
    assert pipeline.build(warehouse, EDITION, base_period=BASE_PERIOD, progress=quiet,
                          changed_only=True) == []
    other_vars = plan_build(warehouse, {**vars_, "base_period": BASE_PERIOD + 2})
    assert other_vars.select is None and "vars" in other_vars.reason

    wave = landed.waves[2]
    (data_file,) = [
        p for p in (landed.inbox / "survey" / str(wave)).iterdir()
        if not p.name.startswith("codeboek")
    ]
    load_file(warehouse, "survey", str(wave), data_file, force=True)
    assert plan_build(warehouse, vars_).select == "source:survey+"
    nodes = {n["node"] for n in pipeline.build(warehouse, EDITION, base_period=BASE_PERIOD,
                                                progress=quiet, changed_only=True)}
    assert {"model.basismonitor.int_survey_estimates", "model.basismonitor.fct_indicator_value",
            "model.basismonitor.mart_compass_status"} <= nodes
    assert not {"model.basismonitor.int_registry_indicators_computed",
                "model.basismonitor.int_activity_indicators_computed",
                "model.basismonitor.stg_registry__population"} & nodes
    assert any(n.startswith("test.") for n in nodes)  # the data tests ran, the unit tests not
    assert not any(n.startswith("unit_test.") for n in nodes)
    assert plan_build(warehouse, vars_).nothing_to_build  # the narrowed build was recorded
    assert differences(warehouse, full_refresh_copy(warehouse, tmp_path / "full")) == {}
