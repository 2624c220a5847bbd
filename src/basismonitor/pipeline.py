"""The refresh's stages as plain functions: the CLI calls them, and so do the Airflow tasks.

    ingest -> build (dbt) -> validate (Great Expectations) -> publish

Each stage takes explicit paths so tests run it on a warehouse in tmp_path. A failure in any
stage raises before publish, so the last published edition stays as it was.
"""

from __future__ import annotations

import argparse
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


def ingest(warehouse: Path, inbox: Path, *, progress: Progress = print) -> list:
    from basismonitor.ingestion import ingest_inbox

    if not inbox.exists():
        raise FileNotFoundError(f"inbox {inbox} does not exist: run `basismonitor demo` or deliver files")
    return ingest_inbox(warehouse, inbox, progress=progress)


def build(warehouse: Path, edition: int, *, base_period: int | None = None, progress: Progress = print,
          select: str | None = None, full_refresh: bool = False,
          changed_only: bool = False, dbt_vars: dict | None = None) -> list[dict]:
    """`dbt build`. The survey models are incremental per wave (only new or changed waves are
    computed); full_refresh passes dbt's --full-refresh: every incremental model is rebuilt.

    changed_only builds only the sources whose loads changed since the last successful build and
    what depends on them, or everything when the project or the vars changed (see
    basismonitor.build_state); an explicit select or full_refresh overrides it. A narrowed build
    leaves out dbt's unit tests: they test the code on fixtures, and the code is that of the
    recorded build before it, which ran them. Every successful
    build without an explicit select records what it saw, for the next changed_only build."""
    from basismonitor.build_state import plan_build, record_build
    from basismonitor.dbt import run_dbt
    from basismonitor.preflight import check_edition_has_figures, check_inputs

    vars_ = {**(dbt_vars or {}), "current_period": edition}
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
    from basismonitor.preflight import check_edition_has_figures
    from basismonitor.validation import GateFailed, validate_warehouse

    check_edition_has_figures(warehouse, edition)
    docs_root = docs_root or PROJECT_ROOT / "var" / "validation"
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


def publish(warehouse: Path, exports: Path, edition: int, *, docs_dir: Path | None = None,
            progress: Progress = print):
    from basismonitor.publish import publish_edition

    published = publish_edition(warehouse, exports, edition, validation_docs=docs_dir, progress=progress)
    latest = os.readlink(Path(exports) / "latest") if (Path(exports) / "latest").is_symlink() else "-"
    progress(f"published edition {edition} to {published.path} (exports/latest -> {latest})")
    return published


def refresh(settings: Settings, *, edition: int | None = None, base_period: int | None = None,
            progress: Progress = print, full_refresh: bool = False,
            changed_only: bool = False) -> StageTimes:
    """All stages in this process; returns the wall time per stage. full_refresh, changed_only:
    see build."""
    edition = edition or settings.edition
    base_period = base_period if base_period is not None else settings.base_period
    times = StageTimes()

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        progress(f"== {name}")
        out = fn(*args, **kwargs)
        times.seconds[name] = time.perf_counter() - start
        return out

    timed("ingest", ingest, settings.warehouse, settings.inbox, progress=progress)
    timed("build", build, settings.warehouse, edition, base_period=base_period, progress=progress,
          full_refresh=full_refresh, changed_only=changed_only, dbt_vars=settings.dbt_vars)
    gate = timed("validate", validate, settings.warehouse, edition, progress=progress)
    timed("publish", publish, settings.warehouse, settings.exports, edition, docs_dir=gate.docs_dir,
          progress=progress)
    progress(f"refresh done: {times.report()}")
    return times


# --- CLI ----------------------------------------------------------------------------------------

