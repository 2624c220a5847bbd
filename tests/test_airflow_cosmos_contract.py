"""The Cosmos internals basismonitor.orchestration.airflow_dbt relies on (issue 22.6), pinned.

`_push_only_the_events_node_tasks_read` wraps a private Cosmos function: Cosmos has no public
setting for which dbt events the watcher producer pushes to XCom. These tests fail, loudly, on a
Cosmos whose version, names, signature or event routing differ from the one the wrapper was
written for; the code itself then logs a warning and wraps nothing (slower, never wrong).
After a Cosmos upgrade: re-read cosmos/operators/_watcher/base.py, adapt the wrapper, then raise
COSMOS_TESTED.
"""

from __future__ import annotations

import inspect
import json

import pytest


class RecordingTI:
    """What Cosmos's XCom helpers call on a task instance, recorded."""

    def __init__(self):
        self.pushed: list[tuple[str, object]] = []

    def xcom_push(self, key, value, **_kwargs):
        self.pushed.append((key, value))

    def xcom_pull(self, *args, **kwargs):
        return None


def _event(name: str, unique_id: str, resource_type: str, status: str) -> str:
    """One dbt event as dbt's JSON log line (the shape Cosmos's dbt-runner callback serialises
    with MessageToJson)."""
    return json.dumps({
        "info": {"name": name, "msg": f"{name} {unique_id}", "level": "debug",
                 "ts": "2026-12-07T10:00:00Z"},
        "data": {"node_info": {"unique_id": unique_id, "resource_type": resource_type,
                               "node_status": status, "node_started_at": "2026-12-07T10:00:00",
                               "node_finished_at": "2026-12-07T10:00:01"},
                 "run_result": {"status": status, "message": None}},
    })


@pytest.fixture(scope="module")
def trimmed():
    from basismonitor.orchestration.airflow_dbt import _cosmos_defaults

    _cosmos_defaults()


def test_cosmos_is_the_version_the_wrapper_was_written_for():
    import cosmos

    from basismonitor.orchestration.airflow_dbt import COSMOS_TESTED

    assert cosmos.__version__ == COSMOS_TESTED, (
        f"astronomer-cosmos {cosmos.__version__} is installed; "
        f"basismonitor.orchestration.airflow_dbt._push_only_the_events_node_tasks_read was written for "
        f"{COSMOS_TESTED}: check it against the new version (module docstring)")


def test_the_private_names_and_signature_are_there(trimmed):
    from cosmos.operators._watcher import base

    assert getattr(base._process_dbt_log_event, "_basismonitor_trimmed", False), \
        "the wrapper is not installed: Cosmos's hook changed (see the log's warning)"
    assert {"NodeFinished", "NodeStart"} <= set(base._DBT_EVENT_ALLOWLIST)
    assert "RunResultError" in base._DBT_ERROR_EVENTS_TYPES
    # the parser looks the hook up by name at call time (so the module attribute is what runs)
    assert "_process_dbt_log_event(ti, log_line)" in inspect.getsource(
        base.store_dbt_resource_status_from_log)


def test_only_the_events_a_node_task_reads_are_pushed(trimmed):
    """A model's NodeStart/NodeExecuting are not pushed, its NodeFinished is; a test node's
    events are not; the node's status key (what a node task polls) is pushed as Cosmos does."""
    from cosmos.operators._watcher.base import store_dbt_resource_status_from_log
    from cosmos.operators._watcher.state import get_dbt_event_xcom_key, get_status_xcom_key

    model = "model.basismonitor.dim_area"
    test = "test.basismonitor.not_null_dim_area_area_code.abc"
    ti = RecordingTI()
    for line in (_event("NodeStart", model, "model", "started"),
                 _event("NodeExecuting", model, "model", "started"),
                 _event("NodeFinished", model, "model", "success"),
                 _event("NodeStart", test, "test", "started"),
                 _event("NodeFinished", test, "test", "pass")):
        store_dbt_resource_status_from_log(line, {"context": {"ti": ti}})
    keys = [key for key, _ in ti.pushed]
    assert keys.count(get_dbt_event_xcom_key(model)) == 1
    assert dict(ti.pushed)[get_dbt_event_xcom_key(model)]["status"] == "success"
    assert get_dbt_event_xcom_key(test) not in keys
    assert get_status_xcom_key(model) in keys


def test_error_events_are_still_pushed(trimmed):
    from cosmos.operators._watcher.base import store_dbt_resource_status_from_log
    from cosmos.operators._watcher.state import get_dbt_event_xcom_key

    model = "model.basismonitor.fct_indicator_value"
    ti = RecordingTI()
    store_dbt_resource_status_from_log(_event("RunResultError", model, "model", "error"),
                                       {"context": {"ti": ti}})
    assert get_dbt_event_xcom_key(model) in [key for key, _ in ti.pushed]
