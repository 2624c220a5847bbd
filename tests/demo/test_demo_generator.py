"""The demo generator writes the inbox of docs/SOURCES.md, reproducibly and realistically."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest

from basismonitor.demo import MANIFEST_NAME, DemoScale, generate

SMALL = DemoScale.small()
ACTIVITY_HEADERS = {
    "buurtbemiddeling": ["zaaknummer", "intakedatum", "buurt_code", "soort_conflict", "uitkomst"],
    "straathoekwerk": ["contact_id", "datum", "buurt_code", "leeftijdsgroep", "aard_contact"],
    "buurtconcierges": ["melding_id", "datum", "buurt_code", "categorie"],
    "buurtinitiatieven": [
        "initiatief_id",
        "datum_aanvraag",
        "buurt_code",
        "titel",
        "bedrag_aangevraagd",
        "bedrag_toegekend",
        "status",
    ],
}
ACTIVITY_HEADERS["idbanen"] = ["plaatsing_id", "startdatum", "buurt_code", "soort_baan", "uitkomst"]
XLSX_SHEETS = {"buurtbemiddeling": "zaken", "buurtinitiatieven": "initiatieven"}
KWB_HEADER = [
    "gwb_code_10",
    "gwb_code",
    "regio",
    "gm_naam",
    "recs",
    "ind_wbi",
    "a_inw",
    "a_man",
    "a_vrouw",
    "a_00_14",
    "a_15_24",
    "a_25_44",
    "a_45_64",
    "a_65_oo",
    "a_hh",
    "a_woning",
    "g_woz",
    "p_koopw",
    "p_huurw",
    "a_soz_wb",
    "a_soz_ao",
    "bev_dich",
    "a_opp_ha",
]
# the counts (a_*), which CBS rounds to multiples of 5; a_opp_ha is an area in hectares
KWB_COUNTS = [c for c in KWB_HEADER if c.startswith("a_") and c != "a_opp_ha"]
CODES = {".", "-99999999", "-99997"}


def expected_files(scale: DemoScale) -> dict[str, tuple[str, list[str] | None]]:
    """Contract path -> (kind, header)."""
    out: dict[str, tuple[str, list[str] | None]] = {}
    for ed in (2008, 2019):
        out[f"areas/{ed}/gebiedsindeling_{ed}.csv"] = (
            "utf8",
            ["code", "naam", "niveau", "ouder_code", "geometrie"],
        )
    out["crosswalk/2019/crosswalk_2008_2019.csv"] = (
        "utf8",
        ["van_editie", "van_code", "naar_editie", "naar_code", "aandeel", "methode"],
    )
    for w in scale.waves:
        if w <= 2014 or scale.survey_format == "csv":
            out[f"survey/{w}/wijkenquete_{w}.csv"] = ("cp1252", None)
        else:
            out[f"survey/{w}/wijkenquete_{w}.sav"] = ("sav", None)
        out[f"survey/{w}/codeboek_{w}.csv"] = (
            "utf8",
            ["variabele", "item", "vraag", "schaal", "code", "betekenis", "ontbrekend"],
        )
    for y in scale.years:
        out[f"population/{y}/bevolking_{y}.csv"] = (
            "utf8",
            ["peildatum", "buurt_code", "leeftijdsklasse", "geslacht", "aantal"],
        )
        out[f"registry/{y}/kwb-{y}.csv"] = ("utf8", KWB_HEADER)
        out[f"police/{y}/misdrijven_{y}.csv"] = (
            "police",
            ["WijkenEnBuurten", "Perioden", "SoortMisdrijf", "GeregistreerdeMisdrijven_1"],
        )
    for y in scale.activity_years:
        for prog, header in ACTIVITY_HEADERS.items():
            ext = "xlsx" if prog in XLSX_SHEETS else "csv"
            out[f"{prog}/{y}/{prog}_{y}.{ext}"] = (ext if ext == "xlsx" else "utf8", header)
    return out


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "inbox"
    lines: list[str] = []
    m = generate(root, scale=SMALL, seed=2024, progress=lines.append)
    assert m.seconds < 5, f"small demo took {m.seconds:.1f} s"
    assert any(
        re.match(r"survey 2016: 1,500 respondents -> .*wijkenquete_2016\.sav$", ln) for ln in lines
    )
    return root


def read_csv(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    return pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding=encoding)


def read_survey(inbox: Path, wave: int) -> pd.DataFrame:
    folder = inbox / "survey" / str(wave)
    sav = folder / f"wijkenquete_{wave}.sav"
    if sav.exists():
        df, _ = pyreadstat.read_sav(sav)
        return df
    return pd.read_csv(folder / f"wijkenquete_{wave}.csv", sep=";", encoding="cp1252")


def codebook(inbox: Path, wave: int) -> pd.DataFrame:
    return pd.read_csv(inbox / "survey" / str(wave) / f"codeboek_{wave}.csv", sep=";")


def areas(inbox: Path, edition: int) -> pd.DataFrame:
    return read_csv(inbox / "areas" / str(edition) / f"gebiedsindeling_{edition}.csv")


def buurt_codes(inbox: Path, edition: int) -> set[str]:
    a = areas(inbox, edition)
    return set(a.loc[a.niveau == "buurt", "code"])


def edition(year: int) -> int:
    return 2019 if year >= 2019 else 2008


# --------------------------------------------------------------------------------------------
# files and formats


def test_every_contract_file_with_its_header_and_nothing_else(inbox: Path):
    expected = expected_files(SMALL)
    present = {p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()}
    assert present == set(expected) | {MANIFEST_NAME}
    for rel, (kind, header) in expected.items():
        path = inbox / rel
        if kind == "utf8":
            text = path.read_bytes().decode("utf-8")
            assert text.split("\n", 1)[0].split(";") == header, rel
            assert "\r" not in text
        elif kind == "police":
            first = path.read_text(encoding="utf-8").split("\n", 1)[0]
            assert first == ";".join(f'"{h}"' for h in header)
        elif kind == "cp1252":
            df = pd.read_csv(path, sep=";", encoding="cp1252", nrows=5)
            assert list(df.columns[:5]) == [
                "respondent_id",
                "golf",
                "buurt_code",
                "geboortejaar",
                "geslacht",
            ]
        elif kind == "xlsx":
            wb = openpyxl.load_workbook(path, read_only=True)
            prog = rel.split("/")[0]
            assert wb.sheetnames == [XLSX_SHEETS[prog]]
            first = next(wb[XLSX_SHEETS[prog]].iter_rows(max_row=1, values_only=True))
            assert list(first) == header
            wb.close()
        else:
            assert path.read_bytes()[:4] == b"$FL2"


def test_manifest_lists_every_file_with_hash(inbox: Path):
    doc = json.loads((inbox / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert {f["path"] for f in doc["files"]} == set(expected_files(SMALL))
    assert doc["counts"]["survey"] == SMALL.respondents_per_wave * len(SMALL.waves)
    assert doc["formats"]["buurtbemiddeling"] == "xlsx"


def test_same_seed_same_bytes_other_seed_other_bytes(inbox: Path, tmp_path: Path):
    again = tmp_path / "again"
    generate(again, scale=SMALL, seed=2024)
    for p in inbox.rglob("*"):
        if p.is_file():
            assert (again / p.relative_to(inbox)).read_bytes() == p.read_bytes(), p
    other = tmp_path / "other"
    generate(other, scale=SMALL, seed=7)
    differ = [
        p
        for p in (
            "survey/2016/wijkenquete_2016.sav",
            "registry/2020/kwb-2020.csv",
            "buurtinitiatieven/2020/buurtinitiatieven_2020.xlsx",
        )
        if (other / p).read_bytes() != (inbox / p).read_bytes()
    ]
    assert len(differ) == 3


def test_regenerating_removes_only_own_stale_files(inbox: Path, tmp_path: Path):
    root = tmp_path / "inbox"
    generate(root, scale=SMALL, seed=1)
    foreign = root / "survey" / "2030" / "delivery.csv"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("not ours\n")
    fewer = DemoScale(
        wijken=3, buurten_per_wijk=3, respondents_per_wave=200, waves=(2020,), years=(2019, 2020)
    )
    generate(root, scale=fewer, seed=1)
    assert not (root / "registry" / "2018").exists()
    assert not (root / "survey" / "2016").exists()
    assert foreign.exists()


# --------------------------------------------------------------------------------------------
# areas, editions, crosswalk


def test_areas_hierarchy_codes_and_tiling(inbox: Path):
    for ed in (2008, 2019):
        a = areas(inbox, ed)
        assert set(a.niveau) == {"gemeente", "stadsdeel", "wijk", "buurt"}
        assert a.code.is_unique
        gm = a[a.niveau == "gemeente"]
        assert list(gm.code) == ["GM9014"] and list(gm.naam) == ["Groningen-demo"]
        assert (gm.ouder_code == "").all()
        parents = dict(zip(a.code, a.niveau, strict=True))
        want = {"stadsdeel": "gemeente", "wijk": "stadsdeel", "buurt": "wijk"}
        for _, r in a[a.niveau != "gemeente"].iterrows():
            assert parents[r.ouder_code] == want[r.niveau]
        wk = a[a.niveau == "wijk"]
        assert wk.code.str.fullmatch(r"WK9014\d\d").all()
        bu = a[a.niveau == "buurt"]
        assert bu.code.str.fullmatch(r"BU9014\d{4}").all()
        assert (bu.code.str[2:8] == bu.ouder_code.str[2:]).all()
        # geometry: RD New rectangles, children tile their parent
        boxes = {c: _bbox(g) for c, g in zip(a.code, a.geometrie, strict=True)}
        for parent in a.code:
            kids = [boxes[c] for c in a.code[a.ouder_code == parent]]
            if not kids:
                continue
            px0, py0, px1, py1 = boxes[parent]
            assert all(px0 <= k[0] and k[2] <= px1 and py0 <= k[1] and k[3] <= py1 for k in kids)
            assert sum(_area(k) for k in kids) == _area(boxes[parent])
            for i in range(len(kids)):
                for j in range(i + 1, len(kids)):
                    assert not _overlap(kids[i], kids[j])
        x0, y0, x1, y1 = boxes["GM9014"]
        assert 0 < x0 < x1 < 300_000 and 300_000 < y0 < y1 < 625_000


def test_geometry_is_quoted_wkt(inbox: Path):
    line = (
        (inbox / "areas/2019/gebiedsindeling_2019.csv").read_text(encoding="utf-8").split("\n")[1]
    )
    assert re.fullmatch(r'GM9014;Groningen-demo;gemeente;;"POLYGON \(\(.*\)\)"', line)


def test_editions_split_merge_and_redivision(inbox: Path):
    cw = read_csv(inbox / "crosswalk/2019/crosswalk_2008_2019.csv")
    b08, b19 = buurt_codes(inbox, 2008), buurt_codes(inbox, 2019)
    a08 = set(areas(inbox, 2008).code)
    a19 = set(areas(inbox, 2019).code)
    assert set(cw.van_code) == a08
    assert set(cw.naar_code) <= a19 and b19 <= set(cw.naar_code)
    assert (cw.methode == "inwoners").all()
    assert (cw.van_editie == "2008").all() and (cw.naar_editie == "2019").all()
    assert all(re.fullmatch(r"\d\.\d{6}", s) for s in cw.aandeel)
    sums = cw.assign(s=cw.aandeel.astype(float)).groupby("van_code").s.sum()
    assert np.allclose(sums, 1.0, atol=1e-9)
    bu = cw[cw.van_code.isin(b08)]
    targets = bu.groupby("van_code").naar_code.apply(set)
    sources = bu.groupby("naar_code").van_code.apply(set)
    splits = [old for old, new in targets.items() if len(new) == 2 and not (new & b08)]
    merges = [
        new
        for new, old in sources.items()
        if len(old) == 2 and new not in b08 and all(len(targets[o]) == 1 for o in old)
    ]
    assert len(splits) >= 2 and len(merges) >= 2
    # a re-divided wijk: none of its 2019 buurten keeps a 2008 code, shares cross old buurten
    by_wijk08 = defaultdict(set)
    for c in b08:
        by_wijk08[c[2:8]].add(c)
    by_wijk19 = defaultdict(set)
    for c in b19:
        by_wijk19[c[2:8]].add(c)
    redivided = [
        w
        for w in by_wijk08
        if len(by_wijk08[w]) >= 2
        and not (by_wijk08[w] & b19)
        and len(by_wijk19[w]) != len(by_wijk08[w])
    ]
    assert redivided
    doc = json.loads((inbox / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert doc["changes"]["redivided_wijk"] == [f"WK{redivided[0]}"]


# --------------------------------------------------------------------------------------------
# survey


def test_survey_codes_valid_in_the_waves_edition(inbox: Path):
    for wave in SMALL.waves:
        df = read_survey(inbox, wave)
        assert len(df) == SMALL.respondents_per_wave
        assert df.respondent_id.str.fullmatch(rf"W{wave}-\d{{6}}").all()
        assert df.respondent_id.is_unique
        assert (df.golf == wave).all()
        assert set(df.buurt_code) <= buurt_codes(inbox, edition(wave))
        age = wave - df.geboortejaar.dropna()
        assert age.min() >= 16 and age.max() <= 100
        assert set(df.geslacht.dropna()) == {1, 2}
        book = codebook(inbox, wave)
        assert list(df.columns[5:]) == list(dict.fromkeys(book.variabele))


def test_codebook_scales_missing_codes_and_renames(inbox: Path):
    renamed = {}
    for wave in SMALL.waves:
        book = codebook(inbox, wave)
        assert book.vraag.str.contains(r"[^\x00-\x7f]").any()  # real Dutch typography
        assert set(book.schaal) == {"eens5", "tevreden5", "cijfer10", "janee", "vaak3"}
        assert {f"cohesie_{i}" for i in range(1, 6)} | {
            "cijfer_buurt",
            "cijfer_woning",
            "onveilig",
        } <= set(book.item)
        assert any(i.startswith("overlast_") for i in book.item)
        assert any(i.startswith("tevreden_") for i in book.item)
        assert 28 <= book.item.nunique() <= 30
        miss = book[book.ontbrekend == 1]
        assert set(miss.code) <= {9, 99, -1}
        assert set(miss[miss.schaal == "cijfer10"].code) <= {99, -1}
        assert set(book[book.schaal == "janee"].code) >= {0, 1, 9}
        for item, var in zip(book.item, book.variabele, strict=True):
            renamed.setdefault(item, set()).add(var)
        df = read_survey(inbox, wave)
        for var, grp in book.groupby("variabele"):
            values = set(df[var].dropna().astype(int))
            assert values <= set(grp.code), (wave, var)
        dk = [v for v, g in book[book.ontbrekend == 1].groupby("variabele")]
        assert df[dk].isin([9, 99]).to_numpy().mean() > 0.005
        assert df[list(book.variabele.unique())].isna().to_numpy().mean() > 0.001
    assert sum(len(v) > 1 for v in renamed.values()) >= 2  # e.g. v06 -> v06a


def test_spss_files_have_value_labels(inbox: Path):
    for wave in [w for w in SMALL.waves if w >= 2016]:
        path = inbox / "survey" / str(wave) / f"wijkenquete_{wave}.sav"
        df, meta = pyreadstat.read_sav(path)
        book = codebook(inbox, wave)
        for var, grp in book.groupby("variabele"):
            labels = meta.variable_value_labels[var]
            assert {int(k) for k in labels} == set(grp.code)
            assert labels[int(grp[grp.ontbrekend == 1].code.max())] == "weet niet"
            assert meta.column_names_to_labels[var] == grp.vraag.iloc[0]
        assert meta.variable_value_labels["geslacht"] == {1: "man", 2: "vrouw"}
        assert meta.creation_time.year == wave


def test_areas_differ_in_level_and_trend(inbox: Path):
    means = {}
    for wave in (2012, 2024):
        df = read_survey(inbox, wave)
        var = codebook(inbox, wave).query("item == 'cijfer_buurt'").variabele.iloc[0]
        x = df[var].where(df[var].between(1, 10))
        means[wave] = x.groupby(df.buurt_code.str[2:8]).mean()
    assert means[2024].std() > 0.3
    assert means[2024].max() - means[2024].min() > 1.0
    change = (means[2024] - means[2012]).dropna()
    assert change.max() - change.min() > 0.4  # some wijken improve, others decline


def test_nonresponse_makes_weighting_matter(inbox: Path):
    df = read_survey(inbox, 2020)
    pop = read_csv(inbox / "population/2020/bevolking_2020.csv")
    pop = pop[pop.leeftijdsklasse != "0-14"]
    pop_share = pop.aantal.astype(int).groupby(pop.leeftijdsklasse).sum()
    pop_share /= pop_share.sum()
    age = 2020 - df.geboortejaar
    groups = pd.cut(age, [15, 24, 44, 64, 200], labels=["15-24", "25-44", "45-64", "65+"])
    sample = groups.value_counts(normalize=True)
    assert sample["65+"] > pop_share["65+"] + 0.05
    assert sample["15-24"] < pop_share["15-24"] - 0.05


# --------------------------------------------------------------------------------------------
# registry, population, police


def test_population_register_matches_kwb(inbox: Path):
    for year in SMALL.years:
        pop = read_csv(inbox / f"population/{year}/bevolking_{year}.csv")
        assert (pop.peildatum == f"{year}-01-01").all()
        assert set(pop.leeftijdsklasse) == {"0-14", "15-24", "25-44", "45-64", "65+"}
        assert set(pop.geslacht) == {"M", "V"}
        assert set(pop.buurt_code) == buurt_codes(inbox, edition(year))
        assert len(pop) == pop.buurt_code.nunique() * 10
        exact = pop.aantal.astype(int).groupby(pop.buurt_code).sum()
        kwb = read_csv(inbox / f"registry/{year}/kwb-{year}.csv")
        bu = kwb[kwb.recs == "Buurt"]
        bu = bu.set_index(bu.gwb_code.str.strip())
        rounded = (np.floor(exact / 5 + 0.5) * 5).astype(int)
        assert (bu.a_inw.astype(int).reindex(exact.index) == rounded).all()


def test_kwb_cbs_style(inbox: Path):
    seen_codes: set[str] = set()
    not_additive = 0
    for year in SMALL.years:
        kwb = read_csv(inbox / f"registry/{year}/kwb-{year}.csv")
        assert (kwb.gwb_code_10.str.len() == 10).all() and (kwb.gwb_code.str.len() == 10).all()
        assert kwb.gwb_code.str.endswith(" ").any()  # right-padded
        assert kwb.recs.value_counts()["Gemeente"] == 1
        assert set(kwb.gwb_code.str.strip()[kwb.recs == "Buurt"]) == buurt_codes(
            inbox, edition(year)
        )
        for col in KWB_COUNTS:
            vals = kwb[col][~kwb[col].isin(CODES)].astype(int)
            assert (vals % 5 == 0).all(), (year, col)
        for col in ("g_woz", "p_koopw", "p_huurw"):
            vals = kwb[col][~kwb[col].isin(CODES)]
            assert vals.str.fullmatch(r"\d+,\d").all(), (year, col)
        for col in KWB_HEADER[6:]:
            seen_codes |= set(kwb[col]) & CODES
        inw = kwb.a_inw.astype(int)
        wijk_of = "WK" + kwb.gwb_code.str[2:8]
        bsum = inw[kwb.recs == "Buurt"].groupby(wijk_of[kwb.recs == "Buurt"]).sum()
        wk = inw[kwb.recs == "Wijk"].set_axis(kwb.gwb_code.str.strip()[kwb.recs == "Wijk"])
        not_additive += int((bsum.reindex(wk.index) != wk).sum())
        hidden = kwb[kwb.a_man == "."]
        assert len(hidden) >= 2 and (hidden.a_inw.astype(int) < 50).all()
    assert seen_codes == CODES
    assert not_additive > 0


def test_police_47018ned_style(inbox: Path):
    for year in SMALL.years:
        rows = list(
            csv.reader(
                (inbox / f"police/{year}/misdrijven_{year}.csv").open(encoding="utf-8"),
                delimiter=";",
            )
        )
        body = rows[1:]
        assert {r[1] for r in body} == {f"{year}JJ00"}
        assert {r[2] for r in body} == {"0.0.0", "1.1.1", "2.2.1", "3.5.2"}
        codes = {r[0] for r in body}
        buurten = buurt_codes(inbox, edition(year))
        assert buurten <= codes
        # like CBS 47018NED: the source's own totals for the gemeente and its wijken
        others = codes - buurten
        assert "GM9014" in others and all(c.startswith(("GM", "WK")) for c in others)
        by_code = {(r[0], r[2]): r[3] for r in body}
        city_total = int(by_code[("GM9014", "0.0.0")])
        shown = sum(int(by_code[(b, "0.0.0")]) for b in buurten if by_code[(b, "0.0.0")] != ".")
        assert city_total >= shown  # hidden buurten still count in the source's own total
        values = [r[3] for r in body]
        assert "." in values and all(v == "." or v.isdigit() for v in values)
        text = (inbox / f"police/{year}/misdrijven_{year}.csv").read_text(encoding="utf-8")
        assert '"."' in text and re.search(r'"0\.0\.0";\d+\n', text)


# --------------------------------------------------------------------------------------------
# activities


def test_activities(inbox: Path):
    allowed = {
        "uitkomst": {"opgelost", "deels opgelost", "niet opgelost", "lopend"},
        "categorie": {"zwerfafval", "vandalisme", "overlast", "overig"},
        "status": {"toegekend", "afgewezen", "in behandeling"},
    }
    for year in SMALL.activity_years:
        codes = buurt_codes(inbox, edition(year))
        for prog, header in ACTIVITY_HEADERS.items():
            if prog in XLSX_SHEETS:
                df = pd.read_excel(
                    inbox / f"{prog}/{year}/{prog}_{year}.xlsx", sheet_name=XLSX_SHEETS[prog]
                )
            else:
                df = pd.read_csv(inbox / f"{prog}/{year}/{prog}_{year}.csv", sep=";", dtype=str)
            assert list(df.columns) == header
            assert len(df) > 0 and df.iloc[:, 0].is_unique
            assert df.iloc[:, 1].astype(str).str.fullmatch(rf"{year}-\d\d-\d\d").all()
            assert set(df.buurt_code) <= codes
            for col, values in allowed.items():
                if col in df:
                    if prog == "idbanen" and col == "uitkomst":
                        values = {"regulier werk", "verlengd", "uitgevallen", "lopend"}
                    assert set(df[col]) <= values, (prog, col)
            if prog == "buurtinitiatieven":
                asked = df.bedrag_aangevraagd.astype(float)
                granted = df.bedrag_toegekend.astype(float)
                assert (granted.dropna() <= asked[granted.notna()] + 1e-9).all()
                assert granted[df.status == "in behandeling"].isna().all()
    text = (inbox / "straathoekwerk/2024/straathoekwerk_2024.csv").read_text(encoding="utf-8")
    assert text.startswith("contact_id;datum;buurt_code;leeftijdsgroep;aard_contact\n")


def test_activity_rates_follow_deprivation(inbox: Path):
    conc = pd.read_csv(inbox / "buurtconcierges/2024/buurtconcierges_2024.csv", sep=";")
    pop = read_csv(inbox / "population/2024/bevolking_2024.csv")
    inh = pop.aantal.astype(int).groupby(pop.buurt_code.str[2:8]).sum()
    rate = conc.groupby(conc.buurt_code.str[2:8]).size() / inh * 1000
    assert rate.max() > 2.5 * rate.min()


# --------------------------------------------------------------------------------------------
# scale


def test_scale_changes_sizes_and_formats(tmp_path: Path):
    base = dict(buurten_per_wijk=3, waves=(2014, 2020), years=(2014, 2019, 2020))
    a = generate(tmp_path / "a", scale=DemoScale(wijken=3, respondents_per_wave=300, **base))
    b = generate(
        tmp_path / "b",
        scale=DemoScale(
            wijken=8,
            respondents_per_wave=900,
            activity_scale=3.0,
            survey_format="csv",
            activity_format="csv",
            **base,
        ),
    )
    assert a.counts["survey"] == 600 and b.counts["survey"] == 1800
    assert b.counts["population"] > 2 * a.counts["population"]
    assert b.counts["straathoekwerk"] > 4 * a.counts["straathoekwerk"]
    assert (tmp_path / "b/survey/2020/wijkenquete_2020.csv").exists()
    assert (tmp_path / "a/survey/2020/wijkenquete_2020.sav").exists()
    assert (tmp_path / "b/buurtbemiddeling/2020/buurtbemiddeling_2020.csv").exists()
    assert b.formats["buurtinitiatieven"] == "csv" and a.formats["buurtinitiatieven"] == "xlsx"
    with pytest.raises(ValueError):
        DemoScale(waves=(2030,))


def test_several_municipalities(tmp_path: Path):
    scale = DemoScale(
        municipalities=4,
        wijken=4,
        buurten_per_wijk=3,
        respondents_per_wave=800,
        survey_items=40,
        waves=(2018, 2020),
        years=(2018, 2019, 2020),
    )
    generate(tmp_path, scale=scale)
    a = areas(tmp_path, 2019)
    gm = a[a.niveau == "gemeente"]
    assert list(gm.code) == ["GM9014", "GM9001", "GM9002", "GM9003"]
    assert gm.naam.is_unique
    boxes = [_bbox(g) for g in gm.geometrie]
    assert not any(_overlap(boxes[i], boxes[j]) for i in range(4) for j in range(i + 1, 4))
    df = read_survey(tmp_path, 2020)
    assert df.buurt_code.str[2:6].nunique() == 4
    assert codebook(tmp_path, 2020).item.nunique() == 40
    kwb = read_csv(tmp_path / "registry/2020/kwb-2020.csv")
    assert (kwb.recs == "Gemeente").sum() == 4


# --------------------------------------------------------------------------------------------
# helpers


def _bbox(wkt: str) -> tuple[int, int, int, int]:
    nums = [int(float(v)) for v in re.findall(r"-?\d+(?:\.\d+)?", wkt)]
    xs, ys = nums[0::2], nums[1::2]
    assert wkt.startswith("POLYGON ((") and (xs[0], ys[0]) == (xs[-1], ys[-1])
    return min(xs), min(ys), max(xs), max(ys)


def _area(b: tuple[int, int, int, int]) -> int:
    return (b[2] - b[0]) * (b[3] - b[1])


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
