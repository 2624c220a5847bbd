"""The site as a stage of its own after publish (issue 22.4), on the small municipality: publish
writes no pages and keeps the previous site, the site stage reuses every page of an unchanged
re-publication, and a failed site build leaves the published data and the previous site as they
were, and says so."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from basismonitor.cli import main
from basismonitor.orchestration import pipeline

pytestmark = pytest.mark.slow


def _tree(folder: Path, *, skip: str | None = None) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file() and (skip is None or p.relative_to(folder).parts[0] != skip)}


def _inodes(site: Path) -> dict[str, int]:
    return {p.name: p.stat().st_ino for p in (site / "area").iterdir()}


def test_a_republication_keeps_the_site_and_the_stage_reuses_every_page(refreshed, publish,
                                                                         tmp_path):
    exports, edition = tmp_path / "exports", refreshed.edition
    publish(exports)
    edition_dir = exports / str(edition)
    assert not (edition_dir / "site").exists()  # publish builds no pages
    pipeline.site(exports, edition, progress=lambda _: None)
    pages, inodes = _tree(edition_dir / "site" / "area"), _inodes(edition_dir / "site")
    assert pages

    # the same warehouse again, forced (unforced, nothing changed, publish writes nothing:
    # tests/publish/test_republish_unchanged.py): a new edition folder, the site moved over
    assert not publish(exports, force=True).unchanged
    assert _tree(edition_dir / "site" / "area") == pages  # the previous site, moved over
    messages: list[str] = []
    pipeline.site(exports, edition, progress=messages.append)
    areas = len(list((edition_dir / "site" / "area").glob("*.html")))
    assert any("up to date" in m or f" 0 of {areas:,} areas changed" in m
               for m in messages), messages
    assert _inodes(edition_dir / "site") == inodes  # not one page written again
    assert _tree(edition_dir / "site" / "area") == pages


def test_a_failed_site_build_leaves_the_data_and_the_previous_site(refreshed, publish, tmp_path,
                                                                   monkeypatch, capsys):
    exports, edition = tmp_path / "exports", refreshed.edition
    publish(exports)
    pipeline.site(exports, edition, progress=lambda _: None)
    edition_dir = exports / str(edition)
    data, site = _tree(edition_dir, skip="site"), _tree(edition_dir / "site")

    monkeypatch.setenv("BASISMONITOR_SITE_WORKERS", "many")  # the build fails (bad setting)
    code = main(["site", "--exports", str(exports), "--edition", str(edition), "--full"])
    assert code == 3
    error = capsys.readouterr().err
    assert "BASISMONITOR_SITE_WORKERS" in error
    assert f"published data in {edition_dir} is intact" in error
    assert "the previous site stays" in error
    assert _tree(edition_dir, skip="site") == data
    assert _tree(edition_dir / "site") == site
    assert not [p.name for p in edition_dir.iterdir() if p.name.startswith(".site")]


def test_publish_command_publishes_then_reports_a_failed_site(refreshed, tmp_path, monkeypatch,
                                                              capsys):
    """`basismonitor publish` runs the site stage after publishing; when only the site fails,
    the edition is published and the exit status (3) and message say so."""
    exports, edition = tmp_path / "exports", refreshed.edition
    monkeypatch.setenv("BASISMONITOR_SITE_WORKERS", "many")
    code = main(["publish", "--warehouse", str(refreshed.warehouse), "--exports", str(exports),
                 "--edition", str(edition)])
    assert code == 3
    assert "is intact and there was no site before" in capsys.readouterr().err
    assert (exports / str(edition) / "mart_compass_status.parquet").is_file()
    assert not (exports / str(edition) / "site").exists()
    monkeypatch.delenv("BASISMONITOR_SITE_WORKERS")
    assert main(["site", "--exports", str(exports), "--edition", str(edition)]) == 0
    assert (exports / str(edition) / "site" / "index.html").is_file()
