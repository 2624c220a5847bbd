"""The ingestion API: discover files in the inbox and land each in one transaction."""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from basismonitor.config import duckdb_config

from .config import KIND_ORDER, SourceConfig, SourcesConfig, load_config
from .context import Counts, LoadContext
from .errors import IngestionError
from .scan import scan_file

SCHEMA_SQL = Path(__file__).with_name("landing_schema.sql")
TEXT_SUFFIXES = {".csv", ".txt"}
LOAD_TABLES_BY_ID = ("survey_variables", "survey_value_codes")


@dataclass
class PendingFile:
    source: str
    period: str
    path: Path


@dataclass
class LoadResult:
    load_id: str | None
    source: str
    period: str
    path: str
    sha256: str
    status: str          # landed | replaced | skipped | failed | ignored
    rows_read: int
    rows_landed: int
    rows_quarantined: int
    message: str = ""
    cells_quarantined: int = 0

    def line(self) -> str:
        """One line for a terminal or a log."""
        name = printable(Path(self.path).name)
        if self.status == "ignored":
            return (f"{self.source:<24} {self.period:<6} {printable(self.path):<32} ignored  "
                    f"{printable(self.message)}")
        text = (f"{self.source:<24} {self.period:<6} {name:<32} {self.status:<8} "
                f"read={self.rows_read} landed={self.rows_landed} "
                f"quarantined={self.rows_quarantined}")
        if self.cells_quarantined:
            text += f" (+{self.cells_quarantined} cells)"
        return text


def printable(text: str) -> str:
    """text on one line: control characters (a newline in a file name) escaped, so a log keeps
    one line per file."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def ignored(source: str, period: str, path: Path, reason: str) -> LoadResult:
    """The result of a file or folder in the inbox that is not loaded, with the reason."""
    return LoadResult(None, source, period, str(path), "", "ignored", 0, 0, 0, reason)


# -- schema -------------------------------------------------------------------------------------

def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema (landing_schema.sql); idempotent."""
    row = con.execute("""select table_type from information_schema.tables
        where table_schema = 'raw' and table_name = 'survey_answers'""").fetchone()
    if row and row[0] == "BASE TABLE":
        # An older warehouse stored survey answers as a table; they are now a view over the
        # compact storage (see landing_schema.sql).
        if con.execute("select count(*) from raw.survey_answers").fetchone()[0]:
            raise IngestionError(
                "raw.survey_answers is a table with rows (an older warehouse layout)",
                hint="rebuild the warehouse: delete it and run basismonitor ingest again")
        con.execute("drop table raw.survey_answers")
    con.execute(SCHEMA_SQL.read_text(encoding="utf-8"))


# -- discovery ----------------------------------------------------------------------------------

PERIOD = re.compile(r"^\d{4}$")
# Files the platform itself keeps in the inbox (the demo generator's record of its files).
INBOX_OWN_FILES = {"_demo_manifest.json"}


def _quiet(name: str) -> bool:
    """Names skipped without a word: hidden files (a writer's temporary file before its atomic
    rename) and Excel's lock files."""
    return name.startswith((".", "~$"))


def link_problem(path: Path, inbox: Path) -> str | None:
    """Why a path in the inbox must not be read, or None: a symbolic link (to a file, or a folder
    on the way) or anything that resolves outside the inbox. Anyone who can drop a file in the
    inbox must not make the service read a file elsewhere (/etc/passwd, /proc/self/environ)."""
    inbox = Path(inbox)
    try:
        rel = path.relative_to(inbox)
    except ValueError:
        return "lies outside the inbox"
    current = inbox
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            what = "the file" if current == path else f"folder {current.relative_to(inbox)}"
            return (f"{what} is a symbolic link: links are never followed (a link can point "
                    "outside the inbox)")
    try:
        path.resolve(strict=True).relative_to(inbox.resolve(strict=True))
    except (ValueError, OSError):
        return "resolves to a place outside the inbox"
    return None


def discover(inbox: Path, config: SourcesConfig | None = None,
             sources: Sequence[str] | None = None) -> list[PendingFile]:
    """Files in inbox/<source>/<period>/ that belong to a source, in dependency order:
    areas, crosswalk, population, registry, police, survey, activities; within a source by
    period, then codebook before data, then name. Already-landed files are listed too
    (load_file skips them). What is not loaded is in discover_all's second list."""
    return discover_all(inbox, config, sources)[0]


