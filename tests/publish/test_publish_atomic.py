"""A failing gate, a failure or a kill during publishing leaves the previous edition
byte-identical, and no partial edition is ever visible."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from publish_helpers import data_files, fingerprint, visible

from basismonitor.orchestration import pipeline
from basismonitor.quality.validation import GateFailed

# Publishes in a child process and stops (sleeps) at one step, for the test to kill it there.
CHILD = """
import sys, time
from pathlib import Path
from basismonitor.publish.exports import publish_edition

warehouse, exports, edition, stop_at, marker = sys.argv[1:6]

def on_step(step):
    if step == stop_at:
        Path(marker).write_text(step)
        time.sleep(600)

publish_edition(Path(warehouse), Path(exports), int(edition), progress=lambda _: None,
                excel_max_rows=5_000, _on_step=on_step)
"""


def _publish_and_kill(warehouse: Path, exports: Path, edition: int, stop_at: str,
                      tmp_path: Path) -> None:
    marker = tmp_path / f"reached-{stop_at.replace(':', '_')}"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(warehouse), str(exports),
                              str(edition), stop_at, str(marker)])
    try:
        deadline = time.monotonic() + 600
        while not marker.exists():
            assert child.poll() is None, f"the publisher ended before reaching {stop_at}"
            assert time.monotonic() < deadline, f"the publisher never reached {stop_at}"
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL


@pytest.fixture
def previous(refreshed, publish, tmp_path):
    """An exports folder with the refreshed warehouse's edition published, and its fingerprint."""
    exports = tmp_path / "exports"
    edition = publish(exports).path
    return exports, fingerprint(edition)


def test_a_failure_mid_publish_leaves_the_previous_edition(refreshed, publish, previous,
                                                           changed_warehouse):
    exports, before = previous
    with pytest.raises(RuntimeError, match="injected failure"):
        publish(exports, warehouse=changed_warehouse, _fail_after_files=8)
    assert fingerprint(exports / str(refreshed.edition)) == before
    assert visible(exports) == {str(refreshed.edition), "latest"}
    assert not list(exports.glob(".staging-*"))


@pytest.mark.parametrize("stop_at", ["file:mart_area_profile.csv", "staged"])
def test_a_kill_mid_publish_leaves_the_previous_edition(refreshed, publish, previous,
                                                        changed_warehouse, stop_at, tmp_path):
    exports, before = previous
    _publish_and_kill(changed_warehouse, exports, refreshed.edition, stop_at, tmp_path)
    assert fingerprint(exports / str(refreshed.edition)) == before
    assert visible(exports) == {str(refreshed.edition), "latest"}
    assert (exports / "latest").resolve() == (exports / str(refreshed.edition)).resolve()
    # the next run clears what the killed one left and publishes whole
    new = publish(exports, warehouse=changed_warehouse).path
    assert not list(exports.glob(".staging-*"))
    assert data_files(new)["dim_indicator.parquet"] != before["dim_indicator.parquet"]


def test_a_kill_after_the_swap_shows_the_whole_new_edition(refreshed, publish, previous,
                                                           changed_warehouse, tmp_path):
    exports, _ = previous
    _publish_and_kill(changed_warehouse, exports, refreshed.edition, "swapped", tmp_path)
    assert visible(exports) == {str(refreshed.edition), "latest"}
    complete = publish(tmp_path / "reference", warehouse=changed_warehouse).path
    assert data_files(exports / str(refreshed.edition)) == data_files(complete)


def test_a_failing_gate_publishes_nothing(refreshed, previous, tmp_path):
    exports, before = previous
    broken = tmp_path / "broken.duckdb"
    broken.write_bytes(refreshed.warehouse.read_bytes())
    with duckdb.connect(str(broken)) as con:
        con.execute("update marts.mart_compass_status set index_value = 200 "
                    "where node_level = 'centre'")
    with pytest.raises(GateFailed):
        gate = pipeline.validate(broken, refreshed.edition, docs_root=tmp_path / "docs",
                                 progress=lambda _: None)
        pipeline.publish(broken, exports, refreshed.edition, docs_dir=gate.docs_dir)
    assert fingerprint(exports / str(refreshed.edition)) == before


def test_latest_stays_on_the_newest_edition(tmp_path):
    """A backfill publishes an old edition without moving `latest` off the newest one."""
    from basismonitor.publish.exports import _point_latest

    exports = tmp_path / "exports"
    (exports / "2020").mkdir(parents=True)
    assert _point_latest(exports, 2020) and os.readlink(exports / "latest") == "2020"
    (exports / "2024").mkdir()
    assert _point_latest(exports, 2024) and os.readlink(exports / "latest") == "2024"
    (exports / "2016").mkdir()
    assert not _point_latest(exports, 2016)
    assert os.readlink(exports / "latest") == "2024"
    assert _point_latest(exports, 2024)  # republishing the newest keeps it there
    assert visible(exports) == {"2016", "2020", "2024", "latest"}
