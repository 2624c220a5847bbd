"""`basismonitor site`: the site stage alone: (re)build the compass pages of a published edition.

The stage itself is basismonitor.orchestration.pipeline.site (also run by `basismonitor publish` and
`basismonitor refresh` after publishing, and by the DAGs' `site` task).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "site",
        help="build the compass pages (static site) of a published edition: exports/<edition>/site",
        description=(
            "The site stage: build the static compass pages of a published edition from its "
            "exported files into exports/<edition>/site/ (open site/index.html in a browser; no "
            "server needed). Only the pages of areas whose figures changed since the edition's "
            "last site build are rebuilt; --full rebuilds all. Exit status 2: not a published "
            "edition; 3: the build failed (the published data is intact, the previous site "
            "stays)."
        ),
    )
    p.add_argument("--exports", help="export root (default: $BASISMONITOR_EXPORTS or exports/)")
    p.add_argument(
        "--edition", type=int, help="edition to build (default: the one exports/latest points to)"
    )
    p.add_argument("--full", action="store_true",
                   help="rebuild every page, not only those of areas whose figures changed")
    p.add_argument("--workers", type=int,
                   help="processes for the area pages (default: $BASISMONITOR_SITE_WORKERS, "
                        "else one per usable core)")
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
    from basismonitor.orchestration.pipeline import SiteFailed, site

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
        built = site(folder.parent, int(folder.name), workers=getattr(args, "workers", None),
                     full=bool(getattr(args, "full", False)))
    except SiteFailed as error:
        print(f"basismonitor site: {error}", file=sys.stderr)
        return 3
    print(f"open {built / 'index.html'}")
    return 0
