"""Issue 19, point 8: a figure whose survey weighting did not converge is marked on its page."""

from __future__ import annotations

import pandas as pd

from basismonitor.site import build_site
from basismonitor.site.build import WEIGHTING_NOTE

AREA = "WK000103"


def test_non_converged_weighting_is_noted_on_the_area_page(edition_factory, tmp_path):
    edition = edition_factory(tmp_path / "exports" / "2024")
    for mart in ("mart_compass_status", "mart_compass_development"):
        frame = pd.read_parquet(edition / f"{mart}.parquet")
        flagged = (
            (frame["area_code"] == AREA)
            & (frame["node_level"] == "indicator")
            & ~frame["suppressed"].astype(bool)
        )
        first = frame.index[flagged][0]
        frame["weighting_converged"] = pd.array([None] * len(frame), dtype="boolean")
        frame.loc[first, "weighting_converged"] = False
        frame.loc[frame.index != first, "weighting_converged"] = True
        frame.to_parquet(edition / f"{mart}.parquet", index=False)
    site = build_site(edition, progress=lambda _: None)
    page = (site / "area" / f"{AREA}.html").read_text(encoding="utf-8")
    assert page.count(WEIGHTING_NOTE) == 2  # once in each compass's table
    other = (site / "area" / "WK000100.html").read_text(encoding="utf-8")
    assert WEIGHTING_NOTE not in other
