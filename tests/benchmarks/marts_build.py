"""A tiny generated municipality ingested and built by dbt, for the marts benchmark's checks."""

from __future__ import annotations

from pathlib import Path

EDITION = 2024


def build_marts_warehouse(root: Path, *, wijken: int, buurten_per_wijk: float,
                          respondents_per_wave: int, dbt_vars: dict | None = None) -> Path:
    """ingest -> dbt seed -> dbt run (every model, edition EDITION plus dbt_vars) on a
    generated municipality of `wijken` wijken, 2 survey waves, 2016-2024 (seed 11)."""
    from basismonitor.demo import DemoScale, generate
    from basismonitor.orchestration import pipeline
    from basismonitor.transform.dbt import run_dbt

    scale = DemoScale(wijken=wijken, buurten_per_wijk=buurten_per_wijk,
                      respondents_per_wave=respondents_per_wave, survey_items=30,
                      waves=(2016, 2024), years=tuple(range(2016, 2025)), activity_scale=0.2)
    generate(root / "inbox", scale=scale, seed=11)
    warehouse = root / "warehouse.duckdb"
    pipeline.ingest(warehouse, root / "inbox", progress=lambda _: None)
    run_dbt("seed", warehouse)
    run_dbt("run", warehouse, vars={"edition": EDITION, **(dbt_vars or {})})
    return warehouse
