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
    """DuckDB's spatial extension as shipped by the package duckdb-extension-spatial (extensions
    cannot be downloaded at run time here: it is loaded from this file)."""
    import importlib.util

    import duckdb

    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the package duckdb-extension-spatial is not installed (pyproject.toml)")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "extensions" / f"v{duckdb.__version__}" / "spatial.duckdb_extension"
    if not path.exists():
        found = sorted(root.glob("extensions/*/spatial.duckdb_extension"))
        raise RuntimeError(f"no spatial extension for DuckDB {duckdb.__version__} in {root} "
                           f"(found: {', '.join(str(f) for f in found) or 'none'}): pin "
                           f"duckdb-extension-spatial to the DuckDB version")
    return path


def load_spatial(con) -> None:
    """LOAD the spatial extension into a DuckDB connection (ST_Read, ST_Transform, ...)."""
    con.execute(f"LOAD '{spatial_extension_path()}'")


# dbt loads the extension in its on-run-start hook (macro load_spatial) from this variable.
os.environ.setdefault("BASISMONITOR_SPATIAL_EXTENSION", str(spatial_extension_path()))


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
