"""The site as its readers open it (issue 19): a desktop, two phones, paper and a keyboard.

Real headless Chromium on the tiny edition made in the test; skipped where Chromium is absent.
Printing uses Chromium's own `--print-to-pdf` and reads the PDF back with poppler's `pdftotext`
(skipped where that is absent). Screenshots go to test-artifacts/site/.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844), "small-phone": (360, 740)}
STATUS_HEADERS = (
    "Onderdeel",
    "Wijk",
    "Stad",
    "95%-interval",
    "Trend",
    "Index",
    "Klasse",
    "Significant",
    "Opmerking",
)
DEVELOPMENT_HEADERS = ("Verandering wijk", "Verandering stad")


@pytest.fixture
def viewport(chromium):
    """Set the window size (phones as mobile devices); the desktop size is restored after."""

    def set_size(name: str) -> None:
        width, height = VIEWPORTS[name]
        chromium.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=name != "desktop",
        )

    yield set_size
    chromium.call(
        "Emulation.setDeviceMetricsOverride",
        width=1280,
        height=900,
        deviceScaleFactor=1,
        mobile=False,
    )


def _pages(site):
    return {"index": site / "index.html", "area": sorted((site / "area").glob("*.html"))[0]}


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_no_page_scrolls_sideways(tiny_built_site, chromium, viewport, artifacts, size):
    site = tiny_built_site / "site"
    viewport(size)
    for name, page in _pages(site).items():
        result = chromium.open(page.as_uri())
        assert result.console_errors == [], result.console_errors
        # the real editions' longest texts (the tiny one has short ones): values with units,
        # long labels and reasons
        chromium.evaluate("""[...document.querySelectorAll('table.ind tbody tr')].forEach(r => {
            r.cells[0].firstChild.textContent = 'Aandeel inwoners met een uitkering '
                + 'naast een baan in deeltijd ';
            for (const c of [...r.cells].slice(1, 3)) { c.textContent = '8.457 per km²'; }
            r.cells[r.cells.length - 1].textContent = 'afgeleid van een verborgen cijfer '
                + '(minder dan 50 respondenten)';
        });
        [...document.querySelectorAll('#areas tbody tr')].forEach(r => {
            r.cells[0].querySelector('a').textContent = 'Glimmen-Onnen';
            r.cells[1].textContent = '20.690';
            for (const c of [r.cells[2], r.cells[3]]) {
                c.querySelector('.badge').lastChild.textContent = '130,5 veel slechter';
            }
        })""")
        widths = chromium.evaluate(
            "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,"
            " body: document.body.scrollWidth})"
        )
        assert widths["scroll"] <= widths["inner"], f"{name} at {size}: {widths}"
        # the overview's list shows all its columns (it scrolls inside its box otherwise)
        right = chromium.evaluate(
            "document.getElementById('areas') ? "
            "document.getElementById('areas').getBoundingClientRect().right : 0"
        )
        assert right <= widths["inner"], f"{name} at {size}: the list is {right} px wide"
        chromium.screenshot(artifacts / f"readers-{name}-{size}.png")


def test_on_a_phone_every_column_of_a_row_shows_with_its_name(tiny_built_site, chromium, viewport):
    viewport("small-phone")
    chromium.open(_pages(tiny_built_site / "site")["area"].as_uri())
    state = chromium.evaluate("""(() => {
        const row = [...document.querySelectorAll('#status-table tbody tr.lv-indicator')]
            .find(r => r.querySelector('td.num').textContent.trim() !== '');
        const cells = [...row.querySelectorAll('td')].filter(td => td.textContent.trim());
        return {
            labels: cells.map(td => getComputedStyle(td, '::before').content),
            inside: cells.every(td => td.getBoundingClientRect().right <= window.innerWidth),
            visible: cells.every(td => td.getBoundingClientRect().width > 0),
        };
    })()""")
    assert state["inside"] and state["visible"]
    assert '"Wijk"' in state["labels"] and '"Index"' in state["labels"]
    assert '"Klasse"' in state["labels"]


def test_ring_numbers_are_readable_on_desktop_and_phone(tiny_built_site, chromium, viewport):
    page = _pages(tiny_built_site / "site")["area"]
    sizes = {}
    for size in ("desktop", "small-phone"):
        viewport(size)
        chromium.open(page.as_uri())
        sizes[size] = chromium.evaluate("""(() => {
            const shown = [...document.querySelectorAll(
                'svg.compass text.n-quadrant, svg.compass text.n-theme')]
                .filter(t => getComputedStyle(t).display !== 'none');
            return shown.map(t => t.getBoundingClientRect().height);
        })()""")
    # a digit's box is ~1.15 x its font size: 12 px on the desktop, 11 px on a 360 px phone
    assert sizes["desktop"] and min(sizes["desktop"]) >= 13.5, sizes["desktop"]
    assert sizes["small-phone"] and min(sizes["small-phone"]) >= 12.5, sizes["small-phone"]


def _tab(chromium) -> dict:
    for kind in ("rawKeyDown", "keyUp"):
        chromium.call(
            "Input.dispatchKeyEvent",
            type=kind,
            key="Tab",
            code="Tab",
            windowsVirtualKeyCode=9,
            nativeVirtualKeyCode=9,
        )
    return chromium.evaluate("""(() => {
        const el = document.activeElement;
        return {tag: el.tagName, cls: el.getAttribute('class') || '', id: el.id,
                table: !!(el.querySelector && el.querySelector('table.ind'))
                       || !!el.closest('table.ind')};
    })()""")


def _key(chromium, key: str, code: int) -> str:
    for kind in ("rawKeyDown", "keyUp"):
        chromium.call(
            "Input.dispatchKeyEvent",
            type=kind,
            key=key,
            code=key,
            windowsVirtualKeyCode=code,
            nativeVirtualKeyCode=code,
        )
    return chromium.evaluate("document.activeElement.getAttribute('data-row') || ''")


def test_tab_reaches_the_tables_within_ten_stops_and_arrows_walk_the_compass(
    tiny_built_site, chromium, viewport
):
    viewport("desktop")
    chromium.open(_pages(tiny_built_site / "site")["area"].as_uri())
    chromium.evaluate("document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(10):
        stops.append(_tab(chromium))
        if stops[-1]["table"]:
            break
    assert stops[-1]["table"], stops
    compass_stops = [s for s in stops if "cell" in s["cls"]]
    assert len(compass_stops) == 2, stops  # one stop per compass

    # inside a compass: arrows move between cells; the tab stop moves along (roving tabindex)
    chromium.evaluate("document.querySelector('svg.compass .cell[tabindex=\"0\"]').focus()")
    start = chromium.evaluate("document.activeElement.getAttribute('data-row')")
    assert start.endswith("centre-centrum")
    up = _key(chromium, "ArrowUp", 38)
    assert up.startswith("s-quadrant-")
    right = _key(chromium, "ArrowRight", 39)
    assert right.startswith("s-quadrant-") and right != up
    outward = _key(chromium, "ArrowUp", 38)
    assert outward.startswith("s-theme-")
    assert _key(chromium, "ArrowDown", 40).startswith("s-quadrant-")
    assert _key(chromium, "Home", 36) == start
    tabbable = chromium.evaluate(
        "[...document.querySelectorAll('svg.compass')].map("
        "s => s.querySelectorAll('.cell[tabindex=\"0\"]').length)"
    )
    assert tabbable == [1, 1]
    tip = chromium.evaluate("document.getElementById('tip').hidden")
    assert tip is False  # the focused cell shows its figures


def test_every_area_has_a_name_or_a_numbered_marker_on_the_map(tiny_built_site, chromium):
    chromium.open((tiny_built_site / "site" / "index.html").as_uri())
    state = chromium.evaluate("""({
        areas: document.querySelectorAll('svg.map a.area').length,
        named: [...document.querySelectorAll('svg.map .map-labels text')].map(t => t.dataset.code),
        numbered: [...document.querySelectorAll('svg.map .map-num g')].map(g => g.dataset.code),
        key: document.querySelectorAll('ol.map-key li').length,
    })""")
    assert len(set(state["named"]) | set(state["numbered"])) == state["areas"]
    assert state["key"] == len(state["numbered"])


def test_printing_an_area_page_keeps_every_column(tiny_built_site, tmp_path):
    # the Chromium lookup of tests/site/conftest.py; not imported: in a whole-suite run the
    # module name `conftest` may stand for another folder's conftest
    binary = os.environ.get("CHROMIUM") or next(
        (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
        None)
    pdftotext = shutil.which("pdftotext")
    if binary is None or pdftotext is None:
        pytest.skip("needs Chromium and poppler-utils' pdftotext (apt-get install poppler-utils)")
    page = _pages(tiny_built_site / "site")["area"]
    pdf = tmp_path / "area.pdf"
    subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--print-to-pdf={pdf}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for header in STATUS_HEADERS + DEVELOPMENT_HEADERS:
        assert header in text, f"the printed page lost the column {header!r}"
    # an indicator row is printed whole: its label, figures and class on one line (counts such
    # as Inwoners are no longer status rows, issue 18: take the first share's row)
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("Aandeel"))
    assert any(c.isdigit() for c in line) and any(
        k in line for k in ("gemiddeld", "minder", "meer", "beter", "slechter", "niet getoond")), line


def test_the_table_headers_stick_while_scrolling_on_a_desktop(tiny_built_site, chromium, viewport):
    viewport("desktop")
    chromium.call(  # a low window, so the tiny table is taller than it
        "Emulation.setDeviceMetricsOverride",
        width=1366,
        height=400,
        deviceScaleFactor=1,
        mobile=False,
    )
    chromium.open(_pages(tiny_built_site / "site")["area"].as_uri())
    top = chromium.evaluate("""(() => {
        const table = document.getElementById('status-table');
        const rows = table.tBodies[0].rows;
        rows[rows.length - 1].scrollIntoView({block: 'end'});
        return {head: table.tHead.rows[0].cells[0].getBoundingClientRect().top,
                table: table.getBoundingClientRect().top};
    })()""")
    assert top["table"] < -20 and abs(top["head"]) < 1, top  # the table scrolled, its head stayed


def test_the_overview_list_stays_inside_its_card(edition_factory, tmp_path, chromium, viewport):
    """With more areas than the list box shows, the list scrolls inside its card on a desktop
    (it once spilled over the sections below when the tables lost their scroll boxes)."""
    import pandas as pd

    from basismonitor.site import build_site

    edition = edition_factory(tmp_path / "2024")
    profile = pd.read_parquet(edition / "mart_area_profile.parquet")
    build_site(edition, progress=lambda _: None)
    viewport("desktop")
    chromium.open((edition / "site" / "index.html").as_uri())
    state = chromium.evaluate("""(() => {
        const box = document.querySelector('.list-card .scroll');
        for (let i = 0; i < 40; i++) {  // a long list: copies of the rows
            const rows = document.querySelector('#areas tbody');
            rows.appendChild(rows.rows[0].cloneNode(true));
        }
        const card = document.querySelector('.list-card').getBoundingClientRect();
        const clipped = getComputedStyle(box).overflowY !== 'visible';
        return {scrolls: box.scrollHeight > box.clientHeight && clipped,
                inside: box.getBoundingClientRect().bottom <= card.bottom + 1};
    })()""")
    assert len(profile) >= 3 and state == {"scrolls": True, "inside": True}
