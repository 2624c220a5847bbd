"""Issue 23.11: a failing `basismonitor refresh` prints one `error:` line, as `ingest` does, not a
traceback; `--strict` stops it after ingest (exit 2) when rows were quarantined."""

from __future__ import annotations

from basismonitor.cli import main


def test_a_failing_refresh_prints_an_error_line_not_a_traceback(tmp_path, capsys):
    code = main(["refresh", "--inbox", str(tmp_path / "no-inbox"),
                 "--warehouse", str(tmp_path / "wh.duckdb"), "--exports", str(tmp_path / "ex")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: inbox ") and "does not exist" in err
    assert "Traceback" not in err


def test_strict_refresh_stops_after_ingest_when_rows_were_quarantined(tmp_path, capsys):
    inbox = tmp_path / "inbox"
    (inbox / "areas" / "2008").mkdir(parents=True)
    (inbox / "areas" / "2008" / "gebiedsindeling_2008.csv").write_text(
        "code;naam;niveau;ouder_code;geometrie\n"
        'GM9014;Groningen-demo;gemeente;;"POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"\n'
        "WK901401;Wijk;wijk;GM0000;\n")                   # unknown parent: quarantined
    code = main(["refresh", "--strict", "--inbox", str(inbox),
                 "--warehouse", str(tmp_path / "wh.duckdb"), "--exports", str(tmp_path / "ex")])
    captured = capsys.readouterr()
    assert code == 2, captured
    assert "quarantined: " in captured.out and "--strict" in captured.err
    assert "== build" not in captured.out and not (tmp_path / "ex").exists()
