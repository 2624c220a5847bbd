"""The shared data next to the repository (../shared): read-only files some tests read, never
shipped. A module of its own so that the tests of every sub-folder can import shared_path (a
conftest is not importable from a sub-folder's tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def shared_path(*parts: str) -> Path:
    """The file ../shared/<parts>; the test is skipped where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: these tests read the shared data next to the repository")
    return path
