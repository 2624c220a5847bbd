"""A re-publication with nothing changed writes nothing (issue 22: a re-publish <= 20 s); a change
to the content, a damaged edition or `force` publishes again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from basismonitor.orchestration import pipeline


def _stats(edition_dir: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime in ns) of every file and folder of an edition, its site included."""
    return {str(p.relative_to(edition_dir)): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in [edition_dir, *sorted(edition_dir.rglob("*"))]}


def _key(edition_dir: Path) -> str:
    return json.loads((edition_dir / "manifest.json").read_text())["content_key"]


@pytest.fixture
def published(refreshed, publish, tmp_path):
    """The refreshed warehouse published with the gate's report, as a refresh does:
    (exports, the first Published, the gate's report folder)."""
    exports = tmp_path / "exports"
    docs = next(p for p in (refreshed.docs / str(refreshed.edition)).iterdir()
                if p.is_dir() and (p / "gate_result.json").is_file())
    return exports, publish(exports, validation_docs=docs), docs


def test_publishing_the_same_warehouse_again_writes_nothing(published, publish, refreshed):
    exports, first, docs = published
    edition_dir = first.path
    pipeline.site(exports, refreshed.edition, progress=lambda _: None)
    assert not first.unchanged
    assert len(_key(edition_dir)) == 64
    before = _stats(edition_dir)
    publication = (edition_dir / "publication.json").read_bytes()
    assert (edition_dir / "site" / "index.html").is_file()

    messages: list[str] = []
    again = publish(exports, validation_docs=docs, progress=messages.append)

    assert again.unchanged
    assert again.path == edition_dir
    assert again.files == first.files
    assert again.manifest["content_key"] == first.manifest["content_key"]
    assert _stats(edition_dir) == before  # not one file written, replaced or touched
    assert (edition_dir / "publication.json").read_bytes() == publication
    assert not [p for p in exports.iterdir() if p.name.startswith((".staging", ".previous"))]
    published_at = json.loads(publication)["published_at"]
    assert any(f"unchanged since its publication at {published_at}" in m and "nothing rewritten"
               in m for m in messages), messages


def test_a_new_run_of_the_gate_on_the_same_warehouse_is_no_change(published, publish, refreshed,
                                                                  tmp_path):
    """`basismonitor publish` runs the gate first: its new report (new run time, element ids)
    says what the published one says, so the edition stays as published."""
    exports, first, _ = published
    gate = pipeline.validate(refreshed.warehouse, refreshed.edition, docs_root=tmp_path / "docs",
                             progress=lambda _: None)
    before = _stats(first.path)
    assert publish(exports, validation_docs=gate.docs_dir).unchanged
    assert _stats(first.path) == before


def test_a_changed_value_in_one_mart_publishes_again(published, publish, refreshed, tmp_path):
    exports, first, docs = published
    changed = tmp_path / "changed.duckdb"
    shutil.copy(refreshed.warehouse, changed)
    with duckdb.connect(str(changed)) as con:
        (period,) = con.execute("select min(period) from marts.dim_period").fetchone()
        # one value of one row of one table
        con.execute("update marts.dim_period set has_registry = not coalesce(has_registry, false) "
                    "where period = ?", [period])
    old_key = _key(first.path)

    again = publish(exports, warehouse=changed, validation_docs=docs)

    assert not again.unchanged
    assert _key(again.path) != old_key
    assert again.manifest["content_key"] == _key(again.path)
    listed = {f["file"]: f["sha256"] for f in first.files}
    rewritten = {f["file"]: f["sha256"] for f in again.files}
    assert rewritten["dim_period.csv"] != listed["dim_period.csv"]
    assert rewritten["dim_area.csv"] == listed["dim_area.csv"]  # the rest as before


def test_force_rewrites_an_unchanged_edition(published, publish):
    exports, first, docs = published
    before = _stats(first.path)
    publication = json.loads((first.path / "publication.json").read_text())

    again = publish(exports, validation_docs=docs, force=True)

    assert not again.unchanged
    after = _stats(again.path)
    assert after["manifest.json"] != before["manifest.json"]  # a new file
    assert json.loads((again.path / "publication.json").read_text())["published_at"] \
        != publication["published_at"]
    assert _key(again.path) == _key(first.path)  # the same content, written again
    assert again.files == first.files  # byte-identical data files


@pytest.mark.parametrize("damage", ["delete", "truncate"])
def test_a_damaged_edition_is_published_again(published, publish, damage):
    exports, first, docs = published
    victim = first.path / "dim_area.parquet"
    if damage == "delete":
        victim.unlink()
    else:
        victim.write_bytes(victim.read_bytes()[:100])
    messages: list[str] = []

    again = publish(exports, validation_docs=docs, progress=messages.append)

    assert not again.unchanged
    assert victim.is_file()
    assert victim.stat().st_size == next(f["bytes"] for f in first.files
                                         if f["file"] == "dim_area.parquet")
    assert any("dim_area.parquet" in m and "publishing it again" in m for m in messages), messages


def test_other_settings_or_another_report_publish_again(published, publish):
    exports, first, docs = published
    assert not publish(exports, validation_docs=docs, excel_max_rows=10).unchanged
    assert not publish(exports, validation_docs=None, excel_max_rows=10).unchanged  # no report
    assert not (first.path / "validation").exists()


def test_the_pipeline_says_the_edition_was_unchanged(published, refreshed):
    exports, first, docs = published
    messages: list[str] = []
    result = pipeline.publish(refreshed.warehouse, exports, refreshed.edition, docs_dir=docs,
                              progress=messages.append)
    # the fixture published with excel_max_rows=5_000, the pipeline uses the default: new content
    assert not result.unchanged
    messages.clear()
    result = pipeline.publish(refreshed.warehouse, exports, refreshed.edition, docs_dir=docs,
                              progress=messages.append)
    assert result.unchanged
    assert any(m.startswith(f"edition {refreshed.edition} unchanged") for m in messages), messages
    assert not any(m.startswith("published edition") for m in messages), messages
