"""Issue 23.2 (the gate's half): figures of the edition as last published that vanish from the new
build stop publication, and the published edition stays byte-identical. Real DuckDB files."""

from __future__ import annotations

import duckdb
import pytest

from basismonitor.orchestration.pipeline import (
    FiguresVanished,
    check_vanished,
    publish,
    vanished_figures,
)


@pytest.fixture
def setup(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    exports = tmp_path / "exports"
    (exports / "2024").mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("""create table marts.fct_indicator_value as
            select * from (values ('a_inw', 2024, 'WK01', 10.0), ('a_inw', 2023, 'WK01', 9.0),
                                  ('p_koopw', 2024, 'WK01', 45.0), ('cijfer_buurt', 2024, 'WK01', 7.1))
                   t(indicator_code, period, area_code, value)""")
        con.execute(f"copy marts.fct_indicator_value to '{exports / '2024' / 'fct_indicator_value.parquet'}'"
                    " (format parquet)")
    return warehouse, exports


def test_nothing_vanished_passes(setup):
    warehouse, exports = setup
    assert vanished_figures(warehouse, exports, 2024) == []
    assert vanished_figures(warehouse, exports, 2022) == []          # never published: no check


def test_vanished_registry_figures_stop_publication_and_leave_the_edition(setup):
    warehouse, exports = setup
    published = exports / "2024" / "fct_indicator_value.parquet"
    before = published.read_bytes()
    with duckdb.connect(str(warehouse)) as con:      # the 2024 registry indicators are gone
        con.execute("delete from marts.fct_indicator_value where indicator_code in "
                    "('a_inw', 'p_koopw') and period = 2024")
    assert vanished_figures(warehouse, exports, 2024) == [("a_inw", 2024, 1), ("p_koopw", 2024, 1)]
    with pytest.raises(FiguresVanished) as caught:
        publish(warehouse, exports, 2024, progress=lambda _: None)
    assert "2 indicator x period figures" in str(caught.value)
    assert "a_inw 2024 (1 rows)" in str(caught.value) and "--allow-vanished" in str(caught.value)
    assert published.read_bytes() == before
    said: list[str] = []
    check_vanished(warehouse, exports, 2024, allow=True, progress=said.append)
    assert said and "(--allow-vanished)" in said[0]
