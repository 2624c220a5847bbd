"""The refresh DAGs' transform: dbt through astronomer-cosmos, with one DuckDB writer at a time.

Mode: Cosmos ``ExecutionMode.WATCHER`` in a ``DbtTaskGroup``.

- One producer task (``transform.dbt_producer_watcher``) runs a single ``dbt build`` in this
  Python process (dbt's programmatic runner): models, seeds, data tests and unit tests, with the
  profile's threads. It is the only task that writes the warehouse (pool ``warehouse_writer``,
  1 slot), and it pushes every node's result to XCom as dbt reports it.
- One consumer task per model and seed (``transform.<model>.run``) and one per model's tests
  (``transform.<model>.test``), wired as dbt's lineage, read that result: the Airflow UI shows
  each model and its tests with their status, timing and compiled SQL, without running dbt again.

Cosmos wires the producer upstream of the root consumers only for a ``DbtDag``; in a
``DbtTaskGroup`` the root consumers hang directly off the group's upstream (the ingest tasks),
so a consumer could start before the producer and, under ``airflow dags test`` (one task at a
time, a deferred sensor's trigger run inline), wait for ever. ``transform_group`` therefore
makes the producer upstream of every root consumer (trigger rule ``all_success``): consumers
start when the build has finished, find their node's result on the first poke and never defer
or fall back to running dbt themselves. If the build fails, the producer fails (the failure
callback names the failing models and tests) and the consumers are ``upstream_failed``.

The dbt graph is read from a manifest (``LoadMode.DBT_MANIFEST``) kept in
``dbt_project/target/cosmos/``. A DAG parse only reads that JSON file (``current_manifest``): it
neither hashes the dbt project nor runs dbt. ``ensure_manifest`` (a fingerprint of the project's
files; ``dbt parse`` when it changed) runs before Airflow starts (``make run``, ``make airflow``,
the image build) and in the producer task before each build, so a changed project shows in the
DAG from the parse after the next run (or after ``make airflow``). Only when there is no manifest
at all (a fresh clone nobody prepared) does a parse make one.

The node tasks only read XCom: they are not in the ``warehouse_writer`` pool. The one case where
a node task runs dbt itself (cleared by hand after its producer, Cosmos's fallback) takes the
warehouse lock for that command (``dbt_run_settings``/``release_warehouse``), so it still never
writes next to another writer.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from basismonitor.config import DBT_PROJECT_DIR
from basismonitor.transform.build_state import dbt_project_digest

log = logging.getLogger(__name__)

PROFILE_NAME = "basismonitor"
NODE_POOL = "default_pool"  # Airflow's default pool: the node tasks write nothing
TARGET_NAME = "warehouse"
PROFILES_YML = DBT_PROJECT_DIR / "profiles.yml"
MANIFEST_DIR = DBT_PROJECT_DIR / "target" / "cosmos"
PRODUCER_TASK = "dbt_producer_watcher"  # cosmos.constants.PRODUCER_WATCHER_TASK_ID
PRODUCER_DONE_TASK = "dbt_producer_watcher_done"
# The Cosmos version whose private event hook _push_only_the_events_node_tasks_read wraps
# (tests/test_airflow_cosmos_contract.py pins the contract; pyproject.toml pins the version).
COSMOS_TESTED = "1.15.1"


# --- the manifest ----------------------------------------------------------------------------------

def project_fingerprint(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """The dbt project's hash (build_state.dbt_project_digest: the one fingerprint of the
    project, which the build's change detection uses too)."""
    return dbt_project_digest(project_dir)


def _dbt_command() -> list[str]:
    """dbt's CLI next to this interpreter (the venv, or the image's Python), else on PATH."""
    local = Path(sys.executable).parent / "dbt"
    return [str(local)] if local.exists() else ["dbt"]