def discover_all(inbox: Path, config: SourcesConfig | None = None,
                 sources: Sequence[str] | None = None
                 ) -> tuple[list[PendingFile], list[LoadResult]]:
    """As discover, plus what is ignored, each with its reason: symbolic links and anything
    resolving outside the inbox, files outside a period folder, folders that are no period,
    files no pattern of the source matches and (inboxes scanned whole) folders that are no
    source."""
    config = config or load_config()
    inbox = Path(inbox)
    pending: list[PendingFile] = []
    skipped: list[LoadResult] = []
    chosen = config.ordered(sources)
    for source in chosen:
        folder = source.folder(inbox)
        problem = link_problem(folder, inbox) if folder.exists() or folder.is_symlink() else None
        if problem:
            skipped.append(ignored(source.name, "-", folder, problem))
            continue
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir()):
            if _quiet(entry.name):
                continue
            problem = link_problem(entry, inbox)
            if problem:
                skipped.append(ignored(source.name, "-", entry, problem))
                continue
            if not entry.is_dir():
                skipped.append(ignored(source.name, "-", entry,
                                       "not in a period folder: deliver files in "
                                       f"{source.name}/<period>/ (e.g. {source.name}/2024/)"))
                continue
            if not PERIOD.match(entry.name):
                skipped.append(ignored(source.name, "-", entry,
                                       f"folder {entry.name!r} is no period (a year like 2024)"))
                continue
            period_dir = entry
            files = []
            for f in period_dir.iterdir():
                if _quiet(f.name):
                    continue
                problem = link_problem(f, inbox)
                if problem:
                    skipped.append(ignored(source.name, period_dir.name, f, problem))
                    continue
                if not f.is_file():
                    skipped.append(ignored(source.name, period_dir.name, f,
                                           "not a regular file (a folder inside a period folder?)"))
                    continue
                spec = source.match(f.name)
                if spec is None:
                    patterns = ", ".join(s.pattern for s in source.files)
                    skipped.append(ignored(source.name, period_dir.name, f,
                                           f"the name matches no file of source {source.name} "
                                           f"({patterns})"))
                    continue
                role_rank = 0 if spec.get("role") == "codebook" else 1
                files.append((role_rank, f.name, f))
            for _, _, f in sorted(files):
                pending.append(PendingFile(source.name, period_dir.name, f))
    if sources is None and inbox.is_dir():
        tops = set()
        for source in chosen:
            rel = source.folder(inbox).relative_to(inbox).parts
            if rel:
                tops.add(rel[0])
        for entry in sorted(inbox.iterdir()):
            if _quiet(entry.name) or entry.name in tops or entry.name in INBOX_OWN_FILES:
                continue
            what = "folder" if entry.is_dir() and not entry.is_symlink() else "file"
            skipped.append(ignored("-", "-", entry,
                                   f"{what} {entry.name!r} is not the folder of a configured source "
                                   f"({', '.join(sorted(tops))})"))
    return pending, skipped


# -- loading ------------------------------------------------------------------------------------

def _connector(kind: str) -> Callable[[LoadContext], Counts]:
    from .connectors import (
        activity,
        areas,
        crosswalk,
        grid,
        incidents,
        points,
        police,
        population,
        registry,
        survey,
    )

    return {
        "areas": areas.land,
        "registry_wbk": areas.land,
        "crosswalk": crosswalk.land,
        "population": population.land,
        "registry_kwb": registry.land,
        "registry_odata": registry.land,
        "police": police.land,
        "survey": survey.land,
        "activity": activity.land,
        "grid": grid.land,
        "incidents": incidents.land,
        "points": points.land,
    }[kind]


def _file_label(path: Path, source: str, period: str) -> str:
    """What _file and raw.loads.file_path hold: <source>/<period>/<name> for an inbox file
    (portable), else the absolute path."""
    if path.parent.name == period and path.parent.parent.name == source:
        return f"{source}/{period}/{path.name}"
    return path.resolve().as_posix()


