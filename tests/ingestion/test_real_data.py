"""The real 2017 files of Groningen (../shared/data/cbs-groningen-2017): CBS wijk- en buurtkaart
attributes (registry_wbk) and the municipality's own division (areas)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.shared


@pytest.fixture
def groningen(demo, cbs_2017):
    results = {}
    for source, name in (("gemeentelijke_indeling", "wijkindeling.csv"),
                         ("gemeentelijke_indeling", "buurtindeling.csv"),
                         ("cbs_wijkbuurtkaart", "wijk2017.csv"),
                         ("cbs_wijkbuurtkaart", "buurt2017.csv")):
        results[name] = demo.load(source, 2017, cbs_2017 / name)
    return demo, results


def test_all_four_files_land_and_reconcile(groningen):
    demo, results = groningen
    for name, r in results.items():
        assert r.status == "landed", (name, r.message)
        assert r.rows_quarantined == 0 and r.cells_quarantined == 0, name
        assert r.rows_read == r.rows_landed, name
    assert {n: r.rows_read for n, r in results.items()} == {
        "wijkindeling.csv": 15, "buurtindeling.csv": 112, "wijk2017.csv": 15,
        "buurt2017.csv": 108}


def test_area_counts_of_both_divisions(groningen):
    demo, _ = groningen
    counts = dict(((s, lvl), n) for s, lvl, n in demo.q(
        "select _source, area_level, count(*) from raw.areas where edition = 2017 group by all"))
    assert counts == {("cbs_wijkbuurtkaart", "buurt"): 108, ("cbs_wijkbuurtkaart", "wijk"): 15,
                      ("gemeentelijke_indeling", "buurt"): 112,
                      ("gemeentelijke_indeling", "wijk"): 15}
    assert demo.q("""select distinct crs from raw.areas""") == [("EPSG:4326",)]
    assert demo.one("select count(*) from raw.areas where geometry_wkt not like 'POLYGON%'") == 0
    # parents: CBS from WK_CODE / GM_CODE, municipal buurten from their code
    assert demo.q("""select area_code, parent_code from raw.areas
                     where area_code in ('BU00140402', 'WK001404') order by _source, 1""") == [
        ("BU00140402", "WK001404"), ("WK001404", "GM0014"),
        ("BU00140402", "WK001404"), ("WK001404", "GM0014")]


def test_inhabitants_and_secrecy_codes(groningen):
    demo, results = groningen
    buurt_load = results["buurt2017.csv"].load_id
    assert demo.one("""select sum(value) from raw.registry_values
                       where _load_id = ? and variable = 'aant_inw'""", [buurt_load]) == 202_515
    assert demo.one("""select sum(value) from raw.registry_values
                       where _source = 'cbs_wijkbuurtkaart' and area_level = 'wijk'
                         and variable = 'aant_inw'""") == 202_620
    secret = demo.q("""select count(*), count(value), min(missing_reason), max(missing_reason)
                       from raw.registry_values
                       where _load_id = ? and try_cast(value_raw as double) = -99999999""",
                    [buurt_load])
    assert secret == [(516, 0, "hidden", "hidden")]
    # no code ever became a number
    assert demo.one("select count(*) from raw.registry_values where value <= -99997") == 0
    water = demo.q("""select value_raw, value from raw.registry_values
                      where _load_id = ? and variable = 'water' group by all order by 1""",
                   [buurt_load])
    assert water == [("JA", 1.0), ("NEE", 0.0)] or water == [("NEE", 0.0)]
    # the municipal division's inhabitants land too (variable inw)
    assert demo.one("""select sum(value) from raw.registry_values
                       where _source = 'gemeentelijke_indeling' and area_level = 'buurt'
                         and variable = 'inw'""") > 190_000
