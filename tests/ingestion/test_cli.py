"""`basismonitor ingest`: the sub-command the top-level CLI registers."""

from __future__ import annotations

import argparse

from basismonitor.ingestion import cli
from conftest import Demo


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="basismonitor")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["ingest", *argv])
    assert args.func is cli.run
    return args.func(args)


def test_ingest_the_inbox_prints_one_line_per_file_and_a_total(demo: Demo, capsys):
    demo.areas(2008)
    demo.population(2014, rows=[["2014-01-01", "BU90140101", "15-24", "M", "5"],
                                ["2014-01-01", "BU90140101", "15-24", "V", "-1"]])
    code = run("--inbox", str(demo.inbox), "--warehouse", str(demo.warehouse), "--no-fetch")
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split()[:4] == ["areas", "2008", "gebiedsindeling_2008.csv", "landed"]
    assert out[1].split()[:4] == ["population", "2014", "bevolking_2014.csv", "landed"]
    assert "read=2 landed=1 quarantined=1" in out[1]
    # a quarantined row is never "(ok)": the summary lists the file (issue 18)
    assert out[-2] == ("total: 2 files (2 landed, 0 replaced, 0 skipped, 0 failed), 0 ignored; "
                       "rows read 9 = landed 8 + quarantined 1 (see below)")
    assert out[-1].startswith("  quarantined: ") and "bevolking_2014.csv: 1 rows, 0 cells" in out[-1]
    assert run("--inbox", str(demo.inbox), "--warehouse", str(demo.warehouse), "--no-fetch") == 0
    out = capsys.readouterr().out
    assert "2 skipped" in out and out.splitlines()[-1].endswith("(ok)")


def test_strict_exits_non_zero_for_quarantined_rows_or_ignored_files(demo: Demo, capsys):
    """Issue 18: a file outside a period folder, or a load with quarantined rows, is listed with
    its reason; --strict exits 2 for either, without --strict the exit status stays 0."""
    demo.areas(2008)
    (demo.inbox / "population").mkdir(parents=True)
    (demo.inbox / "population" / "bevolking_2014.csv").write_text("stray file\n")
    args = ("--inbox", str(demo.inbox), "--warehouse", str(demo.warehouse), "--no-fetch")
    assert run(*args, "--strict") == 2
    out = capsys.readouterr()
    assert "0 failed), 1 ignored;" in out.out and "(see below)" in out.out
    assert "ignored: " in out.out and "not in a period folder" in out.out
    assert "--strict" in out.err
    (demo.inbox / "population" / "bevolking_2014.csv").unlink()
    assert run(*args, "--strict") == 0
    capsys.readouterr()
    demo.population(2014, rows=[["2014-01-01", "BU90140101", "15-24", "M", "5"],
                                ["2014-01-01", "BU90140101", "15-24", "V", "-1"]])
    assert run(*args, "--strict") == 2
    out = capsys.readouterr().out
    assert "quarantined: " in out and "bevolking_2014.csv: 1 rows" in out


def test_environment_defaults(demo: Demo, capsys, monkeypatch):
    demo.areas(2008)
    monkeypatch.setenv("BASISMONITOR_INBOX", str(demo.inbox))
    monkeypatch.setenv("BASISMONITOR_WAREHOUSE", str(demo.warehouse))
    assert run("areas") == 0
    assert demo.warehouse.exists()
    assert "1 landed" in capsys.readouterr().out


def test_named_files_with_a_period(demo: Demo, capsys, tmp_path):
    demo.load("areas", 2008, demo.areas(2008))
    elsewhere = tmp_path / "delivery.csv"
    elsewhere.write_text(demo.population(2014).read_text())
    code = run("population", str(elsewhere), "--period", "2014",
               "--warehouse", str(demo.warehouse))
    assert code == 0
    assert "population" in capsys.readouterr().out
    assert demo.one("select count(*) from raw.population") == 16


def test_a_failed_file_exits_1_with_the_error(demo: Demo, capsys):
    demo.areas(2008)
    demo.write("population", 2014, "bevolking_2014.csv", "peildatum,buurt_code\n")
    code = run("--inbox", str(demo.inbox), "--warehouse", str(demo.warehouse), "--no-fetch")
    captured = capsys.readouterr()
    assert code == 1
    assert "failed" in captured.out and "1 failed" in captured.out.splitlines()[-1]
    assert "bevolking_2014.csv" in captured.err and "error:" in captured.err


def test_named_files_need_a_source(demo: Demo, capsys, tmp_path):
    parser = argparse.ArgumentParser(prog="basismonitor")
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["ingest", "--warehouse", str(demo.warehouse)])
    args.paths = [tmp_path / "x.csv"]
    assert cli.run(args) == 1
    assert "name the source" in capsys.readouterr().err


def test_source_names_without_files_select_sources(demo: Demo, capsys):
    demo.areas(2008)
    demo.population(2014)
    demo.concierges(2014)
    code = run("areas", "population", "--inbox", str(demo.inbox),
               "--warehouse", str(demo.warehouse), "--no-fetch")
    assert code == 0
    out = capsys.readouterr().out
    assert "population" in out and "buurtconcierges" not in out
