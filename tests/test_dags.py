"""DAG integrity: the dags folder imports cleanly and the refresh DAG is wired as documented."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def test_dags_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert "basismonitor_refresh" in dagbag.dags


def test_refresh_dag_has_its_stages_in_order(dagbag):
    dag = dagbag.dags["basismonitor_refresh"]
    ids = set(dag.task_dict)
    assert {"transform", "validate", "publish"} <= ids
    from basismonitor.airflow_support import source_names

    sources = source_names()
    assert sources[0] == "areas"  # areas land before everything that checks area codes
    for name in sources:
        assert {f"ingest.discover_{name}", f"ingest.load_{name}"} <= ids
    for before, after in zip(sources, sources[1:], strict=False):
        assert f"ingest.load_{before}" in dag.task_dict[f"ingest.discover_{after}"].upstream_task_ids
    assert f"ingest.load_{sources[-1]}" in dag.task_dict["transform"].upstream_task_ids
    assert "transform" in dag.task_dict["validate"].upstream_task_ids
    assert "validate" in dag.task_dict["publish"].upstream_task_ids
    assert dag.max_active_runs == 1
    assert dag.doc_md


def test_refresh_dag_schedule_params_and_single_writer(dagbag):
    dag = dagbag.dags["basismonitor_refresh"]
    runs = [d.year for d in dag.timetable.event_dates]
    assert runs[:3] == [2025, 2027, 2029]  # 1 March after each survey wave, every other year
    assert all(d.month == 3 and d.day == 1 for d in dag.timetable.event_dates)
    assert {"edition", "base_period"} <= set(dag.params.keys())
    assert dag.task_dict["transform"].pool == "warehouse_writer"
    assert dag.task_dict["ingest.load_areas"].pool == "warehouse_writer"


def test_scheduled_runs_build_the_wave_before_them():
    from datetime import UTC, datetime

    from basismonitor.airflow_support import edition_for

    assert edition_for({}, datetime(2025, 3, 1, tzinfo=UTC)) == 2024
    assert edition_for({"edition": 2016}, datetime(2025, 3, 1, tzinfo=UTC)) == 2016
    assert edition_for(None, datetime(2026, 3, 1, tzinfo=UTC)) == 2024


def test_yearly_registry_dag_lands_everything_but_the_survey(dagbag):
    dag = dagbag.dags["basismonitor_registry_yearly"]
    ids = set(dag.task_dict)
    assert "ingest.load_registry" in ids and "ingest.load_police" in ids
    assert "ingest.load_survey" not in ids
    assert dag.timetable.expression == "0 6 1 7 *"
    assert dag.max_active_runs == 1
    assert {"transform", "validate", "publish"} <= ids
