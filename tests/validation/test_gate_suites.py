"""The gate's suites, its report and its warnings."""

from __future__ import annotations

import json
import re

import yaml

from basismonitor import publish, validation
from basismonitor.config import DBT_PROJECT_DIR


def test_every_suite_names_its_table_and_file(suites):
    for table, suite in suites.items():
        assert suite["name"] == table
        assert (validation.EXPECTATIONS_DIR / f"{table}.json").exists()
        for expectation in suite["expectations"]:
            assert expectation["severity"] in ("critical", "warning"), expectation


def test_every_derived_check_is_defined_and_asserted(suites):
    for table, suite in suites.items():
        batch = suite["meta"]["batch"]
        prefix = "bad__" if batch["kind"] == "per_group" else "check__"
        asserted = {e["kwargs"].get("column") for e in suite["expectations"]}
        for name in batch.get("checks", []):
            assert name in validation.CHECKS, f"{table}: unknown check {name}"
            assert prefix + name in asserted, f"{table}: {name} is computed but never asserted"
        for name in batch.get("aggregates", []):
            assert name in validation.AGGREGATES and name in asserted
        for name in batch.get("joins", []):
            assert name in validation.JOINS
        for column in batch.get("not_null", []):
            assert f"null__{column}" in asserted, f"{table}: null__{column} never asserted"


def test_the_mart_suites_agree_with_the_dbt_contracts(suites):
    """A changed contract must change the gate's schema too (and the other way round)."""
    spec = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "_marts__models.yml").read_text())
    for model in spec["models"]:
        contract = {f"{c['name']} {c['data_type'].upper()}" for c in model["columns"]}
        suite = suites[f"marts.{model['name']}"]
        [schema] = [e for e in suite["expectations"]
                    if e["kwargs"].get("column") == "column_spec"
                    and e["type"] == "expect_column_values_to_be_in_set"]
        assert set(schema["kwargs"]["value_set"]) == contract, model["name"]


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
