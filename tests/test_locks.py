"""Issue 23.5 and 23.6 with real concurrent processes: one writer at a time by an explicit lock
beside the warehouse, a bounded and reported wait for it and for DuckDB's own lock (a BI tool that
opened the warehouse), and the one running is never broken. Bounded: every process has a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
AREAS = ("code;naam;niveau;ouder_code;geometrie\n"
         'GM9014;Groningen-demo;gemeente;;"POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"\n')


def _env(wait: float) -> dict[str, str]:
    env = dict(os.environ)
    env["BASISMONITOR_LOCK_WAIT"] = str(wait)
    env["PYTHONWARNINGS"] = "ignore"
    return env


def _inbox(root: Path) -> Path:
    folder = root / "inbox" / "areas" / "2008"
    folder.mkdir(parents=True)
    (folder / "gebiedsindeling_2008.csv").write_text(AREAS, encoding="utf-8")
    return root / "inbox"


def _ingest(root: Path, wait: float, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "basismonitor.cli", "ingest", "--no-fetch",
         "--inbox", str(root / "inbox"), "--warehouse", str(root / "wh.duckdb")],
        capture_output=True, text=True, timeout=timeout, env=_env(wait), cwd=REPO)


def _hold(code: str, ready: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a process that takes a lock, touches `ready`, and holds the lock a few seconds."""
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the holder did not start: {proc.communicate()}")
        time.sleep(0.05)
    return proc


def _refresh_holder(root: Path, seconds: float) -> str:
    """Holds the warehouse lock as a refresh would, until `release` appears (at most seconds)."""
    return (
        "import time, pathlib\n"
        "from basismonitor.orchestration.locks import warehouse_lock\n"
        f"with warehouse_lock(pathlib.Path({str(root / 'wh.duckdb')!r}), 'refresh'):\n"
        f"    pathlib.Path({str(root / 'ready')!r}).touch()\n"
        f"    end = time.monotonic() + {seconds}\n"
        f"    while time.monotonic() < end and not pathlib.Path({str(root / 'release')!r}).exists():\n"
        "        time.sleep(0.05)\n"
        "print('holder done', flush=True)\n")


