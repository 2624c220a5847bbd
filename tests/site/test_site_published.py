"""The site of a real small edition: refreshed end to end and published by the pipeline."""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def test_every_compass_area_gets_a_page_charts_and_downloads(built_site, refreshed):
    site = built_site / "site"
    areas = pd.read_parquet(built_site / "dim_area.parquet")
    status = pd.read_parquet(built_site / "mart_compass_status.parquet")
    current = areas[areas["is_current_edition"] & areas["is_compass_area"]]
    codes = sorted(set(current["area_code"]) & set(status["area_code"]))
    assert codes
    pages = sorted(p.stem for p in (site / "area").glob("*.html"))
    assert pages == codes
    index = (site / "index.html").read_text(encoding="utf-8")
    for code in codes:
        assert f'href="area/{code}.html"' in index
        for suffix in (
            ".csv",
            ".xlsx",
            "-status.svg",
            "-status.png",
            "-development.svg",
            "-development.png",
        ):
            assert (site / "area" / f"{code}{suffix}").stat().st_size > 0
    nodes = status[status["area_code"] == codes[0]]
    html = (site / "area" / f"{codes[0]}.html").read_text(encoding="utf-8")
    assert html.count('class="cell"') == len(nodes) + len(
        pd.read_parquet(built_site / "mart_compass_development.parquet").query(
            "area_code == @codes[0]"
        )
    )


def test_rebuilding_reproduces_the_published_edition(built_site, refreshed):
    """Publishing builds the site; rebuilding it on a copy changes no byte of the edition."""
    source = refreshed.exports / str(refreshed.edition)
    assert (source / "site" / "index.html").exists()
    for path in sorted(source.rglob("*")):
        if path.is_file():
            copy = built_site / path.relative_to(source)
            assert (
                hashlib.sha256(copy.read_bytes()).digest()
                == hashlib.sha256(path.read_bytes()).digest()
            ), path.name
    extra = {p.relative_to(built_site) for p in built_site.rglob("*")} - {
        p.relative_to(source) for p in source.rglob("*")
    }
    assert extra == set()


def test_suppressed_nodes_are_hatched_with_their_reason_and_blank_in_downloads(built_site):
    site = built_site / "site"
    status = pd.read_parquet(built_site / "mart_compass_status.parquet")
    suppressed = status[status["suppressed"] & (status["node_level"] == "indicator")]
    if suppressed.empty:
        pytest.skip("the small edition suppresses nothing")
    for row in suppressed.itertuples():
        page = (site / "area" / f"{row.area_code}.html").read_text(encoding="utf-8")
        tr = re.search(rf'<tr id="s-indicator-{row.node_code}".*?</tr>', page).group(0)
        assert "niet getoond" in tr and "k-hatch" in tr
        cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', tr)
        assert cells[0] == "–"  # the area's value
        cell = re.search(
            rf'<path class="cell"[^>]*data-row="s-indicator-{row.node_code}"[^>]*>', page
        ).group(0)
        assert 'fill="url(#s-hatch)"' in cell and "niet getoond" in cell
        csv = pd.read_csv(site / "area" / f"{row.area_code}.csv")
        mine = csv[(csv["tabel"] == "mart_compass_status") & (csv["node_code"] == row.node_code)]
        assert mine["value"].isna().all() and mine["index_value"].isna().all()
        assert mine["suppression_reason"].notna().all()


def test_charts_are_valid_and_the_manifest_reports_the_size(built_site):
    site = built_site / "site"
    ns = "{http://www.w3.org/2000/svg}"
    for svg in sorted((site / "area").glob("*.svg")):
        root = ET.parse(svg).getroot()
        assert root.find(f"{ns}title").text and root.find(f"{ns}desc").text
    for png in sorted((site / "area").glob("*.png")):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    manifest = json.loads((site / "manifest.json").read_text())
    total = sum(
        p.stat().st_size for p in site.rglob("*")
        if p.is_file() and p.name not in ("manifest.json", ".build-state.json")
    )
    assert manifest["total_bytes"] == total
    assert max(f["bytes"] for f in manifest["files"] if f["file"].endswith(".html")) < 200_000


def test_published_site_in_the_browser(built_site, chromium, artifacts):
    site = built_site / "site"
    for name, page in (
        ("index", site / "index.html"),
        ("area", sorted((site / "area").glob("*.html"))[0]),
    ):
        result = chromium.open(page.as_uri())
        assert result.console_errors == [], result.console_errors
        assert all(u.startswith(("file://", "data:")) for u in result.requests), result.requests
        drawn = chromium.evaluate(
            "[...document.querySelectorAll('svg.map, svg.compass')]"
            ".filter(s => s.getBoundingClientRect().width > 200).length"
        )
        assert drawn == (1 if name == "index" else 2)
        chromium.screenshot(artifacts / f"{name}.png")
    chromium.evaluate("""(() => {
        const cell = document.querySelector('svg.compass .cell[data-row^="s-indicator-"]');
        cell.scrollIntoView({block: 'center'});
        cell.focus();
    })()""")
    assert chromium.evaluate("document.getElementById('tip').hidden") is False
    chromium.screenshot(artifacts / "area-tooltip.png", full_page=False)
