"""A bounded load generator for the OData feed (the test suite's short run and
benchmarks/bench_odata.py's full one): N client threads, each with its own keep-alive session,
read filtered pages for a fixed time, on loopback only."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    rows: int = 0
    bytes: int = 0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms) + len(self.failures)

    def percentile(self, p: float) -> float:
        data = sorted(self.latencies_ms)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, int(round(p / 100 * (len(data) - 1))))]

    def summary(self) -> dict:
        return {"clients": self.clients, "seconds": round(self.seconds, 1),
                "requests": self.requests, "failed": len(self.failures),
                "requests_per_s": round(self.requests / self.seconds, 1) if self.seconds else 0,
                "rows_per_s": round(self.rows / self.seconds) if self.seconds else 0,
                "p50_ms": round(self.percentile(50), 1), "p95_ms": round(self.percentile(95), 1),
                "p99_ms": round(self.percentile(99), 1), "max_ms": round(self.percentile(100), 1),
                "first_failures": self.failures[:5]}


def run_load(url: str, queries: Sequence[dict], *, clients: int, seconds: float,
             during: Callable[[], None] | None = None, max_requests: int = 1_000_000,
             expect_rows: Callable[[dict, int], bool] | None = None, seed: int = 1,
             row_marker: bytes = b'{"area_edition":',
             headers: dict | None = None, max_during: float = 300.0,
             after_during: float = 2.0) -> LoadResult:
    """`clients` threads GET `url` with parameters drawn from `queries` for `seconds`; `during`
    runs in its own thread after a quarter of the time (e.g. a publish), and the load goes on until
    it is done (at most `max_during` s more) and `after_during` s after that. Rows are counted by
    `row_marker`, the start of each row's JSON (its first property), without parsing the page
    (the client shares the machine with the server). Loopback only."""
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"load tests run on loopback only, not {host}")
    result = LoadResult(clients, 0.0)
    lock = threading.Lock()
    stop = threading.Event()
    count = [0]

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        session = requests.Session()
        session.headers.update({"Accept": "application/json", "OData-MaxVersion": "4.0",
                                **(headers or {})})
        while not stop.is_set():
            with lock:
                if count[0] >= max_requests:
                    return
                count[0] += 1
            params = rng.choice(queries)
            started = time.perf_counter()
            try:
                response = session.get(url, params=params, timeout=60)
                body = response.content
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200 or not body.startswith(b'{"@odata.context"'):
                    raise RuntimeError(f"HTTP {response.status_code}: {body[:200]!r}")
                rows = body.count(row_marker)
                if expect_rows is not None and not expect_rows(params, rows):
                    raise RuntimeError(f"unexpected row count {rows} for {params}")
                with lock:
                    result.latencies_ms.append(elapsed)
                    result.rows += rows
                    result.bytes += len(body)
            except Exception as error:  # every failure is counted and reported
                with lock:
                    result.failures.append(f"{params}: {error}")
        session.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    side = None
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if during is not None:
        def delayed():
            if not stop.wait(seconds / 4):
                during()
        side = threading.Thread(target=delayed, daemon=True)
        side.start()
    stop.wait(seconds)
    if side is not None and side.is_alive():
        # the load goes on until `during` is done (bounded), and a little after it
        side.join(timeout=max_during)
        stop.wait(after_during)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    result.seconds = time.perf_counter() - started
    if side is not None:
        side.join(timeout=600)
    return result
