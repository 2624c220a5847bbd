"""Shared bits of the benchmarks: timing, peak memory and the machine description."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import time
from collections.abc import Callable


def machine() -> str:
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{platform.machine()}, {os.cpu_count()} cores, {mem_gib:.0f} GiB, Python {platform.python_version()}"


def timed(runs: int, fn: Callable[[], object]) -> tuple[float, list[float], object]:
    """Median wall time over `runs` runs (and all of them), with the last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
