"""Backfill: a past edition rebuilt on request through the refresh DAG (issue 7).

The warehouse of the small municipality, with edition 2024 published (the session's `refreshed`
fixture), gets `airflow dags test basismonitor_refresh --conf '{"edition": 2016, "base_period":
2012}'`, twice. The old edition must be published to exports/2016, byte-identical the second time,
and `exports/latest` must stay on the newer edition 2024.

An old edition shows what was known then: fct_indicator_value leaves out the periods after
it (else the gate refuses them: `period_not_after_edition`), and publish keeps `latest` on the
newest published edition.
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
BACKFILL = {"edition": 2016, "base_period": 2012}

pytestmark = pytest.mark.slow


def _env(root: Path, inbox: Path) -> dict[str, str]:
    return local_airflow_env(root, inbox=inbox)


def _dags_test(env: dict[str, str], conf: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [AIRFLOW, "dags", "test", "basismonitor_refresh", "--conf", json.dumps(conf)],
        env=env, capture_output=True, text=True, timeout=1800,
    )


def _parquet(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.parquet"))}


@pytest.fixture(scope="module")
def backfill(refreshed, tmp_path_factory):
    """A copy of the refreshed warehouse and exports (2024 published), backfilled to 2016 twice
    (the second time only when the first published)."""
    root = tmp_path_factory.mktemp("backfill")
    shutil.copy2(refreshed.warehouse, root / "warehouse.duckdb")
    shutil.copytree(refreshed.exports, root / "exports", symlinks=True)
    newer = _parquet(root / "exports" / "2024")
    assert newer and os.readlink(root / "exports" / "latest") == "2024"
    env = _env(root, refreshed.inbox)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True)
    first = _dags_test(env, BACKFILL)
    published = root / "exports" / "2016"
    first_files = _parquet(published) if first.returncode == 0 else {}
    second = _dags_test(env, BACKFILL) if first.returncode == 0 else None
    return root, newer, first, first_files, second


def test_backfill_builds_the_requested_edition(backfill):
    """The run's edition and base period reach dbt: the warehouse's marts are edition 2016's."""
    root, newer, first, _, _ = backfill
    log = first.stdout + first.stderr
    assert "'--vars', 'base_period: 2012\\nedition: 2016\\n'" in log
    assert "end task task_id=transform.dbt_producer_watcher " in log
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("select distinct edition from marts.mart_compass_status").fetchall() == [(2016,)]
        assert con.sql("select distinct base_period from marts.mart_compass_development").fetchall() == [(2012,)]
    # whatever the outcome, the newer published edition is untouched
    assert _parquet(root / "exports" / "2024") == newer


def test_backfill_publishes_the_old_edition(backfill):
    root, _, first, first_files, _ = backfill
    assert first.returncode == 0, (first.stdout + first.stderr)[-4000:]
    assert "mart_compass_status.parquet" in first_files
    manifest = json.loads((root / "exports" / "2016" / "manifest.json").read_text())
    assert "2016" in json.dumps(manifest)
    with duckdb.connect() as con:
        editions = con.sql("select distinct edition from "
                           f"'{root / 'exports' / '2016' / 'mart_compass_status.parquet'}'").fetchall()
    assert editions == [(2016,)]


def test_backfill_is_reproducible(backfill):
    root, _, first, first_files, second = backfill
    assert first.returncode == 0 and second is not None
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    assert first_files and _parquet(root / "exports" / "2016") == first_files


def test_backfill_leaves_latest_on_the_newer_edition(backfill):
    root, newer, first, _, _ = backfill
    assert first.returncode == 0
    assert (root / "exports" / "2016").is_dir()
    assert os.readlink(root / "exports" / "latest") == "2024"
    assert _parquet(root / "exports" / "2024") == newer