def ensure_manifest(project_dir: Path = DBT_PROJECT_DIR, folder: Path = MANIFEST_DIR) -> Path:
    """The path of a manifest.json that matches the dbt project; `dbt parse` writes one if needed.

    Safe with concurrent callers (a file lock; the manifest is replaced atomically), and never
    touches dbt's own target/ files, which `dbt build` runs in the same tree overwrite. When
    `dbt parse` fails, the last manifest that parsed is kept (a warning says so) and the next
    call tries again; with none, the error is raised (a DAG import error with dbt's message).
    """
    manifest, stamp = folder / "manifest.json", folder / "fingerprint"
    fingerprint = project_fingerprint(project_dir)
    if manifest.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        return manifest
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
            return manifest  # another process wrote it while we waited
        with tempfile.TemporaryDirectory(dir=folder, prefix=".parse-") as tmp:
            env = dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="false")
            done = subprocess.run(
                [*_dbt_command(), "parse", "--project-dir", str(project_dir), "--profiles-dir",
                 str(PROFILES_YML.parent), "--target-path", tmp, "--log-path", tmp, "--quiet"],
                env=env, capture_output=True, text=True,
            )
            if done.returncode != 0:
                output = (done.stdout + done.stderr)[-3000:]
                if manifest.exists():
                    # keep showing the last graph that parsed: the run's dbt build then fails
                    # with dbt's own message (and the failure summary), instead of the DAG
                    # disappearing from the UI behind an import error
                    log.warning("dbt parse failed; the DAG shows the last dbt graph that parsed "
                                "(%s):\n%s", manifest, output)
                    return manifest
                raise RuntimeError(f"dbt parse failed (the DAG cannot show the dbt graph):\n{output}")
            os.replace(Path(tmp) / "manifest.json", manifest)
        partial = folder / ".fingerprint.tmp"
        partial.write_text(fingerprint + "\n")
        os.replace(partial, stamp)
    return manifest


def current_manifest(project_dir: Path = DBT_PROJECT_DIR, folder: Path = MANIFEST_DIR) -> Path:
    """The manifest a DAG parse renders from: the last one ensure_manifest wrote, read as it is
    (no hashing, no dbt). Only when there is none yet does this make one (ensure_manifest)."""
    manifest = folder / "manifest.json"
    if manifest.is_file():
        return manifest
    return ensure_manifest(project_dir, folder)


def _descriptions(manifest: Path) -> dict[str, str]:
    """unique_id -> description of the models and seeds, for the consumer groups' doc_md."""
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    return {uid: " ".join(str(n.get("description") or "").split()) for uid, n in nodes.items()
            if n.get("resource_type") in ("model", "seed")}


# --- what each dbt task does at run time -----------------------------------------------------------

