"""The ``basismonitor estimate`` analyst command, on apistrat (R's published numbers)."""

from __future__ import annotations

import argparse

import pandas as pd
import pytest

from basismonitor.stats.cli import main, register

pytestmark = pytest.mark.shared

COLUMNS = ["area", "n", "estimate", "se", "ci_low", "ci_high"]


def estimate_args(data, *more: str, value: str = "api00") -> list[str]:
    """The command line of an estimate of `value` by stype weighted by pw, plus the options `more`."""
    return [str(data), "--value", value, "--weight", "pw", "--area", "stype", *more]


@pytest.fixture()
def population_csv(apistrat, tmp_path):
    path = tmp_path / "population.csv"
    pop = apistrat.groupby("stype")["fpc"].first().astype(int)
    pd.DataFrame({"area": pop.index, "population": pop.to_numpy()}).to_csv(path, index=False)
    return path


def test_weights_only_matches_svyby(apistrat_path, tmp_path):
    out = tmp_path / "out.csv"
    code = main(estimate_args(apistrat_path, "--out", str(out)))
    assert code == 0
    result = pd.read_csv(out)
    assert list(result.columns) == COLUMNS
    assert result["area"].tolist() == ["E", "H", "M", "TOTAL"]
    got = result.set_index("area")
    # svyby(~api00, ~stype, wonly, svymean) and svymean(~api00, wonly)
    for area, mean, se in [
        ("E", 674.43, 12.49343),
        ("H", 625.82, 15.34078),
        ("M", 636.60, 16.50239),
        ("TOTAL", 662.2874, 9.585429),
    ]:
        assert got.loc[area, "estimate"] == pytest.approx(mean, abs=0.005)
        assert got.loc[area, "se"] == pytest.approx(se, abs=5e-6)
    assert got.loc["TOTAL", "ci_low"] == pytest.approx(643.5003, abs=5e-5)
    assert got.loc["TOTAL", "ci_high"] == pytest.approx(681.0745, abs=5e-5)
    assert got["n"].tolist() == [100, 50, 50, 200]


def test_with_population_is_stratified_with_fpc(apistrat_path, population_csv, tmp_path):
    out = tmp_path / "out.csv"
    code = main(estimate_args(apistrat_path, "--population", str(population_csv),
                              "--out", str(out)))
    assert code == 0
    got = pd.read_csv(out).set_index("area")
    # svymean(~api00, dstrat): 662.2874 SE 9.4089
    assert got.loc["TOTAL", "estimate"] == pytest.approx(662.2874, abs=5e-5)
    assert got.loc["TOTAL", "se"] == pytest.approx(9.4089, abs=5e-5)
    # an area that is a stratum: SE of a stratified simple random sample with fpc
    for area, frame in pd.read_csv(apistrat_path).groupby("stype"):
        n, big_n = len(frame), frame["fpc"].iloc[0]
        se = (frame["api00"].std(ddof=1) ** 2 / n * (1 - n / big_n)) ** 0.5
        assert got.loc[area, "se"] == pytest.approx(se, rel=1e-9)


def test_parquet_proportion_and_terminal_table(apistrat, tmp_path, capsys):
    path = tmp_path / "resp.parquet"
    frame = apistrat.assign(improved=(apistrat["api00"] - apistrat["api99"] > 50).astype(int))
    frame.loc[frame.index[:5], "improved"] = None  # missing answers are left out
    frame.to_parquet(path)
    code = main(estimate_args(path, value="improved"))
    assert code == 0
    text = capsys.readouterr().out
    lines = text.strip().splitlines()
    assert lines[0].split() == COLUMNS
    assert lines[-1].split()[0] == "TOTAL" and lines[-1].split()[1] == "195"
    # without the missing rows it is R's svymean(~I(api00 - api99 > 50), wonly)
    frame["improved"] = (apistrat["api00"] - apistrat["api99"] > 50).astype(int)
    frame.to_parquet(path)
    assert main(estimate_args(path, "--out", str(tmp_path / "p.csv"), value="improved")) == 0
    total = pd.read_csv(tmp_path / "p.csv").set_index("area").loc["TOTAL"]
    assert total["estimate"] == pytest.approx(0.2938489, abs=5e-8)
    assert total["se"] == pytest.approx(0.0363651, abs=5e-8)


