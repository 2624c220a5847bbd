"""`basismonitor demo` sub-command."""

from __future__ import annotations

import argparse
from pathlib import Path

from basismonitor.demo import MANIFEST_NAME
from basismonitor.demo.cli import main, register


def test_register_adds_demo_subcommand():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    register(sub)
    args = parser.parse_args(["demo", "--scale", "small", "--seed", "5", "--force"])
    assert args.scale == "small" and args.seed == 5 and args.force and args.inbox is None
    assert callable(args.func)


def test_demo_writes_then_refuses_without_force(tmp_path: Path, capsys, monkeypatch):
    inbox = tmp_path / "inbox"
    monkeypatch.setenv("BASISMONITOR_INBOX", str(inbox))
    assert main(["demo", "--scale", "small"]) == 0
    out = capsys.readouterr().out
    assert f"survey 2016: 1,500 respondents -> {inbox}/survey/2016/wijkenquete_2016.sav" in out
    assert (inbox / MANIFEST_NAME).exists()
    before = (inbox / "registry/2020/kwb-2020.csv").read_bytes()

    assert main(["demo", "--scale", "small", "--seed", "9"]) == 0
    assert "already holds" in capsys.readouterr().out
    assert (inbox / "registry/2020/kwb-2020.csv").read_bytes() == before

    assert main(["demo", "--inbox", str(inbox), "--scale", "small", "--seed", "9", "--force"]) == 0
    assert (inbox / "registry/2020/kwb-2020.csv").read_bytes() != before
