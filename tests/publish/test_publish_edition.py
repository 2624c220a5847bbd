"""What a published edition holds, and that publishing the same warehouse again gives the same
bytes."""

from __future__ import annotations

import json
import os
import stat

import duckdb
import openpyxl
import pandas as pd
import pytest
from publish_helpers import data_files, visible

from basismonitor.files import file_sha256
from basismonitor.publish import exports as publisher
from basismonitor.publish.columns_nl import ESTIMATION_METHOD_NL
from basismonitor.publish.exports import EXPORTED_TABLES, PrivacyViolation
from basismonitor.quality.validation import load_suites, read_table, validate_warehouse


def test_an_edition_holds_every_format_of_every_mart(refreshed, publish, tmp_path):
    published = publish(tmp_path / "exports", excel_max_rows=publisher.EXCEL_MAX_ROWS)
    edition = published.path
    assert visible(tmp_path / "exports") == {str(refreshed.edition), "latest"}
    manifest = json.loads((edition / "manifest.json").read_text())
    listed = {f["file"]: f for f in manifest["files"]}
    with duckdb.connect(str(refreshed.warehouse), read_only=True) as con:
        for table in EXPORTED_TABLES:
            name = table.split(".")[-1]
            rows = con.sql(f"select count(*) from {table}").fetchone()[0]
            for suffix in (".parquet", ".csv", ".nl.csv"):
                entry = listed[name + suffix]
                assert entry["rows"] == rows and entry["table"] == table
                assert entry["sha256"] == file_sha256(edition / entry["file"])
            assert len(pd.read_parquet(edition / f"{name}.parquet")) == rows
    assert listed[f"basismonitor_{refreshed.edition}.xlsx"]["sha256"]
    assert {"dbt-core", "great-expectations", "duckdb"} <= set(manifest["versions"])
    assert manifest["source_loads"] and all(load["sha256"] for load in manifest["source_loads"])
    publication = json.loads((edition / "publication.json").read_text())
    assert publication["published_at"] and publication["duckdb"]["sha256"]


def test_the_parquet_files_are_zstd_with_row_groups(publish, tmp_path):
    edition = publish(tmp_path / "exports").path
    meta = duckdb.sql(f"select distinct compression from parquet_metadata("
                      f"'{edition / 'fct_indicator_value.parquet'}')").fetchall()
    assert meta == [("ZSTD",)]


def test_the_dutch_csv_has_semicolons_and_decimal_commas(publish, tmp_path):
    edition = publish(tmp_path / "exports").path
    for name in ("fct_indicator_value", "mart_compass_status"):
        plain = pd.read_csv(edition / f"{name}.csv")
        dutch = pd.read_csv(edition / f"{name}.nl.csv", sep=";", decimal=",",
                            encoding="utf-8-sig")
        # the Dutch file names the estimation method in words (issue 21), the other keeps codes
        words = dutch.pop("estimation_method")
        codes = plain.pop("estimation_method")
        assert words.equals(codes.map(ESTIMATION_METHOD_NL)), name
        assert "directe schatting" in set(words)
        pd.testing.assert_frame_equal(plain, dutch)
        head = (edition / f"{name}.nl.csv").read_bytes()[:3000]
        assert head.startswith(b"\xef\xbb\xbf") and b";" in head
    assert b"0," in (edition / "fct_indicator_value.nl.csv").read_bytes()[:5000]


def test_the_workbook_has_a_sheet_per_mart_and_explains_every_column(refreshed, publish,
                                                                      tmp_path):
    edition = publish(tmp_path / "exports", excel_max_rows=publisher.EXCEL_MAX_ROWS).path
    book = openpyxl.load_workbook(edition / f"basismonitor_{refreshed.edition}.xlsx",
                                  read_only=True)
    printed = [t.split(".")[-1] for t in EXPORTED_TABLES
               if t.split(".")[-1] not in publisher.WORKBOOK_LEFT_OUT]
    assert book.sheetnames == ["toelichting"] + printed
    explained = {(r[0], r[2]): (r[1], r[4])
                 for r in book["toelichting"].iter_rows(values_only=True)
                 if r[2] and r[0] != "tabel / blad"}
    for table in EXPORTED_TABLES:
        name = table.split(".")[-1]
        columns = list(read_table(refreshed.warehouse, table).columns)
        for column in columns:
            assert explained.get((name, column)), f"{name}.{column} is not explained"
            assert "niet beschreven" not in explained[(name, column)][1], f"{name}.{column}"
        if name in publisher.WORKBOOK_LEFT_OUT:
            continue
        header = next(book[name].iter_rows(values_only=True))
        assert list(header) == [explained[(name, c)][0] for c in columns]  # the Dutch heads
    rows = sum(1 for _ in book["dim_period"].iter_rows()) - 1
    assert rows == len(read_table(refreshed.warehouse, "marts.dim_period"))


