"""The refresh's stages as plain functions: the CLI calls them, and so do the Airflow tasks.

    ingest -> build (dbt) -> validate (Great Expectations) -> publish -> site

Each stage takes explicit paths so tests run it on a warehouse in tmp_path. A failure in any
stage raises before publish, so the last published edition stays as it was. The site (the
compass pages) is built from the published files after publish: a failed site build raises
SiteFailed, leaves the published data as it is and the previous site in place.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from basismonitor.config import PROJECT_ROOT, Settings

Progress = Callable[[str], None]


@dataclass
class StageTimes:
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        total = sum(self.seconds.values())
        parts = ", ".join(f"{k} {v:.1f}s" for k, v in self.seconds.items())
        return f"{parts}; total {total:.1f}s"


class RefreshStopped(RuntimeError):
    """A stage refused to go on (e.g. --strict after quarantined rows); nothing was published."""


def ingest(warehouse: Path, inbox: Path, *, progress: Progress = print,
           strict: bool = False) -> list:
    """Land what is new in the inbox and print the summary; with strict, quarantined rows or
    ignored files stop the refresh (RefreshStopped) before anything is built or published."""
    from basismonitor.ingestion import ingest_inbox
    from basismonitor.ingestion.cli import attention_lines, summary_lines

    if not inbox.exists():
        raise FileNotFoundError(f"inbox {inbox} does not exist: run `basismonitor demo` or deliver files")
    results = ingest_inbox(warehouse, inbox, progress=progress)
    for line in summary_lines(results):
        progress(line)
    if strict and attention_lines(results):
        raise RefreshStopped("--strict: rows were quarantined or files ignored (listed above); "
                             "nothing was built or published")
    return results


def build(warehouse: Path, edition: int, *, base_period: int | None = None, progress: Progress = print,
          select: str | None = None, full_refresh: bool = False,
          changed_only: bool = False, dbt_vars: dict | None = None) -> list[dict]:
    """`dbt build`. The survey models are incremental per wave (only new or changed waves are
    computed); full_refresh passes dbt's --full-refresh: every incremental model is rebuilt.

    changed_only builds only the sources whose loads changed since the last successful build and
    what depends on them, or everything when the project or the vars changed (see
    basismonitor.transform.build_state); an explicit select or full_refresh overrides it. A narrowed build
    leaves out dbt's unit tests: they test the code on fixtures, and the code is that of the
    recorded build before it, which ran them. Every successful
    build without an explicit select records what it saw, for the next changed_only build."""
    with writing(warehouse, "build", progress):
        return _build(warehouse, edition, base_period=base_period, progress=progress,
                      select=select, full_refresh=full_refresh, changed_only=changed_only,
                      dbt_vars=dbt_vars)


def writing(warehouse: Path, what: str, progress: Progress = print, *, writes: bool = True):
    """The warehouse lock for a stage (re-entrant: a refresh holds it through all stages); a
    writing stage that takes it first then waits for DuckDB's own lock (a BI tool holding the
    file open). Both waits are bounded (BASISMONITOR_LOCK_WAIT) and report the holder."""
    import contextlib

    from basismonitor.orchestration.locks import is_held, wait_for_duckdb, warehouse_lock

    @contextlib.contextmanager
    def held():
        outer = not is_held(warehouse)
        with warehouse_lock(warehouse, what, progress=progress):
            if outer and writes:
                wait_for_duckdb(warehouse, progress=progress)
            yield

    return held()


def _build(warehouse: Path, edition: int, *, base_period: int | None, progress: Progress,
           select: str | None, full_refresh: bool, changed_only: bool,
           dbt_vars: dict | None = None) -> list[dict]:
    from basismonitor.config import renamed_vars
    from basismonitor.transform.build_state import plan_build, record_build
    from basismonitor.transform.dbt import run_dbt
    from basismonitor.transform.preflight import check_edition_has_figures, check_inputs

    # a caller's old var names (current_period) are read as the new ones, as the CLI reads them
    vars_ = {**renamed_vars(dbt_vars or {}, "build's dbt_vars"), "edition": edition}
    if base_period is not None:
        vars_["base_period"] = base_period
    for note in check_inputs(warehouse, vars_):
        progress(f"note: {note}")
    plan = None
    if select is None:
        plan = plan_build(warehouse, vars_)
        if changed_only and not full_refresh:
            progress(f"build plan: {plan.reason}")
            if plan.nothing_to_build:
                progress("dbt build skipped: the warehouse is up to date")
                return []
            select = plan.select
    args = ["--select", select] if select else []
    if changed_only and plan is not None and plan.select:
        # a narrowed build: the project is the one the recorded builds ran with, and the first
        # of them was a whole build whose unit tests (fixtures, not data) passed on this code
        args += ["--exclude-resource-type", "unit_test"]
    if full_refresh:
        args.append("--full-refresh")
    progress(f"dbt build on {warehouse} (edition {edition}{', full refresh' if full_refresh else ''}"
             f"{', ' + select if select else ''})")
    nodes = run_dbt("build", warehouse, args=args, vars=vars_)
    if not select or changed_only:
        check_edition_has_figures(warehouse, edition)
    if plan is not None:
        record_build(warehouse, plan, select or "")
    return nodes


def validate(warehouse: Path, edition: int, *, docs_root: Path | None = None, progress: Progress = print):
    from basismonitor.quality.validation import GateFailed, validate_warehouse
    from basismonitor.transform.preflight import check_edition_has_figures

    check_edition_has_figures(warehouse, edition)
    docs_root = docs_root or PROJECT_ROOT / "var" / "validation"
    with writing(warehouse, "validate", progress, writes=False):
        result = validate_warehouse(warehouse, edition, docs_root=docs_root, progress=progress)
    for failure in result.warnings:
        progress(f"  warning: {failure}")
    if not result.passed:
        raise GateFailed(result)
    progress(
        f"quality gate passed: {result.expectations_run} expectations on {len(result.tables)} tables"
        + (f"; report {result.docs_dir / 'index.html'}" if result.docs_dir else "")
    )
    return result


class FiguresVanished(RuntimeError):
    """Indicator x period figures of the published edition are missing from the new build."""


def vanished_figures(warehouse: Path, exports: Path, edition: int) -> list[tuple[str, int, int]]:
    """(indicator_code, period, rows before) of every indicator x period that the edition as
    last published has and the warehouse's fact table no longer has at all (issue 23: a corrected
    registry file whose rows were all quarantined made the 2024 registry indicators vanish from a
    published edition, and the gate passed)."""
    import duckdb

    from basismonitor.config import duckdb_config

    previous = Path(exports) / str(edition) / "fct_indicator_value.parquet"
    if not previous.is_file():
        return []
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        return [(str(a), int(b), int(c)) for a, b, c in con.execute("""
            with before as (select indicator_code, period, count(*) as n
                            from read_parquet(?) group by all),
                 now as (select distinct indicator_code, period from marts.fct_indicator_value)
            select b.indicator_code, b.period, b.n from before b
            where not exists (select 1 from now where now.indicator_code = b.indicator_code
                              and now.period = b.period)
            order by 2, 1""", [str(previous)]).fetchall()]


def check_vanished(warehouse: Path, exports: Path, edition: int, *, allow: bool = False,
                   progress: Progress = print) -> None:
    gone = vanished_figures(warehouse, exports, edition)
    if not gone:
        return
    shown = ", ".join(f"{code} {period} ({n} rows)" for code, period, n in gone[:10])
    more = f" and {len(gone) - 10} more" if len(gone) > 10 else ""
    text = (f"{len(gone)} indicator x period figures of the published edition {edition} are "
            f"missing from the new build: {shown}{more}")
    if allow:
        progress(f"  warning: {text} (--allow-vanished)")
        return
    raise FiguresVanished(
        text + "; nothing was published. Check raw.loads and raw.quarantine for a delivery that "
        "landed no rows; to publish without them on purpose, use --allow-vanished")


def publish(warehouse: Path, exports: Path, edition: int, *, docs_dir: Path | None = None,
            progress: Progress = print, allow_vanished: bool = False, force: bool = False):
    """Export the edition (basismonitor.publish.exports.publish_edition); an edition published
    with the same content is left as it is (`published.unchanged`) unless `force`."""
    from basismonitor.publish.exports import publish_edition

    check_vanished(warehouse, exports, edition, allow=allow_vanished, progress=progress)
    with writing(warehouse, "publish", progress, writes=False):
        published = publish_edition(warehouse, exports, edition, validation_docs=docs_dir,
                                    progress=progress, force=force)
    latest = os.readlink(Path(exports) / "latest") if (Path(exports) / "latest").is_symlink() else "-"
    if published.unchanged:
        progress(f"edition {edition} unchanged: {published.path} kept as published, nothing "
                 f"rewritten (exports/latest -> {latest})")
    else:
        progress(f"published edition {edition} to {published.path} (exports/latest -> {latest})")
    return published


class SiteFailed(RuntimeError):
    """The site stage failed; the edition's published data is intact (exit status 3)."""