def _landing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("""
        select c.table_name from information_schema.columns c
        join information_schema.tables t using (table_schema, table_name)
        where c.table_schema = 'raw' and c.column_name = '_load_id'
          and t.table_type = 'BASE TABLE' order by 1""").fetchall()]


def _delete_load(con: duckdb.DuckDBPyConnection, load_id: str) -> None:
    for table in _landing_tables(con):
        con.execute(f"delete from raw.{table} where _load_id = ?", [load_id])
    for table in LOAD_TABLES_BY_ID:
        con.execute(f"delete from raw.{table} where load_id = ?", [load_id])


def connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for writing; while another process holds DuckDB's lock on it (a BI tool
    that opened the warehouse), retry for at most BASISMONITOR_LOCK_WAIT seconds, reporting it."""
    from basismonitor.orchestration.locks import WarehouseBusy, connect_waiting

    warehouse = Path(warehouse)
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    try:
        return connect_waiting(warehouse, config=duckdb_config(), progress=_report)
    except WarehouseBusy as exc:
        raise IngestionError(str(exc), file=warehouse) from exc
    except duckdb.Error as exc:
        raise IngestionError(f"cannot open the warehouse: {exc}", file=warehouse,
                             hint="is another process writing to it?") from exc


def _report(message: str) -> None:
    import sys

    print(message, file=sys.stderr, flush=True)


@contextlib.contextmanager
def _writer(warehouse: Path, what: str):
    """The warehouse lock (basismonitor.orchestration.locks) for a write; IngestionError when it stays busy."""
    from basismonitor.orchestration.locks import WarehouseBusy, warehouse_lock

    try:
        with warehouse_lock(warehouse, what, progress=_report):
            yield
    except WarehouseBusy as exc:
        raise IngestionError(str(exc), file=warehouse) from exc


def load_file(warehouse: Path, source: str, period: str, path: Path, *,
              config: SourcesConfig | None = None, force: bool = False,
              allow_shrink: bool = False) -> LoadResult:
    """Land one file in the raw schema in one transaction (all or nothing).

    Skipped when the same bytes already landed for this source and period (force=True loads them
    again, replacing that load); a corrected file with the same name replaces its predecessor's
    rows in the same transaction -- unless it lands less than REPLACEMENT_MIN_SHARE of the rows
    its predecessor landed (all rows quarantined, say): then the load fails and the predecessor
    stays, unless allow_shrink=True (`basismonitor ingest --allow-shrink`). A file that cannot be
    loaded is recorded as a failed load and raises IngestionError.
    """
    config = config or load_config()
    src = config.source(source)
    path = Path(path)
    period = str(period)
    if not PERIOD.match(period):
        raise IngestionError(f"period {period!r} is not a year like 2024", file=path,
                             hint="pass --period YYYY (the year or the area edition)")
    if path.is_symlink():
        raise IngestionError("the file is a symbolic link: links are never followed (a link can "
                             "point outside the inbox)", file=printable(str(path)),
                             hint="deliver the file itself")
    if not path.is_file():
        raise IngestionError("file not found", file=printable(str(path)))
    spec = src.spec_for(path)
    text = path.suffix.lower() in TEXT_SUFFIXES
    try:
        scan = scan_file(path, text=text)
    except OSError as exc:
        raise IngestionError(f"cannot read the file: {exc.strerror or exc}",
                             file=printable(str(path))) from exc
    if path.suffix.lower() == ".shp":   # a bare shapefile is its parts: a new .dbf is a new file
        from .gis import shapefile_sha256

        scan.sha256 = shapefile_sha256(path)
    label = _file_label(path, source, period)
    with _writer(warehouse, f"ingest {source} {period}"):
        con = connect(warehouse)
        try:
            ensure_schema(con)
            return _load(con, config, src, spec, period, path, label, scan, force, allow_shrink)
        finally:
            con.close()


def _load(con, config, src: SourceConfig, spec, period, path, label, scan, force,
          allow_shrink: bool = False) -> LoadResult:
    sha = scan.sha256
    same = con.execute("""select load_id, rows_read, rows_landed, rows_quarantined,
            coalesce(cells_quarantined, 0)
        from raw.loads where source = ? and period = ? and sha256 = ? and status = 'landed'
        order by loaded_at desc limit 1""", [src.name, period, sha]).fetchone()
    if same and not force:
        return LoadResult(same[0], src.name, period, str(path), sha, "skipped", int(same[1]),
                          int(same[2]), int(same[3]), "already landed (same sha256)",
                          int(same[4]))
    loaded_at = datetime.now(UTC).replace(tzinfo=None)
    load_id = f"{loaded_at:%Y%m%dT%H%M%S%f}-{src.name}-{period}-{sha[:8]}"
    predecessor: str | None = same[0] if same else None
    try:
        if spec.get("role") != "codebook" and not same:
            copy = con.execute("""select period, file_path from raw.loads
                where source = ? and sha256 = ? and status = 'landed' and period <> ?
                limit 1""", [src.name, sha, period]).fetchone()
            if copy:
                raise IngestionError(
                    f"the file is byte-for-byte identical to {copy[1]}, already landed for "
                    f"period {copy[0]}: a copy of another period's delivery?",
                    file=path, hint=f"deliver the real file for period {period}")
        if predecessor is None:
            for load_id_prev, name_prev in con.execute("""select load_id, file_name
                    from raw.loads where source = ? and period = ? and status = 'landed'""",
                                                       [src.name, period]).fetchall():
                prev_spec = src.match(name_prev or "")
                if prev_spec is None or prev_spec.slot != spec.slot:
                    continue
                if name_prev == path.name:
                    predecessor = load_id_prev
                else:
                    raise IngestionError(
                        f"{name_prev} is already landed for source {src.name} period {period} "
                        f"(as {spec.slot}); a second file would double the rows",
                        file=path,
                        hint=f"to correct it, deliver the corrected file under the same name "
                             f"{name_prev}; it then replaces the landed one")
        counts, notes = _land(con, config, src, spec, int(period), path, label, sha, load_id,
                              loaded_at, scan, predecessor, allow_shrink)
    except Exception as exc:
        _rollback(con)
        error = exc if isinstance(exc, IngestionError) else IngestionError(
            f"unexpected error while loading: {type(exc).__name__}: {exc}", file=path,
            hint="report this with the file")
        message = str(error)
        con.execute("""insert into raw.loads (load_id, source, period, file_path, sha256, status,
                rows_read, rows_landed, rows_quarantined, message, loaded_at, file_name,
                cells_quarantined)
            values (?, ?, ?, ?, ?, 'failed', NULL, NULL, NULL, ?, ?, ?, NULL)""",
                    [load_id, src.name, period, label, sha, message, loaded_at, path.name])
        error.result = LoadResult(load_id, src.name, period, str(path), sha, "failed", 0, 0, 0,
                                  message)
        if error is exc:
            raise
        raise error from exc
    status = "replaced" if predecessor else "landed"
    message = "; ".join(notes)
    if predecessor:
        message = (f"replaces load {predecessor}" + ("; " + message if message else ""))
    return LoadResult(load_id, src.name, period, str(path), sha, status, counts.rows_read,
                      counts.rows_landed, counts.rows_quarantined, message,
                      counts.cells_quarantined)


# A corrected file replaces its predecessor only when it lands at least this share of the rows
# the predecessor landed; below it (a file whose rows are all quarantined lands 0) the load fails
# and the predecessor stays, unless the operator passes --allow-shrink (docs/QUALITY.md).
REPLACEMENT_MIN_SHARE = 0.5


def _check_shrink(con, ctx: LoadContext, predecessor: str, counts: Counts,
                  allow_shrink: bool) -> None:
    row = con.execute("select rows_landed, file_name from raw.loads where load_id = ?",
                      [predecessor]).fetchone()
    before = int(row[0] or 0) if row else 0
    if not before or counts.rows_landed >= REPLACEMENT_MIN_SHARE * before:
        return
    what = (f"lands {counts.rows_landed} rows where the landed file it replaces (load "
            f"{predecessor}) has {before}: less than {REPLACEMENT_MIN_SHARE:.0%}")
    if allow_shrink:
        ctx.notes.append(f"replacement {what} (--allow-shrink)")
        return
    raise ctx.error(
        f"the corrected file {what} ({counts.rows_quarantined} of {counts.rows_read} rows "
        "quarantined); it does not replace the landed file, which stays",
        hint="see raw.quarantine for the reasons and deliver a corrected file; to replace the "
             "data by this smaller delivery on purpose, load it with basismonitor ingest "
             "--allow-shrink")


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    with contextlib.suppress(duckdb.Error):   # no transaction open
        con.execute("rollback")


def _land(con, config, src, spec, period, path, label, sha, load_id, loaded_at, scan,
          predecessor, allow_shrink: bool = False) -> tuple[Counts, list[str]]:
    workdir = Path(tempfile.mkdtemp(prefix="basismonitor-ingest-"))
    try:
        con.execute("begin transaction")
        if predecessor:
            _delete_load(con, predecessor)
        ctx = LoadContext(con=con, config=config, source=src, spec=spec, load_id=load_id,
                          period=period, path=path, file_label=label, sha256=sha,
                          loaded_at=loaded_at, scan=scan, workdir=workdir)
        ctx.start()
        counts = _connector(src.kind)(ctx)
        if predecessor:
            _check_shrink(con, ctx, predecessor, counts, allow_shrink)
            con.execute("update raw.loads set status = 'superseded', superseded_by = ? "
                        "where load_id = ?", [load_id, predecessor])
        con.execute("""insert into raw.loads (load_id, source, period, file_path, sha256, status,
                rows_read, rows_landed, rows_quarantined, message, loaded_at, file_name,
                cells_quarantined)
            values (?, ?, ?, ?, ?, 'landed', ?, ?, ?, ?, ?, ?, ?)""",
                    [load_id, src.name, str(period), label, sha, counts.rows_read,
                     counts.rows_landed, counts.rows_quarantined,
                     "; ".join(ctx.notes) or None, loaded_at, path.name,
                     counts.cells_quarantined])
        con.execute("commit")
        return counts, ctx.notes
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute("reset disabled_compression_methods")
            con.execute("reset preserve_insertion_order")
        shutil.rmtree(workdir, ignore_errors=True)


def ingest_inbox(warehouse: Path, inbox: Path, *, sources: Sequence[str] | None = None,
                 config: SourcesConfig | None = None,
                 progress: Callable[[str], None] | None = None,
                 fetch: bool = True, refetch: bool = False,
                 allow_shrink: bool = False) -> list[LoadResult]:
    """Load what is new in the inbox, in dependency order.

    OData sources whose URL variable is set are fetched first (periods not yet in the inbox, or
    all with refetch=True). Stops at the first failed file: its failure is recorded in raw.loads
    and IngestionError raised (with .results holding every result so far); loads before it stay.
    The warehouse lock (basismonitor.orchestration.locks) is held throughout.
    """
    with _writer(warehouse, "ingest"):
        return _ingest_inbox(warehouse, inbox, sources=sources, config=config, progress=progress,
                             fetch=fetch, refetch=refetch, allow_shrink=allow_shrink)


def _ingest_inbox(warehouse, inbox, *, sources, config, progress, fetch, refetch,
                  allow_shrink) -> list[LoadResult]:
    from .connectors.odata import fetch_missing

    config = config or load_config()
    inbox = Path(inbox)
    results: list[LoadResult] = []
    if fetch:
        for src in config.ordered(sources):
            if src.kind == "registry_odata":
                for fetched in fetch_missing(inbox, src, refetch=refetch):
                    if progress:
                        progress(f"fetched {fetched}")
    pending_files, skipped = discover_all(inbox, config, sources)
    for item in skipped:
        results.append(item)
        if progress:
            progress(item.line())
    for pending in pending_files:
        try:
            result = load_file(warehouse, pending.source, pending.period, pending.path,
                               config=config, allow_shrink=allow_shrink)
        except IngestionError as exc:
            if exc.result is not None:
                results.append(exc.result)
                if progress:
                    progress(exc.result.line())
            exc.results = list(results)
            raise
        results.append(result)
        if progress:
            progress(result.line())
    return results


__all__ = ["KIND_ORDER", "LoadResult", "PendingFile", "discover", "discover_all",
           "ensure_schema", "ingest_inbox", "load_file"]
