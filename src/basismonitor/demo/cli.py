"""`basismonitor demo`: write a demo inbox.

The main CLI calls `register(subparsers)`; `python -m basismonitor.demo.cli` works on its own.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .generator import existing_files, generate
from .scale import DemoScale

SCALES = {"demo": DemoScale, "small": DemoScale.small, "national": DemoScale.national}


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "demo",
        help="generate the demo municipality's source files into the inbox",
        description="Write a deterministic demo inbox (Groningen-demo, GM9014) as "
        "docs/SOURCES.md describes. Same seed and scale give identical files.",
    )
    p.add_argument(
        "--inbox",
        type=Path,
        default=None,
        help="inbox folder (default: $BASISMONITOR_INBOX or ./inbox)",
    )
    p.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="demo",
        help="demo: one city (default); small: for tests; national: ~340 "
        "municipalities for benchmarks (minutes, ~0.5 GB)",
    )
    p.add_argument("--seed", type=int, default=2024, help="random seed (default 2024)")
    p.add_argument(
        "--force",
        action="store_true",
        help="generate even if the inbox already holds files (files of the same name "
        "are overwritten; files of an earlier demo run that this run does not "
        "write are removed)",
    )
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    inbox = Path(args.inbox or os.environ.get("BASISMONITOR_INBOX") or "inbox")
    present = existing_files(inbox)
    if present and not args.force:
        print(
            f"{inbox} already holds {len(present):,} files: nothing generated "
            f"(use --force to regenerate)"
        )
        return 0
    scale = SCALES[args.scale]()

    def progress(line: str) -> None:
        print(line, flush=True)

    m = generate(inbox, scale=scale, seed=args.seed, progress=progress)
    counts = ", ".join(f"{k} {v:,}" for k, v in m.counts.items())
    print(
        f"wrote {len(m.files):,} files ({m.total_bytes / 1e6:,.1f} MB) in {m.seconds:.1f} s "
        f"to {inbox} [{args.scale}, seed {args.seed}]: {counts}"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="basismonitor")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