def test_register_as_subcommand(apistrat_path, population_csv, tmp_path):
    parser = argparse.ArgumentParser(prog="basismonitor")
    register(parser.add_subparsers(dest="command"))
    out = tmp_path / "o.csv"
    args = parser.parse_args(
        ["estimate", *estimate_args(apistrat_path, "--population", str(population_csv),
                                    "--out", str(out))]
    )
    assert args.func(args) == 0
    assert pd.read_csv(out)["area"].tolist() == ["E", "H", "M", "TOTAL"]


def test_help_documents_both_designs(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "fpc=~population" in text and "svydesign(id=~1, weights=~w)" in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"file": "missing.csv"}, "missing.csv: file not found"),
        ({"--value": "nope"}, "column 'nope' (--value) not found"),
        ({"--area": "nope"}, "column 'nope' (--area) not found"),
        ({"--value": "name"}, "column 'name' (--value) is not numeric"),
        ({"--weight": "stype"}, "column 'stype' (--weight) is not numeric"),
    ],
)
def test_input_errors(apistrat_path, tmp_path, capsys, change, message):
    argv = {"file": str(apistrat_path), "--value": "api00", "--weight": "pw", "--area": "stype"}
    argv.update(change)
    if argv["file"] == "missing.csv":
        argv["file"] = str(tmp_path / "missing.csv")
    args = [argv.pop("file")] + [x for kv in argv.items() for x in kv]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert message in err


def test_population_errors(apistrat_path, tmp_path, capsys):
    base = estimate_args(apistrat_path)
    partial = tmp_path / "partial.csv"
    partial.write_text("area,population\nE,4421\nH,755\n")
    assert main([*base, "--population", str(partial)]) != 0
    err = capsys.readouterr().err
    assert "partial.csv" in err and "M" in err and "'stype'" in err
    small = tmp_path / "small.csv"
    small.write_text("area,population\nE,4421\nH,30\nM,1018\n")
    assert main([*base, "--population", str(small)]) != 0
    err = capsys.readouterr().err
    assert "small.csv" in err and "population" in err and "H" in err
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("stype,N\nE,4421\n")
    assert main([*base, "--population", str(wrong)]) != 0
    assert "wrong.csv" in capsys.readouterr().err
    assert main([*base, "--population", str(tmp_path / "nothere.csv")]) != 0
    assert "nothere.csv" in capsys.readouterr().err


def test_area_codes_keep_leading_zeros(tmp_path):
    data = tmp_path / "resp.csv"
    data.write_text("buurt,w,y\n0101,2,1\n0101,2,3\n0101,1,2\n0102,1,5\n0102,3,4\n")
    pop = tmp_path / "pop.csv"
    pop.write_text("area,population\n0101,40\n0102,30\n")
    out = tmp_path / "out.csv"
    assert (
        main(
            [
                str(data),
                "--value",
                "y",
                "--weight",
                "w",
                "--area",
                "buurt",
                "--population",
                str(pop),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    result = pd.read_csv(out, dtype={"area": str})
    assert result["area"].tolist() == ["0101", "0102", "TOTAL"]
    assert result["n"].tolist() == [3, 2, 5]


def test_missing_values_left_out(tmp_path):
    data = tmp_path / "resp.csv"
    data.write_text("area,w,y\nA,1,1\nA,3,NA\nA,1,0\nB,2,1\nB,2,\nB,1,1\nB,1,0\n")
    out = tmp_path / "out.csv"
    assert (
        main([str(data), "--value", "y", "--weight", "w", "--area", "area", "--out", str(out)]) == 0
    )
    got = pd.read_csv(out).set_index("area")
    assert got["n"].to_dict() == {"A": 2, "B": 3, "TOTAL": 5}
    assert got.loc["A", "estimate"] == pytest.approx(0.5)
    assert got.loc["B", "estimate"] == pytest.approx(3 / 4)
    assert got.loc["TOTAL", "estimate"] == pytest.approx(4 / 6)


def test_lonely_area_needs_an_explicit_choice(tmp_path, capsys):
    data = tmp_path / "resp.csv"
    data.write_text("area,w,y\nA,1,1\nA,3,2\nA,1,0\nB,2,1\n")
    pop = tmp_path / "pop.csv"
    pop.write_text("area,population\nA,30\nB,20\n")
    base = [str(data), "--value", "y", "--weight", "w", "--area", "area", "--population", str(pop)]
    assert main(base) != 0
    assert "--lonely-psu certainty" in capsys.readouterr().err
    out = tmp_path / "out.csv"
    assert main([*base, "--lonely-psu", "certainty", "--out", str(out)]) == 0
    assert pd.read_csv(out).set_index("area").loc["B", "se"] == 0
