"""The `basismonitor` command: one sub-command per stage of the refresh.

    basismonitor demo       write the demo municipality's source files into the inbox
    basismonitor ingest     land new source files in the warehouse's raw schema
    basismonitor build      dbt build: staging -> facts -> compass marts, with dbt's tests
    basismonitor validate   Great Expectations gate on the marts
    basismonitor publish    export a validated edition (Parquet, CSV) atomically, then the site
    basismonitor site       the site stage: the compass pages of a published edition (only the
                            areas whose figures changed; exit 3 if it fails: data intact)
    basismonitor refresh    all of the above in order, in this process
    basismonitor estimate   ad-hoc design-based estimates for analysts
    basismonitor serve      the published editions as an OData v4 feed (Power BI, Excel)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def build_parser() -> argparse.ArgumentParser:
    from basismonitor.demo import cli as demo_cli
    from basismonitor.ingestion import cli as ingest_cli
    from basismonitor.orchestration import pipeline_cli
    from basismonitor.serve import cli as serve_cli
    from basismonitor.site import cli as site_cli
    from basismonitor.stats import cli as stats_cli

    parser = argparse.ArgumentParser(
        prog="basismonitor",
        description="Basismonitor: neighbourhood data to the wijkkompas.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo_cli.register(subparsers)
    ingest_cli.register(subparsers)
    pipeline_cli.register(subparsers)
    site_cli.register(subparsers)
    stats_cli.register(subparsers)
    serve_cli.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from basismonitor.config import SettingsError
    from basismonitor.transform.preflight import PreflightError

    try:
        return int(args.func(args) or 0)
    except (PreflightError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
