"""A tiny generated municipality, ingested and built by dbt once, for the marts benchmark's checks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
sys.path.insert(0, str(REPO / "benchmarks" / "handwritten"))

EDITION = 2024


@pytest.fixture(scope="session")
def marts_warehouse(tmp_path_factory) -> Path:
    """ingest -> dbt seed -> dbt run (every model) on 3 wijken, 2 survey waves, 2016-2024."""
    from basismonitor import pipeline
    from basismonitor.dbt import run_dbt
    from basismonitor.demo import DemoScale, generate

    root = tmp_path_factory.mktemp("bench-marts")
    scale = DemoScale(wijken=3, buurten_per_wijk=3.0, respondents_per_wave=600, survey_items=30,
                      waves=(2016, 2024), years=tuple(range(2016, 2025)), activity_scale=0.2)
    generate(root / "inbox", scale=scale, seed=11)
    warehouse = root / "warehouse.duckdb"
    pipeline.ingest(warehouse, root / "inbox", progress=lambda _: None)
    run_dbt("seed", warehouse)
    run_dbt("run", warehouse, vars={"edition": EDITION})
    return warehouse
