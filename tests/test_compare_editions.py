"""scripts/compare_editions.py: the check behind "the published files are unchanged"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_editions.py"


def _load():
    spec = importlib.util.spec_from_file_location("compare_editions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _edition(root: Path, rows: str, note: str) -> Path:
    root.mkdir()
    duckdb.sql(f"copy (select * from (values {rows}) t(area_code, value, load_ids)) "
               f"to '{root / 'fct.parquet'}'")
    (root / "manifest.json").write_text(note)
    (root / "dim.csv").write_text("a,b\n1,2\n")
    return root


def test_rows_equal_but_for_load_ids_pass_and_other_rows_fail(tmp_path, capsys):
    compare = _load()
    before = _edition(tmp_path / "before", "('WK01', 1.5, 'load-1'), ('WK02', 2.0, 'load-1')", "{}")
    after = _edition(tmp_path / "after", "('WK02', 2.0, 'load-9'), ('WK01', 1.5, 'load-9')", "{ }")
    assert compare.main([str(before), str(after)]) == 0
    out = capsys.readouterr().out
    assert "fct.parquet: bytes differ, rows equal (2 rows, 0 only before, 0 only after" in out
    assert "manifest.json: bytes differ" in out
    assert "1 of 3 files byte-identical" in out

    changed = _edition(tmp_path / "changed", "('WK01', 1.5, 'load-1'), ('WK02', 2.5, 'load-1')", "{}")
    assert compare.main([str(before), str(changed)]) == 1
    assert "ROWS DIFFER (2 rows, 1 only before, 1 only after" in capsys.readouterr().out
