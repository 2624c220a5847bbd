"""Run dbt in this process (dbt's programmatic runner): one writer on the warehouse at a time."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from basismonitor.config import DBT_PROJECT_DIR


class DbtFailed(RuntimeError):
    """dbt reported failed models or tests; the message lists them."""


def run_dbt(command: str, warehouse: Path, *, args: Sequence[str] = (), vars: dict | None = None) -> list[dict]:
    """Run `dbt <command>` on the warehouse file; return the node results; raise DbtFailed on errors."""
    from dbt.cli.main import dbtRunner

    warehouse = Path(warehouse).resolve()
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    os.environ["BASISMONITOR_WAREHOUSE"] = str(warehouse)
    cli_args = [
        command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--log-path",
        str(DBT_PROJECT_DIR / "target" / "logs"),
        *args,
    ]
    if vars:
        cli_args += ["--vars", json.dumps(vars)]
    try:
        result = dbtRunner().invoke(cli_args)
    finally:
        _release_warehouse()
    nodes = []
    if result.result is not None and hasattr(result.result, "results"):
        for node_result in result.result.results:
            nodes.append(
                {
                    "node": node_result.node.unique_id,
                    "status": str(node_result.status),
                    "message": node_result.message,
                    "seconds": node_result.execution_time,
                }
            )
    if not result.success:
        failed = [n for n in nodes if n["status"] in ("error", "fail", "runtime error")]
        detail = "\n".join(f"  {n['node']}: {n['status']}: {n['message']}" for n in failed)
        if result.exception is not None:
            detail += f"\n  {result.exception}"
        raise DbtFailed(f"dbt {command} failed on {warehouse}:\n{detail}".rstrip())
    return nodes


def _release_warehouse() -> None:
    """Close the DuckDB handle dbt-duckdb keeps for the process after a run.

    dbt-duckdb caches one read-write connection per process (DuckDBConnectionManager._ENV). In a
    long-lived process (an Airflow task runner, `airflow dags test`, the tests) that handle would
    stop the next stage from opening the file read-only ("different configuration") and would keep
    the single-writer lock. There is no public API for this; the class attribute is dbt-duckdb's.
    """
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager
    except ImportError:  # pragma: no cover
        return
    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
    DuckDBConnectionManager.close_all_connections()
