"""`basismonitor site`: build the compass pages into an already published edition folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "site",
        help="build the compass pages (static site) of a published edition: exports/<edition>/site",
        description=(
            "Build the static compass pages of a published edition from its exported Parquet files "
            "into exports/<edition>/site/ (open site/index.html in a browser; no server needed)."
        ),
    )
    p.add_argument("--exports", help="export root (default: $BASISMONITOR_EXPORTS or exports/)")
    p.add_argument(
        "--edition", type=int, help="edition to build (default: the one exports/latest points to)"
    )
    p.set_defaults(func=run)


def edition_folder(exports: Path, edition: int | None) -> Path:
    if edition is not None:
        return exports / str(edition)
    latest = exports / "latest"
    if latest.exists():
        return latest.resolve()
    from basismonitor.config import Settings

    return exports / str(Settings.from_env().edition)


def run(args: argparse.Namespace) -> int:
    from basismonitor.config import Settings
    from basismonitor.site.build import build_site
    from basismonitor.site.data import EditionError

    exports = (
        Path(args.exports).expanduser().resolve() if args.exports else Settings.from_env().exports
    )
    folder = edition_folder(exports, args.edition)
    if not (folder / "mart_compass_status.parquet").exists():
        print(
            f"basismonitor site: {folder} is not a published edition "
            "(no mart_compass_status.parquet); run `basismonitor publish` first",
            file=sys.stderr,
        )
        return 2
    try:
        site = build_site(folder)
    except EditionError as error:
        print(f"basismonitor site: {error}", file=sys.stderr)
        return 2
    print(f"open {site / 'index.html'}")
    return 0
