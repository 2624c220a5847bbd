"""Run the hand-written marts script (marts.sql) on a warehouse after ingest and the dbt build.

    python benchmarks/handwritten/run_marts.py WAREHOUSE [--current-period 2024] [--base-period 2016]

Fills in the dbt project's vars (dbt_project.yml; --current-period / --base-period override them as
`basismonitor build` does) and writes hand.fct_indicator_value, hand.mart_compass_status and
hand.mart_compass_development. The script reads raw.*, catalogue.* and, as its one intermediate of
the dbt build, intermediate.int_survey_estimates (see marts.sql).
"""

from __future__ import annotations

import argparse
import string
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "marts.sql"
DBT_PROJECT = HERE.parents[1] / "dbt_project" / "dbt_project.yml"


def dbt_vars(**overrides) -> dict:
    import yaml

    values = dict(yaml.safe_load(DBT_PROJECT.read_text(encoding="utf-8"))["vars"])
    values.update({k: v for k, v in overrides.items() if v is not None})
    return values


def render(current_period: int | None = None, base_period: int | None = None) -> str:
    values = dbt_vars(current_period=current_period, base_period=base_period)
    if values.get("reference") != "current":
        raise NotImplementedError("marts.sql implements reference: current only (the default)")
    return string.Template(SCRIPT.read_text(encoding="utf-8")).substitute(values)


def run(warehouse: Path, *, current_period: int | None = None, base_period: int | None = None,
        threads: int | None = None) -> float:
    """Run the script in its own connection; returns its wall time in seconds (connect included)."""
    import duckdb

    from basismonitor.config import duckdb_config

    sql = render(current_period, base_period)
    start = time.perf_counter()
    config = duckdb_config()
    if threads:
        config["threads"] = str(threads)
    con = duckdb.connect(str(warehouse), config=config)
    try:
        con.execute(sql)
    finally:
        con.close()
    return time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--current-period", type=int)
    parser.add_argument("--base-period", type=int)
    args = parser.parse_args(argv)
    seconds = run(args.warehouse, current_period=args.current_period, base_period=args.base_period)
    print(f"hand-written marts: {seconds:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
