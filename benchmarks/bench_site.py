"""The site stage (issue 22.4): a full build against the incremental builds, in one run.

    .venv/bin/python benchmarks/bench_site.py [--runs 3] [--scale demo|small] [--workers N]

Set-up (not timed): the demo municipality generated, ingested, built, validated and published
into a temporary folder, and its site built once. Then, `--runs` times, interleaved:

- full (baseline): `build_site(full=True)`: every page, in one process (workers=1) and with
  `--workers` processes (default: the usable cores);
- nothing changed: the site stage on the edition as it is (`pipeline.site`);
- re-publish, nothing changed: `pipeline.publish` of the same warehouse and then the site stage
  (what a re-run of the refresh's last two stages costs), against publish + a full site build
  (what publish cost when it built every page itself);
- one area changed: one earlier year's figure of one area changed in the published facts, then
  the site stage (only that area's pages are rebuilt).

Prints the machine, the load, medians and all runs, and each figure's ratio to the full build
measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import load, machine  # noqa: E402

from basismonitor.demo import DemoScale, generate  # noqa: E402
from basismonitor.orchestration import pipeline  # noqa: E402

EDITION = 2024


def quiet(_line: str) -> None:
    pass


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def change_one_area(edition_dir: Path, bump: float) -> str:
    """Change one area's figure of an earlier year in the published facts; returns the area."""
    import pandas as pd

    path = edition_dir / "fct_indicator_value.parquet"
    facts = pd.read_parquet(path)
    areas = sorted(pd.read_parquet(edition_dir / "mart_compass_status.parquet")["area_code"]
                   .unique())
    area = areas[len(areas) // 2]
    row = ((facts["area_code"] == area) & (facts["period"] < EDITION)
           & facts["value"].notna()).idxmax()
    facts.loc[row, "value"] = facts.loc[row, "value"] + bump
    facts.to_parquet(path, index=False)
    return area


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scale", choices=["demo", "small"], default="demo")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args(argv)
    scale = DemoScale() if args.scale == "demo" else DemoScale.small()
    root = Path(tempfile.mkdtemp(prefix="bench-site-"))
    try:
        inbox, warehouse, exports = root / "inbox", root / "warehouse.duckdb", root / "exports"
        os.environ["BASISMONITOR_WAREHOUSE"] = str(warehouse)
        start = time.perf_counter()
        generate(inbox, scale=scale)
        pipeline.ingest(warehouse, inbox, progress=quiet)
        pipeline.build(warehouse, EDITION, progress=quiet)
        gate = pipeline.validate(warehouse, EDITION, docs_root=root / "docs", progress=quiet)
        publish = lambda: pipeline.publish(warehouse, exports, EDITION,  # noqa: E731
                                           docs_dir=gate.docs_dir, progress=quiet)
        publish()
        edition_dir = exports / str(EDITION)
        pipeline.site(exports, EDITION, progress=quiet)
        areas = len(list((edition_dir / "site" / "area").glob("*.html")))
        print(f"machine: {machine()}; scale {args.scale}: {areas} areas; set-up "
              f"{time.perf_counter() - start:.0f} s; {args.runs} runs; {load()}", flush=True)

        names = ("full, 1 process", f"full, {args.workers} processes", "nothing changed",
                 "re-publish + site, nothing changed", "publish + full site",
                 "one area changed")
        runs: dict[str, list[float]] = {n: [] for n in names}

        def site(**kw):
            return pipeline.site(exports, EDITION, progress=quiet, **kw)

        for i in range(args.runs):
            runs["full, 1 process"].append(seconds(lambda: site(full=True, workers=1)))
            runs[f"full, {args.workers} processes"].append(
                seconds(lambda: site(full=True, workers=args.workers)))
            runs["nothing changed"].append(seconds(site))
            runs["re-publish + site, nothing changed"].append(
                seconds(lambda: (publish(), site())))
            runs["publish + full site"].append(
                seconds(lambda: (publish(), site(full=True))))
            change_one_area(edition_dir, bump=1.0 + i)
            runs["one area changed"].append(seconds(site))
            print(f"run {i + 1}: " + ", ".join(f"{n} {runs[n][-1]:.2f} s" for n in names),
                  flush=True)
        base = statistics.median(runs["full, 1 process"])
        base_publish = statistics.median(runs["publish + full site"])
        print("\nmedian (all runs); ratio to the full build in one process")
        for name in names:
            med = statistics.median(runs[name])
            ratio = (f"{med / base_publish:.2f}x publish + full site"
                     if name.startswith("re-publish") else f"{med / base:.3f}x")
            print(f"  {name}: {med:.2f} s ({', '.join(f'{x:.2f}' for x in runs[name])}); {ratio}")
        print(f"{load()} at the end")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
