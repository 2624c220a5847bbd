"""Time the quality gate against the refresh it belongs to, and at national scale.

    python benchmarks/bench_validation.py                  # demo refresh, then the gate
    python benchmarks/bench_validation.py --national       # ... and a national-scale gate
    python benchmarks/bench_validation.py --warehouse W --national   # skip the refresh
    python benchmarks/bench_validation.py --national-warehouse N     # the gate on a national build
    --runs N (default 3): refreshes and national gates, medians reported

Demo: generates the demo inbox (or uses --inbox), runs ingest -> build -> validate -> publish in
this process, exactly as `basismonitor refresh` does, timing each stage; then runs the gate twice
more (warm: Great Expectations already imported). It prints every stage's wall time and the gate
as a share of the refresh (the target: at most 15%).

National: builds a national-scale warehouse from a built one by replicating its compass areas
(14,500 areas: fct_indicator_value ~17 M rows, both compass marts ~1.1 M rows), its respondents
(x19: ~150,000 a wave), registry and population rows (x100) and activity registrations (x20),
keeping every reconciliation and key intact; then times the gate on 2 DuckDB threads (the target:
at most 60 s). --national-warehouse times the gate on a national warehouse you built yourself.

Timings are machine- and load-dependent: the ratios printed are measured in the same run.
Where Python is told not to write bytecode (PYTHONDONTWRITEBYTECODE, as in some sandboxes), every
process compiles dbt's and Great Expectations' sources again (GX alone: ~10 s). A deployed
install keeps its bytecode, so this script caches it (in BYTECODE_CACHE, outside the venv) and
warms the cache first; --no-bytecode-cache measures without.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BYTECODE_CACHE = Path(tempfile.gettempdir()) / "basismonitor-bench-pycache"
if sys.flags.dont_write_bytecode and "--no-bytecode-cache" not in sys.argv:
    # before anything heavy is imported: compiled modules go to (and come from) the cache
    sys.dont_write_bytecode = False
    sys.pycache_prefix = str(BYTECODE_CACHE)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = str(BYTECODE_CACHE)

import duckdb  # noqa: E402

EDITION = 2024
BASE_PERIOD = 2016
GATE_SHARE_TARGET = 0.15
NATIONAL_SECONDS_TARGET = 60.0
NATIONAL_AREAS = 14_500


def quiet(_: str) -> None:
    pass


def gx_import_seconds() -> float:
    """Importing Great Expectations in a fresh interpreter (part of a cold gate); the first
    import also warms the bytecode cache for dbt and GX."""
    warm = "import dbt.cli.main, great_expectations, basismonitor.quality.validation"
    subprocess.run([sys.executable, "-c", warm], capture_output=True, check=True)
    code = "import time; t = time.perf_counter(); import great_expectations; " \
           "print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def run_refresh(workdir: Path, inbox: Path | None) -> tuple[dict[str, float], Path]:
    from basismonitor.demo import generate
    from basismonitor.orchestration import pipeline

    if inbox is None:
        inbox = workdir / "inbox"
        started = time.perf_counter()
        generate(inbox)
        print(f"demo inbox generated in {time.perf_counter() - started:.1f}s (not timed below)")
    warehouse = workdir / "warehouse" / "basismonitor.duckdb"
    exports, docs = workdir / "exports", workdir / "validation"
    stages: dict[str, float] = {}

    def timed(name, fn, *args, **kwargs):
        started = time.perf_counter()
        out = fn(*args, **kwargs)
        stages[name] = time.perf_counter() - started
        print(f"  {name:<10} {stages[name]:7.1f}s")
        return out

    print("refresh (in this process, as `basismonitor refresh`):")
    timed("ingest", pipeline.ingest, warehouse, inbox, progress=quiet)
    timed("build", pipeline.build, warehouse, EDITION, base_period=BASE_PERIOD, progress=quiet)
    gate = timed("validate", pipeline.validate, warehouse, EDITION, docs_root=docs,
                 progress=quiet)
    timed("publish", pipeline.publish, warehouse, exports, EDITION, docs_dir=gate.docs_dir,
          progress=quiet)
    return stages, warehouse


def time_gate(warehouse: Path, docs: Path, *, threads: int | None = None, label: str) -> float:
    from basismonitor.quality.validation import validate_warehouse

    started = time.perf_counter()
    result = validate_warehouse(warehouse, EDITION, docs_root=docs, progress=quiet,
                                threads=threads)
    seconds = time.perf_counter() - started
    rows = sum(result.tables.values())
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in result.seconds.items() if k != "total")
    print(f"  {label}: {seconds:.1f}s ({result.expectations_run} expectations on "
          f"{len(result.tables)} tables, {rows:,} rows; {phases}); "
          f"{'passed' if result.passed else 'FAILED'}, {len(result.warnings)} warning(s)")
    for failure in result.critical:
        print(f"    {failure}")
    return seconds


# --- a national-scale warehouse from a built one ------------------------------------------------

def _replicate(con, table: str, factor: int, *, where: str = "true",
               renames: dict[str, str] | None = None) -> None:
    """Copy wh.<table> into this database, rows matching `where` `factor` times (r = 0..factor-1:
    r = 0 is the original row), with `renames` (column -> SQL using r and the column)."""
    renames = renames or {}
    columns = [r[0] for r in con.sql(f"describe wh.{table}").fetchall()]
    select = ", ".join(f"{renames[c]} as \"{c}\"" if c in renames else f"\"{c}\"" for c in columns)
    plain = ", ".join(f"\"{c}\"" for c in columns)
    con.execute(f"create schema if not exists {table.split('.')[0]}")
    con.execute(f"""create table {table} as
        select {select} from wh.{table}, range({factor}) as rep(r) where coalesce(({where}), false)
        union all select {plain} from wh.{table} where not coalesce(({where}), false)""")


def build_national(source: Path, target: Path) -> dict[str, int]:
    with duckdb.connect(str(source), read_only=True) as con:
        compass = con.sql("select count(*) from marts.dim_area "
                          "where is_current_edition and is_compass_area").fetchone()[0]
    k = -(-NATIONAL_AREAS // compass)
    area = "case when r = 0 then area_code else area_code || '-' || r end"
    row = "_row_number + r * 10000000"
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    con.execute("set enable_progress_bar = false")
    con.execute(f"attach '{source}' as wh (read_only)")
    compass_area = ("area_code in (select area_code from wh.marts.dim_area "
                    "where is_compass_area)")
    # marts and intermediate tables: every compass area k times
    _replicate(con, "marts.dim_area", k, where="is_compass_area", renames={"area_code": area})
    for table in ("marts.dim_indicator", "marts.dim_period"):
        _replicate(con, table, 1)
    for table in ("marts.fct_indicator_value", "intermediate.int_indicator_values_harmonised",
                  "marts.mart_compass_status", "marts.mart_compass_development",
                  "marts.mart_area_profile", "intermediate.int_weighting_report"):
        _replicate(con, table, k, where=compass_area, renames={"area_code": area})
    # landing tables: more rows per load, the same loads (raw.loads scaled to match)
    factors = {"raw.survey_respondents": 19, "raw.registry_values": 100, "raw.population": 100,
               "raw.police_crimes": 100, "raw.activity_registrations": 20, "raw.areas": 1,
               "raw.crosswalk": 1, "raw.survey_codebook": 1}
    renames = {
        "raw.survey_respondents": {"respondent_key": "case when r = 0 then respondent_key "
                                                     "else sha256(respondent_key || r) end"},
        "raw.registry_values": {"area_code": "area_code || '-' || r"},
        "raw.population": {"area_code": "area_code || '-' || r"},
        "raw.police_crimes": {"area_code": "area_code || '-' || r"},
        "raw.activity_registrations": {"registration_id": "registration_id || '-' || r"},
    }
    for table, factor in factors.items():
        _replicate(con, table, factor, renames={**renames.get(table, {}), "_row_number": row})
    for table in ("raw.quarantine", "raw.survey_variables", "raw.survey_value_codes"):
        _replicate(con, table, 1)
    _replicate(con, "raw.loads", 1)
    for table, factor in factors.items():
        if factor > 1:
            con.execute(f"""update raw.loads set rows_read = rows_read * {factor},
                rows_landed = rows_landed * {factor}, rows_quarantined = rows_quarantined * {factor}
                where load_id in (select distinct _load_id from {table})""")
    con.execute("detach wh")
    sizes = {t: con.sql(f"select count(*) from {t}").fetchone()[0] for t in (
        "marts.fct_indicator_value", "marts.mart_compass_status",
        "intermediate.int_indicator_values_harmonised", "raw.registry_values",
        "raw.activity_registrations", "raw.survey_respondents")}
    con.close()
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inbox", type=Path, help="use this inbox instead of generating the demo")
    parser.add_argument("--warehouse", type=Path,
                        help="a built warehouse: skip the refresh (no ratios then)")
    parser.add_argument("--national", action="store_true", help="also time a national-scale gate")
    parser.add_argument("--national-warehouse", type=Path,
                        help="time the gate on this national warehouse instead of building one")
    parser.add_argument("--workdir", type=Path, help="keep the files here (default: a temp dir)")
    parser.add_argument("--runs", type=int, default=3,
                        help="refreshes and national gates to take the median of (default 3)")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="do not cache bytecode where Python is told not to write it")
    args = parser.parse_args()
    if sys.pycache_prefix == str(BYTECODE_CACHE):
        print(f"PYTHONDONTWRITEBYTECODE is set: caching bytecode in {BYTECODE_CACHE} "
              "(as a deployed install would keep it; --no-bytecode-cache to measure without)")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-validation-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print(f"work dir {workdir}")
    print(f"importing great_expectations in a fresh interpreter: {gx_import_seconds():.1f}s "
          "(part of a cold gate)")
    try:
        if args.warehouse:
            warehouse = workdir / "warehouse.duckdb"
            shutil.copy(args.warehouse, warehouse)
            time_gate(warehouse, workdir / "validation", label="gate (cold)")
        else:
            shares = []
            for run in range(1, args.runs + 1):
                print(f"\n--- refresh {run} of {args.runs}")
                stages, warehouse = run_refresh(workdir / f"run{run}", args.inbox)
                total = sum(stages.values())
                gate = stages["validate"]
                shares.append((gate / total, gate, total))
                print(f"refresh {total:.1f}s = " + ", ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
                print(f"gate in the refresh (cold, imports GX): {gate:.1f}s = {gate / total:.1%}")
            warm = [time_gate(warehouse, workdir / "validation", label=f"gate (warm, run {i})")
                    for i in (1, 2)]
            share, gate, total = sorted(shares)[len(shares) // 2]
            print(f"\ngate share of the refresh, median of {len(shares)}: {share:.1%} "
                  f"(gate {gate:.1f}s of {total:.1f}s; all: "
                  + ", ".join(f"{s:.1%}" for s, _, _ in shares)
                  + f") target <= {GATE_SHARE_TARGET:.0%}: "
                  f"{'OK' if share <= GATE_SHARE_TARGET else 'OVER'}")
            print(f"gate warm (best of 2): {min(warm):.1f}s = {min(warm) / total:.1%} of that refresh")
        if args.national or args.national_warehouse:
            national = args.national_warehouse
            if national is None:
                national = workdir / "national.duckdb"
                started = time.perf_counter()
                sizes = build_national(warehouse, national)
                print(f"\nnational-scale warehouse built in {time.perf_counter() - started:.0f}s: "
                      + ", ".join(f"{t} {n:,}" for t, n in sizes.items()))
            runs = [time_gate(national, workdir / f"validation-national-{i}", threads=2,
                              label=f"national gate {i} of {args.runs} (2 DuckDB threads)")
                    for i in range(1, args.runs + 1)]
            seconds = sorted(runs)[len(runs) // 2]
            print(f"national gate median {seconds:.1f}s (runs "
                  + ", ".join(f"{r:.1f}s" for r in runs)
                  + f"; target <= {NATIONAL_SECONDS_TARGET:.0f}s): "
                  f"{'OK' if seconds <= NATIONAL_SECONDS_TARGET else 'OVER'}")
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
