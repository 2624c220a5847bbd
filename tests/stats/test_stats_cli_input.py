"""Issue 23.11: `basismonitor estimate` on an empty file, a header-only file and values that
overflow says what is wrong and exits 2 (it said 'column y not found; columns: column0', 'not
numeric', and printed inf with exit 0)."""

from __future__ import annotations

import pytest

from basismonitor.stats.cli import main

ARGS = ["--value", "y", "--weight", "w", "--area", "buurt"]


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty (0 bytes)"),
    ("buurt,w,y\n", "no data rows (only a header?)"),
    ("buurt,w,y\nA,1,1e308\nA,1,1e308\nB,1,1e308\nB,1,1e308\n", "overflows to infinity"),
])
def test_unusable_input_is_named_and_exits_2(tmp_path, capsys, text, message):
    data = tmp_path / "resp.csv"
    data.write_text(text)
    assert main([str(data), *ARGS]) == 2
    err = capsys.readouterr().err
    assert message in err and str(data) in err
