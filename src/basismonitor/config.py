"""Where things live. Every path has an embedded default and an environment override.

The defaults are relative to the project root, so `make run` on a fresh clone works without any
configuration; deployments set the BASISMONITOR_* variables (see docs/DEPLOYMENT.md).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"


# DuckDB takes 80% of the machine's memory by default (a national ingest was seen at 20 GB RSS).
# Every connection the platform opens caps it here, and spills to disk beyond (issue 9: a national
# refresh in at most 8 GiB). BASISMONITOR_DUCKDB_MEMORY_LIMIT overrides it (DuckDB's syntax: '6GB').
DEFAULT_DUCKDB_MEMORY_LIMIT = "5GB"


def duckdb_config() -> dict[str, str]:
    """The config of every DuckDB connection the platform opens (duckdb.connect(config=...))."""
    return {"memory_limit": os.environ.get("BASISMONITOR_DUCKDB_MEMORY_LIMIT")
            or DEFAULT_DUCKDB_MEMORY_LIMIT}


def spatial_extension_path() -> Path:
    """DuckDB's spatial extension as shipped by the installed package duckdb-extension-spatial
    (no download at run time: the deployment has no network to DuckDB's extension server)."""
    import duckdb
    import duckdb_extension_spatial

    return (Path(duckdb_extension_spatial.__file__).parent / "extensions" / f"v{duckdb.__version__}"
            / "spatial.duckdb_extension")


def load_spatial(con) -> None:
    """LOAD the spatial extension (ST_Read, ST_Transform, ...) into a DuckDB connection."""
    path = spatial_extension_path()
    if not path.is_file():
        raise RuntimeError(f"DuckDB's spatial extension is not installed at {path}: install "
                           "duckdb-extension-spatial with the same version as duckdb")
    con.execute("LOAD '" + str(path).replace("'", "''") + "'")


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    warehouse: Path
    exports: Path
    inbox: Path
    edition: int

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            warehouse=_path("BASISMONITOR_WAREHOUSE", PROJECT_ROOT / "warehouse" / "basismonitor.duckdb"),
            exports=_path("BASISMONITOR_EXPORTS", PROJECT_ROOT / "exports"),
            inbox=_path("BASISMONITOR_INBOX", PROJECT_ROOT / "inbox"),
            edition=int(os.environ.get("BASISMONITOR_EDITION", "2024")),
        )
