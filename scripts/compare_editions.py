"""Compare two published editions file by file (a refactor's "published files unchanged" check).

    .venv/bin/python scripts/compare_editions.py BEFORE/exports/2024 AFTER/exports/2024
        [--ignore-column load_ids] [--ignore-column ...]

For every file below either folder: `same` when byte-identical; for a Parquet file that differs,
its rows are compared with DuckDB (`except all`, both ways) over the columns both have, leaving
out the --ignore-column ones (by default `load_ids`: a load id carries the time of its load, so
two refreshes of the same inbox differ there and nowhere else); columns only one side has are
named. Prints one line per file that is not byte-identical and a summary; exits 1 when a Parquet
file differs in rows, 0 otherwise (other differing files are listed for a person to judge).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def compare_parquet(a: Path, b: Path, ignore: set[str]) -> tuple[int, int, int, list[str]]:
    """(rows in a, rows only in a, rows only in b, columns only one side has)."""
    con = duckdb.connect()
    cols_a = [r[0] for r in con.execute(f"describe select * from '{a}'").fetchall()]
    cols_b = {r[0] for r in con.execute(f"describe select * from '{b}'").fetchall()}
    common = [c for c in cols_a if c in cols_b and c not in ignore]
    one_side = sorted((set(cols_a) ^ cols_b) - ignore)
    select = ", ".join(f'"{c}"' for c in common)
    rows = con.execute(f"select count(*) from '{a}'").fetchone()[0]
    only_a = con.execute(f"select count(*) from (select {select} from '{a}' "
                         f"except all select {select} from '{b}')").fetchone()[0]
    only_b = con.execute(f"select count(*) from (select {select} from '{b}' "
                         f"except all select {select} from '{a}')").fetchone()[0]
    return rows, only_a, only_b, one_side


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--ignore-column", action="append", default=None,
                        help="a column left out of the row comparison (default: load_ids)")
    args = parser.parse_args(argv)
    ignore = set(args.ignore_column or ["load_ids"])
    before, after = _files(args.before), _files(args.after)
    same = rows_differ = 0
    for name in sorted(before | after):
        if name not in after or name not in before:
            print(f"only in {'before' if name in before else 'after'}: {name}")
            continue
        a, b = args.before / name, args.after / name
        if a.read_bytes() == b.read_bytes():
            same += 1
            continue
        if name.endswith(".parquet"):
            rows, only_a, only_b, one_side = compare_parquet(a, b, ignore)
            extra = f"; columns on one side only: {', '.join(one_side)}" if one_side else ""
            verdict = "rows equal" if only_a == only_b == 0 else "ROWS DIFFER"
            rows_differ += verdict != "rows equal"
            print(f"{name}: bytes differ, {verdict} ({rows:,} rows, {only_a} only before, "
                  f"{only_b} only after; {', '.join(sorted(ignore))} left out){extra}")
        else:
            print(f"{name}: bytes differ")
    print(f"{same} of {len(before | after)} files byte-identical; "
          f"{rows_differ} Parquet files differ in rows")
    return 1 if rows_differ else 0


if __name__ == "__main__":
    sys.exit(main())
