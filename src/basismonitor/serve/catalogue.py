"""The published editions the service serves, and the atomic switch to a newly published one.

One in-memory DuckDB instance (one buffer pool, one memory limit) ATTACHes each edition's
`basismonitor_<edition>.duckdb` READ_ONLY. A watcher thread looks at exports/ every `poll`
seconds; when an edition's file is new (another inode: publish/exports.py swaps the whole folder), it
attaches the new file under a fresh alias, reads its model, and then swaps the reference the
request handlers use (one assignment under a lock). Requests that started on the old file finish
on it: the old file stays attached, and open, until its last request is done, then is detached.
Publishing never waits for the server (read-only attach takes no lock a writer needs: the
publisher writes a new file in a staging folder and renames it into place).

On Linux the file is attached through /proc/self/fd/<n> of a descriptor opened here: DuckDB
refuses to attach one path twice, and the old and new files of an edition share their path.
Elsewhere the old file is detached before the new one is attached (a request in between gets a
503 and can retry).

Edition names from a request are looked up in the catalogue's dictionary (folder names that are
years, and `latest`); they are never joined into a path.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from basismonitor.serve.model import SCHEMA, Table, read_model

log = logging.getLogger("basismonitor.serve")

_PROC_FD = sys.platform.startswith("linux") and Path("/proc/self/fd").is_dir()


@dataclass
class Edition:
    name: str                      # the folder name, a year
    alias: str                     # the DuckDB database alias it is attached as
    path: Path
    identity: tuple[int, int, int]  # (device, inode, mtime_ns) of the file it was attached from
    tables: dict[str, Table]
    fd: int | None = None
    active: int = 0                # requests running on it
    retired: bool = False
    published_at: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def relation(self, table: str) -> str:
        return f'"{self.alias}"."{SCHEMA}"."{table}"'


def _identity(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _grains() -> dict[str, tuple[str, ...]]:
    from basismonitor.publish.exports import SORT_KEYS

    return {table.split(".")[-1]: keys for table, keys in SORT_KEYS.items()}


class Catalogue:
    """The editions under `exports`, attached read-only to one DuckDB instance."""

    def __init__(self, exports: Path, *, memory_limit: str = "1GB", threads: int | None = None,
                 marts_yaml: Path | None = None, poll: float = 1.0):
        self.exports = Path(exports)
        config = {"memory_limit": memory_limit, "enable_external_access": "true"}
        if threads:
            config["threads"] = str(threads)
        self.con = duckdb.connect(":memory:", config=config)
        self.con.execute("set enable_progress_bar = false")
        if marts_yaml is None:
            from basismonitor.publish.exports import MARTS_YAML

            marts_yaml = MARTS_YAML
        self.marts_yaml = marts_yaml
        self.poll = poll
        self._editions: dict[str, Edition] = {}
        self._latest: str | None = None
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.refresh()

    # --- what requests use ----------------------------------------------------------------

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._editions)

    def latest(self) -> str | None:
        with self._lock:
            return self._latest

    @contextlib.contextmanager
    def use(self, name: str | None) -> Iterator[Edition | None]:
        """The edition `name` (a year, 'latest', or None for the newest), held for one request:
        it stays attached until the request is done, even if a newer file replaces it."""
        with self._lock:
            if name in (None, "latest"):
                name = self._latest
            edition = self._editions.get(name) if name is not None else None
            if edition is not None:
                edition.active += 1
        try:
            yield edition
        finally:
            if edition is not None:
                with self._lock:
                    edition.active -= 1
                    done = edition.retired and edition.active == 0
                if done:
                    self._detach(edition)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        return self.con.cursor()

    # --- keeping up with publications -------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="odata-editions", daemon=True)
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with contextlib.suppress(Exception):
            self.con.close()
        for edition in list(self._editions.values()):
            if edition.fd is not None:
                with contextlib.suppress(OSError):
                    os.close(edition.fd)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.refresh()
            except Exception:  # keep serving what is attached; say why in the log
                log.exception("could not refresh the editions under %s", self.exports)

    def _published(self) -> dict[str, Path]:
        found = {}
        if not self.exports.is_dir():
            return found
        for entry in self.exports.iterdir():
            if entry.name.isdigit() and len(entry.name) == 4 and entry.is_dir() \
                    and not entry.is_symlink():
                database = entry / f"basismonitor_{entry.name}.duckdb"
                if database.is_file():
                    found[entry.name] = database
        return found

    def refresh(self) -> None:
        """Attach new and republished editions, retire removed ones, move `latest`."""
        published = self._published()
        for name, path in sorted(published.items()):
            identity = _identity(path)
            current = self._editions.get(name)
            if identity is None or (current is not None and current.identity == identity):
                continue
            try:
                edition = self._attach(name, path, identity)
            except (duckdb.Error, OSError) as error:
                log.warning("edition %s at %s not (yet) attachable: %s", name, path, error)
                continue
            with self._lock:
                old = self._editions.get(name)
                self._editions[name] = edition
                retire = old is not None and self._retire(old)
            if retire:
                self._detach(old)
            log.info("serving edition %s from %s%s", name, path,
                     " (republished)" if old is not None else "")
        with self._lock:
            gone = [e for n, e in self._editions.items() if n not in published
                    and not any(self.exports.glob(f".previous-{n}-*"))]
            for edition in gone:
                del self._editions[edition.name]
            detach = [e for e in gone if self._retire(e)]
            self._latest = self._pick_latest()
        for edition in detach:
            self._detach(edition)

    def _pick_latest(self) -> str | None:
        link = self.exports / "latest"
        with contextlib.suppress(OSError):
            target = os.readlink(link)
            if target in self._editions:
                return target
        return max(self._editions, default=None)

    @staticmethod
    def _retire(edition: Edition) -> bool:
        """Mark retired; True when no request holds it (detach now). Call under the lock."""
        edition.retired = True
        return edition.active == 0

    def _attach(self, name: str, path: Path, identity) -> Edition:
        alias = f"edition_{name}_{next(self._counter)}"
        fd = None
        if _PROC_FD:
            fd = os.open(path, os.O_RDONLY)
            if _identity(Path(f"/proc/self/fd/{fd}"))[:2] != identity[:2]:
                os.close(fd)  # replaced between stat and open: the next poll takes the new one
                raise OSError(f"{path} changed while it was being opened")
            source = f"/proc/self/fd/{fd}"
        else:
            with self._lock:
                old = self._editions.pop(name, None)
            if old is not None and self._retire(old):
                self._detach(old)
            source = str(path)
        try:
            con = self.cursor()
            # ATTACH takes no parameters; the path is ours (a descriptor, or exports/<year>/...)
            literal = "'" + source.replace("'", "''") + "'"
            con.execute(f'attach {literal} as "{alias}" (read_only)')
            tables = read_model(con, alias, self.marts_yaml, _grains())
            for table in tables.values():
                table.rows, table.keyset, table.sorted = self._check_key(con, alias, table)
                table.nonfinite = self._nonfinite(con, alias, table)
        except BaseException:
            with contextlib.suppress(Exception):
                self.cursor().execute(f'detach database if exists "{alias}"')
            if fd is not None:
                os.close(fd)
            raise
        published_at = None
        with contextlib.suppress(OSError, ValueError):
            import json

            published_at = json.loads((path.parent / "publication.json").read_text(
                encoding="utf-8")).get("published_at")
        return Edition(name, alias, path, identity, tables, fd, published_at=published_at)

    @staticmethod
    def _check_key(con, alias: str, table: Table) -> tuple[int, bool]:
        relation = f'"{alias}"."{SCHEMA}"."{table.name}"'
        keys = ", ".join(f'"{k}"' for k in table.key)
        nulls = " or ".join(f'"{k}" is null' for k in table.key)
        rows, null_keys = con.execute(
            f"select count(*), count(*) filter (where {nulls}) from {relation}").fetchone()
        duplicated = con.execute(
            f"select count(*) from (select {keys} from {relation} group by all "
            "having count(*) > 1)").fetchone()[0]
        if null_keys or duplicated:
            log.warning("%s: key %s is not unique and non-null (%s null, %s duplicated)",
                        table.name, table.key, null_keys, duplicated)
        from basismonitor.serve.app import paging_key

        row = "row(" + ", ".join(f'"{k}"' for k in paging_key(table)) + ")"
        unsorted = con.execute(
            f"select count(*) from (select {row} as cur, lag({row}) over (order by rowid) "
            f"as prev from {relation}) where cur < prev").fetchone()[0]
        return rows, not null_keys and not duplicated, unsorted == 0

    @staticmethod
    def _nonfinite(con, alias: str, table: Table) -> frozenset[str]:
        doubles = [c for c, col in table.columns.items()
                   if col.edm_type in ("Edm.Double", "Edm.Single") and not col.collection]
        if not doubles:
            return frozenset()
        counts = con.execute("select " + ", ".join(
            f'count(*) filter (where not isfinite("{c}"))' for c in doubles)
            + f' from "{alias}"."{SCHEMA}"."{table.name}"').fetchone()
        return frozenset(c for c, n in zip(doubles, counts, strict=True) if n)

    def _detach(self, edition: Edition) -> None:
        with contextlib.suppress(duckdb.Error):
            self.cursor().execute(f'detach database if exists "{edition.alias}"')
        if edition.fd is not None:
            with contextlib.suppress(OSError):
                os.close(edition.fd)
            edition.fd = None
