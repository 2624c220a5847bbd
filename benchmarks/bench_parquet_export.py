"""Parquet export with column descriptions (issue 19): pyarrow from DuckDB's Arrow stream against
DuckDB's own COPY TO (the baseline, which drops column comments), in the same run.

Synthetic data shaped like marts.fct_indicator_value at national size by default (17 M rows:
14,500 buurt-level areas x 40 indicators x 30 periods would be larger; the fact table at national
scale holds about 17 M rows), generated in DuckDB, so nothing national is built. Each method
writes the same ordered relation; both files are read back and compared.

    .venv/bin/python benchmarks/bench_parquet_export.py [--rows 17000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import load, machine, timed  # noqa: E402

from basismonitor.publish import exports as publish  # noqa: E402

TABLE = "marts.fct_indicator_value"


def build(con: duckdb.DuckDBPyConnection, rows: int) -> None:
    con.execute("create schema marts")
    con.execute(f"""
        create table {TABLE} as
        select 2019::integer as area_edition, 'GM' || lpad((i % 340)::varchar, 4, '0') as gemeente_code,
               'WK' || lpad((i // 1200)::varchar, 8, '0') as area_code, (i % 97 = 0) as is_city,
               (2010 + i % 15)::integer as period, 'ind_' || (i % 40)::varchar as indicator_code,
               round(random() * 100, 6) as value, round(random() * 50, 6) as numerator,
               round(random() * 500, 6) as denominator, (i % 300)::bigint as n_unweighted,
               round(random() * 900, 6) as n_weighted, round(random(), 6) as standard_error,
               round(random(), 6) as ci_low, round(random() + 1, 6) as ci_high,
               round(random() - 0.5, 6) as contrast_with_city, round(random(), 6) as contrast_se,
               (i % 3 = 0) as significant, (i % 11 = 0) as suppressed,
               case when i % 11 = 0 then 'n below 50' end as suppression_reason,
               'estimated from respondents' as city_value_source, (i % 5 = 0) as is_harmonised,
               'identity' as harmonisation_method,
               ['load-' || (i % 9)::varchar, 'load-' || (i % 4)::varchar] as load_ids,
               (i % 101 <> 0) as weighting_converged
        from range({rows}) t(i)
    """)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=17_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    docs = publish._mart_docs().get("fct_indicator_value")
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "w.duckdb"))
        build(con, args.rows)
        columns = publish._columns(con, TABLE)
        # the publisher's ordered, flattened relation, materialised once: both methods then time
        # the writing alone (the sort costs the same for both)
        con.execute(f"create table sorted as select * from {publish._ordered(TABLE, columns)}")
        relation = "(select * from sorted)"
        copy_path, arrow_path = Path(tmp) / "copy.parquet", Path(tmp) / "arrow.parquet"

        def duckdb_copy():
            con.execute(f"copy {relation} to '{copy_path}' (format parquet, compression zstd, "
                        f"row_group_size {publish.ROW_GROUP_SIZE})")

        def described():
            publish._write_parquet(con, relation, arrow_path, docs)

        base, base_all, _ = timed(args.runs, duckdb_copy)
        ours, ours_all, _ = timed(args.runs, described)
        same = con.execute(
            f"select count(*) from (select * from '{copy_path}' except all select * from '{arrow_path}')"
        ).fetchone()[0]
        sizes = copy_path.stat().st_size / 2**20, arrow_path.stat().st_size / 2**20
    print(f"machine: {machine()}; {load()}")
    print(f"rows: {args.rows:,}; runs: {args.runs}")
    print(f"DuckDB COPY TO (baseline):    median {base:.2f} s  {[round(t, 2) for t in base_all]}  "
          f"{sizes[0]:.1f} MiB")
    print(f"pyarrow with descriptions:    median {ours:.2f} s  {[round(t, 2) for t in ours_all]}  "
          f"{sizes[1]:.1f} MiB")
    print(f"ratio described / baseline: {ours / base:.2f}x; rows differing: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
