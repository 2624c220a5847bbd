"""Starting and stopping a live OData server on loopback (tests/serve)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests


@dataclass
class Served:
    url: str                 # http://127.0.0.1:<port>/odata/
    exports: Path
    server: object
    thread: threading.Thread

    def get(self, path: str = "", **kwargs) -> requests.Response:
        return requests.get(self.url + path, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_exports(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True,
                    ignore=shutil.ignore_patterns(".publish.lock", ".staging-*"))
    return target


def start_server(exports: Path, **kwargs) -> Served:
    import uvicorn

    from basismonitor.serve.app import create_app

    port = free_port()
    app = create_app(exports, poll=kwargs.pop("poll", 0.2), **kwargs)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, limit_concurrency=200))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}/odata/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                return Served(url, exports, server, thread)
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.should_exit = True
    raise RuntimeError("the OData server did not start within 60 s")


def stop_server(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(timeout=30)
