"""Building the site from a small published edition made in the test (no refresh needed)."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from basismonitor.site import build_site, register, run

AREAS = ("WK000100", "WK000101", "WK000102", "WK000103")
SUFFIXES = (
    ".html",
    ".csv",
    ".nl.csv",
    ".xlsx",
    "-status.svg",
    "-status.png",
    "-development.svg",
    "-development.png",
)


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory, edition_factory) -> Path:
    """One build of the tiny edition shared by the tests that only read it."""
    edition = edition_factory(tmp_path_factory.mktemp("tiny") / "2024")
    return build_site(edition, progress=lambda _: None)


def _hashes(folder: Path, *, skip: str = "site") -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != skip
    }


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []
        self.ids: set[str] = set()
        self.lang = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.urls.append(attrs[name])


def _all_text(path: Path) -> str:
    """A file's text; an .xlsx's XML parts joined (to search for leaked numbers)."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as archive:
            return "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    if path.suffix == ".png":
        return ""
    return path.read_text(encoding="utf-8")


def test_site_is_built_into_the_edition_folder_and_nothing_else_changes(tiny_edition):
    before = _hashes(tiny_edition)
    site = build_site(tiny_edition, progress=lambda _: None)
    assert site == tiny_edition / "site"
    assert (site / "index.html").is_file()
    assert _hashes(tiny_edition) == before
    assert sorted(p.name for p in tiny_edition.iterdir() if p.name.startswith(".")) == []
    for code in AREAS:
        for suffix in SUFFIXES:
            assert (site / "area" / f"{code}{suffix}").is_file(), f"{code}{suffix}"
    assert not (site / "area" / "WK000099.html").exists()  # an older division's area
    manifest = json.loads((site / "manifest.json").read_text())
    listed = {f["file"]: f for f in manifest["files"]}
    on_disk = {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"manifest.json", ".build-state.json"}
    for name, entry in listed.items():
        data = (site / name).read_bytes()
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert manifest["edition"] == 2024 and manifest["areas"] == 4
    assert manifest["png"]["rendered"] is True and "resvg" in manifest["png"]["renderer"]


def test_rebuilding_gives_the_same_bytes(tiny_edition, tmp_path):
    other = tmp_path / "copy" / "2024"
    shutil.copytree(tiny_edition, other)
    build_site(tiny_edition, progress=lambda _: None)
    build_site(other, progress=lambda _: None)
    build_site(other, progress=lambda _: None)  # over an existing site
    assert _hashes(tiny_edition / "site", skip="") == _hashes(other / "site", skip="")


def test_pages_are_dutch_local_and_every_link_resolves(tiny_site):
    site = tiny_site
    pages = [site / "index.html", *sorted((site / "area").glob("*.html"))]
    for page in pages:
        html = page.read_text(encoding="utf-8")
        parser = Links()
        parser.feed(html)
        assert parser.lang == "nl", page
        assert "fetch(" not in html and '<script src="http' not in html
        for url in parser.urls:
            assert not re.match(r"^(https?:)?//", url), f"{page.name}: external {url}"
            if url.startswith(("data:", "#")):
                if url.startswith("#"):
                    assert url[1:] in parser.ids, f"{page.name}: anchor {url}"
                continue
            target = (page.parent / url).resolve()
            assert target.exists(), f"{page.name}: {url} does not exist"
    js = (site / "static" / "site.js").read_text()
    assert "fetch(" not in js and "XMLHttpRequest" not in js and "http" not in js
    css = (site / "static" / "site.css").read_text()
    assert "@import" not in css and "url(http" not in css and "@font-face" not in css


