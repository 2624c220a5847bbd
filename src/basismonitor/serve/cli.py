"""`basismonitor serve`: the OData v4 feed of the published editions (docs/ODATA.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "serve",
        help="serve the published editions as a read-only OData v4 feed (Power BI, Excel)",
        description=(
            "Serve every published edition under the exports folder as a read-only OData v4 "
            "feed: service root http://HOST:PORT/odata/ (the newest edition), "
            "http://HOST:PORT/odata/<edition>/ for each edition. Paste the root URL into Power "
            "BI or Excel (Get Data > OData feed). A newly published edition is picked up within "
            "a second, without a restart and without failed requests. See docs/ODATA.md."
        ),
    )
    p.add_argument("--port", type=int, default=8081, help="TCP port (default 8081)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--exports", help="export root (default: $BASISMONITOR_EXPORTS or exports/)")
    p.add_argument("--page-size", type=int, default=None,
                   help="rows per page before @odata.nextLink (default 1000)")
    p.add_argument("--query-timeout", type=float, default=None,
                   help="seconds a query may run before it is stopped (default 30)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from basismonitor.config import Settings
    from basismonitor.serve.app import Limits, serve

    exports = (Path(args.exports).expanduser().resolve() if args.exports
               else Settings.from_env().exports)
    if not exports.is_dir():
        print(f"basismonitor serve: {exports} does not exist; publish an edition first "
              "(make run)", file=sys.stderr)
        return 2
    limits = Limits()
    if args.page_size:
        limits.page_size = max(1, min(args.page_size, limits.max_page_size))
    if args.query_timeout:
        limits.query_timeout = args.query_timeout
    serve(exports, args.host, args.port, limits=limits)
    return 0
