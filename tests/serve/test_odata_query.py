"""The $filter compiler on its own: literals become parameters, names must be the model's."""

from __future__ import annotations

import duckdb
import pytest

from basismonitor.serve.model import Table as ModelTable
from basismonitor.serve.model import edm_column
from basismonitor.serve.query import (
    Compiler,
    ODataError,
    decode_token,
    encode_token,
    parse_expression,
)


@pytest.fixture
def table():
    columns = {n: edm_column(n, t, True, None) for n, t in [
        ("area_code", "VARCHAR"), ("period", "INTEGER"), ("value", "DOUBLE"),
        ("suppressed", "BOOLEAN"), ("day", "DATE"), ("load_ids", "VARCHAR[]")]}
    return ModelTable("t", columns, ("area_code", "period"))


def compile_filter(table, text):
    compiler = Compiler(table, {"t": table}, lambda name: f"memory.main.{name}")
    return compiler.boolean(parse_expression(text, "$filter"), "$filter")


@pytest.mark.parametrize("text", [
    "area_code eq 'x''; drop table t; --'",
    "contains(area_code, '%_') and startswith(area_code, '''')",
    "area_code in ('a', 'b'' or 1=1', 'c') and period gt 2020",
    "value add 1.5 gt 3 and not suppressed and day ge 2024-01-01",
])
def test_literals_are_parameters_and_the_sql_runs(table, text):
    sql = compile_filter(table, text)
    assert "drop" not in sql.text and "'" not in sql.text.replace("'\"", "")
    con = duckdb.connect()
    con.execute("create table t (area_code varchar, period integer, value double, "
                "suppressed boolean, day date, load_ids varchar[])")
    con.execute("insert into t values ('x''; drop table t; --', 2024, 2.0, false, "
                "date '2024-02-01', ['a']), ('%_abc', 2019, null, true, null, [])")
    rows = con.execute(f"select count(*) from t where {sql.text}".replace("t.", "t."),
                       sql.params).fetchone()[0]
    assert rows in (0, 1, 2)
    assert con.execute("select count(*) from t").fetchone()[0] == 2


def test_like_wildcards_are_not_patterns(table):
    con = duckdb.connect()
    con.execute("create table t as select * from (values ('%_abc'), ('zzabc')) v(area_code)")
    sql = compile_filter(table, "contains(area_code, '%_')")
    assert con.execute(f"select area_code from t where {sql.text}", sql.params).fetchall() == \
        [("%_abc",)]


@pytest.mark.parametrize(("text", "named"), [
    ("nope eq 1", "nope"),
    ("area_code eq 1", "string"),
    ("period eq 'x'", "number"),
    ("load_ids eq 'x'", "collection"),
    ("value", "boolean"),
    ("contains(period, 'x')", "contains"),
])
def test_type_and_name_errors(table, text, named):
    with pytest.raises(ODataError) as caught:
        compile_filter(table, text)
    assert caught.value.status == 400 and named in caught.value.message


def test_depth_limit_without_recursion(table):
    with pytest.raises(ODataError) as caught:
        compile_filter(table, "(" * 300 + "period eq 1" + ")" * 300)
    assert caught.value.status == 400


def test_skiptoken_round_trip_and_type_check():
    import datetime as dt

    values = ["WK01", 2024, dt.date(2024, 1, 2)]
    token = encode_token("edition_2024_1", 41, values)
    assert decode_token(token, ["string", "number", "date"]) == ("edition_2024_1", 41, values)
    with pytest.raises(ODataError):
        decode_token(token, ["number", "number", "date"])
    with pytest.raises(ODataError):
        decode_token(token, ["string", "number"])


def test_json_rows_render_infinities_as_odata_strings():
    import dataclasses
    import json

    from basismonitor.serve.app import json_object

    con = duckdb.connect()
    con.execute("create table x as select * from (values (1, 'inf'::double, 'a'), "
                "(2, 'nan'::double, 'b'), (3, '-inf'::double, null), (4, 2.5, 'd')) v(k, v, s)")
    columns = {n: edm_column(n, t, True, None) for n, t in
               [("k", "INTEGER"), ("v", "DOUBLE"), ("s", "VARCHAR")]}
    table = ModelTable("x", columns, ("k",))
    table = dataclasses.replace(table, nonfinite=frozenset({"v"}))
    rows = [json.loads(r[0]) for r in con.execute(
        f"select {json_object('t', table, ['k', 'v', 's'])} from x t order by k").fetchall()]
    assert [r["v"] for r in rows] == ["INF", "NaN", "-INF", 2.5]
    assert rows[2]["s"] is None
