"""One writer at a time: an explicit lock beside the warehouse, and a bounded wait for DuckDB's.

`warehouse_lock` is an advisory ``flock`` on ``<warehouse>.lock``, held by every command that
writes the warehouse or publishes from it (`ingest`, `build`, `validate`, `publish`, `refresh`;
the Airflow tasks from build through publish). A second command waits for it at most
BASISMONITOR_LOCK_WAIT seconds (default 600), saying every 30 s which process holds it, then
refuses with a clear message -- it never breaks the one that runs. The lock is released by the
kernel when its holder dies (kill -9 included), so a crash leaves no stale lock. Nested use in one
process (refresh -> ingest) is re-entrant.

DuckDB's own file lock is taken by anyone who opens the warehouse, a BI tool included; the
platform's readers are pointed at the published edition's DuckDB file instead, and
`wait_for_duckdb` retries opening the warehouse for the same bounded time, naming the process
(pid and command line) DuckDB reports as holding it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

ENV_WAIT = "BASISMONITOR_LOCK_WAIT"
DEFAULT_WAIT = 600.0
REPORT_EVERY = 30.0
POLL = 0.2

_held: dict[str, int] = {}       # lock path -> nesting depth in this process
_handles: dict[str, object] = {}


class WarehouseBusy(RuntimeError):
    """The warehouse lock (or DuckDB's) stayed held for the whole wait."""


def lock_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".lock")


def default_wait() -> float:
    value = os.environ.get(ENV_WAIT)
    try:
        return float(value) if value else DEFAULT_WAIT
    except ValueError:
        return DEFAULT_WAIT


def command_of(pid: int) -> str:
    """The command line of a process (Linux /proc), or '?' when unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "?"
    return " ".join(p.decode("utf-8", "replace") for p in raw.split(b"\0") if p)[:300] or "?"


def holder(warehouse: Path) -> str:
    """Who holds the warehouse lock, as written by its holder: 'pid N (command), since T'; or
    the Airflow run holding the lease."""
    lease = _foreign_lease(warehouse)
    if lease:
        return lease
    try:
        info = json.loads(lock_path(warehouse).read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "an unknown process"
    return (f"pid {info.get('pid', '?')} ({info.get('command', '?')}), "
            f"{info.get('what', 'a command')} since {info.get('since', '?')}")


def _key(warehouse: Path) -> str:
    return str(lock_path(warehouse).resolve())


def is_held(warehouse: Path) -> bool:
    """This process holds the warehouse lock."""
    return bool(_held.get(_key(warehouse)))


@contextlib.contextmanager
def warehouse_lock(warehouse: Path, what: str, *, wait: float | None = None,
                   progress: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the warehouse's lock for `what` (e.g. 'refresh'); waits at most `wait` seconds."""
    path = lock_path(warehouse)
    key = _key(warehouse)
    if _held.get(key):
        _held[key] += 1
        try:
            yield
        finally:
            _held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = default_wait() if wait is None else wait
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 -- held across the yield
    try:
        start = time.monotonic()
        reported: float | None = None
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                other = _foreign_lease(warehouse)
                if other is None:
                    break
                fcntl.flock(handle, fcntl.LOCK_UN)      # an Airflow run holds the warehouse
                raise BlockingIOError(other)
            except BlockingIOError:
                now = time.monotonic()
                if now - start >= wait:
                    raise WarehouseBusy(
                        f"the warehouse {warehouse} is in use by {holder(warehouse)}: waited "
                        f"{now - start:.0f} s for it ({ENV_WAIT}); {what} not started"
                    ) from None
                if progress and (reported is None or now - reported >= REPORT_EVERY):
                    progress(f"waiting for the warehouse: in use by {holder(warehouse)} "
                             f"({now - start:.0f} s of at most {wait:.0f} s)")
                    reported = now
                time.sleep(POLL)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "command": command_of(os.getpid()),
                                 "what": what,
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        _held[key] = 1
        _handles[key] = handle
        try:
            yield
        finally:
            _held.pop(key, None)
            _handles.pop(key, None)
            with contextlib.suppress(OSError):
                handle.seek(0)
                handle.truncate()
                handle.flush()
            fcntl.flock(handle, fcntl.LOCK_UN)
    finally:
        handle.close()


DUCKDB_HOLDER = re.compile(r"\(PID (\d+)\)")


def duckdb_lock_holder(message: str) -> str | None:
    """'pid N (command)' from DuckDB's 'Conflicting lock is held in ... (PID N)' message."""
    m = DUCKDB_HOLDER.search(message)
    if not m or "lock" not in message.lower():
        return None
    pid = int(m.group(1))
    return f"pid {pid} ({command_of(pid)})"


