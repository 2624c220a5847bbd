"""dbt, the hand-written SQL and the pandas baseline give the same marts; a changed value is caught."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from marts_compare import MARTS, MartsDiffer, compare_frames, compare_marts, read_marts

EDITION = 2024


@pytest.fixture(scope="module")
def three(marts_warehouse, tmp_path_factory):
    """The marts of dbt, hand-written SQL (run on a copy) and pandas."""
    import pandas_baseline
    import run_marts

    copy = tmp_path_factory.mktemp("hand") / "warehouse.duckdb"
    shutil.copyfile(marts_warehouse, copy)
    run_marts.run(copy, edition=EDITION)
    pandas_marts, _ = pandas_baseline.run(marts_warehouse, edition=EDITION)
    with duckdb.connect(str(copy), read_only=True) as con:
        return read_marts(con, "marts"), read_marts(con, "hand"), pandas_marts, copy


def test_the_marts_are_not_trivial(three):
    dbt_marts, _, _, copy = three
    fct = dbt_marts["fct_indicator_value"]
    status = dbt_marts["mart_compass_status"]
    development = dbt_marts["mart_compass_development"]
    assert fct["value"].notna().sum() > 1000
    assert fct["is_harmonised"].any() and fct["suppressed"].any() and fct["standard_error"].notna().any()
    with duckdb.connect(str(copy), read_only=True) as con:
        kinds = {k for (k,) in con.sql("select distinct source_kind from marts.fct_indicator_value "
                                       "join catalogue.indicators using (indicator_code) "
                                       "where value is not null").fetchall()}
    assert kinds == {"registry", "survey", "activity"}
    for mart in (status, development):
        assert set(mart["node_level"]) == {"indicator", "theme", "quadrant", "centre"}
        assert mart["index_value"].notna().sum() > 50
        assert mart["class"].nunique() >= 3


def test_hand_written_sql_gives_dbt_numbers(three):
    dbt_marts, hand, _, _ = three
    rows = compare_marts(dbt_marts, hand, actual_label="hand-written")
    assert all(n > 0 for n in rows.values())


def test_pandas_gives_dbt_numbers(three):
    dbt_marts, _, pandas_marts, _ = three
    rows = compare_marts(dbt_marts, pandas_marts, actual_label="pandas")
    assert rows == {m: len(dbt_marts[m]) for m in MARTS}


def test_a_changed_value_in_the_warehouse_fails_the_comparison(three):
    dbt_marts, _, _, copy = three
    with duckdb.connect(str(copy)) as con:
        key = con.sql("select area_code, period, indicator_code, area_edition from hand.fct_indicator_value "
                      "where value is not null and not is_city order by all limit 1").fetchone()
        # a change in the 6th decimal, the published precision
        con.execute("update hand.fct_indicator_value set value = value + 1e-6 "
                    "where area_code = ? and period = ? and indicator_code = ? and area_edition = ?",
                    list(key))
        tampered = read_marts(con, "hand")
    with pytest.raises(MartsDiffer, match=r"fct_indicator_value: column value differs in 1 of") as err:
        compare_marts(dbt_marts, tampered, actual_label="hand-written")
    assert key[0] in str(err.value) and key[2] in str(err.value)


@pytest.mark.parametrize(("mart", "column"), [
    ("mart_compass_status", "index_value"),
    ("mart_compass_development", "class"),
    ("fct_indicator_value", "suppression_reason"),
    ("fct_indicator_value", "load_ids"),
    ("mart_compass_status", "significant"),
])
def test_any_changed_cell_fails(three, mart, column):
    dbt_marts, hand, _, _ = three
    frame = hand[mart].copy()
    i = frame.index[frame[column].notna()][0] if frame[column].notna().any() else frame.index[0]
    old = frame.at[i, column]
    frame.at[i, column] = {"index_value": lambda v: v + 0.1, "class": lambda v: "veel beter" if v != "veel beter"
                           else "beter", "suppression_reason": lambda v: v + "!",
                           "load_ids": lambda v: [*list(v), "another-load"],
                           "significant": lambda v: not v}[column](old)
    with pytest.raises(MartsDiffer, match=f"{mart}: column {column} differs in 1 of"):
        compare_frames(mart, dbt_marts[mart], frame, MARTS[mart], actual_label="hand-written")


def test_a_missing_or_extra_row_fails(three):
    dbt_marts, hand, _, _ = three
    frame = hand["mart_compass_status"]
    with pytest.raises(MartsDiffer, match="rows on one side only"):
        compare_frames("mart_compass_status", dbt_marts["mart_compass_status"], frame.iloc[1:],
                       MARTS["mart_compass_status"])
    moved = frame.copy()
    moved.loc[moved.index[0], "area_code"] = "WK_NOWHERE"
    with pytest.raises(MartsDiffer, match="rows on one side only"):
        compare_frames("mart_compass_status", dbt_marts["mart_compass_status"], moved,
                       MARTS["mart_compass_status"])


def test_the_script_run_statement_by_statement_does_the_same_work(marts_warehouse, tmp_path):
    """`run_marts.py --per-statement` (the breakdown in BENCHMARKS.md) runs every statement of the
    script once and gives the marts of the whole script."""
    import run_marts

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(marts_warehouse, copy)
    times = run_marts.run_per_statement(copy, edition=EDITION)
    names = [name for name, _ in times]
    assert names[0] == "connect" and names[-1] == "close"
    assert len(names) == len(run_marts.statements(run_marts.render(EDITION))) + 2
    for table in ("activity_values", "indicator_values", "hand.fct_indicator_value",
                  "hand.mart_compass_status", "hand.mart_compass_development"):
        assert names.count(table) == 1, table
    with duckdb.connect(str(copy), read_only=True) as con:
        compare_marts(read_marts(con, "marts"), read_marts(con, "hand"), actual_label="hand-written by statement")