def test_area_page_shows_both_compasses_tables_trend_and_similar_areas(tiny_site):
    site = tiny_site
    html = (site / "area" / "WK000100.html").read_text(encoding="utf-8")
    assert html.count('<svg class="compass"') == 2
    assert html.count('class="cell"') == 2 * (
        1 + 4 + 5 + 7
    )  # centre, quadrants, themes, indicators
    assert '<title id="s-title">' in html and '<desc id="d-desc">' in html
    assert 'id="status-table"' in html and 'id="development-table"' in html
    for key in (
        "s-indicator-tevreden",
        "s-theme-wonen",
        "s-quadrant-fysiek",
        "s-centre-centrum",
        "d-indicator-misdrijven",
    ):
        assert f'<tr id="{key}"' in html and f'data-row="{key}"' in html
    assert html.count('<svg class="spark"') == 7
    assert "Vergelijkbare wijken" in html and 'href="WK000101.html"' in html
    assert "indicatoren van samenstelling" in html  # the method is stated on the page
    for suffix in SUFFIXES[1:]:
        assert f'href="WK000100{suffix}"' in html
    index = (site / "index.html").read_text(encoding="utf-8")
    assert index.count('class="area"') == 4 and index.count("<tr data-code=") == 4
    assert 'data-search="wk000102 zuid-oost een stadsdeel zuid"' in index  # accents folded
    assert 'fill-rule="evenodd"' in index