def dbt_run_settings(context: Any, operator: Any) -> None:
    """Cosmos interceptor, run before each dbt command is built: the run's dbt vars and warehouse.

    The edition (dbt var ``edition``) and ``base_period`` come from the run's params as in
    ``basismonitor build``; the profile's path comes from BASISMONITOR_WAREHOUSE, resolved the
    way the rest of the pipeline resolves it (dbt runs in a copy of the project in a temporary
    folder, so a relative path would point elsewhere).
    """
    from basismonitor.orchestration.airflow_support import dbt_vars_for, settings_for

    params = context.get("params") or {}
    settings = settings_for(params, context.get("logical_date"))
    operator.vars = dbt_vars_for(params, context.get("logical_date"))
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    operator.env = {**(operator.env or {}), "BASISMONITOR_WAREHOUSE": str(settings.warehouse),
                    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    if _is_producer(operator):
        # the next DAG parse renders the graph this build runs (parses only read the manifest)
        try:
            ensure_manifest()
        except RuntimeError as exc:  # dbt parse failed: the build below fails with dbt's message
            log.warning("%s", exc)
    else:
        # a node task running its model itself (Cosmos's fallback): it is not in the
        # warehouse_writer pool, so it takes the warehouse lock for the command
        # (released by release_warehouse, the callback after it, or when the task's process ends);
        # as a task of this run it passes the run's own lease (basismonitor.orchestration.locks)
        from basismonitor.orchestration.locks import ENV_OWNER

        dag_run = context.get("dag_run")
        if dag_run is not None:
            os.environ[ENV_OWNER] = f"{dag_run.dag_id}/{dag_run.run_id}"
        _hold_warehouse(operator, settings.warehouse)


_HELD: dict[int, Any] = {}  # id(operator) -> the ExitStack holding the warehouse lock


def _is_producer(operator: Any) -> bool:
    return str(getattr(operator, "task_id", "")).endswith(PRODUCER_TASK)


def _hold_warehouse(operator: Any, warehouse: Path) -> None:
    from basismonitor.orchestration.locks import warehouse_lock

    if id(operator) in _HELD:
        return
    stack = contextlib.ExitStack()
    stack.enter_context(warehouse_lock(warehouse, f"dbt ({getattr(operator, 'task_id', '?')})",
                                       progress=log.info))
    _HELD[id(operator)] = stack


def release_warehouse(*_args: Any, **_kwargs: Any) -> None:
    """Close the DuckDB handle dbt-duckdb keeps for the process (see basismonitor.transform.dbt), and
    release the warehouse lock a node task's own dbt command took (dbt_run_settings).

    A Cosmos callback after every dbt command, and called by the tasks that read the warehouse
    next: under `airflow dags test` every task runs in one process, and the handle would stop the
    gate from opening the file read-only. A no-op when dbt never ran in this process.
    """
    while _HELD:
        _HELD.popitem()[1].close()
    if "dbt.adapters.duckdb.connections" not in sys.modules:
        return
    from basismonitor.transform.dbt import _release_warehouse

    _release_warehouse()


# --- the task group -------------------------------------------------------------------------------

def transform_group(*, group_id: str = "transform", doc_md: str, pool: str, outlets: list,
                    trigger_rule: str = "none_failed"):
    """The dbt project as a Cosmos DbtTaskGroup in WATCHER mode, with the producer upstream of
    every root consumer. Call inside a DAG; returns the group."""
    from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import ExecutionMode, LoadMode, TestBehavior

    _cosmos_defaults()
    manifest = current_manifest()
    group = DbtTaskGroup(
        group_id=group_id,
        doc_md=doc_md,
        tooltip="dbt build (one writer) and one task per model and its tests",
        project_config=ProjectConfig(
            dbt_project_path=DBT_PROJECT_DIR,
            manifest_path=manifest,
            project_name="basismonitor",
            install_dbt_deps=False,
        ),
        profile_config=ProfileConfig(
            profile_name=PROFILE_NAME, target_name=TARGET_NAME, profiles_yml_filepath=PROFILES_YML,
        ),
        execution_config=ExecutionConfig(
            execution_mode=ExecutionMode.WATCHER,
            # the producer: the one dbt build, the one writer
            setup_operator_args={
                "pool": pool,
                "outlets": outlets,
                "trigger_rule": trigger_rule,
                "retries": 0,  # a retried producer skips (Cosmos); rerun the DAG instead
                "full_refresh": "{{ params.full_rebuild }}",
                "doc_md": ("The one `dbt build` of this refresh (models, seeds, data and unit "
                           "tests): the only task here that writes the warehouse. Its log has "
                           "dbt's full output; a failure names the failing models and tests."),
            },
        ),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.AFTER_EACH,
            emit_datasets=False,  # the DAG declares its own Assets (raw, marts, published)
        ),
        operator_args={
            # the node tasks only read the producer's XCom: not in the one-slot writer pool (a
            # node task that runs its model itself takes the warehouse lock: dbt_run_settings)
            "pool": NODE_POOL,
            "install_deps": False,
            "interceptors": [dbt_run_settings],
            "callback": release_warehouse,
            "retries": 0,
        },
    )
    _producer_before_consumers(group)
    _document_nodes(group, manifest)
    return group


def _cosmos_defaults() -> None:
    """Cosmos settings this project relies on, unless the deployment sets them explicitly.

    ``[cosmos] enable_watcher_reliable_retry`` (default on) rewrites the producer's whole XCom
    backup (compressed, into an Airflow Variable) after every XCom push: some 1,300 pushes per
    build, each with a larger backup, all under the lock dbt's threads wait on (on the small
    municipality the producer took 93 s with it, 52 s without; dbt alone ~30 s). The producer
    never retries (retries=0; a failed build is fixed and the
    refresh triggered again), and Cosmos still writes the backup once when the producer fails,
    so it is off unless AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY says otherwise.
    """
    from airflow.configuration import conf
    from cosmos import settings

    if not conf.has_option("cosmos", "enable_watcher_reliable_retry"):
        settings.enable_watcher_reliable_retry = False
    _push_only_the_events_node_tasks_read()


