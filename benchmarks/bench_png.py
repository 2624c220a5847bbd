"""The compass PNG: resvg rendering the standalone SVG (basismonitor.site.raster now) against the
hand-written numpy rasteriser with a bitmap font it replaced (issue 19, point 9), in one run; and
resvg on the same chart with its hatch as shapes (what the site draws its PNGs from since issue
22) against the hatch pattern of the SVG file.

A compass of national size (4 quadrants, 12 themes, 80 indicators, a few suppressed) is drawn
for `--areas` areas with different classes; both renderers make the same 900 px wide PNG. The
baseline is the old module as it was at commit 081ffed, read from git (it imports helpers that
basismonitor.site.svg still has). CPU seconds (process time) and wall seconds per PNG.

    .venv/bin/python benchmarks/bench_png.py --areas 40
    .venv/bin/python benchmarks/bench_png.py --areas 20 --suppressed-every 2   # mostly hatched
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
from _common import module_at  # noqa: E402

BASELINE_COMMIT = "081ffed"


def old_raster():
    return module_at(BASELINE_COMMIT, "src/basismonitor/site/raster.py")


def compasses(areas: int, suppressed_every: int = 17):
    from basismonitor.site import palette
    from basismonitor.site.geometry import TreeNode, compass_layout
    from basismonitor.site.svg import NodeView, node_summary

    quadrants = ("samenstelling", "fysiek", "leefbaarheid", "sociaal")
    tree = [TreeNode("centre", "centrum", None, None)]
    n = 0
    for qi, q in enumerate(quadrants):
        tree.append(TreeNode("quadrant", q, "centrum", q, (qi,)))
        for t in range(3):
            theme = f"{q}-t{t}"
            tree.append(TreeNode("theme", theme, q, q, (theme,)))
            for _ in range(7 if t else 6):
                n += 1
                tree.append(TreeNode("indicator", f"i{n}", theme, q, (f"i{n:03d}",)))
    cells = compass_layout(tree)
    out = []
    for a in range(areas):
        views = {}
        for i, cell in enumerate(cells):
            judged = cell.quadrant != "samenstelling"
            classes = palette.JUDGED_CLASSES if judged else palette.COMPOSITION_CLASSES
            klass = classes[(i + a) % len(classes)]
            hidden = (i + a) % suppressed_every == 0 and cell.level == "indicator"
            summary = node_summary(cell.code, judged=judged, klass=klass, index=90.0 + (i + a) % 30,
                                   suppressed=hidden, reason="minder dan 50 respondenten")
            views[cell.key] = NodeView(cell.key, cell.code, judged, klass, 90.0 + (i + a) % 30,
                                       hidden, "", summary)
        out.append((cells, views))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--areas", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3, help="the median of this many runs")
    parser.add_argument("--suppressed-every", type=int, default=17,
                        help="every Nth indicator cell is suppressed (drawn hatched)")
    args = parser.parse_args()
    from basismonitor.site.geometry import hatch_stripes
    from basismonitor.site.raster import svg_to_png
    from basismonitor.site.svg import compass_svg

    labels = {"samenstelling": "Samenstelling", "fysiek": "Fysieke omgeving",
              "leefbaarheid": "Leefbaarheid en veiligheid", "sociaal": "Sociale omgeving"}
    charts = compasses(args.areas, args.suppressed_every)
    stripes = hatch_stripes(charts[0][0])  # once per build, as the site does
    hatched = sum(v.fill.hatched for v in charts[0][1].values())
    old = old_raster()
    raster = old.RingRaster(charts[0][0])  # made once per build, as the old site did
    heading = ("Statuskompas Wijk", "WK000100 · editie 2024 · index: stad = 100")

    def resvg(cells, views):
        svg = compass_svg(cells, views, labels, prefix="status", title="t", desc="d",
                          standalone=True, heading=heading)
        return svg_to_png(svg)

    def shapes(cells, views):
        svg = compass_svg(cells, views, labels, prefix="status", title="t", desc="d",
                          standalone=True, heading=heading, stripes=stripes)
        return svg_to_png(svg)

    def bitmap(cells, views):
        return old.compass_png(raster, views, labels, heading=heading)

    runs: dict[str, list[tuple[float, float, float]]] = {}
    for _ in range(args.runs):  # the two alternate within a run: the same load for both
        for name, render in (("bitmap (old)", bitmap), ("resvg (new)", resvg),
                             ("resvg, hatch as shapes", shapes)):
            render(*charts[0])  # warm up
            cpu, wall = time.process_time(), time.perf_counter()
            size = 0
            for cells, views in charts:
                size += len(render(cells, views))
            runs.setdefault(name, []).append(((time.process_time() - cpu) / len(charts),
                                              (time.perf_counter() - wall) / len(charts),
                                              size / len(charts)))
    results = {name: tuple(statistics.median(r[i] for r in rs) for i in range(3))
               for name, rs in runs.items()}
    ratios = [n[0] / b[0] for n, b in zip(runs["resvg (new)"], runs["bitmap (old)"], strict=True)]
    shape_ratios = [n[0] / b[0] for n, b in zip(runs["resvg, hatch as shapes"],
                                                runs["resvg (new)"], strict=True)]
    print(f"{args.areas} compasses of {len(charts[0][0])} cells ({hatched} hatched in the "
          f"first), 900 px wide, median of "
          f"{args.runs} runs; "
          f"{platform.processor() or platform.machine()}, python {platform.python_version()}")
    for name, (cpu, wall, size) in results.items():
        print(f"  {name:22s} {cpu * 1000:7.1f} ms CPU  {wall * 1000:7.1f} ms wall  "
              f"{size / 1024:6.1f} KiB per PNG")
    print("  resvg / bitmap CPU per run: " + ", ".join(f"{r:.2f}x" for r in ratios)
          + f"; median {statistics.median(ratios):.2f}x")
    print("  hatch as shapes / hatch pattern CPU per run: "
          + ", ".join(f"{r:.2f}x" for r in shape_ratios)
          + f"; median {statistics.median(shape_ratios):.2f}x")


if __name__ == "__main__":
    main()
