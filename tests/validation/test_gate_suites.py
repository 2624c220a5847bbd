"""The gate's suites, its report and its warnings."""

from __future__ import annotations

import json
import re

import duckdb
import pytest
import yaml

from basismonitor.config import DBT_PROJECT_DIR
from basismonitor.publish import exports as publish
from basismonitor.quality import validation


def test_every_suite_names_its_table_and_file(suites):
    for table, suite in suites.items():
        assert suite["name"] == table
        assert (validation.EXPECTATIONS_DIR / f"{table}.json").exists()
        for expectation in suite["expectations"]:
            assert expectation["severity"] in ("critical", "warning"), expectation


def test_every_derived_check_has_its_sql_in_the_suite_that_asserts_it(suites):
    for table, suite in suites.items():
        batch = suite["meta"]["batch"]
        prefix = "bad__" if batch["kind"] == "per_group" else "check__"
        asserted = {e["kwargs"].get("column") for e in suite["expectations"]}
        checks = validation.derived_checks(suite)
        assert "checks" not in batch, table
        for name, sql in checks.items():
            assert prefix + name in asserted and sql.strip(), (table, name)
        for column in asserted:
            if column and column.startswith(prefix):
                assert column.removeprefix(prefix) in checks, f"{table}: {column} has no SQL"
        for name, sql in batch.get("aggregates", {}).items():
            assert name in asserted and sql.strip(), (table, name)
        for column in batch.get("not_null", []):
            assert f"null__{column}" in asserted, f"{table}: null__{column} never asserted"


def test_a_suite_in_the_old_form_is_refused_naming_its_file(tmp_path):
    """Checks named in meta.batch.checks (their SQL in Python) are gone; a suite written that way
    is refused with a message that says where the SQL goes now."""
    source = validation.EXPECTATIONS_DIR / "marts.dim_period.json"
    suite = json.loads(source.read_text(encoding="utf-8"))
    suite["meta"]["batch"]["checks"] = ["one_current_period"]
    (tmp_path / source.name).write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(validation.SuiteError, match=r"marts\.dim_period\.json.*meta\.check"):
        validation.load_suites(tmp_path)
    del suite["meta"]["batch"]["checks"]
    for e in suite["expectations"]:
        (e.get("meta") or {}).pop("check", None)  # asserted, but its SQL is missing
    (tmp_path / source.name).write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(validation.SuiteError, match=r"asserts check__\w+, which no expectation"):
        validation.load_suites(tmp_path)


def test_a_check_added_in_a_suite_runs_and_is_named(refreshed, tmp_path, failing):
    """Adding a check is one expectation with its SQL (docs/QUALITY.md, 'Adding a check'): no
    Python. Here one that every period before the edition fails."""
    source = validation.EXPECTATIONS_DIR / "marts.dim_period.json"
    suite = json.loads(source.read_text(encoding="utf-8"))
    suite["expectations"].append({
        "type": "expect_column_values_to_be_in_set",
        "kwargs": {"column": "check__period_is_the_edition", "value_set": [True]},
        "severity": "critical",
        "meta": {"check": "t.period = $edition"},
        "notes": "A check added by a test.",
    })
    (tmp_path / source.name).write_text(json.dumps(suite), encoding="utf-8")
    suites = validation.load_suites(tmp_path)
    result = validation.validate_warehouse(refreshed.warehouse, refreshed.edition, suites=suites,
                                           progress=lambda _: None)
    [failure] = failing(result, "marts.dim_period", "check__period_is_the_edition")
    periods = validation.read_table(refreshed.warehouse, "marts.dim_period")["period"]
    assert failure.unexpected_count == int((periods != refreshed.edition).sum()) > 0
    assert f"period={int(periods.min())}" in failure.detail  # names the failing rows


def test_an_unknown_placeholder_in_a_check_is_named(refreshed, tmp_path):
    source = validation.EXPECTATIONS_DIR / "marts.dim_period.json"
    suite = json.loads(source.read_text(encoding="utf-8"))
    [expectation] = [e for e in suite["expectations"]
                     if e["kwargs"].get("column") == "check__current_period_is_edition"]
    expectation["meta"]["check"] = "not t.is_current_period or t.period = $editon"
    (tmp_path / source.name).write_text(json.dumps(suite), encoding="utf-8")
    with pytest.raises(validation.SuiteError,
                       match=r"marts\.dim_period: check current_period_is_edition.*'editon'"):
        validation.validate_warehouse(refreshed.warehouse, refreshed.edition,
                                      suites=validation.load_suites(tmp_path),
                                      progress=lambda _: None)


