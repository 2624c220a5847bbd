"""Run the hand-written marts script (marts.sql) on a warehouse after ingest and the dbt build.

    python benchmarks/handwritten/run_marts.py WAREHOUSE [--edition 2024] [--base-period 2016]
                                               [--per-statement]

Fills in the dbt project's vars (dbt_project.yml; --edition / --base-period override them as
`basismonitor build` does) and writes hand.fct_indicator_value, hand.mart_compass_status and
hand.mart_compass_development. The script reads raw.*, catalogue.* and, as its one intermediate of
the dbt build, intermediate.int_survey_estimates (see marts.sql).
"""

from __future__ import annotations

import argparse
import re
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


def render(edition: int | None = None, base_period: int | None = None) -> str:
    values = dbt_vars(edition=edition, base_period=base_period)
    if values.get("reference") != "current":
        raise NotImplementedError("marts.sql implements reference: current only (the default)")
    return string.Template(SCRIPT.read_text(encoding="utf-8")).substitute(values)


def run(warehouse: Path, *, edition: int | None = None, base_period: int | None = None,
        threads: int | None = None) -> float:
    """Run the script in its own connection; returns its wall time in seconds (connect included)."""
    sql = render(edition, base_period)
    start = time.perf_counter()
    con = _connect(warehouse, threads)
    try:
        con.execute(sql)
    finally:
        con.close()
    return time.perf_counter() - start


def _connect(warehouse: Path, threads: int | None = None):
    """A connection with the platform's DuckDB config, as the dbt profile and the pipeline open."""
    import duckdb

    from basismonitor.config import duckdb_config

    config = duckdb_config()
    if threads:
        config["threads"] = str(threads)
    return duckdb.connect(str(warehouse), config=config)


def statements(sql: str) -> list[tuple[str, str]]:
    """The script's statements in order, each with a short name (the table or macro it creates).

    marts.sql ends every statement with `;` at the end of a line and has no `;` inside one.
    """
    out = []
    for text in re.split(r";[ \t]*\n", sql):
        code = re.sub(r"--[^\n]*", "", text).strip()
        if not code:
            continue
        created = re.search(r"create\s+or\s+replace\s+(?:temp\s+)?(?:table|macro)\s+([\w.]+)", code, re.I)
        out.append((created.group(1) if created else " ".join(code.split())[:40], text))
    return out


def run_per_statement(warehouse: Path, *, edition: int | None = None,
                      base_period: int | None = None) -> list[tuple[str, float]]:
    """Run the script one statement at a time in one connection (the same work as run());
    returns each statement's wall time, then ("connect", ...) and ("close", ...)."""
    parts = statements(render(edition, base_period))
    start = time.perf_counter()
    con = _connect(warehouse)
    times = [("connect", time.perf_counter() - start)]
    try:
        for name, text in parts:
            start = time.perf_counter()
            con.execute(text)
            times.append((name, time.perf_counter() - start))
    finally:
        start = time.perf_counter()
        con.close()
        times.append(("close", time.perf_counter() - start))
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--edition", "--current-period", type=int)
    parser.add_argument("--base-period", type=int)
    parser.add_argument("--per-statement", action="store_true",
                        help="run and time the statements one by one (where the time goes)")
    args = parser.parse_args(argv)
    if args.per_statement:
        times = run_per_statement(args.warehouse, edition=args.edition,
                                  base_period=args.base_period)
        for name, seconds in times:
            print(f"{seconds:8.2f}s  {name}")
        print(f"{sum(t for _, t in times):8.2f}s  hand-written marts, statement by statement")
        return 0
    seconds = run(args.warehouse, edition=args.edition, base_period=args.base_period)
    print(f"hand-written marts: {seconds:.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
