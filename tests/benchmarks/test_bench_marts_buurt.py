"""The hand-written SQL and the pandas baseline mirror the buurt compass too (issue 21): with
`compass_level: buurt` the survey indicators with use_at_buurt take their buurt figures from the
Fay-Herriot model (int_survey_small_area_estimates), a buurt with neither figure gets a suppressed
row, and uninhabited old buurten keep their place through the crosswalk; dbt, the script and
pandas must give the same marts."""

from __future__ import annotations

import shutil
import string

import duckdb
import pytest
from marts_compare import compare_marts, read_marts

EDITION = 2024


@pytest.fixture(scope="module")
def buurt_warehouse(tmp_path_factory):
    """ingest -> dbt seed -> dbt run at compass_level buurt on 4 wijken x 4 buurten."""
    from basismonitor import pipeline
    from basismonitor.dbt import run_dbt
    from basismonitor.demo import DemoScale, generate

    root = tmp_path_factory.mktemp("bench-marts-buurt")
    scale = DemoScale(wijken=4, buurten_per_wijk=4.0, respondents_per_wave=1200, survey_items=30,
                      waves=(2016, 2024), years=tuple(range(2016, 2025)), activity_scale=0.2)
    generate(root / "inbox", scale=scale, seed=11)
    warehouse = root / "warehouse.duckdb"
    pipeline.ingest(warehouse, root / "inbox", progress=lambda _: None)
    run_dbt("seed", warehouse)
    run_dbt("run", warehouse, vars={"edition": EDITION, "compass_level": "buurt"})
    return warehouse


def test_hand_written_sql_and_pandas_give_dbt_numbers_on_a_buurt_compass(buurt_warehouse,
                                                                          tmp_path):
    import pandas_baseline
    import run_marts

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(buurt_warehouse, copy)
    values = run_marts.dbt_vars(edition=EDITION, compass_level="buurt")
    sql = string.Template(run_marts.SCRIPT.read_text(encoding="utf-8")).substitute(values)
    con = run_marts._connect(copy)
    try:
        con.execute(sql)
    finally:
        con.close()
    with duckdb.connect(str(copy), read_only=True) as con:
        dbt_marts, hand = read_marts(con, "marts"), read_marts(con, "hand")
        inputs = pandas_baseline.read_inputs(con)
    fct = dbt_marts["fct_indicator_value"]
    model = fct[fct["estimation_method"] == "fay_herriot"]
    assert (model["mse"].notna() & ~model["suppressed"]).sum() > 50, "model figures are shown"
    rows = compare_marts(dbt_marts, hand, actual_label="hand-written")
    assert all(n > 0 for n in rows.values())
    pandas_marts = pandas_baseline.compute(inputs, values)
    assert compare_marts(dbt_marts, pandas_marts, actual_label="pandas") == rows