def test_the_mart_suites_take_their_schema_from_the_dbt_contracts(suites, refreshed):
    """The mart suites' column types are the dbt contract's (never retyped): "$dbt_contract" is
    read from the model YAML, which must read as DuckDB describes the built marts."""
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        for table, suite in suites.items():
            if not table.startswith("marts."):
                continue
            schema = [e for e in suite["expectations"] if e["kwargs"].get("column") == "column_spec"]
            assert schema and all(e["kwargs"]["value_set"] == "$dbt_contract" for e in schema)
            built = [f"{name} {kind}" for name, kind, *_ in con.sql(f"describe {table}").fetchall()]
            assert validation.dbt_contract(table) == built, table


def test_the_class_rule_is_dbts_macro_in_the_warehouse(refreshed):
    """The gate checks classes with the function dbt persists from its macro compass_class, with
    the bands of the run's vars (here dbt_project.yml's defaults): probed at each band's edge."""
    bands = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]
    probes = [
        (bands["much_worse_below"] - 0.1, True, False, None, "veel slechter"),
        (bands["much_worse_below"], True, False, None, "slechter"),
        (bands["worse_below"], True, False, None, "gemiddeld"),
        (bands["better_above"], True, False, None, "gemiddeld"),
        (bands["much_better_above"], True, False, None, "beter"),
        (bands["much_better_above"] + 0.1, True, False, None, "veel beter"),
        (bands["worse_below"] - 0.1, False, False, None, "minder"),
        (bands["better_above"] + 0.1, False, False, None, "meer"),
        (bands["much_worse_below"] - 0.1, True, True, False, "gemiddeld"),  # not significant
        (bands["much_worse_below"] - 0.1, True, True, True, "veel slechter"),
        (None, True, False, None, None),
    ]
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        for index, judged, survey, significant, expected in probes:
            got = con.execute("select marts.compass_class(?::double, ?, ?, ?::boolean)",
                              [index, judged, survey, significant]).fetchone()[0]
            assert got == expected, (index, judged, survey, significant)


def test_the_exported_tables_are_the_privacy_checked_ones(suites):
    exported = {t for t, s in suites.items() if s["meta"].get("exported")}
    assert exported == set(publish.EXPORTED_TABLES)
    for table in exported:
        columns = [e for e in suites[table]["expectations"] if (e.get("meta") or {}).get("batch")]
        kinds = {e["kwargs"]["column"] for e in columns}
        assert {"column_name", "holds_respondent_keys"} <= kinds, table


def test_gate_and_publisher_share_one_denylist():
    assert publish.PERSONAL_COLUMNS is validation.PERSONAL_COLUMNS
    for name in ("respondent_key", "Respondent_ID", "geboortejaar", "birth_date", "weight", "y",
                 "postcode6", "answer_codes"):
        assert validation.is_personal_column(name), name
    for name in ("area_code", "theme_weight", "n_weighted", "age_group", "period", "value"):
        assert not validation.is_personal_column(name), name
    # the pattern the suites use is the same denylist
    assert re.fullmatch(validation.PERSONAL_COLUMN_PATTERN, "respondent_key")


def test_a_warning_is_reported_and_does_not_stop_publication(gate, table, failing):
    report = table("intermediate.int_weighting_report")
    report.loc[0, "converged"] = False
    result = gate("intermediate.int_weighting_report",
                  frames={"intermediate.int_weighting_report": report})
    assert result.passed
    [warning] = failing(result, "intermediate.int_weighting_report", "check__weighting_converged",
                        severity="warning")
    assert warning in result.warnings


def test_each_run_keeps_its_data_docs_with_the_edition(refreshed, suites, tmp_path):
    chosen = {t: suites[t] for t in ("marts.dim_period", "raw.loads")}
    runs = [validation.validate_warehouse(refreshed.warehouse, refreshed.edition, suites=chosen,
                                          docs_root=tmp_path, progress=lambda _: None)
            for _ in range(2)]
    first, second = (r.docs_dir for r in runs)
    assert first != second and first.parent == second.parent == tmp_path / str(refreshed.edition)
    for docs in (first, second):
        assert (docs / "index.html").exists()
        assert "marts.dim_period" in (docs / "index.html").read_text(encoding="utf-8")
        summary = json.loads((docs / "gate_result.json").read_text())
        assert summary["passed"] and summary["edition"] == refreshed.edition
    assert (tmp_path / str(refreshed.edition) / "latest").resolve() == second.resolve()
    assert not list((tmp_path / str(refreshed.edition)).glob(".staging-*"))
