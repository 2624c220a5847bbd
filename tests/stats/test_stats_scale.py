"""Many areas and items at once give the same numbers as a hand-written DuckDB aggregate.

(The timing against that query lives in benchmarks/bench_statistics.py, not in a test.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_statistics import HAND_WRITTEN, national_wave  # noqa: E402

from basismonitor.stats import survey_estimates  # noqa: E402


def test_many_areas_match_a_hand_written_aggregate():
    con = duckdb.connect()
    national_wave(con, respondents=20_000, areas=1_500, items=6)
    hand = con.execute(HAND_WRITTEN).df()
    ours = survey_estimates(
        con, "answers", value="y", weight="w", domain="area", stratum="area",
        population="N", group_by=["item"], lonely_psu="certainty",
    )
    assert len(ours) == 6 * 1_500 + 6
    merged = ours.merge(hand, left_on=["item", "domain"], right_on=["item", "area"])
    assert len(merged) == 6 * 1_500
    np.testing.assert_allclose(merged["estimate_x"], merged["estimate_y"], rtol=1e-9)
    np.testing.assert_allclose(merged["se_x"], merged["se_y"], rtol=1e-6, atol=1e-12)