def _settings(args) -> Settings:
    from basismonitor.config import parse_vars

    if getattr(args, "settings", None):
        os.environ["BASISMONITOR_SETTINGS"] = str(Path(args.settings).resolve())
    base = Settings.from_env()
    return Settings(
        warehouse=Path(getattr(args, "warehouse", None) or base.warehouse).resolve(),
        exports=Path(getattr(args, "exports", None) or base.exports).resolve(),
        inbox=Path(getattr(args, "inbox", None) or base.inbox).resolve(),
        edition=getattr(args, "edition", None) or base.edition,
        base_period=getattr(args, "base_period", None) or base.base_period,
        dbt_vars={**base.dbt_vars, **parse_vars(getattr(args, "vars", None))},
    )


def _common(parser: argparse.ArgumentParser, *, inbox=False, exports=False) -> None:
    parser.add_argument("--warehouse", help="DuckDB file (default: $BASISMONITOR_WAREHOUSE or warehouse/basismonitor.duckdb)")
    parser.add_argument("--edition", type=int, help="the edition = current survey period (default: $BASISMONITOR_EDITION, the settings file's, or 2024)")
    parser.add_argument("--settings", help="a municipality's settings file (YAML: edition, base_period, vars; "
                                           "default: $BASISMONITOR_SETTINGS), e.g. examples/groningen/settings.yml")
    if inbox:
        parser.add_argument("--inbox", help="source files (default: $BASISMONITOR_INBOX or inbox/)")
    if exports:
        parser.add_argument("--exports", help="export root (default: $BASISMONITOR_EXPORTS or exports/)")


def _vars(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--vars", help="dbt vars over dbt_project.yml's and the settings file's, as YAML or "
                                       "JSON, e.g. '{compass_level: buurt}'")


def _full_refresh(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--full-refresh", action="store_true",
        help="rebuild the incremental models from scratch (dbt --full-refresh); by default the survey "
             "weights and estimates are computed only for waves that are new or whose inputs changed",
    )
    parser.add_argument(
        "--changed-only", action="store_true",
        help="build only the sources whose loads changed since the last successful build and what "
             "depends on them (everything when the dbt project or the vars changed; nothing when "
             "nothing changed), e.g. after landing only a survey wave",
    )


def _run_build(args) -> int:
    s = _settings(args)
    build(s.warehouse, s.edition, base_period=s.base_period, select=args.select,
          full_refresh=args.full_refresh, changed_only=args.changed_only, dbt_vars=s.dbt_vars)
    return 0


def _run_validate(args) -> int:
    s = _settings(args)
    validate(s.warehouse, s.edition)
    return 0


def _run_publish(args) -> int:
    s = _settings(args)
    gate = validate(s.warehouse, s.edition)
    publish(s.warehouse, s.exports, s.edition, docs_dir=gate.docs_dir)
    return 0


def _run_refresh(args) -> int:
    s = _settings(args)
    refresh(s, base_period=s.base_period, full_refresh=args.full_refresh,
            changed_only=args.changed_only)
    print(f"warehouse: {s.warehouse}  (open: duckdb {s.warehouse} -readonly)")
    print(f"exports:   {s.exports / str(s.edition)}")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("build", help="dbt build: staging -> facts -> compass marts, with dbt's tests")
    _common(p)
    p.add_argument("--base-period", type=int, help="development compass base period (default in dbt_project.yml)")
    p.add_argument("--select", help="dbt node selection (default: everything)")
    _vars(p)
    _full_refresh(p)
    p.set_defaults(func=_run_build)

    p = subparsers.add_parser("validate", help="run the Great Expectations gate on the marts")
    _common(p)
    _vars(p)
    p.set_defaults(func=_run_validate)

    p = subparsers.add_parser("publish", help="validate, then export the edition atomically to exports/<edition>/")
    _common(p, exports=True)
    _vars(p)
    p.set_defaults(func=_run_publish)

    p = subparsers.add_parser("refresh", help="ingest -> build -> validate -> publish in this process")
    _common(p, inbox=True, exports=True)
    p.add_argument("--base-period", type=int, help="development compass base period")
    _vars(p)
    _full_refresh(p)
    p.set_defaults(func=_run_refresh)
