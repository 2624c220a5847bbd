"""Survey landing speed against DuckDB's own read_csv of the same file into a table (issue 3).

    .venv/bin/python benchmarks/bench_ingestion.py [--respondents 150000] [--runs 5]

A national wave (150,000 respondents x 40 questions, CSV, cp1252) must land (pseudonymise,
validate against areas and codebook, unpivot, quarantine, lineage) in at most 2x the time
`create table t as select * from read_csv(file)` needs. Both are timed interleaved, on a fresh
warehouse each run; the median and every run are printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ingestion"))
sys.path.insert(0, str(Path(__file__).parent))
from _common import machine  # noqa: E402
from basismonitor.ingestion import load_file  # noqa: E402
from conftest import Demo  # noqa: E402


def national_wave(root: Path, n: int, questions: int = 40):
    demo = Demo(root)
    buurten = [f"BU9014{w:02d}{b:02d}" for w in range(1, 100) for b in range(10)]
    demo.areas(2024, buurten)
    items = [(f"v{i:02d}", f"item_{i}", "eens5", [1, 2, 3, 4, 5], [9])
             for i in range(questions)]
    demo.codebook(2024, items)
    rng = np.random.default_rng(2024)
    frame = pd.DataFrame({
        "respondent_id": [f"W2024-{i:07d}" for i in range(n)],
        "golf": 2024,
        "buurt_code": rng.choice(buurten, n),
        "geboortejaar": rng.integers(1925, 2008, n),
        "geslacht": rng.integers(1, 3, n),
    })
    for i in range(questions):
        frame[f"v{i:02d}"] = rng.choice([1, 2, 3, 4, 5, 9], n)
    path = demo.inbox / "survey" / "2024" / "wijkenquete_2024.csv"
    frame.to_csv(path, sep=";", index=False, encoding="cp1252")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        demo.load("areas", 2024, demo.inbox / "areas/2024/gebiedsindeling_2024.csv")
        demo.load("survey", 2024, demo.inbox / "survey/2024/codeboek_2024.csv")
    template = root / "template.duckdb"
    shutil.copy(demo.warehouse, template)
    return demo, path, template


def timings(root: Path, demo: Demo, path: Path, template: Path, n: int, runs: int):
    def read_csv() -> float:
        target = root / "baseline.duckdb"
        target.unlink(missing_ok=True)
        start = time.perf_counter()
        con = duckdb.connect(str(target))
        con.execute(f"create table t as select * from read_csv('{path.as_posix()}')")
        con.close()
        return time.perf_counter() - start

    def land() -> float:
        target = root / "run.duckdb"
        shutil.copy(template, target)
        start = time.perf_counter()
        result = load_file(target, "survey", "2024", path, config=demo.config)
        elapsed = time.perf_counter() - start
        assert (result.status, result.rows_landed) == ("landed", n)
        return elapsed

    base, ours = [], []
    for _ in range(runs):
        base.append(read_csv())
        ours.append(land())
    return base, ours


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--respondents", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    os.environ.setdefault("BASISMONITOR_PSEUDONYM_KEY", "benchmark-key-not-secret-0123456789abcdef")
    print(f"machine: {machine()}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        demo, path, template = national_wave(root, args.respondents)
        base, ours = timings(root, demo, path, template, args.respondents, runs=args.runs)
    b, o = statistics.median(base), statistics.median(ours)
    print(f"survey wave {args.respondents:,} respondents x 40 questions ({path.name}, CSV)")
    print(f"  DuckDB read_csv into a table: median {b:.2f} s  runs {[round(t, 2) for t in base]}")
    print(f"  basismonitor landing:         median {o:.2f} s  runs {[round(t, 2) for t in ours]}")
    print(f"  ratio {o / b:.2f}x (target <= 2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
