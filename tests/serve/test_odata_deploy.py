"""The compose service `odata` runs the real `basismonitor serve` on the exports volume,
read-only, bound to localhost unless told otherwise, with a health check the app answers."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _service() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["odata"]


def test_compose_service_runs_the_serve_command():
    from basismonitor.cli import build_parser

    command = _service()["command"]
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    assert argv[0] == "basismonitor" and argv[1] == "serve"
    args = build_parser().parse_args(argv[1:])
    assert args.func.__module__ == "basismonitor.serve.cli"
    assert args.exports == "/data/exports" and args.host == "0.0.0.0"
    port = args.port
    assert _service()["ports"] == [f"${{ODATA_BIND_ADDRESS:-127.0.0.1}}:${{ODATA_PORT:-8081}}:{port}"]
    assert f"localhost:{port}/health" in " ".join(_service()["healthcheck"]["test"])


def test_compose_service_mounts_exports_read_only_and_not_the_warehouse():
    volumes = _service()["volumes"]
    assert volumes == ["exports:/data/exports:ro"]
    assert "BASISMONITOR_PSEUDONYM_KEY" not in (_service().get("environment") or {})


def test_env_example_documents_the_port():
    text = (ROOT / "deploy" / ".env.example").read_text()
    assert "ODATA_PORT=8081" in text and "ODATA_BIND_ADDRESS=127.0.0.1" in text


def test_make_serve_target():
    makefile = (ROOT / "Makefile").read_text()
    assert "\nserve: $(STAMP)\n\t$(BIN)/basismonitor serve --port $(ODATA_PORT)\n" in makefile