def test_a_table_too_big_for_one_sheet_is_split_or_left_out_with_a_note(refreshed, publish,
                                                                       tmp_path, monkeypatch):
    status_rows = len(read_table(refreshed.warehouse, "marts.mart_compass_status"))
    fact_rows = len(read_table(refreshed.warehouse, "marts.fct_indicator_value"))
    assert fact_rows > status_rows
    sheet_rows = -(-status_rows // 3)  # the status compass needs three sheets
    monkeypatch.setattr(publisher, "EXCEL_SHEET_ROWS", sheet_rows)
    published = publish(tmp_path / "exports", excel_max_rows=status_rows)  # facts: too many
    book = openpyxl.load_workbook(published.path / f"basismonitor_{refreshed.edition}.xlsx",
                                  read_only=True)
    parts = [s for s in book.sheetnames if s.startswith("mart_compass_status")]
    assert parts == [f"mart_compass_status ({i})" for i in (1, 2, 3)]
    assert sum(sum(1 for _ in book[s].iter_rows()) - 1 for s in parts) == status_rows
    assert "fct_indicator_value" not in book.sheetnames
    notes = " ".join(str(r[1]) for r in book["toelichting"].iter_rows(values_only=True) if r[1])
    assert "fct_indicator_value.parquet" in notes and "verdeeld over de bladen" in notes
    workbook = next(f for f in published.files if f["file"].endswith(".xlsx"))
    assert "fct_indicator_value" in workbook["omitted"]


def test_the_duckdb_file_holds_the_described_marts(refreshed, publish, tmp_path):
    edition = publish(tmp_path / "exports").path
    database = edition / f"basismonitor_{refreshed.edition}.duckdb"
    # 0644 (issue 19): DuckDB and DBeaver open read-write by default; only the owner may write
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o644
    with duckdb.connect(str(database), read_only=True) as con:
        for table in EXPORTED_TABLES:
            rows = con.sql(f"select count(*) from {table}").fetchone()[0]
            assert rows == len(read_table(refreshed.warehouse, table))
        comments = con.sql("select count(*) from duckdb_columns() where schema_name = 'marts' "
                           "and comment is null").fetchone()[0]
        assert comments == 0


def test_publishing_the_same_warehouse_again_gives_byte_identical_data(publish, tmp_path):
    first = publish(tmp_path / "a", excel_max_rows=publisher.EXCEL_MAX_ROWS).path
    second = publish(tmp_path / "b", excel_max_rows=publisher.EXCEL_MAX_ROWS).path
    # replaces (forced: with nothing changed, publish would leave the edition as it is)
    again = publish(tmp_path / "a", excel_max_rows=publisher.EXCEL_MAX_ROWS, force=True).path
    assert data_files(first) == data_files(second) == data_files(again)
    assert any(k.endswith(".xlsx") for k in data_files(first))


def test_a_mart_with_a_respondent_level_column_is_refused(refreshed, publish, tmp_path):
    exports = tmp_path / "exports"
    before = data_files(publish(exports).path)
    planted = tmp_path / "planted.duckdb"
    planted.write_bytes(refreshed.warehouse.read_bytes())
    with duckdb.connect(str(planted)) as con:
        con.execute("alter table marts.mart_area_profile add column respondent_key varchar")
    with pytest.raises(PrivacyViolation, match="respondent_key"):
        publish(exports, warehouse=planted)
    assert data_files(exports / str(refreshed.edition)) == before


def test_warnings_are_reported_and_the_edition_publishes(refreshed, publish, tmp_path):
    report = read_table(refreshed.warehouse, "intermediate.int_weighting_report")
    report.loc[0, "converged"] = False
    suites = load_suites()
    gate = validate_warehouse(refreshed.warehouse, refreshed.edition, progress=lambda _: None,
                              suites={t: suites[t] for t in ("intermediate.int_weighting_report",
                                                             "marts.dim_period")},
                              frames={"intermediate.int_weighting_report": report})
    assert gate.passed and gate.warnings
    published = publish(tmp_path / "exports", gate=gate)
    summary = json.loads((published.path / "manifest.json").read_text())["validation"]["gate"]
    assert summary["passed"]
    assert {"severity": "warning", "table": "intermediate.int_weighting_report",
            "expectation": "expect_column_values_to_be_in_set",
            "column": "check__weighting_converged", "unexpected_count": 1} in summary["failures"]


def test_the_manifest_summarises_the_gate_from_its_report(refreshed):
    """The refresh hands the publisher only the report's folder: the summary comes from there."""
    manifest = json.loads((refreshed.exports / str(refreshed.edition) / "manifest.json").read_text())
    gate = manifest["validation"]["gate"]
    assert gate["passed"] and gate["edition"] == refreshed.edition
    assert gate["expectations_run"] > 300 and "marts.fct_indicator_value" in gate["tables"]
    assert all(f["severity"] == "warning" for f in gate["failures"])
