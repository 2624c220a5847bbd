"""A file that is mostly rejects (issue 23.3): refused before it is read, against reading it.

Generates a population CSV of --lines data lines of which 3/4 are junk (no delimiters), then times
(1) `load_file` on it -- refused on its first 10,000 lines (reader.MAX_REJECT_SHARE) -- and
(2) the baseline, measured in the same run: DuckDB's read_csv with the options the loader used to
read the whole file with (ignore_errors, store_rejects), i.e. what a load cost before the early
refusal, without the quarantine writing on top. Also reports how many lines that read lost.

    .venv/bin/python benchmarks/bench_rejects.py --lines 300000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
from _common import load, machine  # noqa: E402

HEADER = "peildatum;buurt_code;leeftijdsklasse;geslacht;aantal"


def write_junk(path: Path, lines: int, share: float = 0.75) -> None:
    rng = random.Random(1)
    with open(path, "w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for i in range(lines):
            if rng.random() < share:
                out.write(f"junk line {i} with no delimiters at all xxxxxxxxxxxxxxx\n")
            else:
                out.write(f"2014-01-01;BU{i:08d};15-24;M;{i % 50}\n")


def baseline(path: Path) -> tuple[float, int, int]:
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in HEADER.split(";")) + "}"
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"""create table c as select * from read_csv('{path}', delim = ';', quote = '"',
        escape = '"', header = true, auto_detect = false, columns = {columns},
        strict_mode = true, null_padding = false, ignore_errors = true, store_rejects = true,
        rejects_table = 'rj', rejects_scan = 'rjs')""")
    seconds = time.perf_counter() - start
    accepted = con.execute("select count(*) from c").fetchone()[0]
    rejected = con.execute("select count(distinct line) from rj").fetchone()[0]
    con.close()
    return seconds, int(accepted), int(rejected)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300_000)
    args = parser.parse_args()
    os.environ.setdefault("BASISMONITOR_LOCK_WAIT", "0")
    from basismonitor.ingestion import IngestionError, load_file

    root = Path(tempfile.mkdtemp(prefix="bench-rejects-"))
    inbox = root / "inbox"
    folder = inbox / "areas" / "2008"
    folder.mkdir(parents=True)
    (folder / "gebiedsindeling_2008.csv").write_text(
        "code;naam;niveau;ouder_code;geometrie\n"
        'GM9014;Demo;gemeente;;"POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"\n', encoding="utf-8")
    warehouse = root / "wh.duckdb"
    load_file(warehouse, "areas", "2008", folder / "gebiedsindeling_2008.csv")
    path = inbox / "population" / "2014" / "bevolking_2014.csv"
    path.parent.mkdir(parents=True)
    write_junk(path, args.lines)
    size = path.stat().st_size
    start = time.perf_counter()
    try:
        load_file(warehouse, "population", "2014", path)
        refused = "landed (not refused!)"
    except IngestionError as exc:
        refused = str(exc).split(": ", 1)[1][:90]
    ours = time.perf_counter() - start
    base, accepted, rejected = baseline(path)
    print(f"machine: {machine()}; {load()}")
    print(f"file: {args.lines:,} data lines, {size / 2**20:.1f} MiB, 3/4 junk")
    print(f"load_file (refused early): {ours:.2f} s -- {refused}...")
    print(f"baseline read_csv with rejects: {base:.2f} s; {accepted:,} rows + {rejected:,} "
          f"rejects = {accepted + rejected:,} of {args.lines:,} lines "
          f"({args.lines - accepted - rejected:,} lost)")
    print(f"ratio baseline / ours: {base / ours:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