def site(exports: Path, edition: int, *, progress: Progress = print, workers: int | None = None,
         full: bool = False) -> Path:
    """Build the compass pages of the published edition exports/<edition> into its site/ folder,
    from the published files (not the warehouse). Only the areas whose figures changed since the
    edition's last site build are rebuilt (basismonitor.site.build), unless `full`.

    Publishers wait while it runs (the exports lock). Any failure raises SiteFailed saying that
    the published data is intact and whether a previous site stays in place (the site is
    written aside and renamed into place only when complete)."""
    from basismonitor.publish.exports import exports_lock
    from basismonitor.site.build import build_site

    folder = Path(exports) / str(edition)
    if not (folder / "mart_compass_status.parquet").is_file():
        raise SiteFailed(f"{folder} is not a published edition (no mart_compass_status.parquet): "
                         "run `basismonitor publish` first")
    try:
        with exports_lock(Path(exports)):
            return build_site(folder, progress=progress, workers=workers, full=full)
    except Exception as exc:
        kept = (f"the previous site stays at {folder / 'site'}"
                if (folder / "site" / "index.html").is_file() else "there was no site before")
        raise SiteFailed(
            f"the site of edition {edition} was not built: {type(exc).__name__}: {exc}. The "
            f"published data in {folder} is intact and {kept}; fix the cause and run "
            f"`basismonitor site --edition {edition}`") from exc


