"""The site stage's cost on the first areas of a published edition: load, set-up, pages.

    .venv/bin/python benchmarks/bench_site_pages.py EDITION_DIR K1 K2 WORKERS

Loads the edition, sets up the SiteBuilder (with the per-area keys, as build() does), builds the
first K1 areas' pages in this process, then the next K2 in WORKERS forked processes (as
build() does), into a temporary folder under var/ that is removed afterwards. Prints one RESULT
line of JSON: seconds of each part, seconds per page (and, for the K1 pages, CPU seconds per page
and the part of them spent drawing the two PNGs), the process tree's peak RSS (summed) and
PSS (benchmarks/_common.MemorySampler, every 0.5 s), and the load average at the end. To time
another checkout's site code on the same data, put its src/ first on PYTHONPATH.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import MemorySampler  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    edition_dir = Path(sys.argv[1])
    k1, k2, workers = (int(a) for a in sys.argv[2:5])
    mem = MemorySampler(interval=0.5).start()
    t0 = time.perf_counter()
    from basismonitor.site import build as site_build
    from basismonitor.site.data import load_edition

    ed = load_edition(edition_dir)
    t1 = time.perf_counter()
    (REPO / "var").mkdir(exist_ok=True)
    out = Path(tempfile.mkdtemp(dir=REPO / "var", prefix=".site-bench-"))
    (out / "area").mkdir()
    try:
        builder = site_build.SiteBuilder(ed, edition_dir, out)
        areas = site_build.records(ed.areas)
        builder.area_keys(areas)
        t2 = time.perf_counter()
        setup_peak = mem.peak_bytes, mem.peak_pss_bytes
        # CPU of the K1 pages in this process, and the part of it that drawing the PNGs takes
        png_cpu = [0.0]
        drawn = site_build.svg_to_png

        def timed_png(svg, **kwargs):
            start = time.process_time()
            try:
                return drawn(svg, **kwargs)
            finally:
                png_cpu[0] += time.process_time() - start

        site_build.svg_to_png = timed_png
        cpu = time.process_time()
        try:
            builder.areas(areas[:k1])
        finally:
            site_build.svg_to_png = drawn
        cpu = time.process_time() - cpu
        t3 = time.perf_counter()
        if k2:
            builder._areas_in_processes(areas[k1:k1 + k2], workers, None)
        t4 = time.perf_counter()
    finally:
        mem.stop()
        shutil.rmtree(out, ignore_errors=True)
    print("RESULT " + json.dumps({
        "code": site_build.__file__, "areas_total": len(ed.areas),
        "load_s": round(t1 - t0, 1), "setup_s": round(t2 - t1, 1),
        "k1": k1, "one_process_s_per_page": round((t3 - t2) / max(k1, 1), 3),
        "one_process_cpu_s_per_page": round(cpu / max(k1, 1), 3),
        "one_process_png_cpu_s_per_page": round(png_cpu[0] / max(k1, 1), 3),
        "k2": k2, "workers": workers, "pool_wall_s": round(t4 - t3, 1),
        "pool_s_per_page": round((t4 - t3) / max(k2, 1), 3),
        "peak_rss_mib_setup": round(setup_peak[0] / 2**20),
        "peak_pss_mib_setup": round(setup_peak[1] / 2**20),
        "peak_rss_mib": round(mem.peak_bytes / 2**20),
        "peak_pss_mib": round(mem.peak_pss_bytes / 2**20),
        "loadavg": os.getloadavg()}), flush=True)


if __name__ == "__main__":
    main()