def _push_only_the_events_node_tasks_read() -> None:
    """Let the producer push to XCom only the dbt events a node task reads.

    Cosmos pushes an XCom for each NodeStart, NodeCompiling, NodeExecuting and NodeFinished event
    of every node (~1,300 pushes per build here, each a metadata-database write that dbt's threads
    wait for; ~200 with this filter): live progress for sensors that watch while dbt runs. Here the node tasks start
    after the build (transform_group), and read one key per model or seed: its last event. So only
    NodeFinished and error events of models, seeds and snapshots are pushed; test nodes' events,
    which no task reads (a model's test task reads the aggregated test status, pushed as before),
    are not. Node statuses, test aggregates and compiled SQL are pushed as Cosmos does.

    Cosmos has no public setting for this: it wraps a private function
    (cosmos.operators._watcher.base._process_dbt_log_event, Cosmos COSMOS_TESTED), looked up by
    name by store_dbt_resource_status_from_log for each dbt event. tests/test_airflow_cosmos_contract.py
    pins that contract (version, names, signature, and which XComs a real event stream pushes)
    and fails on another Cosmos version. Here, a Cosmos without the hook is said in the log
    (warning) and nothing is wrapped: the build is then only slower, never wrong.
    """
    import inspect

    import cosmos
    from cosmos.operators._watcher import base

    original = getattr(base, "_process_dbt_log_event", None)
    if getattr(original, "_basismonitor_trimmed", False):
        return
    errors = getattr(base, "_DBT_ERROR_EVENTS_TYPES", None)
    if original is None or errors is None or \
            list(inspect.signature(original).parameters) != ["task_instance", "dbt_log"]:
        log.warning("astronomer-cosmos %s has no _process_dbt_log_event(task_instance, dbt_log) "
                    "or _DBT_ERROR_EVENTS_TYPES (tested with %s): every dbt event is pushed to "
                    "XCom, the producer is slower; see docs/AIRFLOW.md", cosmos.__version__,
                    COSMOS_TESTED)
        return
    read = {"NodeFinished", *errors}

    def process(task_instance: Any, dbt_log: dict) -> None:
        name = (dbt_log.get("info") or {}).get("name")
        node = (dbt_log.get("data") or {}).get("node_info") or {}
        if name not in read or node.get("resource_type") in ("test", "unit_test"):
            return None
        return original(task_instance, dbt_log)

    process._basismonitor_trimmed = True  # type: ignore[attr-defined]
    base._process_dbt_log_event = process


def _group_tasks(group) -> list:
    from airflow.sdk import TaskGroup

    tasks, stack = [], list(group.children.values())
    while stack:
        node = stack.pop()
        if isinstance(node, TaskGroup):
            stack.extend(node.children.values())
        else:
            tasks.append(node)
    return tasks


def _producer_before_consumers(group) -> None:
    """Make the producer upstream of every task of the group that has no upstream in it."""
    prefix = f"{group.group_id}."
    producer = group.children[prefix + PRODUCER_TASK]
    inside = {t.task_id for t in _group_tasks(group)}
    for task in _group_tasks(group):
        if task is producer or task.task_id == prefix + PRODUCER_DONE_TASK:
            continue
        if not set(task.upstream_task_ids) & inside:
            producer >> task


def _document_nodes(group, manifest: Path) -> None:
    """doc_md on each model's and seed's group: the dbt description and how to read the tasks."""
    from airflow.sdk import TaskGroup

    descriptions = _descriptions(manifest)
    by_name = {uid.split(".")[-1]: (uid, text) for uid, text in descriptions.items()}
    for child in group.children.values():
        if not isinstance(child, TaskGroup):
            continue
        name = child.group_id.split(".")[-1]
        uid, text = by_name.get(name, (name, ""))
        child.doc_md = (
            f"**{uid}**\n\n{text or '(no description in the dbt YAML)'}\n\n"
            "`run` and `test` report what the producer's `dbt build` did for this node and its "
            "tests (they do not run dbt); the SQL is under Rendered Template.")
