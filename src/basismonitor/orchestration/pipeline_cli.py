"""The stages' sub-commands (`basismonitor build | validate | publish | refresh`): argument
parsing and exit statuses over the plain stage functions of basismonitor.orchestration.pipeline."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from basismonitor.config import Settings
from basismonitor.orchestration.pipeline import (
    FiguresVanished,
    RefreshStopped,
    SiteFailed,
    build,
    publish,
    refresh,
    site,
    validate,
    writing,
)


def _settings(args) -> Settings:
    from basismonitor.config import parse_vars

    if getattr(args, "settings", None):
        os.environ["BASISMONITOR_SETTINGS"] = str(Path(args.settings).resolve())
    base = Settings.from_env()
    cli_vars = parse_vars(getattr(args, "vars", None))
    return Settings(
        warehouse=Path(getattr(args, "warehouse", None) or base.warehouse).resolve(),
        exports=Path(getattr(args, "exports", None) or base.exports).resolve(),
        inbox=Path(getattr(args, "inbox", None) or base.inbox).resolve(),
        edition=int(getattr(args, "edition", None) or cli_vars.get("edition") or base.edition),
        base_period=getattr(args, "base_period", None) or base.base_period,
        dbt_vars={**base.dbt_vars, **cli_vars},
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


def _clean_errors(run):
    """A failing stage prints one `error:` line (as `basismonitor ingest` does), not a traceback;
    the exit status is 1 (2 for --strict)."""
    import functools
    import sys

    @functools.wraps(run)
    def wrapper(args) -> int:
        from basismonitor.ingestion import IngestionError
        from basismonitor.orchestration.locks import WarehouseBusy
        from basismonitor.quality.validation import GateFailed
        from basismonitor.transform.dbt import DbtFailed

        try:
            return run(args)
        except RefreshStopped as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        except SiteFailed as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 3
        except (IngestionError, GateFailed, DbtFailed, WarehouseBusy, FileNotFoundError,
                FiguresVanished) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return wrapper


def _allow_vanished(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-vanished", action="store_true",
        help="publish even when indicator x period figures of the edition as last published are "
             "missing from the new build (refused by default)")


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
    with writing(s.warehouse, "publish", writes=False):
        gate = validate(s.warehouse, s.edition)
        publish(s.warehouse, s.exports, s.edition, docs_dir=gate.docs_dir,
                allow_vanished=args.allow_vanished, force=args.force)
    if not args.no_site:
        site(s.exports, s.edition)
    return 0


def _run_refresh(args) -> int:
    s = _settings(args)
    refresh(s, base_period=s.base_period, full_refresh=args.full_refresh,
            changed_only=args.changed_only, strict=args.strict,
            allow_vanished=args.allow_vanished, with_site=not args.no_site)
    published = s.exports / str(s.edition)
    print(f"exports:   {published}")
    # readers open the published copy: one that opens the warehouse holds DuckDB's lock on it,
    # and the next refresh has to wait for it
    print(f"open it:   duckdb {published / f'basismonitor_{s.edition}.duckdb'} -readonly")
    print(f"warehouse: {s.warehouse}  (the pipeline's own; do not keep it open)")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("build", help="dbt build: staging -> facts -> compass marts, with dbt's tests")
    _common(p)
    p.add_argument("--base-period", type=int, help="development compass base period (default in dbt_project.yml)")
    p.add_argument("--select", help="dbt node selection (default: everything)")
    _vars(p)
    _full_refresh(p)
    p.set_defaults(func=_clean_errors(_run_build))

    p = subparsers.add_parser("validate", help="run the Great Expectations gate on the marts")
    _common(p)
    _vars(p)
    p.set_defaults(func=_clean_errors(_run_validate))

    p = subparsers.add_parser("publish", help="validate, export the edition atomically to "
                                              "exports/<edition>/, then the site stage")
    _common(p, exports=True)
    _vars(p)
    _allow_vanished(p)
    p.add_argument("--force", action="store_true",
                   help="rewrite the edition even when it is published with the same content "
                        "(by default an unchanged edition is left as it is)")
    _no_site(p)
    p.set_defaults(func=_clean_errors(_run_publish))

    p = subparsers.add_parser("refresh", help="ingest -> build -> validate -> publish -> site in "
                                              "this process")
    _common(p, inbox=True, exports=True)
    p.add_argument("--base-period", type=int, help="development compass base period")
    _vars(p)
    _full_refresh(p)
    _allow_vanished(p)
    p.add_argument("--strict", action="store_true",
                   help="stop after ingest (exit status 2, nothing published) when rows were "
                        "quarantined or inbox files ignored")
    _no_site(p)
    p.set_defaults(func=_clean_errors(_run_refresh))


def _no_site(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-site", action="store_true",
        help="publish the data only; build the compass pages later with `basismonitor site`")
