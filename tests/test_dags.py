"""DAG integrity: the dags folder imports cleanly and the refresh DAG is wired as documented."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PRODUCER = "transform.dbt_producer_watcher"


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    import os

    home = tmp_path_factory.mktemp("airflow-home")
    os.environ.setdefault("AIRFLOW_HOME", str(home))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture(scope="module")
def manifest_nodes(dagbag) -> dict:
    from basismonitor.orchestration.airflow_dbt import ensure_manifest

    return json.loads(ensure_manifest().read_text(encoding="utf-8"))["nodes"]


def test_dags_folder_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert {"basismonitor_refresh", "basismonitor_registry_yearly"} <= set(dagbag.dags)


def test_no_cycles(dagbag):
    for dag in dagbag.dags.values():
        dag.check_cycle()  # raises on a cycle


def test_refresh_dag_has_its_stages_in_order(dagbag):
    dag = dagbag.dags["basismonitor_refresh"]
    ids = set(dag.task_dict)
    assert {PRODUCER, "validate", "publish", "site"} <= ids
    from basismonitor.orchestration.airflow_support import source_names

    sources = source_names()
    assert sources[0] == "areas"  # areas land before everything that checks area codes
    for name in sources:
        assert {f"ingest.discover_{name}", f"ingest.load_{name}"} <= ids
    for before, after in zip(sources, sources[1:], strict=False):
        assert f"ingest.load_{before}" in dag.task_dict[f"ingest.discover_{after}"].upstream_task_ids
    # the preflight checks run after the last load; the producer (the one dbt build) after them,
    # and is the only way in
    assert f"ingest.load_{sources[-1]}" in dag.task_dict["preflight"].upstream_task_ids
    assert "preflight" in dag.task_dict[PRODUCER].upstream_task_ids
    transform = [t for t in ids if t.startswith("transform.")]
    for task_id in transform:
        upstream = dag.task_dict[task_id].upstream_task_ids
        assert not {u for u in upstream if u in ("preflight",) or u.startswith("ingest.")} \
            or task_id == PRODUCER, task_id
    # validate waits for the whole transform group; publish for validate
    leaves = [t for t in transform if not dag.task_dict[t].downstream_task_ids - {"validate"}]
    assert leaves and all("validate" in dag.task_dict[t].downstream_task_ids for t in leaves)
    assert "validate" in dag.task_dict["publish"].upstream_task_ids
    assert dag.max_active_runs == 1
    assert dag.doc_md


def test_the_site_is_its_own_task_after_publish(dagbag):
    """Issue 22.4: the compass pages are a stage of their own, on the published edition's Asset:
    visible in the DAG, retried alone, outside the warehouse's pool and lease (they read only the
    published files)."""
    for dag_id in ("basismonitor_refresh", "basismonitor_registry_yearly"):
        dag = dagbag.dags[dag_id]
        site = dag.task_dict["site"]
        assert site.upstream_task_ids == {"publish"}
        assert not site.downstream_task_ids
        assert [a.name for a in site.inlets] == ["basismonitor_published_edition"]
        assert [a.name for a in site.outlets] == ["basismonitor_site"]
        assert [a.name for a in dag.task_dict["publish"].outlets] == [
            "basismonitor_published_edition"]
        assert site.pool != "warehouse_writer"
        assert "site" not in dag.task_dict["release"].get_flat_relative_ids(upstream=True)


def test_transform_shows_every_model_and_its_tests(dagbag, manifest_nodes):
    dag = dagbag.dags["basismonitor_refresh"]
    ids = set(dag.task_dict)
    models = {n["name"] for n in manifest_nodes.values() if n["resource_type"] == "model"}
    seeds = {n["name"] for n in manifest_nodes.values() if n["resource_type"] == "seed"}
    assert len(models) >= 30 and seeds
    for name in models:  # with tests: a group <model>.run/.test; without: one <model>_run task
        assert f"transform.{name}.run" in ids or f"transform.{name}_run" in ids, name
    for name in seeds:
        assert f"transform.{name}.seed" in ids or f"transform.{name}_seed" in ids, name
    tested = [t for t in ids if t.startswith("transform.") and t.endswith(".test")]
    assert len(tested) >= 20
    # dbt lineage: a mart's node task waits for the node tasks of what it selects from
    assert "transform.fct_indicator_value.test" in dag.task_dict["transform.mart_compass_status.run"].upstream_task_ids
    assert "transform.mart_compass_status.run" in dag.task_dict["transform.mart_compass_status.test"].upstream_task_ids


def test_the_producer_runs_before_every_node_task(dagbag):
    """Cosmos does not wire this for a DbtTaskGroup; without it the node tasks' sensors can start
    before the build and, under `airflow dags test`, wait for ever."""
    from cosmos.operators.watcher import DbtConsumerWatcherSensor, DbtProducerWatcherOperator

    dag = dagbag.dags["basismonitor_refresh"]
    producer = dag.task_dict[PRODUCER]
    assert isinstance(producer, DbtProducerWatcherOperator)
    inside = {t for t in dag.task_dict if t.startswith("transform.")}
    roots = [t for t in inside if not dag.task_dict[t].upstream_task_ids & inside]
    assert roots == [PRODUCER]
    consumers = [dag.task_dict[t] for t in inside if isinstance(dag.task_dict[t], DbtConsumerWatcherSensor)]
    assert len(consumers) >= 60
    for consumer in consumers:
        assert PRODUCER in consumer.get_flat_relative_ids(upstream=True), consumer.task_id
        assert consumer.producer_task_id == PRODUCER
        assert consumer.trigger_rule == "all_success"


def test_one_writer_at_a_time(dagbag):
    from cosmos.operators.watcher import DbtConsumerWatcherSensor

    dag = dagbag.dags["basismonitor_refresh"]
    assert dag.max_active_runs == 1
    assert dag.task_dict[PRODUCER].pool == "warehouse_writer"
    assert dag.task_dict[PRODUCER].retries == 0  # a retried Cosmos producer skips the build
    assert dag.task_dict["ingest.load_areas"].pool == "warehouse_writer"
    # issue 22.6: the node tasks only read the producer's XCom: not in the one-slot pool (one
    # cleared by hand that runs its model takes the warehouse lock instead: next test)
    consumers = [t for t in dag.task_dict.values() if isinstance(t, DbtConsumerWatcherSensor)]
    assert len(consumers) >= 60
    for task in consumers:
        assert task.pool == "default_pool", task.task_id
    writers = {t.task_id for t in dag.task_dict.values() if t.pool == "warehouse_writer"}
    assert writers == {PRODUCER, "preflight"} | {
        t for t in dag.task_dict if t.startswith("ingest.load_")}


def test_a_node_task_that_runs_dbt_itself_holds_the_warehouse_lock(tmp_path, monkeypatch):
    """Cosmos's fallback (a node task cleared by hand runs its model): outside the pool, the
    interceptor takes the warehouse lock for the command and the callback after it releases it."""
    from basismonitor.orchestration.airflow_dbt import dbt_run_settings, release_warehouse
    from basismonitor.orchestration.locks import is_held

    warehouse = tmp_path / "wh.duckdb"
    monkeypatch.setenv("BASISMONITOR_WAREHOUSE", str(warehouse))

    class Node:
        task_id = "transform.stg_areas__areas.run"
        vars, env = None, None

    dbt_run_settings({"params": {"edition": 2024, "base_period": 2016}}, Node())
    assert is_held(warehouse)
    release_warehouse()
    assert not is_held(warehouse)


def test_refresh_dag_schedule_and_params(dagbag):
    dag = dagbag.dags["basismonitor_refresh"]
    runs = [d.year for d in dag.timetable.event_dates]
    assert runs[:3] == [2025, 2027, 2029]  # 1 March after each survey wave, every other year
    assert all(d.month == 3 and d.day == 1 for d in dag.timetable.event_dates)
    assert {"edition", "base_period", "reload_sources", "full_rebuild"} <= set(dag.params.keys())
    assert dag.params["full_rebuild"] is False
    assert dag.params["reload_sources"] == []


def test_dbt_gets_the_runs_edition_base_period_warehouse_and_full_rebuild(dagbag, tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from basismonitor.orchestration.airflow_dbt import dbt_run_settings

    dag = dagbag.dags["basismonitor_refresh"]
    producer = dag.task_dict[PRODUCER]
    assert producer.full_refresh == "{{ params.full_rebuild }}"
    monkeypatch.setenv("BASISMONITOR_WAREHOUSE", str(tmp_path / "wh.duckdb"))

    class Operator:
        task_id = PRODUCER
        vars, env = None, None

    op = Operator()
    dbt_run_settings({"params": {"edition": 2016, "base_period": 2012},
                      "logical_date": datetime(2025, 3, 1, tzinfo=UTC)}, op)
    assert op.vars == {"edition": 2016, "base_period": 2012}
    assert op.env["BASISMONITOR_WAREHOUSE"] == str((tmp_path / "wh.duckdb").resolve())
    dbt_run_settings({"params": {}, "logical_date": datetime(2027, 3, 1, tzinfo=UTC)}, op)
    assert op.vars == {"edition": 2026}


def test_a_base_period_not_before_the_edition_stops_before_dbt():
    from basismonitor.orchestration.airflow_support import InvalidRunParams, dbt_vars_for

    with pytest.raises(InvalidRunParams, match="base_period 2016 is not before edition 2016"):
        dbt_vars_for({"edition": 2016})
    assert dbt_vars_for({"edition": 2016, "base_period": 2012})["base_period"] == 2012


def test_every_dag_and_task_group_is_documented(dagbag):
    for dag in dagbag.dags.values():
        assert dag.doc_md, dag.dag_id
        for group_id, group in dag.task_group_dict.items():
            assert group.doc_md, f"{dag.dag_id}: task group {group_id}"


def test_scheduled_runs_build_the_wave_before_them():
    from datetime import UTC, datetime

    from basismonitor.orchestration.airflow_support import edition_for

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
    assert {PRODUCER, "validate", "publish", "site"} <= ids


def test_the_manifest_follows_the_dbt_project(tmp_path):
    """A changed dbt file gives another fingerprint (so the DAG re-renders from a fresh manifest);
    target/ and logs/ do not count."""
    import shutil

    from basismonitor.config import DBT_PROJECT_DIR
    from basismonitor.orchestration.airflow_dbt import project_fingerprint

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = project_fingerprint(project)
    (project / "target").mkdir()
    (project / "target" / "run_results.json").write_text("{}")
    assert project_fingerprint(project) == before
    model = next((project / "models").rglob("*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert project_fingerprint(project) != before


def test_one_fingerprint_of_the_dbt_project_for_the_dags_and_the_build(tmp_path):
    """The DAGs' manifest cache and the build's change detection hash the dbt project one way
    (build_state.dbt_project_digest); the build's fingerprint adds the vars and the models'
    Python, and follows a changed seed as the manifest does."""
    import shutil

    from basismonitor.config import DBT_PROJECT_DIR
    from basismonitor.orchestration import airflow_dbt
    from basismonitor.transform import build_state

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    assert airflow_dbt.project_fingerprint(project) == build_state.dbt_project_digest(project)
    build = build_state.project_fingerprint({"compass_level": "wijk"}, project)
    assert build_state.project_fingerprint({"compass_level": "buurt"}, project) != build
    seed = project / "seeds" / "indicators.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + "x\n", encoding="utf-8")
    assert build_state.project_fingerprint({"compass_level": "wijk"}, project) != build


def test_failure_summary_for_a_dbt_failure_says_what_to_do():
    from basismonitor.orchestration.airflow_support import failure_summary

    class TI:
        dag_id, task_id, map_index, run_id = "basismonitor_refresh", PRODUCER, -1, "manual__x"

    class CosmosDbtRunError(RuntimeError):
        pass

    summary = failure_summary({"ti": TI(), "params": {"edition": 2016},
                               "exception": CosmosDbtRunError("dbt invocation completed with errors: "
                                                              "fct_indicator_value: boom")})
    assert "basismonitor_refresh.transform.dbt_producer_watcher" in summary
    assert "edition 2016" in summary
    assert "fct_indicator_value: boom" in summary
    assert "trigger the refresh again" in summary


def test_one_run_holds_the_warehouse_from_ingest_through_publish(dagbag):
    """Issue 23.6: the two refresh DAGs raced (max_active_runs is per DAG; validate and publish sat
    outside the pool). Every run claims the warehouse lease first and releases it last, also
    after a failure (basismonitor.orchestration.locks; tests/test_locks.py proves the lease with processes)."""
    for dag_id in ("basismonitor_refresh", "basismonitor_registry_yearly"):
        dag = dagbag.dags[dag_id]
        claim, release = dag.task_dict["claim"], dag.task_dict["release"]
        assert not claim.upstream_task_ids
        for task_id, task in dag.task_dict.items():
            if task_id.startswith("ingest.discover_"):
                assert claim.task_id in task.get_flat_relative_ids(upstream=True), task_id
        assert "publish" in release.upstream_task_ids
        # setup / teardown: release runs also after a failure, and does not turn a failed run
        # into a successful one (a plain all_done leaf would)
        assert claim.is_setup and release.is_teardown
        assert release.trigger_rule == "all_done_setup_success"
        roots = [t for t in dag.task_dict.values() if not t.upstream_task_ids]
        assert [t.task_id for t in roots] == ["claim"]


def test_parsing_the_dags_runs_no_dbt_and_hashes_no_project(monkeypatch, manifest_nodes):
    """Issue 22.7: a DAG parse reads the prebuilt manifest; it neither fingerprints the dbt
    project (either fingerprint) nor starts dbt (a subprocess or dbt's runner)."""
    import subprocess

    from airflow.dag_processing.dagbag import DagBag
    from dbt.cli.main import dbtRunner

    from basismonitor.orchestration import airflow_dbt
    from basismonitor.transform import build_state

    calls: list[str] = []

    def counted(name, real):
        def wrapper(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(airflow_dbt, "project_fingerprint",
                        counted("fingerprint", airflow_dbt.project_fingerprint))
    monkeypatch.setattr(build_state, "project_fingerprint",
                        counted("build fingerprint", build_state.project_fingerprint))
    monkeypatch.setattr(subprocess, "Popen", counted("subprocess", subprocess.Popen))
    monkeypatch.setattr(dbtRunner, "invoke", counted("dbt", dbtRunner.invoke))
    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert bag.import_errors == {}
    assert {"basismonitor_refresh", "basismonitor_registry_yearly"} <= set(bag.dags)
    assert calls == []
    # the counting itself works: what a parse used to do is seen
    airflow_dbt.ensure_manifest()
    assert "fingerprint" in calls
