"""basismonitor.publish.xlsx, the workbook writer of the exports: read back with openpyxl."""

import datetime as dt
import math

import duckdb
import openpyxl

from basismonitor.publish import xlsx

CREATED = dt.datetime(2024, 1, 1)


def _write(path, rows_sql=None, python_rows=()):
    with xlsx.Workbook(path, title="t & <t>", author="Basismonitor", created=CREATED) as book:
        with book.sheet("notes", widths=(20, 60)) as notes:
            notes.row(("key", "a long text"), (xlsx.BOLD, xlsx.WRAP))
        with book.sheet("python", widths=(10, 10, 10, 10, 10), freeze_header=True) as sheet:
            sheet.row(("text", "int", "float", "bool", "none"), xlsx.BOLD)
            for row in python_rows:
                sheet.row(row)
            sheet.autofilter()
        if rows_sql is not None:
            con, columns, relation = rows_sql
            with book.sheet("sql's", freeze_header=True) as sheet:
                sheet.row([c for c, _ in columns], xlsx.BOLD)
                cells = con.execute(f"select {xlsx.sql_cells(columns)} from {relation}").fetchall()
                sheet.rows_of_cells((c[0] for c in cells), len(columns))
                sheet.autofilter()


def test_values_round_trip_through_python_and_duckdb_rows(tmp_path):
    con = duckdb.connect()
    con.execute("""create table t as select * from (values
        ('a & b <c>', 1::bigint, 0.1::double, true, ['x', null, 'z'], 12.50::decimal(6,2)),
        (null, null, 'nan'::double, false, [], null),
        (' spaced' || chr(1) || ' ', -7::bigint, -0.0029669999999999974::double, null, null, 3.25),
        ('last', 3::bigint, 'inf'::double, true, ['only'], 0)
      ) v(s, i, f, b, l, d) """)
    columns = [(r[0], r[1]) for r in con.execute("describe t").fetchall()]
    python_rows = [("x<y", 3, 1 / 3, True, None), (None, 10**12, float("nan"), False, None)]
    path = tmp_path / "book.xlsx"
    _write(path, (con, columns, "(select * from t order by rowid)"), python_rows)

    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["notes", "python", "sql's"]
    assert book.properties.title == "t & <t>" and book.properties.created == CREATED
    assert book["notes"]["A1"].font.b and book["notes"]["B1"].alignment.wrap_text
    assert book["notes"].column_dimensions["B"].width == 60
    py = book["python"]
    assert py.freeze_panes == "A2" and py.auto_filter.ref == "A1:E3"
    assert [c.value for c in py[2]] == ["x<y", 3, 1 / 3, True, None]
    assert py["A3"].value is None and py["B3"].value == 10**12 and py["C3"].value == "#NUM!"
    sql = book["sql's"]
    assert sql.auto_filter.ref == "A1:F5"
    values = [[c.value for c in row] for row in sql.iter_rows(min_row=1)]
    assert values[0] == ["s", "i", "f", "b", "l", "d"]
    assert values[1] == ["a & b <c>", 1, 0.1, True, "x; ; z", 12.5]
    assert values[2][0] is None and values[2][1] is None and values[2][2] == "#NUM!"
    assert values[2][3] is False and values[2][4] == "" and values[2][5] is None
    # a control character is dropped (XML cannot hold it), the spaces are kept; the exact double
    assert values[3][0] == " spaced " and values[3][2] == -0.0029669999999999974
    assert values[3][3] is None and values[3][5] == 3.25
    assert values[4][:3] == ["last", 3, "#NUM!"]
    assert not math.isnan(values[1][2])


def test_the_same_rows_give_the_same_bytes(tmp_path):
    rows = [("a", 1, 2.5, True, None)]
    _write(tmp_path / "a.xlsx", python_rows=rows)
    _write(tmp_path / "b.xlsx", python_rows=rows)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    _write(tmp_path / "c.xlsx", python_rows=[("a", 1, 2.5, False, None)])
    assert (tmp_path / "a.xlsx").read_bytes() != (tmp_path / "c.xlsx").read_bytes()


def test_column_letters():
    assert [xlsx.column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702)] == [
        "A", "Z", "AA", "AZ", "BA", "ZZ", "AAA"]
