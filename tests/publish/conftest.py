"""Fixtures for the publisher's tests: publish the session's refreshed warehouse into tmp_path."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from basismonitor.publish.exports import Published, publish_edition


@pytest.fixture
def publish(refreshed) -> Callable[..., Published]:
    """Publish (the refreshed warehouse by default) into `exports`; a small Excel limit keeps the
    workbook quick unless the test asks for the whole one."""

    def run(exports: Path, *, warehouse: Path | None = None, **kwargs) -> Published:
        kwargs.setdefault("excel_max_rows", 5_000)
        kwargs.setdefault("progress", lambda _: None)
        return publish_edition(warehouse or refreshed.warehouse, exports, refreshed.edition,
                               **kwargs)

    return run


@pytest.fixture
def changed_warehouse(refreshed, tmp_path) -> Path:
    """A copy of the warehouse whose marts differ from the refreshed one (a relabelled indicator),
    so a half-written new edition would be told apart from the old one."""
    target = tmp_path / "changed.duckdb"
    shutil.copy(refreshed.warehouse, target)
    with duckdb.connect(str(target)) as con:
        con.execute("update marts.dim_indicator set label_nl = label_nl || ' (herzien)'")
        con.execute("update marts.mart_compass_status set city_value = city_value * 1.01")
    return target
