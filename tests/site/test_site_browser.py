"""The site in real headless Chromium, opened from disk (file://), with screenshots as artefacts.

These run on the tiny edition made in the test (fast, independent of the refresh);
test_site_published.py opens the site of the refreshed edition too. Screenshots go to
test-artifacts/site/ (git-ignored). Skipped when no Chromium binary is found.
"""

from __future__ import annotations

import json


def _only_local(result) -> None:
    assert result.console_errors == [], result.console_errors
    remote = [u for u in result.requests if not u.startswith(("file://", "data:"))]
    assert remote == [], f"the page asked the network for {remote}"


def test_overview_opens_from_disk_with_map_list_and_search(tiny_built_site, chromium, artifacts):
    site = tiny_built_site / "site"
    result = chromium.open((site / "index.html").as_uri())
    _only_local(result)
    areas = len(list((site / "area").glob("*.html")))
    state = chromium.evaluate("""({
        lang: document.documentElement.lang,
        shapes: document.querySelectorAll('svg.map a.area path').length,
        rows: document.querySelectorAll('#areas tbody tr').length,
        mapTitle: document.querySelector('svg.map title').textContent,
        css: getComputedStyle(document.querySelector('header.top')).backgroundColor,
        mapWidth: document.querySelector('svg.map').getBoundingClientRect().width,
    })""")
    assert state["lang"] == "nl"
    assert state["shapes"] == state["rows"] == areas
    assert state["mapTitle"].startswith("Kaart")
    assert state["css"] == "rgb(31, 78, 121)"  # the local stylesheet loaded
    assert state["mapWidth"] > 300
    chromium.screenshot(artifacts / "tiny-index.png")

    first = chromium.evaluate("document.querySelector('#areas tbody tr').dataset.code")
    name = chromium.evaluate("document.querySelector('#areas tbody tr th a').textContent")
    found = chromium.evaluate(f"""(() => {{
        const box = document.getElementById('search');
        box.value = {json.dumps(name.upper())};
        box.dispatchEvent(new Event('input'));
        return {{
            shown: [...document.querySelectorAll('#areas tbody tr')].filter(r => !r.hidden)
                .map(r => r.dataset.code),
            dimmed: document.querySelectorAll('svg.map a.area.dim').length,
            count: document.getElementById('search-count').textContent,
        }};
    }})()""")
    assert first in found["shown"] and len(found["shown"]) < areas
    assert found["dimmed"] == areas - len(found["shown"])
    assert found["count"].startswith(f"{len(found['shown'])} van {areas}")
    by_code = chromium.evaluate(f"""(() => {{
        const box = document.getElementById('search');
        box.value = {json.dumps(first.lower())};
        box.dispatchEvent(new Event('input'));
        return [...document.querySelectorAll('#areas tbody tr')].filter(r => !r.hidden).length;
    }})()""")
    assert by_code == 1
    chromium.screenshot(artifacts / "tiny-index-search.png", full_page=False)


def test_area_page_shows_compasses_tables_and_tooltips(tiny_built_site, chromium, artifacts):
    site = tiny_built_site / "site"
    page = sorted((site / "area").glob("*.html"))[0]
    result = chromium.open(page.as_uri())
    _only_local(result)
    state = chromium.evaluate("""({
        compasses: document.querySelectorAll('svg.compass').length,
        cells: document.querySelectorAll('svg.compass .cell').length,
        titled: [...document.querySelectorAll('svg.compass')].every(
            s => s.querySelector('title') && s.querySelector('desc')),
        labelled: [...document.querySelectorAll('svg.compass .cell')].every(
            c => c.getAttribute('aria-label') && c.tabIndex >= -1)
            && [...document.querySelectorAll('svg.compass')].every(
            s => s.querySelectorAll('.cell[tabindex="0"]').length === 1),
        rows: document.querySelectorAll('#status-table tbody tr').length,
        devRows: document.querySelectorAll('#development-table tbody tr').length,
        sparks: document.querySelectorAll('#status-table svg.spark').length,
        drawn: document.querySelector('svg.compass').getBoundingClientRect().width,
        similar: document.querySelectorAll('#similar-h ~ div table tbody tr').length,
    })""")
    assert state["compasses"] == 2 and state["titled"] and state["labelled"]
    assert state["cells"] == state["rows"] + state["devRows"]
    assert state["sparks"] > 0 and state["drawn"] > 300 and state["similar"] >= 2
    chromium.screenshot(artifacts / "tiny-area.png")

    # keyboard: focus a cell -> the tooltip shows the indicator's figures
    tip = chromium.evaluate("""(() => {
        const cell = [...document.querySelectorAll('svg.compass .cell')]
            .find(c => c.dataset.row.startsWith('s-indicator-'));
        cell.scrollIntoView({block: 'center'});
        cell.focus();
        const tip = document.getElementById('tip');
        const row = document.getElementById(cell.dataset.row);
        return {hidden: tip.hidden, text: tip.innerText,
                label: row.cells[0].dataset.label, highlighted: row.classList.contains('hl')};
    })()""")
    assert not tip["hidden"] and tip["label"] in tip["text"]
    assert "Wijk" in tip["text"] and "Stad" in tip["text"] and tip["highlighted"]
    chromium.screenshot(artifacts / "tiny-area-tooltip.png", full_page=False)
    hidden = chromium.evaluate("""(() => {
        document.dispatchEvent(new KeyboardEvent('keydown', {key: 'Escape'}));
        return document.getElementById('tip').hidden;
    })()""")
    assert hidden

    # mouse: hovering a cell shows its tooltip near the pointer
    box = chromium.evaluate("""(() => {
        const cell = document.querySelector('svg.compass .cell[data-row^="d-quadrant-"]');
        cell.scrollIntoView({block: 'center'});
        const r = cell.getBoundingClientRect();
        return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    })()""")
    chromium.call("Input.dispatchMouseEvent", type="mouseMoved", x=box["x"], y=box["y"])
    shown = chromium.evaluate(
        "document.getElementById('tip').hidden === false && "
        "document.getElementById('tip').innerText"
    )
    assert shown and "Index" in shown


def test_standalone_chart_renders_in_the_browser(tiny_built_site, chromium, artifacts):
    svg = sorted((tiny_built_site / "site" / "area").glob("*-status.svg"))[0]
    result = chromium.open(svg.as_uri())
    _only_local(result)
    paths = chromium.evaluate("document.querySelectorAll('path').length")
    assert paths > 10
    chromium.screenshot(artifacts / "tiny-status-compass-svg.png", full_page=False)
