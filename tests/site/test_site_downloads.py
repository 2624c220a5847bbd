"""The areas' downloads formatted by DuckDB (AreaDownloads) against the reference written cell by
cell in Python (area_tables + area_csv + area_xlsx): the same CSV bytes, the same workbook cells;
and the pages built in several processes equal those built in one."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from basismonitor.site import build_site
from basismonitor.site.data import load_edition, node_labels
from basismonitor.site.downloads import (
    AreaDownloads,
    area_csv,
    area_csv_nl,
    area_tables,
    area_xlsx,
)


def compare_downloads(edition_dir: Path, out: Path, *, limit: int | None = None) -> int:
    """Write every area's downloads both ways into `out` and assert they agree; the areas done."""
    ed = load_edition(edition_dir)
    labels = node_labels(ed)
    downloads = AreaDownloads(ed, labels, batch=7)
    codes = list(ed.areas["area_code"])[:limit]
    names = dict(zip(ed.areas["area_code"], ed.areas["area_name"], strict=True))
    (out / "new").mkdir(parents=True)
    (out / "ref").mkdir()
    for i in range(0, len(codes), downloads.batch):
        downloads.load(codes[i : i + downloads.batch])
        for code in codes[i : i + downloads.batch]:
            downloads.write(out / "new", code, names[code])
            tables = area_tables(ed, code, labels)
            (out / "ref" / f"{code}.csv").write_bytes(area_csv(tables))
            (out / "ref" / f"{code}.nl.csv").write_bytes(area_csv_nl(tables))
            area_xlsx(out / "ref" / f"{code}.xlsx", tables, edition=ed.edition, area_code=code,
                      area_name=names[code], gemeente_name=ed.gemeente_name,
                      units=downloads.units)
            for suffix in (".csv", ".nl.csv"):
                new_csv = (out / "new" / f"{code}{suffix}").read_bytes()
                ref_csv = (out / "ref" / f"{code}{suffix}").read_bytes()
                if new_csv != ref_csv:
                    for a, b in zip(new_csv.splitlines(), ref_csv.splitlines(), strict=False):
                        assert a == b, f"{code}{suffix} differs"
                    assert len(new_csv) == len(ref_csv), f"{code}{suffix} differs in length"
            with zipfile.ZipFile(out / "new" / f"{code}.xlsx") as a, \
                    zipfile.ZipFile(out / "ref" / f"{code}.xlsx") as b:
                assert a.namelist() == b.namelist()
                for part in a.namelist():
                    assert a.read(part) == b.read(part), f"{code}.xlsx: {part} differs"
    return len(codes)


def test_duckdb_formatted_downloads_equal_the_python_reference(tiny_edition, tmp_path):
    assert compare_downloads(tiny_edition, tmp_path) >= 3


def test_a_page_of_an_area_not_in_the_loaded_batch_still_gets_its_downloads(tiny_edition,
                                                                            tmp_path):
    ed = load_edition(tiny_edition)
    downloads = AreaDownloads(ed, node_labels(ed))
    first, second = list(ed.areas["area_code"])[:2]
    downloads.load([first])
    downloads.write(tmp_path, second, "naam")
    assert (tmp_path / f"{second}.csv").read_text(encoding="utf-8").count(second) > 10


def test_pages_built_in_processes_equal_pages_built_in_one(tiny_edition, tmp_path):
    import shutil

    other = tmp_path / "2024"
    shutil.copytree(tiny_edition, other)
    one = build_site(tiny_edition, progress=lambda _: None, workers=1)
    two = build_site(other, progress=lambda _: None, workers=2)
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for f in files:
        assert (one / f).read_bytes() == (two / f).read_bytes(), f


@pytest.mark.parametrize("workers", ["0", "x"])
def test_site_workers_setting_is_checked(monkeypatch, workers):
    from basismonitor.site.build import site_workers

    monkeypatch.setenv("BASISMONITOR_SITE_WORKERS", workers)
    if workers == "0":
        assert site_workers(1000) == 1
    else:
        with pytest.raises(ValueError, match="BASISMONITOR_SITE_WORKERS"):
            site_workers(1000)
