"""Shared bits of the benchmarks: timing, peak memory and the machine description."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]


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


def module_at(commit: str, path: str) -> ModuleType:
    """The module at `path` (relative to the repository) as it was at `commit`, read from git and
    imported under the name ``old_<file stem>`` (registered in sys.modules: dataclasses look their
    module up). The baseline a benchmark compares the current code with."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{commit}:{path}"],
                            check=True, capture_output=True, text=True).stdout
    name = f"old_{Path(path).stem}"
    file = Path("/tmp") / f"bm_{name}_{commit}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load() -> str:
    """The machine's load averages (1, 5, 15 min): other work running beside a benchmark."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, in bytes (0 once it has exited).

    Sums each process's RSS (psutil when installed, else /proc/<pid>/status), so pages shared
    between a parent and a forked child count twice: an upper bound, as a memory limit sees it.
    """
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is in the locked environment
        return _proc_tree_rss(pid)
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def tree_pss_bytes(pid: int) -> int:
    """Proportional set size of a process and its descendants, in bytes: each page shared by n
    processes counts 1/n in each (Linux /proc/<pid>/smaps_rollup), so forked workers' shared
    copy-on-write pages count once; what the tree really holds. 0 where smaps_rollup is absent."""
    total = 0
    for p in _tree_pids(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except OSError:
            continue
    return total


def _tree_pids(pid: int) -> list[int]:
    """The process and its descendants (psutil; [] once it has exited)."""
    try:
        import psutil

        proc = psutil.Process(pid)
        return [pid, *(c.pid for c in proc.children(recursive=True))]
    except Exception:  # noqa: BLE001 - psutil missing or the process gone
        return []


def _proc_tree_rss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


class MemorySampler:
    """Peak RSS of a process tree, sampled by a background thread.

        with MemorySampler() as mem:          # this process and its children
            work()
        mem.peak_mib

    `pid` defaults to this process; `interval` is the sampling period in seconds (a spike shorter
    than that can be missed, so the figure is a lower bound on the true peak of the tree, and an
    upper bound on what is really private: see tree_rss_bytes). `mark()` returns the peak since the
    previous mark and starts a new window, for per-stage peaks within one process.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.1):
        import threading

        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak_bytes = 0
        self.peak_pss_bytes = 0
        self._window = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def _sample(self) -> None:
        rss = tree_rss_bytes(self.pid)
        self.peak_bytes = max(self.peak_bytes, rss)
        self.peak_pss_bytes = max(self.peak_pss_bytes, tree_pss_bytes(self.pid))
        self._window = max(self._window, rss)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def mark(self) -> float:
        """Peak in MiB since the last mark (or start); starts the next window."""
        self._sample()
        peak, self._window = self._window, 0
        return peak / 2**20

    @property
    def peak_mib(self) -> float:
        return self.peak_bytes / 2**20

    @property
    def peak_pss_mib(self) -> float:
        """Peak proportional set size (shared pages counted once over the tree)."""
        return self.peak_pss_bytes / 2**20

    def __enter__(self) -> MemorySampler:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_sampled(cmd: list[str], *, env: dict | None = None, interval: float = 0.1,
                log=None, cwd=None) -> tuple[int, float, float]:
    """Run a command in a child process, sampling the RSS of its process tree.

    Returns (exit code, wall seconds, peak MiB). Output goes to `log` (a file object) or is
    inherited.
    """
    import subprocess

    start = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT if log else None,
                             cwd=cwd)
    sampler = MemorySampler(child.pid, interval).start()
    try:
        code = child.wait()
    finally:
        sampler.stop()
    return code, time.perf_counter() - start, sampler.peak_mib
