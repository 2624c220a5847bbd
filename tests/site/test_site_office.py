"""The workbooks and the Dutch CSVs opened as a Dutch officer opens them: in LibreOffice (headless).

- an area's workbook and the edition's workbook open and convert to PDF, landscape, every column
  of a sheet on the first page (fitted one page wide), in reasonable time;
- an area's Dutch CSV imported with Dutch settings (';', decimal comma) gives numbers equal to the
  published values, not text.

Skipped where LibreOffice or poppler-utils is absent (.ci/run installs them).
"""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
from office import DUTCH_CSV_FILTER, convert, pdf_page_size, pdf_pages

from basismonitor.publish.columns_nl import column_nl


def _area(tiny_built_site):
    return sorted((tiny_built_site / "site" / "area").glob("*.xlsx"))[1]  # WK000101: suppressed rows


def test_an_area_workbook_converts_to_a_landscape_pdf_one_page_wide(tiny_built_site, tmp_path):
    workbook = _area(tiny_built_site)
    pdf, seconds = convert(workbook, "pdf", tmp_path, timeout=300)
    width, height = pdf_page_size(pdf)
    assert width > height, "the sheets print landscape"
    pages = pdf_pages(pdf)
    book = openpyxl.load_workbook(workbook, read_only=True)
    heads = [h for h in next(book["status"].iter_rows(values_only=True)) if h]
    # the status sheet's first page holds its first and its last column: one page wide
    status_page = next(p for p in pages if "Totaal (centrum)" in p)
    squeezed = " ".join(status_page.split())
    words = set(squeezed.split())
    for head in heads:  # a head may wrap onto two lines in its cell: its words are there
        missing = [w for w in head.split() if w not in words and w[:-2] not in squeezed]
        assert not missing, f"{head!r} not on the status sheet's first page"
    assert "minder dan 50 respondenten" in squeezed  # the reason in Dutch
    assert " ja " in squeezed and " nee " in squeezed and "TRUE" not in squeezed
    assert seconds < 300


def test_the_dutch_csv_reads_as_numbers_under_dutch_settings(tiny_built_site, tmp_path):
    code = _area(tiny_built_site).stem
    source = tiny_built_site / "site" / "area" / f"{code}.nl.csv"
    converted, _ = convert(source, "xlsx", tmp_path, infilter=DUTCH_CSV_FILTER, timeout=300)
    rows = list(openpyxl.load_workbook(converted, read_only=True).active.iter_rows(values_only=True))
    header = list(rows[0])
    assert header[:4] == ["Tabel", column_nl("edition"), column_nl("base_period"), "Gebiedscode"]
    value = header.index(column_nl("value"))
    index = header.index(column_nl("index_value"))
    status = pd.read_parquet(tiny_built_site / "mart_compass_status.parquet")
    status = status[status["area_code"] == code].set_index(["node_level", "node_code"])
    level, node = header.index("Niveau"), header.index("Code")
    checked = 0
    levels = {"centrum": "centre", "kwadrant": "quadrant", "thema": "theme"}
    for row in rows[1:]:
        if row[0] != "mart_compass_status" or row[index] is None:
            continue
        assert isinstance(row[index], int | float), f"index read as text: {row[index]!r}"
        expected = status.loc[(levels.get(row[level], row[level]), row[node])]
        assert row[index] == pytest.approx(float(expected["index_value"]))
        if row[value] is not None:
            assert isinstance(row[value], int | float), f"value read as text: {row[value]!r}"
            assert row[value] == pytest.approx(float(expected["value"]))
            checked += 1
    assert checked >= 5


@pytest.mark.slow
def test_the_edition_workbook_converts_to_pdf_in_reasonable_time(refreshed, tmp_path):
    workbook = refreshed.exports / str(refreshed.edition) / f"basismonitor_{refreshed.edition}.xlsx"
    pdf, seconds = convert(workbook, "pdf", tmp_path, timeout=600)
    assert seconds < 300, f"LibreOffice took {seconds:.0f} s"
    width, height = pdf_page_size(pdf)
    assert width > height
    text = " ".join(" ".join(pdf_pages(pdf)).split())
    assert "Basismonitor, editie" in text and "Index (stad = 100)" in text
