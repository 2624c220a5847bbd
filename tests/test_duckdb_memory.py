"""Every DuckDB connection the platform opens is capped (DuckDB's default is 80% of the machine)."""

from __future__ import annotations

import yaml
from basismonitor.ingestion.core import connect

from basismonitor.config import DBT_PROJECT_DIR, DEFAULT_DUCKDB_MEMORY_LIMIT, duckdb_config


def _limit(con) -> str:
    return con.execute("select current_setting('memory_limit')").fetchone()[0]


def test_ingestion_connections_take_the_configured_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("BASISMONITOR_DUCKDB_MEMORY_LIMIT", "1GB")
    with connect(tmp_path / "wh.duckdb") as con:
        assert _limit(con) == "953.6 MiB"  # 1 GB, in DuckDB's own unit
    monkeypatch.delenv("BASISMONITOR_DUCKDB_MEMORY_LIMIT")
    assert duckdb_config() == {"memory_limit": DEFAULT_DUCKDB_MEMORY_LIMIT}
    with connect(tmp_path / "wh.duckdb") as con:
        assert _limit(con) == "4.6 GiB"  # the default 5GB


def test_dbt_profile_caps_duckdb_with_the_same_variable_and_default():
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    limit = profile["basismonitor"]["outputs"]["warehouse"]["settings"]["memory_limit"]
    assert "BASISMONITOR_DUCKDB_MEMORY_LIMIT" in limit and f"'{DEFAULT_DUCKDB_MEMORY_LIMIT}'" in limit
