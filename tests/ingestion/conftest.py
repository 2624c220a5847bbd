"""Fixtures for the ingestion tests: tiny source files written into a temporary inbox, loaded
into a real DuckDB warehouse in tmp_path (no mocks)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import duckdb
import pytest
from basismonitor.ingestion import LoadResult, load_config, load_file

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
# A key of the length ingestion requires for survey data that is not the demo's own (not secret).
TEST_KEY = "test-key-of-adequate-length-0123456789"
CBS_2017 = SHARED / "data" / "cbs-groningen-2017"

# The demo municipality (docs/SOURCES.md): two wijken, four buurten in edition 2008; in 2019
# BU90140101 splits into BU90140103 + BU90140104 and BU90140201 + BU90140202 merge into BU90140203.
BUURTEN_2008 = ["BU90140101", "BU90140102", "BU90140201", "BU90140202"]
BUURTEN_2019 = ["BU90140102", "BU90140103", "BU90140104", "BU90140203"]


def square(i: int) -> str:
    x, y = 233000 + 1000 * i, 582000
    return (f"POLYGON (({x} {y}, {x + 1000} {y}, {x + 1000} {y + 1000}, {x} {y + 1000}, "
            f"{x} {y}))")


def areas_csv(buurten: Sequence[str]) -> str:
    lines = ["code;naam;niveau;ouder_code;geometrie",
             f'GM9014;Groningen-demo;gemeente;;"{square(0)}"']
    for wijk in sorted({b[:2].replace("BU", "WK") + b[2:8] for b in buurten}):
        lines.append(f'{wijk};Wijk {wijk[-2:]};wijk;GM9014;"{square(1)}"')
    for i, b in enumerate(buurten):
        lines.append(f'{b};Buurt {b[-4:]};buurt;WK{b[2:8]};"{square(i + 2)}"')
    return "\n".join(lines) + "\n"


CODEBOOK_ITEMS = [  # variable, item, scale, codes, missing codes
    ("v01", "cohesie_1", "eens5", [1, 2, 3, 4, 5], [9]),
    ("v02", "cijfer_buurt", "cijfer10", list(range(1, 11)), [99]),
    ("v03", "onveilig", "janee", [0, 1], [9]),
]


def codebook_csv(items=CODEBOOK_ITEMS) -> str:
    lines = ["variabele;item;vraag;schaal;code;betekenis;ontbrekend"]
    for var, item, scale, codes, missing in items:
        for c in codes:
            lines.append(f"{var};{item};Vraag {item};{scale};{c};code {c};0")
        for c in missing:
            meaning = "weet niet" if c == 9 else "geen antwoord"
            lines.append(f"{var};{item};Vraag {item};{scale};{c};{meaning};1")
    return "\n".join(lines) + "\n"


def survey_rows(wave: int, n: int = 6, buurten: Sequence[str] = BUURTEN_2008) -> list[list]:
    rows = []
    for i in range(n):
        rows.append([f"W{wave}-{i:06d}", wave, buurten[i % len(buurten)], wave - 20 - 9 * i,
                     1 + i % 2, 1 + i % 5, 1 + i % 10, i % 2])
    return rows


SURVEY_HEADER = ["respondent_id", "golf", "buurt_code", "geboortejaar", "geslacht",
                 "v01", "v02", "v03"]


def csv_text(header: Sequence[str], rows: Iterable[Sequence], sep: str = ";") -> str:
    return "\n".join([sep.join(header)] + [sep.join("" if v is None else str(v) for v in r)
                                          for r in rows]) + "\n"


def split_rows(share_103: str, share_104: str) -> list[list]:
    """Crosswalk rows 2008 -> 2019: BU90140101 split over BU90140103 and BU90140104 with these
    shares (as delivered), BU90140102 kept whole."""
    return [[2008, "BU90140101", 2019, "BU90140103", share_103, "inwoners"],
            [2008, "BU90140101", 2019, "BU90140104", share_104, "inwoners"],
            [2008, "BU90140102", 2019, "BU90140102", "1", "inwoners"]]


def edited_config(folder: Path, old: str, new: str):
    """The project's sources.yml with `old` replaced by `new` (a test's own settings), written to
    folder/sources.yml and loaded."""
    path = folder / "sources.yml"
    path.write_text(load_config().path.read_text().replace(old, new))
    return load_config(path)


class Demo:
    """Writes source files into tmp inbox and loads them into a tmp warehouse."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.inbox = root / "inbox"
        self.warehouse = root / "warehouse" / "basismonitor.duckdb"
        self.config = load_config()

    # -- files --------------------------------------------------------------------------------
    def write(self, source: str, period: int | str, name: str, content: str | bytes,
              encoding: str = "utf-8") -> Path:
        path = self.inbox / source / str(period) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode(encoding))
        return path

    def areas(self, edition: int = 2008, buurten: Sequence[str] | None = None) -> Path:
        if buurten is None:
            buurten = BUURTEN_2008 if edition < 2019 else BUURTEN_2019
        return self.write("areas", edition, f"gebiedsindeling_{edition}.csv", areas_csv(buurten))

    def codebook(self, wave: int, items=CODEBOOK_ITEMS) -> Path:
        return self.write("survey", wave, f"codeboek_{wave}.csv", codebook_csv(items))

    def survey_csv(self, wave: int, rows=None, header=SURVEY_HEADER, encoding="cp1252",
                   sep=";") -> Path:
        rows = survey_rows(wave) if rows is None else rows
        return self.write("survey", wave, f"wijkenquete_{wave}.csv",
                          csv_text(header, rows, sep), encoding)

    def population(self, year: int, rows=None) -> Path:
        if rows is None:
            rows = [[f"{year}-01-01", b, g, s, 100 + i]
                    for i, (b, g, s) in enumerate((b, g, s) for b in BUURTEN_2008
                                                  for g in ("15-24", "65+") for s in "MV")]
        return self.write("population", year, f"bevolking_{year}.csv", csv_text(
            ["peildatum", "buurt_code", "leeftijdsklasse", "geslacht", "aantal"], rows))

    def registry(self, year: int, rows=None, extra_header: Sequence[str] = ()) -> Path:
        header = ["gwb_code_10", "gwb_code", "regio", "gm_naam", "recs", "a_inw", "g_woz",
                  "p_koopw", *extra_header]
        if rows is None:
            rows = [["GM9014    ", "GM9014", "Groningen-demo", "Groningen-demo", "Gemeente",
                     "1000", "212,4", "45"],
                    ["WK901401  ", "WK901401", "Wijk 01", "Groningen-demo", "Wijk", "500",
                     "199,9", "."],
                    ["BU90140101", "BU90140101", "Buurt 0101", "Groningen-demo", "Buurt", "250",
                     "-99999999", "40"],
                    ["BU90140102", "BU90140102", "Buurt 0102", "Groningen-demo", "Buurt", "245",
                     "180", "-99997"]]
        return self.write("registry", year, f"kwb-{year}.csv", csv_text(header, rows))

    def police(self, year: int, rows=None) -> Path:
        if rows is None:
            rows = [[b, f"{year}JJ00", t, str(5 + i)] for i, (b, t) in enumerate(
                (b, t) for b in BUURTEN_2008 for t in ("0.0.0", "1.1.1"))]
            rows[1][3] = "."
        header = ["WijkenEnBuurten", "Perioden", "SoortMisdrijf", "GeregistreerdeMisdrijven_1"]
        lines = [";".join(f'"{h}"' for h in header)]
        lines += [";".join(f'"{v}"' for v in r) for r in rows]
        return self.write("police", year, f"misdrijven_{year}.csv", "\n".join(lines) + "\n")

    def concierges(self, year: int, rows=None) -> Path:
        if rows is None:
            rows = [[f"M{year}-{i}", f"{year}-03-0{i + 1}", BUURTEN_2008[i % 4],
                     ["zwerfafval", "vandalisme", "overlast", "overig"][i % 4]]
                    for i in range(4)]
        return self.write("buurtconcierges", year, f"buurtconcierges_{year}.csv",
                          csv_text(["melding_id", "datum", "buurt_code", "categorie"], rows))

    def xlsx(self, source: str, year: int, name: str, sheet: str, header, rows) -> Path:
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = sheet
        ws.append(list(header))
        for r in rows:
            ws.append(list(r))
        path = self.inbox / source / str(year) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        wb.save(path)
        return path

    def mediation(self, year: int, rows=None, sheet: str = "zaken") -> Path:
        from datetime import date

        if rows is None:
            rows = [[f"Z{year}-{i}", date(year, 2, i + 1), BUURTEN_2008[i % 4], "geluid",
                     ["opgelost", "deels opgelost", "niet opgelost", "lopend"][i % 4]]
                    for i in range(4)]
        return self.xlsx("buurtbemiddeling", year, f"buurtbemiddeling_{year}.xlsx", sheet,
                         ["zaaknummer", "intakedatum", "buurt_code", "soort_conflict", "uitkomst"],
                         rows)

    def crosswalk(self, rows=None) -> Path:
        if rows is None:
            rows = [*split_rows("0.6", "0.4"),
                    [2008, "BU90140201", 2019, "BU90140203", "1", "inwoners"],
                    [2008, "BU90140202", 2019, "BU90140203", "1", "inwoners"]]
        return self.write("crosswalk", 2019, "crosswalk_2008_2019.csv", csv_text(
            ["van_editie", "van_code", "naar_editie", "naar_code", "aandeel", "methode"], rows))

    # -- loading ------------------------------------------------------------------------------
    def load(self, source: str, period: int | str, path: Path, **kw) -> LoadResult:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return load_file(self.warehouse, source, str(period), path, config=self.config, **kw)

    def q(self, sql: str, params=None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def one(self, sql: str, params=None):
        return self.q(sql, params)[0][0]

    def quarantine(self, load_id: str | None = None) -> list[dict]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            where = "where load_id = ?" if load_id else ""
            cur = con.execute(f"select * from raw.quarantine {where} order by row_number, "
                              "column_name", [load_id] if load_id else [])
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Demo:
    monkeypatch.setenv("BASISMONITOR_PSEUDONYM_KEY", TEST_KEY)
    return Demo(tmp_path)


@pytest.fixture
def demo_areas(demo: Demo) -> Demo:
    """Demo with both area editions landed."""
    demo.load("areas", 2008, demo.areas(2008))
    demo.load("areas", 2019, demo.areas(2019))
    return demo


@pytest.fixture
def cbs_2017() -> Path:
    if not CBS_2017.is_dir():
        pytest.skip(f"the real CBS files are not available at {CBS_2017} (../shared absent)")
    return CBS_2017