def connect_waiting(database: Path, *, read_only: bool = False, config: dict | None = None,
                    wait: float | None = None, progress: Callable[[str], None] | None = None):
    """duckdb.connect, retrying while another process holds DuckDB's lock on the file (a BI tool
    that opened the warehouse itself), at most `wait` seconds, reporting the holder."""
    import duckdb

    wait = default_wait() if wait is None else wait
    start = time.monotonic()
    reported = None
    while True:
        try:
            return duckdb.connect(str(database), read_only=read_only, config=config or {})
        except duckdb.IOException as exc:
            who = duckdb_lock_holder(str(exc))
            if who is None:
                raise
            now = time.monotonic()
            if now - start >= wait:
                raise WarehouseBusy(
                    f"{database} is opened by {who}, which holds DuckDB's lock on it: waited "
                    f"{now - start:.0f} s ({ENV_WAIT}). Close that program; readers should open "
                    "the published edition's exports/<edition>/basismonitor_<edition>.duckdb, "
                    "not the warehouse") from exc
            if progress and (reported is None or now - reported >= REPORT_EVERY):
                progress(f"waiting for {database}: opened by {who} ({now - start:.0f} s of at "
                         f"most {wait:.0f} s)")
                reported = now
            time.sleep(POLL * 5)


def wait_for_duckdb(database: Path, *, wait: float | None = None,
                    progress: Callable[[str], None] | None = None) -> None:
    """Wait (bounded) until the warehouse can be opened for writing, then close it again: before
    a stage whose tool opens the file itself (dbt, the gate)."""
    if not Path(database).exists():
        return
    import duckdb

    from basismonitor.config import duckdb_config

    try:
        con = connect_waiting(database, wait=wait, progress=progress, config=duckdb_config())
    except WarehouseBusy:
        raise
    except duckdb.Error:
        return      # not another process's lock: the stage itself opens the file and says why
    con.close()



# -- the Airflow lease: one run from ingest through publish, across tasks and workers -------------
#
# A flock lives as long as its process; an Airflow run's tasks are separate processes (on Celery,
# on several machines' workers sharing the data volume). The first task of a run claims a lease
# file beside the warehouse (created atomically under the flock), the last one (an Airflow
# teardown task: also after a failure) releases it. Another run's claim, and every command line
# writer (warehouse_lock), waits while a lease of another owner exists. A lease older than
# BASISMONITOR_LEASE_MAX_AGE seconds (default 12 h) is taken over with a message: its run died
# without its release task (the scheduler was killed).

ENV_OWNER = "BASISMONITOR_LEASE_OWNER"
ENV_MAX_AGE = "BASISMONITOR_LEASE_MAX_AGE"
DEFAULT_MAX_AGE = 12 * 3600.0


def lease_path(warehouse: Path) -> Path:
    warehouse = Path(warehouse)
    return warehouse.with_name(warehouse.name + ".lease")


def _read_lease(warehouse: Path) -> dict | None:
    try:
        return json.loads(lease_path(warehouse).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"owner": "?", "since": "?", "at": 0}


def _stale(lease: dict) -> bool:
    try:
        max_age = float(os.environ.get(ENV_MAX_AGE) or DEFAULT_MAX_AGE)
    except ValueError:
        max_age = DEFAULT_MAX_AGE
    return time.time() - float(lease.get("at") or 0) > max_age


def _foreign_lease(warehouse: Path) -> str | None:
    """'Airflow run X (since T)' when a lease of another owner than this process's holds."""
    lease = _read_lease(warehouse)
    if lease is None or lease.get("owner") == os.environ.get(ENV_OWNER) or _stale(lease):
        return None
    return f"Airflow run {lease.get('owner')} (since {lease.get('since')})"


def claim_lease(warehouse: Path, owner: str, *, wait: float | None = None,
                progress: Callable[[str], None] | None = None) -> None:
    """Claim the warehouse for `owner` (an Airflow run) until release_lease; re-claiming one's
    own lease (a retried task) is fine. Waits, bounded, while another owner holds it."""
    os.environ[ENV_OWNER] = owner
    wait = default_wait() if wait is None else wait
    start = time.monotonic()
    reported: float | None = None
    while True:
        with warehouse_lock(warehouse, f"claim for {owner}", wait=max(0.0, wait - (
                time.monotonic() - start)), progress=progress):
            lease = _read_lease(warehouse)
            if lease is None or lease.get("owner") == owner or _stale(lease):
                if lease is not None and lease.get("owner") != owner and progress:
                    progress(f"taking over the stale lease of Airflow run {lease.get('owner')} "
                             f"(since {lease.get('since')}, older than {ENV_MAX_AGE})")
                tmp = lease_path(warehouse).with_suffix(".lease.tmp")
                tmp.write_text(json.dumps({
                    "owner": owner, "pid": os.getpid(), "at": time.time(),
                    "since": datetime.now(UTC).isoformat(timespec="seconds")}), encoding="utf-8")
                tmp.replace(lease_path(warehouse))
                return
        now = time.monotonic()
        if now - start >= wait:
            raise WarehouseBusy(f"the warehouse {warehouse} is claimed by Airflow run "
                                f"{lease.get('owner')} (since {lease.get('since')}): waited "
                                f"{now - start:.0f} s ({ENV_WAIT})")
        if progress and (reported is None or now - reported >= REPORT_EVERY):
            progress(f"waiting for the warehouse: claimed by Airflow run {lease.get('owner')} "
                     f"(since {lease.get('since')})")
            reported = now
        time.sleep(POLL * 5)


def release_lease(warehouse: Path, owner: str) -> bool:
    """Release owner's lease; False when the lease is not (or no longer) owner's."""
    lease = _read_lease(warehouse)
    if lease is None or lease.get("owner") != owner:
        return False
    with contextlib.suppress(FileNotFoundError):
        lease_path(warehouse).unlink()
    return True