def _ingest_released_once_waiting(root: Path, wait: float) -> tuple[int, str, str]:
    """Run ingest; as soon as it reports that it waits, let the holder go (touch `release`)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "basismonitor.cli", "ingest", "--no-fetch",
         "--inbox", str(root / "inbox"), "--warehouse", str(root / "wh.duckdb")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(wait), cwd=REPO)
    seen = []
    try:
        for line in proc.stderr:                 # ends at EOF if it never waits
            seen.append(line)
            if "waiting for" in line:
                (root / "release").touch()
                break
        out, err = proc.communicate(timeout=120)
    finally:
        (root / "release").touch()
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, out, "".join(seen) + err


def _ingest_waiting_for(root: Path, holder_code: str) -> tuple[int, str]:
    """Start a holder of the warehouse (holder_code), then an ingest that waits for it and lands
    the one file once the holder lets go; the holder's pid and the ingest's stderr."""
    holder = _hold(holder_code, root / "ready", _env(600))
    try:
        code, out, err = _ingest_released_once_waiting(root, wait=60)
    finally:
        holder.communicate(timeout=60)
    assert code == 0, err
    assert "1 landed" in out
    return holder.pid, err


def test_a_second_writer_refuses_cleanly_and_never_breaks_the_first(tmp_path):
    _inbox(tmp_path)
    holder = _hold(_refresh_holder(tmp_path, 90), tmp_path / "ready", _env(600))
    try:
        second = _ingest(tmp_path, wait=0.5)
    finally:
        (tmp_path / "release").touch()
        out, err = holder.communicate(timeout=60)
    assert second.returncode == 1, second
    assert "Traceback" not in second.stderr
    assert f"in use by pid {holder.pid}" in second.stderr and "refresh since" in second.stderr
    assert "ingest not started" in second.stderr
    assert holder.returncode == 0 and "holder done" in out, err      # the first one finished
    assert not (tmp_path / "wh.duckdb").exists()                     # the second wrote nothing


def test_a_second_writer_waits_bounded_and_reported_then_runs(tmp_path):
    _inbox(tmp_path)
    pid, err = _ingest_waiting_for(tmp_path, _refresh_holder(tmp_path, 90))
    assert f"waiting for the warehouse: in use by pid {pid}" in err


def test_a_bi_tool_holding_the_warehouse_delays_the_refresh_instead_of_failing_it(tmp_path):
    _inbox(tmp_path)
    warehouse = tmp_path / "wh.duckdb"
    duckdb.connect(str(warehouse)).close()
    reader = (
        "import time, pathlib, duckdb\n"
        f"con = duckdb.connect({str(warehouse)!r}, read_only=True)\n"
        f"pathlib.Path({str(tmp_path / 'ready')!r}).touch()\n"
        "end = time.monotonic() + 90\n"
        f"while time.monotonic() < end and not pathlib.Path({str(tmp_path / 'release')!r}).exists():\n"
        "    time.sleep(0.05)\n"
        "con.close()\n")
    holder = _hold(reader, tmp_path / "ready", _env(600))
    try:
        refused = _ingest(tmp_path, wait=0.5)
    finally:
        (tmp_path / "release").touch()
        holder.communicate(timeout=60)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert f"opened by pid {holder.pid}" in refused.stderr
    assert "basismonitor_<edition>.duckdb" in refused.stderr    # where readers should look
    (tmp_path / "ready").unlink()
    (tmp_path / "release").unlink()
    pid, err = _ingest_waiting_for(tmp_path, reader)
    assert f"waiting for {warehouse}: opened by pid {pid}" in err


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path):
    _inbox(tmp_path)
    holder = _hold(_refresh_holder(tmp_path, 60), tmp_path / "ready", _env(600))
    holder.kill()                                   # kill -9: no cleanup runs
    holder.communicate(timeout=30)
    after = _ingest(tmp_path, wait=5)
    assert after.returncode == 0, after.stderr


@pytest.mark.parametrize("nested", ["build", "publish"])
def test_the_lock_is_reentrant_within_one_process(tmp_path, nested):
    from basismonitor.orchestration.locks import is_held, warehouse_lock

    warehouse = tmp_path / "wh.duckdb"
    with warehouse_lock(warehouse, "refresh", wait=0):
        with warehouse_lock(warehouse, nested, wait=0):
            assert is_held(warehouse)
        assert is_held(warehouse)
    assert not is_held(warehouse)


def _lease(root: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import pathlib\nfrom basismonitor.orchestration import locks\n"
         f"w = pathlib.Path({str(root / 'wh.duckdb')!r})\n" + code],
        capture_output=True, text=True, timeout=120, env=_env(0.5), cwd=REPO)


def test_an_airflow_runs_lease_outlives_its_tasks_and_holds_off_other_writers(tmp_path):
    """The lease an Airflow run claims in its first task (one process) holds in later tasks
    (other processes) until its release task: another run's claim and a command-line ingest
    refuse meanwhile, naming the run; after the release both go."""
    _inbox(tmp_path)
    claimed = _lease(tmp_path, "locks.claim_lease(w, 'basismonitor_refresh/run1')")
    assert claimed.returncode == 0, claimed.stderr
    other = _lease(tmp_path, "locks.claim_lease(w, 'basismonitor_registry_yearly/run7')")
    assert other.returncode != 0 and "Airflow run basismonitor_refresh/run1" in other.stderr
    blocked = _ingest(tmp_path, wait=0.5)
    assert blocked.returncode == 1 and "Airflow run basismonitor_refresh/run1" in blocked.stderr
    # a later task of the same run (its own process, the owner in its environment) may write
    same = _lease(tmp_path, "import os\nos.environ[locks.ENV_OWNER] = 'basismonitor_refresh/run1'\n"
                            "with locks.warehouse_lock(w, 'publish', wait=0):\n    print('in')")
    assert same.returncode == 0 and "in" in same.stdout, same.stderr
    released = _lease(tmp_path, "assert locks.release_lease(w, 'basismonitor_refresh/run1')")
    assert released.returncode == 0, released.stderr
    assert _ingest(tmp_path, wait=5).returncode == 0
    assert _lease(tmp_path, "locks.claim_lease(w, 'basismonitor_registry_yearly/run7')"
                  ).returncode == 0


def test_a_stale_lease_is_taken_over_with_a_message(tmp_path, monkeypatch):
    from basismonitor.orchestration import locks

    warehouse = tmp_path / "wh.duckdb"
    monkeypatch.setenv(locks.ENV_OWNER, "")        # claim_lease sets it: undone after the test
    locks.claim_lease(warehouse, "dead/run")
    monkeypatch.setenv(locks.ENV_MAX_AGE, "0")
    said: list[str] = []
    locks.claim_lease(warehouse, "alive/run", progress=said.append)
    assert any("taking over the stale lease of Airflow run dead/run" in s for s in said)
    assert locks.release_lease(warehouse, "alive/run")
