"""The dbt project's own quality, read from dbt's artifacts (manifest.json, catalog.json).

Runs `dbt parse`, `dbt docs generate` and the dbt unit tests on a copy of the warehouse of the
session's small refresh (the `refreshed` fixture), with dbt's target and log paths in tmp_path so
that neither the fixture's warehouse nor dbt_project/target is touched. Checks that the lineage
runs from sources to marts, that every model and every column is described, that the published
marts enforce their contracts and are named by exposures, and that the unit tests pass.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
PROJECT_NAME = "basismonitor"
MARTS_PATH = "models/marts/"

# Sources that feed no mart, each with the reason. The test fails when another source is left
# unused and when one of these starts feeding a mart (then remove it here).
SOURCES_FEEDING_NO_MART = {
    "source.basismonitor.survey.survey_codebook": (
        "stg_survey__codebook is staged but nothing reads it yet (question texts and answer-code"
        " meanings are not in any mart); use it or drop the source"
    ),
}

# Models whose logic the method depends on: each needs at least one dbt unit test. (The Python
# models int_respondents_weighted and int_survey_estimates cannot be unit-tested by dbt; they are
# tested in tests/stats.)
MODELS_NEEDING_UNIT_TESTS = (
    "int_area_ancestors",
    "int_area_editions",
    "int_buurten_mapped_to_compass_areas",
    "int_crosswalk_compass_areas",
    "int_registry_indicators_computed",
    "int_activity_indicators_computed",
    "int_indicator_values_harmonised",
    "int_survey_responses_scored",
    "mart_compass_status",
    "mart_compass_development",
    "fct_indicator_value",
)


@dataclass
class DbtWorkspace:
    root: Path
    warehouse: Path
    target: Path
    logs: Path
    vars: dict

    def run(self, *args: str) -> subprocess.CompletedProcess:
        """`dbt <args>` on the copied warehouse, in a child process (dbt keeps global state)."""
        script = Path(sys.executable).with_name("dbt")
        dbt = [str(script)] if script.exists() else [sys.executable, "-m", "dbt.cli.main"]
        command = [
            *dbt,
            *args,
            "--project-dir",
            str(DBT_PROJECT),
            "--profiles-dir",
            str(DBT_PROJECT),
            "--target-path",
            str(self.target),
            "--log-path",
            str(self.logs),
            "--vars",
            json.dumps(self.vars),
        ]
        env = {
            **os.environ,
            "BASISMONITOR_WAREHOUSE": str(self.warehouse),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
        }
        return subprocess.run(
            command, env=env, cwd=self.root, capture_output=True, text=True, timeout=900
        )

    def check(self, *args: str) -> subprocess.CompletedProcess:
        result = self.run(*args)
        assert result.returncode == 0, (
            f"dbt {' '.join(args)} failed (exit {result.returncode}); logs in {self.logs}\n"
            f"{_tail(result.stdout)}\n{_tail(result.stderr)}"
        )
        return result

    def artifact(self, name: str) -> dict:
        return json.loads((self.target / name).read_text(encoding="utf-8"))


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _listing(items: Iterable[str]) -> str:
    return "\n  ".join(sorted(items))


@pytest.fixture(scope="module")
def workspace(refreshed, tmp_path_factory) -> DbtWorkspace:
    """A private copy of the refreshed warehouse and private dbt target and log paths.

    The copy keeps the file name: DuckDB names the catalog after the file, and the staging views
    refer to their sources by catalog.
    """
    root = tmp_path_factory.mktemp("dbt_quality")
    warehouse = root / refreshed.warehouse.name
    shutil.copyfile(refreshed.warehouse, warehouse)
    wal = refreshed.warehouse.with_name(refreshed.warehouse.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, warehouse.with_name(warehouse.name + ".wal"))
    return DbtWorkspace(
        root=root,
        warehouse=warehouse,
        target=root / "target",
        logs=root / "logs",
        vars={"edition": refreshed.edition, "base_period": refreshed.base_period},
    )


@pytest.fixture(scope="module")
def manifest(workspace) -> dict:
    workspace.check("parse")
    workspace.check("docs", "generate")
    return workspace.artifact("manifest.json")


@pytest.fixture(scope="module")
def catalog(manifest, workspace) -> dict:
    return workspace.artifact("catalog.json")


def _models(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["package_name"] == PROJECT_NAME
    }


def _marts(manifest: dict) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in _models(manifest).items()
        if node["original_file_path"].startswith(MARTS_PATH)
    }


def _sources(manifest: dict) -> dict[str, dict]:
    return {uid: s for uid, s in manifest["sources"].items() if s["package_name"] == PROJECT_NAME}


def _seeds(manifest: dict) -> set[str]:
    return {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "seed" and node["package_name"] == PROJECT_NAME
    }


def _closure(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, []))
    return seen


def test_the_project_has_marts_and_sources(manifest):
    assert _marts(manifest), f"no models under {MARTS_PATH}"
    assert _sources(manifest), "no sources declared"


def test_every_model_reads_declared_relations(manifest):
    """A model without parents reads a table dbt does not know of, which breaks the lineage."""
    orphans = [
        node["name"] for node in _models(manifest).values() if not node["depends_on"]["nodes"]
    ]
    assert not orphans, f"models that read no ref() or source():\n  {_listing(orphans)}"


def test_every_mart_reads_from_sources(manifest):
    """Facts and compasses reach the landed sources; a dimension may come from seeds alone (the
    indicator catalogue)."""
    sources = set(_sources(manifest))
    seeds = _seeds(manifest)
    cut_off = []
    for uid, node in _marts(manifest).items():
        upstream = _closure(uid, manifest["parent_map"])
        catalogue_only = bool(upstream) and upstream <= seeds
        if not (upstream & sources or catalogue_only):
            cut_off.append(node["name"])
    assert not cut_off, f"marts whose upstream lineage reaches no source:\n  {_listing(cut_off)}"


def test_every_source_feeds_a_mart(manifest):
    marts = set(_marts(manifest))
    unused = {uid for uid in _sources(manifest) if not _closure(uid, manifest["child_map"]) & marts}
    new = unused - SOURCES_FEEDING_NO_MART.keys()
    assert not new, f"sources that feed no mart:\n  {_listing(new)}"
    now_used = SOURCES_FEEDING_NO_MART.keys() - unused
    assert not now_used, (
        f"sources that feed a mart now (remove from SOURCES_FEEDING_NO_MART):\n  {_listing(now_used)}"
    )


def test_sources_are_read_by_staging_models_only(manifest):
    models = _models(manifest)
    wrong = [
        f"{child} reads {uid}"
        for uid in _sources(manifest)
        for child in manifest["child_map"].get(uid, [])
        if child in models and not models[child]["original_file_path"].startswith("models/staging/")
    ]
    assert not wrong, f"only staging models may read sources:\n  {_listing(wrong)}"


def test_every_model_is_described(manifest):
    undescribed = [
        node["name"] for node in _models(manifest).values() if not node["description"].strip()
    ]
    assert not undescribed, f"models without a description:\n  {_listing(undescribed)}"


def test_every_column_of_every_model_is_described(manifest, catalog):
    missing = []
    for uid, node in _models(manifest).items():
        built = catalog["nodes"].get(uid)
        assert built is not None, f"{node['name']} is not in the warehouse (catalog.json)"
        described = {
            name.lower() for name, col in node["columns"].items() if col["description"].strip()
        }
        missing += [
            f"{node['name']}.{name}" for name in built["columns"] if name.lower() not in described
        ]
    assert not missing, f"columns without a description:\n  {_listing(missing)}"


def test_documented_columns_exist(manifest, catalog):
    stale = []
    for uid, node in _models(manifest).items():
        built = {name.lower() for name in catalog["nodes"].get(uid, {}).get("columns", {})}
        stale += [f"{node['name']}.{name}" for name in node["columns"] if name.lower() not in built]
    assert not stale, f"documented columns the models do not have:\n  {_listing(stale)}"


def test_published_marts_enforce_their_contract(manifest):
    loose = [
        node["name"]
        for node in _marts(manifest).values()
        if not node["config"]["contract"]["enforced"]
    ]
    assert not loose, f"published marts without contract.enforced:\n  {_listing(loose)}"


def test_exposures_name_every_mart(manifest):
    exposures = [e for e in manifest["exposures"].values() if e["package_name"] == PROJECT_NAME]
    assert exposures, "no exposures: say what reads the marts (exports, compass pages, BI)"
    exposed = {uid for e in exposures for uid in e["depends_on"]["nodes"]}
    unexposed = [node["name"] for uid, node in _marts(manifest).items() if uid not in exposed]
    assert not unexposed, f"marts no exposure depends on:\n  {_listing(unexposed)}"


def test_models_with_method_logic_have_unit_tests(manifest):
    tested = {
        test["model"]
        for test in manifest["unit_tests"].values()
        if test["package_name"] == PROJECT_NAME and test["config"].get("enabled", True)
    }
    untested = [name for name in MODELS_NEEDING_UNIT_TESTS if name not in tested]
    assert not untested, f"models without an enabled dbt unit test:\n  {_listing(untested)}"


def test_unit_tests_pass(manifest, workspace):
    result = workspace.check("test", "--select", "test_type:unit")
    assert "PASS=0 " not in result.stdout, f"no unit test ran:\n{_tail(result.stdout)}"
