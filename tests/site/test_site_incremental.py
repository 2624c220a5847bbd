"""The site as its own stage rebuilds only what changed (issue 22.4): an area whose figures did
not change keeps its files (linked from the previous site), an unchanged edition is not rebuilt
at all, and the result is byte for byte what a full build writes."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd

from basismonitor.site import build_site
from basismonitor.site.build import STATE_FILE

CHANGED, OTHER = "WK000102", "WK000100"


def _hashes(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


def _inodes(site: Path, code: str) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in (site / "area").glob(f"{code}*")}


def _change_one_area(edition: Path) -> None:
    """An earlier year's figure of one area corrected (its trend and downloads change; no other
    area's page shows it)."""
    path = edition / "fct_indicator_value.parquet"
    facts = pd.read_parquet(path)
    row = (facts["area_code"] == CHANGED) & (facts["period"] == 2019) \
        & (facts["indicator_code"] == "inwoners")
    assert row.sum() == 1
    facts.loc[row, "value"] = facts.loc[row, "value"] + 123
    facts.to_parquet(path, index=False)


def test_only_the_changed_area_is_rebuilt_and_the_bytes_match_a_full_build(tiny_edition,
                                                                            tmp_path):
    messages: list[str] = []
    site = build_site(tiny_edition, progress=lambda _: None, workers=1)
    changed_before, other_before = _inodes(site, CHANGED), _inodes(site, OTHER)
    assert (site / STATE_FILE).is_file()

    _change_one_area(tiny_edition)
    site = build_site(tiny_edition, progress=messages.append, workers=1)
    assert any("1 of 4 areas changed" in m and "3 reused" in m for m in messages), messages
    assert _inodes(site, OTHER) == other_before  # the same files, linked
    now = _inodes(site, CHANGED)
    assert now.keys() == changed_before.keys()
    assert all(now[name] != changed_before[name] for name in now)  # written again

    full = tmp_path / "full" / "2024"
    shutil.copytree(tiny_edition, full, ignore=shutil.ignore_patterns("site"))
    build_site(full, progress=lambda _: None, workers=1, full=True)
    assert _hashes(site) == _hashes(full / "site")


def test_an_unchanged_edition_is_not_rebuilt(tiny_edition):
    site = build_site(tiny_edition, progress=lambda _: None, workers=1)
    index = (site / "index.html").stat().st_ino
    messages: list[str] = []
    build_site(tiny_edition, progress=messages.append, workers=1)
    assert any("up to date" in m for m in messages), messages
    assert (site / "index.html").stat().st_ino == index
    # a full build writes everything again, to the same bytes
    before = _hashes(site)
    build_site(tiny_edition, progress=lambda _: None, workers=1, full=True)
    assert (site / "index.html").stat().st_ino != index
    assert _hashes(site) == before


def test_a_changed_catalogue_rebuilds_every_area(tiny_edition):
    """What every page shares (here an indicator's label) changes every area's key."""
    site = build_site(tiny_edition, progress=lambda _: None, workers=1)
    before = {code: _inodes(site, code) for code in (CHANGED, OTHER)}
    path = tiny_edition / "dim_indicator.parquet"
    catalogue = pd.read_parquet(path)
    catalogue.loc[catalogue["indicator_code"] == "inwoners", "label_nl"] = "Aantal inwoners"
    catalogue.to_parquet(path, index=False)
    messages: list[str] = []
    build_site(tiny_edition, progress=messages.append, workers=1)
    assert any("4 of 4 areas changed" in m for m in messages), messages
    for code, inodes in before.items():
        assert all(_inodes(site, code)[n] != i for n, i in inodes.items()), code
    assert "Aantal inwoners" in (site / "area" / f"{OTHER}.html").read_text(encoding="utf-8")
