"""`basismonitor ingest`: land new source files in the warehouse's raw schema.

    basismonitor ingest                         everything new in the inbox, in dependency order
    basismonitor ingest survey police           only these sources from the inbox
    basismonitor ingest survey PATH... --period 2024    the named files of one source
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from .config import load_config
from .core import LoadResult, ingest_inbox, load_file
from .errors import IngestionError


def _default(env: str, fallback: str) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser() if value else Path(fallback)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "ingest",
        help="land new source files in the warehouse (raw schema)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("source", nargs="?", help="a source of ingestion/sources.yml")
    parser.add_argument("paths", nargs="*", type=Path,
                        help="files to load for SOURCE (default: what is new in the inbox)")
    parser.add_argument("--period", help="period (year or area edition) of the named files; "
                        "default: the name of each file's folder")
    parser.add_argument("--sources", nargs="+", metavar="SOURCE",
                        help="load only these sources from the inbox")
    parser.add_argument("--inbox", type=Path, default=None,
                        help="inbox folder (default: $BASISMONITOR_INBOX or ./inbox)")
    parser.add_argument("--warehouse", type=Path, default=None,
                        help="DuckDB warehouse (default: $BASISMONITOR_WAREHOUSE or "
                             "warehouse/basismonitor.duckdb)")
    parser.add_argument("--config", type=Path, default=None,
                        help="sources configuration (default: ingestion/sources.yml)")
    parser.add_argument("--force", action="store_true",
                        help="load named files again even when the same bytes already landed")
    parser.add_argument("--no-fetch", action="store_true",
                        help="do not fetch OData sources over HTTP")
    parser.add_argument("--refetch", action="store_true",
                        help="fetch OData sources again even when already in the inbox")
    parser.add_argument("--allow-shrink", action="store_true",
                        help="let a corrected file replace its predecessor even when it lands "
                             "less than half of the predecessor's rows (e.g. all quarantined)")
    parser.add_argument("--strict", action="store_true",
                        help="exit with status 2 when rows or cells were quarantined or files "
                             "in the inbox were ignored (default: report them, exit 0)")
    parser.set_defaults(func=run)
    return parser


def _summary(results: list[LoadResult]) -> str:
    """The closing lines: counts per status, the reconciliation, and -- never '(ok)' then --
    what needs a look: quarantined rows and cells per file, ignored files with their reason."""
    return "\n".join(summary_lines(results))


def summary_lines(results: list[LoadResult]) -> list[str]:
    by = {s: sum(1 for r in results if r.status == s)
          for s in ("landed", "replaced", "skipped", "failed", "ignored")}
    done = [r for r in results if r.status in ("landed", "replaced")]
    read = sum(r.rows_read for r in done)
    landed = sum(r.rows_landed for r in done)
    quarantined = sum(r.rows_quarantined for r in done)
    cells = sum(r.cells_quarantined for r in done)
    files = [r for r in results if r.status != "ignored"]
    attention = attention_lines(results)
    if read != landed + quarantined:
        verdict = "MISMATCH"
    elif by["failed"]:
        verdict = "FAILED"
    elif attention:
        verdict = "see below"
    else:
        verdict = "ok"
    lines = [f"total: {len(files)} files ({by['landed']} landed, {by['replaced']} replaced, "
             f"{by['skipped']} skipped, {by['failed']} failed), {by['ignored']} ignored; "
             f"rows read {read} = landed {landed} + quarantined {quarantined}"
             + (f" (+{cells} cells quarantined)" if cells else "") + f" ({verdict})"]
    return lines + attention


def attention_lines(results: list[LoadResult]) -> list[str]:
    """One line per file that needs a look: rows or cells quarantined, or ignored."""
    from .core import printable

    out = []
    for r in results:
        if r.status in ("landed", "replaced") and (r.rows_quarantined or r.cells_quarantined):
            out.append(f"  quarantined: {printable(r.path)}: {r.rows_quarantined} rows, "
                       f"{r.cells_quarantined} cells (raw.quarantine, load {r.load_id})")
        elif r.status == "ignored":
            out.append(f"  ignored: {printable(r.path)}: {printable(r.message)}")
    return out


def run(args: argparse.Namespace) -> int:
    warehouse = args.warehouse or _default("BASISMONITOR_WAREHOUSE",
                                           "warehouse/basismonitor.duckdb")
    inbox = args.inbox or _default("BASISMONITOR_INBOX", "inbox")
    results: list[LoadResult] = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        try:
            config = load_config(args.config)
            names = [str(p) for p in args.paths]
            if names and all(n in config and not Path(n).exists() for n in names):
                # `basismonitor ingest survey police`: sources, not files
                args.sources = list(args.sources or []) + names
                args.paths = []
            if args.paths:
                if not args.source:
                    raise IngestionError("name the source of the files: "
                                         "basismonitor ingest SOURCE PATH... --period P")
                for path in args.paths:
                    period = args.period or path.resolve().parent.name
                    result = load_file(warehouse, args.source, period, path, config=config,
                                       force=args.force, allow_shrink=args.allow_shrink)
                    results.append(result)
                    print(result.line())
            else:
                sources = list(args.sources or []) + ([args.source] if args.source else [])
                results = ingest_inbox(warehouse, inbox, sources=sources or None, config=config,
                                       progress=print, fetch=not args.no_fetch,
                                       refetch=args.refetch, allow_shrink=args.allow_shrink)
        except IngestionError as exc:
            results = exc.results or results + ([exc.result] if exc.result else [])
            if exc.result is not None and args.paths:
                print(exc.result.line())
            print(_summary(results))
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(_summary(results))
    if args.strict and attention_lines(results):
        print("error: --strict: rows were quarantined or files ignored (listed above)",
              file=sys.stderr)
        return 2
    return 0
