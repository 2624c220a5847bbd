"""Shared fixtures: a small generated municipality refreshed end to end once per session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from shared_data import SHARED, shared_path  # noqa: F401  (tests import them from here too)

REPO = Path(__file__).resolve().parents[1]
EDITION = 2024
BASE_PERIOD = 2016


@dataclass
class Refreshed:
    root: Path
    inbox: Path
    warehouse: Path
    exports: Path
    docs: Path
    edition: int
    base_period: int


@pytest.fixture(scope="session")
def small_inbox(tmp_path_factory) -> Path:
    from basismonitor.demo import DemoScale, generate

    inbox = tmp_path_factory.mktemp("small") / "inbox"
    generate(inbox, scale=DemoScale.small(), seed=7)
    return inbox


@pytest.fixture(scope="session")
def refreshed(small_inbox: Path, tmp_path_factory) -> Refreshed:
    """ingest -> dbt build -> gate -> publish -> site on the small municipality, in this process."""
    from basismonitor.orchestration import pipeline

    root = tmp_path_factory.mktemp("refresh")
    warehouse = root / "warehouse" / "basismonitor.duckdb"
    exports = root / "exports"
    docs = root / "validation"
    os.environ["BASISMONITOR_WAREHOUSE"] = str(warehouse)
    pipeline.ingest(warehouse, small_inbox, progress=lambda _: None)
    pipeline.build(warehouse, EDITION, base_period=BASE_PERIOD, progress=lambda _: None)
    gate = pipeline.validate(warehouse, EDITION, docs_root=docs, progress=lambda _: None)
    pipeline.publish(warehouse, exports, EDITION, docs_dir=gate.docs_dir, progress=lambda _: None)
    pipeline.site(exports, EDITION, progress=lambda _: None)
    return Refreshed(root, small_inbox, warehouse, exports, docs, EDITION, BASE_PERIOD)
