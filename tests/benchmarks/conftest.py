"""A tiny generated municipality, ingested and built by dbt once, for the marts benchmark's checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "benchmarks" / "handwritten"))
sys.path.insert(0, str(Path(__file__).parent))
from marts_build import build_marts_warehouse  # noqa: E402


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory) -> Path:
    """ingest -> dbt seed -> dbt run (every model) on 3 wijken, 2 survey waves, 2016-2024."""
    return build_marts_warehouse(tmp_path_factory.mktemp("bench-marts"), wijken=3,
                                 buurten_per_wijk=3.0, respondents_per_wave=600)