def refresh(settings: Settings, *, edition: int | None = None, base_period: int | None = None,
            progress: Progress = print, full_refresh: bool = False,
            changed_only: bool = False, strict: bool = False,
            allow_vanished: bool = False, with_site: bool = True) -> StageTimes:
    """All stages in this process, holding the warehouse lock from ingest through publish (a
    second refresh waits, bounded, or refuses; it never breaks this one), then the site stage
    (it reads only the published files); returns the wall time per stage. full_refresh,
    changed_only: see build; strict: see ingest. A failed site raises SiteFailed after the
    data was published."""
    with writing(settings.warehouse, "refresh", progress):
        times = _refresh(settings, edition=edition, base_period=base_period, progress=progress,
                         full_refresh=full_refresh, changed_only=changed_only, strict=strict,
                         allow_vanished=allow_vanished)
    if with_site:
        start = time.perf_counter()
        progress("== site")
        try:
            site(settings.exports, edition or settings.edition, progress=progress)
        finally:
            times.seconds["site"] = time.perf_counter() - start
    progress(f"refresh done: {times.report()}")
    return times


def _refresh(settings: Settings, *, edition: int | None, base_period: int | None,
             progress: Progress, full_refresh: bool, changed_only: bool,
             strict: bool, allow_vanished: bool = False) -> StageTimes:
    edition = edition or settings.edition
    base_period = base_period if base_period is not None else settings.base_period
    times = StageTimes()

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        progress(f"== {name}")
        out = fn(*args, **kwargs)
        times.seconds[name] = time.perf_counter() - start
        return out

    timed("ingest", ingest, settings.warehouse, settings.inbox, progress=progress, strict=strict)
    timed("build", build, settings.warehouse, edition, base_period=base_period, progress=progress,
          full_refresh=full_refresh, changed_only=changed_only, dbt_vars=settings.dbt_vars)
    gate = timed("validate", validate, settings.warehouse, edition, progress=progress)
    timed("publish", publish, settings.warehouse, settings.exports, edition, docs_dir=gate.docs_dir,
          progress=progress, allow_vanished=allow_vanished)
    return times
