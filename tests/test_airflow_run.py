"""The refresh DAG run for real: `airflow dags test` on an embedded SQLite metadata database.

`airflow dags test` runs every task in one process, one at a time: the Cosmos producer (the one
dbt build) must run before the node tasks that report on it, and the gate must be able to open
the warehouse after dbt-duckdb used it in the same process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from basismonitor.orchestration.airflow_support import local_airflow_env

REPO = Path(__file__).resolve().parents[1]
AIRFLOW = str(Path(sys.executable).parent / "airflow")

pytestmark = pytest.mark.slow


def _env(root: Path, inbox: Path) -> dict[str, str]:
    return local_airflow_env(root, inbox=inbox)


def _dags_test(env: dict[str, str], edition: int = 2024, **params) -> subprocess.CompletedProcess:
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    return subprocess.run(
        [AIRFLOW, "dags", "test", "basismonitor_refresh", "--conf",
         json.dumps({"edition": edition, **params})],
        env=env, capture_output=True, text=True, timeout=1800,
    )


@pytest.fixture(scope="module")
def airflow_run(small_inbox, tmp_path_factory):
    # A DAG parse renders the last manifest as it is (issue 22.7: parsing stays cheap); a
    # checkout's manifest from before a change to the dbt project would render an old graph, as
    # it would for a user until the producer's first build. Make it current first, as CI's fresh
    # clone has it after its first parse.
    from basismonitor.orchestration.airflow_dbt import ensure_manifest

    ensure_manifest()
    root = tmp_path_factory.mktemp("airflow-run")
    env = _env(root, small_inbox)
    done = _dags_test(env)
    return root, env, done


def test_dag_run_succeeds_and_publishes(airflow_run):
    root, _, done = airflow_run
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert "state=success" in log
    edition = root / "exports" / "2024"
    assert (edition / "mart_compass_status.parquet").exists()
    assert (edition / "mart_compass_status.csv").exists()
    assert os.readlink(root / "exports" / "latest") == "2024"
    # the site is its own task after publish (issue 22.4)
    assert "end task task_id=site " in log
    assert (edition / "site" / "index.html").exists()
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from marts.mart_compass_status").fetchone()[0] > 0
        assert con.sql("select distinct edition from marts.mart_compass_status").fetchall() == [(2024,)]


def test_dbt_ran_once_through_cosmos_and_every_node_task_reported(airflow_run):
    """One dbt build (the producer) with the run's edition; each model's and tests' task then
    read its result without waiting (no sensor deferred) and without running dbt again."""
    _, _, done = airflow_run
    log = done.stdout + done.stderr
    assert log.count("Trying to run dbtRunner with") == 1
    assert "'--vars', 'edition: 2024\\n'" in log
    assert "end task task_id=transform.dbt_producer_watcher " in log
    for task in ("transform.stg_areas__areas.run", "transform.mart_compass_status.run",
                 "transform.mart_compass_status.test", "transform.indicators.seed"):
        assert f"end task task_id={task} " in log, task
    assert "Deferring" not in log  # the build had finished before any node task started


def test_second_run_with_the_same_inputs_changes_nothing(airflow_run):
    root, env, first = airflow_run
    assert first.returncode == 0
    edition = root / "exports" / "2024"
    before = {p.name: p.read_bytes() for p in edition.glob("*.parquet")}
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        loads_before = con.sql("select count(*) from raw.loads").fetchone()[0]
    again = _dags_test(env)
    assert again.returncode == 0, again.stdout[-4000:]
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from raw.loads").fetchone()[0] == loads_before  # all skipped
    after = {p.name: p.read_bytes() for p in edition.glob("*.parquet")}
    assert after == before


def test_broken_source_fails_the_run_with_a_plain_summary(small_inbox, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(small_inbox, inbox)
    broken = inbox / "registry" / "2024" / "kwb-2024.csv"
    broken.write_text("this is not;a KWB file\n1;2\n", encoding="utf-8")
    env = _env(tmp_path, inbox)
    done = _dags_test(env)
    assert done.returncode != 0
    summary = json.loads((tmp_path / "failures" / "latest.json").read_text())["summary"]
    assert "load_registry" in summary
    assert "kwb-2024.csv" in summary
    assert "what to do:" in summary
    assert not (tmp_path / "exports" / "2024").exists()  # nothing published