def test_nothing_the_marts_suppress_reaches_a_page_chart_or_download(tiny_site, leaks):
    site = tiny_site
    page = (site / "area" / "WK000101.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="s-indicator-tevreden".*?</tr>', page).group(0)
    assert "niet getoond" in row and "minder dan 50 respondenten" in row
    assert "42,4" not in row and "151,3" not in row and "31,0" not in row
    forbidden = {  # the leaked values as a page (Dutch) and as a download (raw) would show them
        "WK000101": [
            "42,4%",
            "151,3",
            str(leaks["status_value"]),
            str(leaks["status_index"]),
            "0.31",
            "0.53",
        ],
        "WK000102": ["3,46", str(leaks["crosscheck_value"])],
        "WK000100": ["-5,6", str(leaks["development_change"])],
    }
    for code, needles in forbidden.items():
        for path in sorted((site / "area").glob(f"{code}*")):
            text = _all_text(path)
            for needle in needles:
                assert needle not in text, f"{needle} leaked into {path.name}"
    everywhere = "".join(_all_text(p) for p in site.rglob("*") if p.is_file())
    assert "0.4242424" not in everywhere and "151,3" not in everywhere
    # the cross-check: the mart shows cohesie for WK000102, its published fact is suppressed
    page = (site / "area" / "WK000102.html").read_text(encoding="utf-8")
    row = re.search(r'<tr id="s-indicator-cohesie".*?</tr>', page).group(0)
    assert "niet getoond" in row
    assert 'aria-label="Sociale samenhang: niet getoond' in page


def test_downloads_hold_the_areas_rows_with_suppression(tiny_site):
    site = tiny_site
    csv = pd.read_csv(site / "area" / "WK000101.csv")
    assert set(csv["tabel"]) == {
        "mart_compass_status",
        "mart_compass_development",
        "fct_indicator_value",
    }
    assert set(csv["area_code"]) == {"WK000101"}
    status = csv[csv["tabel"] == "mart_compass_status"]
    assert len(status) == 17
    hidden = status[status["node_code"] == "tevreden"].iloc[0]
    assert bool(hidden["suppressed"]) and hidden["suppression_reason"] == "n below 50"
    assert pd.isna(hidden["value"]) and pd.isna(hidden["index_value"]) and pd.isna(hidden["ci_low"])
    assert pd.isna(hidden["class"]) and pd.isna(hidden["n_unweighted"])
    assert hidden["city_value"] == pytest.approx(0.71)  # the city's figure is not suppressed
    facts = csv[csv["tabel"] == "fct_indicator_value"]
    assert facts["period"].min() == 2016 and facts["period"].max() == 2024
    assert "load_ids" not in csv.columns and "respondent_id" not in csv.columns
    import openpyxl

    book = openpyxl.load_workbook(site / "area" / "WK000101.xlsx", read_only=True)
    assert book.sheetnames == ["toelichting", "status", "ontwikkeling", "cijfers"]
    sheet = list(book["status"].iter_rows(values_only=True))
    header = sheet[0]  # Dutch heads (basismonitor.publish.columns_nl), ja/nee, Dutch reasons
    row = next(r for r in sheet[1:] if r[header.index("Code")] == "tevreden")
    assert row[header.index("Niet getoond")] == "ja" and row[header.index("Waarde")] is None
    assert row[header.index("Index (stad = 100)")] is None
    assert row[header.index("Reden niet getoond")] == "minder dan 50 respondenten"
    dutch = pd.read_csv(site / "area" / "WK000101.nl.csv", sep=";", decimal=",",
                        encoding="utf-8-sig")
    shown = dutch[(dutch["Tabel"] == "mart_compass_status") & (dutch["Code"] == "cijfer")]
    plain = status[status["node_code"] == "cijfer"]
    assert shown["Waarde"].iloc[0] == pytest.approx(plain["value"].iloc[0])  # a number
    hidden_nl = dutch[(dutch["Tabel"] == "mart_compass_status") & (dutch["Code"] == "tevreden")]
    assert hidden_nl["Niet getoond"].iloc[0] == "ja" and pd.isna(hidden_nl["Waarde"].iloc[0])


def test_standalone_charts_are_valid_svg_and_png(tiny_site):
    site = tiny_site
    ns = "{http://www.w3.org/2000/svg}"
    for kind in ("status", "development"):
        root = ET.parse(site / "area" / f"WK000100-{kind}.svg").getroot()
        assert root.tag == f"{ns}svg" and root.get("lang") == "nl"
        assert root.find(f"{ns}title").text and root.find(f"{ns}desc").text
        assert len([p for p in root.iter(f"{ns}path") if p.find(f"{ns}title") is not None]) == 17
        png = (site / "area" / f"WK000100-{kind}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
        assert int.from_bytes(png[16:20], "big") == 900


def test_an_edition_without_a_development_compass(edition_factory, tmp_path):
    edition = edition_factory(tmp_path / "2024", with_development=False)
    site = build_site(edition, progress=lambda _: None)
    html = (site / "area" / "WK000100.html").read_text(encoding="utf-8")
    assert html.count('<svg class="compass"') == 1 and "development-table" not in html
    assert not (site / "area" / "WK000100-development.svg").exists()
    assert (site / "area" / "WK000100-status.png").exists()


def test_missing_tables_fail_clearly(tmp_path):
    from basismonitor.site.data import EditionError

    (tmp_path / "2024").mkdir()
    with pytest.raises(EditionError, match="mart_compass_status.parquet is missing"):
        build_site(tmp_path / "2024", progress=lambda _: None)


def test_cli_builds_the_latest_or_a_named_edition(tiny_edition, capsys):
    parser = argparse.ArgumentParser(prog="basismonitor")
    register(parser.add_subparsers(dest="command", required=True))
    exports = tiny_edition.parent
    args = parser.parse_args(["site", "--exports", str(exports), "--edition", "2024"])
    assert args.func is run
    assert args.func(args) == 0
    assert (tiny_edition / "site" / "index.html").is_file()
    assert str(tiny_edition / "site" / "index.html") in capsys.readouterr().out
    (exports / "latest").symlink_to("2024")
    assert run(parser.parse_args(["site", "--exports", str(exports)])) == 0
    assert run(parser.parse_args(["site", "--exports", str(exports), "--edition", "1999"])) == 2
    assert "not a published edition" in capsys.readouterr().err


def test_map_colours_follow_the_centre_class(tiny_site):
    from basismonitor.site.palette import JUDGED

    site = tiny_site
    index = (site / "index.html").read_text(encoding="utf-8")
    # WK000100's status centre is 'slechter'; WK000103's 'veel beter'
    for code, klass in (("WK000100", "slechter"), ("WK000103", "veel beter")):
        shape = re.search(rf'<a href="area/{code}.html".*?</a>', index).group(0)
        assert f'fill="{JUDGED[klass]}"' in shape and klass in shape


def test_sizes_are_small(tiny_site):
    site = tiny_site
    sizes = {p.name: p.stat().st_size for p in site.rglob("*") if p.is_file()}
    assert sizes["index.html"] < 60_000
    assert max(v for k, v in sizes.items() if k.endswith(".html")) < 120_000
    assert max(v for k, v in sizes.items() if k.endswith(".png")) < 150_000
    assert sum(sizes.values()) < 2_000_000
