"""The Groningen example ships its real files (examples/groningen/README.md lists them): a fresh
clone must hold every one, byte for byte the public file, and git must track them. CI once failed
because `.gitignore`'s `inbox/` rule kept the example's inbox out of the repository."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.conftest import REPO, SHARED

EXAMPLE = REPO / "examples" / "groningen"


def _listed_files() -> list[str]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    files: list[str] = []
    for row in re.findall(r"^\| `([^|]+)` ?\|", text, flags=re.M):
        cell = row.replace("`", "")
        first, *rest = [part.strip() for part in cell.split(",")]
        files.append(first)
        folder = first.rsplit("/", 1)[0]
        files.extend(f"{folder}/{name}" for name in rest)
    return files


def test_every_file_the_readme_lists_is_in_the_inbox():
    files = _listed_files()
    assert len(files) == 8, files
    missing = [f for f in files if not (EXAMPLE / "inbox" / f).is_file()]
    assert not missing, f"examples/groningen/inbox lacks {missing}"


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_tracks_the_example_inbox():
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "check-ignore", "-q", "examples/groningen/inbox/x.csv"],
                             cwd=REPO, check=False).returncode
    assert ignored == 1, ".gitignore keeps examples/groningen/inbox out of the repository"


def test_inbox_files_are_the_public_files_byte_for_byte():
    sources = {
        "gemeentelijke_indeling/2017/buurtindeling.csv": "cbs-groningen-2017/buurtindeling.csv",
        "gemeentelijke_indeling/2017/wijkindeling.csv": "cbs-groningen-2017/wijkindeling.csv",
        "cbs_wijkbuurtkaart/2017/buurt2017.csv": "cbs-groningen-2017/buurt2017.csv",
        "cbs_wijkbuurtkaart/2017/wijk2017.csv": "cbs-groningen-2017/wijk2017.csv",
        "cbs_vierkant100m/2014/vierkant100m2014.csv": "groningen-real/vierkant100m2014.csv",
        "horeca/2017/horeca.csv": "groningen-real/horeca.csv",
        "coffeeshops/2017/coffeeshops.csv": "groningen-real/coffeeshops.csv",
        "bushaltes/2017/bushaltes.csv": "groningen-real/bushaltes.csv",
    }
    if not (SHARED / "data").exists():
        pytest.skip(f"{SHARED / 'data'} is absent: the comparison reads the shared data")
    for inbox_file, shared_file in sources.items():
        assert (EXAMPLE / "inbox" / inbox_file).read_bytes() == \
            (SHARED / "data" / shared_file).read_bytes(), inbox_file
