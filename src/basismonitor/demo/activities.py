"""Registrations of the municipality's own programmes (2012..): mediation, youth work, caretakers,
citizen initiatives. Rates follow population and the area's deprivation, so they differ by area."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .io import InboxWriter
from .names import TYPES
from .scale import XLSX_MAX_ROWS
from .world import World, rng_for


@dataclass(frozen=True)
class Programme:
    name: str
    columns: tuple[str, ...]
    sheet: str | None  # XLSX sheet under the contract; None = CSV
    id_prefix: str
    id_width: int


PROGRAMMES = (
    Programme(
        "buurtbemiddeling",
        ("zaaknummer", "intakedatum", "buurt_code", "soort_conflict", "uitkomst"),
        "zaken",
        "BB",
        4,
    ),
    Programme(
        "straathoekwerk",
        ("contact_id", "datum", "buurt_code", "leeftijdsgroep", "aard_contact"),
        None,
        "SHW",
        6,
    ),
    Programme("buurtconcierges", ("melding_id", "datum", "buurt_code", "categorie"), None, "BC", 6),
    Programme(
        "buurtinitiatieven",
        (
            "initiatief_id",
            "datum_aanvraag",
            "buurt_code",
            "titel",
            "bedrag_aangevraagd",
            "bedrag_toegekend",
            "status",
        ),
        "initiatieven",
        "BI",
        4,
    ),
    # ID-banen: subsidised jobs in neighbourhood work, one row per placement and its outcome
    Programme(
        "idbanen",
        ("plaatsing_id", "startdatum", "buurt_code", "soort_baan", "uitkomst"),
        None,
        "IDB",
        5,
    ),
)

CONFLICTS = (
    "geluidsoverlast",
    "burenruzie",
    "parkeren",
    "erfafscheiding",
    "huisdieren",
    "stank",
    "pesten en intimidatie",
    "overig",
)
CONFLICT_P = np.array([0.30, 0.21, 0.06, 0.07, 0.07, 0.04, 0.09, 0.16])
OUTCOMES = ("opgelost", "deels opgelost", "niet opgelost", "lopend")
YOUTH_AGES = ("12-17", "18-23", "24-27")
CONTACTS = ("ontmoeting op straat", "hulpvraag", "doorverwijzing", "groepsactiviteit", "huisbezoek")
CONTACT_P = np.array([0.45, 0.2, 0.1, 0.15, 0.1])
CATEGORIES = ("zwerfafval", "vandalisme", "overlast", "overig")
STATUSES = ("toegekend", "afgewezen", "in behandeling")
JOBS = ("groenonderhoud", "buurtconcierge-assistent", "wijkrestaurant", "schoolconcierge",
        "huiskamerproject")
JOB_OUTCOMES = ("regulier werk", "verlengd", "uitgevallen", "lopend")
TITLES = (
    "Buurtfeest",
    "Burendag",
    "Buurtmoestuin",
    "Geveltuinen",
    "Opknappen speeltuin",
    "Kerstmarkt",
    "Zomerfeest",
    "Repair Caf\u00e9",
    "Bankjes in het park",
    "Jeu de boules-baan",
    "Buurtkrant",
    "Muurschildering",
    "Kinderkunstroute",
    "Buurtbibliotheek",
    "Wijkbarbecue",
    "Sport in de buurt",
    "Ontmoetingsbank",
    "Voedselbos",
    "Halloweentocht",
    "Bloembakken",
)


def _ramp(programme: str, year: int) -> float:
    """Programmes started in 2012 and grew; initiatives took off with the neighbourhood budgets
    (2015); youth work was cut back a little after 2019."""
    t = year - 2012
    if programme == "buurtinitiatieven":
        return 0.35 if year < 2015 else min(1.2, 0.8 + 0.05 * (year - 2015))
    if programme == "straathoekwerk":
        return min(1.0, 0.6 + 0.1 * t) * (0.9 if year >= 2020 else 1.0)
    return min(1.0, 0.55 + 0.09 * t)


def _rates(world: World, programme: str, year: int) -> np.ndarray:
    yi = world.year_index(year)
    pop = world.pop[:, yi, :].astype(float)
    inh = pop.sum(axis=1)
    d = world.dep[:, yi]
    s = world.scale.activity_scale * _ramp(programme, year)
    if programme == "buurtbemiddeling":
        r = inh * 0.0017 * np.exp(0.5 * d)
    elif programme == "straathoekwerk":
        youth = pop[:, 2:4].sum(axis=1) + 0.3 * pop[:, 0:2].sum(axis=1)
        r = youth * 0.11 * np.exp(0.7 * d)
    elif programme == "buurtconcierges":
        r = (
            inh * 0.035 * np.exp(0.8 * d)
            + np.where(world.a_kind == 1, 40.0, 0.0)
            + np.where(world.a_kind == 2, 25.0, 0.0)
        )
    elif programme == "idbanen":
        # placements follow the long-term unemployed: more where deprivation is higher
        r = inh * 0.0009 * np.exp(0.6 * d)
    else:
        r = inh * 0.0011 * np.exp(-0.25 * d)
    return r * s


def _dates(year: int) -> np.ndarray:
    start = dt.date(year, 1, 1)
    n = (dt.date(year + 1, 1, 1) - start).days
    return np.array([(start + dt.timedelta(days=i)).isoformat() for i in range(n)], dtype=object)


def _ids(prefix: str, year: int, n: int, width: int) -> np.ndarray:
    w = max(width, len(str(n)))
    return np.array([f"{prefix}-{year}-{i:0{w}d}" for i in range(1, n + 1)], dtype=object)


def draw_programme(world: World, prog: Programme, year: int) -> pd.DataFrame:
    rng = rng_for(world.seed, prog.name, year)
    counts = rng.poisson(_rates(world, prog.name, year))
    atom = np.repeat(np.arange(world.n_atoms), counts)
    n = atom.size
    dates = _dates(year)
    day = rng.integers(0, len(dates), n)
    order = np.lexsort((rng.random(n), day))
    atom, day = atom[order], day[order]
    ed = world.edition_for(year)
    codes = np.array([b.code for b in world.buurten[ed]], dtype=object)[world.a_buurt[ed][atom]]
    d = world.dep[atom, world.year_index(year)]
    typ = world.w_type[world.a_wijk[atom]]
    last = year == max(world.scale.activity_years)
    frac = day / len(dates)
    cols: dict[str, object] = {
        prog.columns[0]: _ids(prog.id_prefix, year, n, prog.id_width),
        prog.columns[1]: dates[day],
        "buurt_code": codes,
    }
    u = rng.random(n)
    if prog.name == "buurtbemiddeling":
        p = np.tile(CONFLICT_P, (n, 1))
        urban = np.isin(typ, [TYPES.index("binnenstad"), TYPES.index("student")])
        p[urban, 0] *= 1.6
        p /= p.sum(axis=1, keepdims=True)
        cols["soort_conflict"] = np.array(CONFLICTS, dtype=object)[
            (u[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
        ]
        p_open = np.where(last, np.clip(frac, 0, 1) ** 3 * 0.9, 0.004)
        solved = np.clip(0.55 - 0.08 * d, 0.3, 0.8)
        v = rng.random(n)
        out = np.where(v < solved, 0, np.where(v < solved + 0.25, 1, 2))
        out[rng.random(n) < p_open] = 3
        cols["uitkomst"] = np.array(OUTCOMES, dtype=object)[out]
    elif prog.name == "straathoekwerk":
        cols["leeftijdsgroep"] = np.array(YOUTH_AGES, dtype=object)[
            np.searchsorted([0.45, 0.85], u)
        ]
        cols["aard_contact"] = np.array(CONTACTS, dtype=object)[
            np.searchsorted(np.cumsum(CONTACT_P)[:-1], rng.random(n))
        ]
    elif prog.name == "buurtconcierges":
        p_afval = np.clip(0.45 + 0.05 * d, 0.2, 0.7)
        p_vand = np.clip(0.18 + 0.05 * d, 0.05, 0.4)
        p_over = np.clip(0.22 + 0.05 * d, 0.05, 0.4)
        cat = np.where(
            u < p_afval,
            0,
            np.where(u < p_afval + p_vand, 1, np.where(u < p_afval + p_vand + p_over, 2, 3)),
        )
        cols["categorie"] = np.array(CATEGORIES, dtype=object)[cat]
    elif prog.name == "idbanen":
        cols["soort_baan"] = np.array(JOBS, dtype=object)[rng.integers(0, len(JOBS), n)]
        p_open = np.where(last, np.clip(frac, 0, 1) ** 2 * 0.9, 0.02)
        to_work = np.clip(0.30 - 0.06 * d, 0.1, 0.5)
        v = rng.random(n)
        out = np.where(v < to_work, 0, np.where(v < to_work + 0.45, 1, 2))
        out[rng.random(n) < p_open] = 3
        cols["uitkomst"] = np.array(JOB_OUTCOMES, dtype=object)[out]
    else:
        titles = np.array(TITLES, dtype=object)[rng.integers(0, len(TITLES), n)]
        names = np.array([b.name for b in world.buurten[ed]], dtype=object)[world.a_buurt[ed][atom]]
        with_place = rng.random(n) < 0.5
        cols["titel"] = np.where(with_place, titles + " " + names, titles)
        asked = np.exp(rng.normal(np.log(1500), 0.8, n))
        asked = np.where(rng.random(n) < 0.7, np.round(asked / 50) * 50, np.round(asked, 2))
        asked = np.maximum(asked, 50.0)
        p_pending = np.where(last, np.clip(frac, 0, 1) ** 2 * 0.8, 0.01)
        st = np.where(rng.random(n) < p_pending, 2, np.where(u < 0.72 - 0.03 * d, 0, 1))
        granted = np.round(asked * rng.uniform(0.5, 1.0, n) / 10) * 10
        granted = np.where(rng.random(n) < 0.5, asked, np.minimum(granted, asked))
        cols["bedrag_aangevraagd"] = asked
        cols["bedrag_toegekend"] = np.where(st == 0, granted, np.where(st == 1, 0.0, np.nan))
        cols["status"] = np.array(STATUSES, dtype=object)[st]
    return pd.DataFrame(cols, columns=list(prog.columns))


def _as_csv(df: pd.DataFrame) -> bytes:
    out = df.copy()
    for c in ("bedrag_aangevraagd", "bedrag_toegekend"):
        if c in out:
            out[c] = [("" if np.isnan(v) else f"{v:.2f}") for v in out[c].to_numpy(dtype=float)]
    return out.to_csv(sep=";", index=False, lineterminator="\n").encode("utf-8")


def _write_xlsx(path: Path, df: pd.DataFrame, sheet: str, year: int) -> None:
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "strings_to_numbers": False,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
    # fixed document properties: the file must be byte-identical for a seed
    wb.set_properties(
        {
            "title": f"{sheet} {year}",
            "author": "Basismonitor demo",
            "created": dt.datetime(year + 1, 1, 15, 9, 0, 0),
        }
    )
    ws = wb.add_worksheet(sheet)
    bold = wb.add_format({"bold": True})
    money = wb.add_format({"num_format": "0.00"})
    ws.write_row(0, 0, list(df.columns), bold)
    money_cols = {i for i, c in enumerate(df.columns) if c.startswith("bedrag_")}
    for r, rec in enumerate(df.itertuples(index=False, name=None), start=1):
        for c, v in enumerate(rec):
            if c in money_cols:
                if not np.isnan(v):
                    ws.write_number(r, c, float(v), money)
            else:
                ws.write_string(r, c, str(v))
    ws.set_column(0, len(df.columns) - 1, 16)
    wb.close()


def write_activities(world: World, inbox: InboxWriter) -> tuple[dict[str, int], dict[str, str]]:
    """Returns rows per programme and the format chosen per programme."""
    totals: dict[str, int] = {}
    formats: dict[str, str] = {}
    years = world.scale.activity_years
    for prog in PROGRAMMES:
        frames = None
        fmt = "csv"
        if prog.sheet is not None and world.scale.activity_format == "auto":
            frames = {y: draw_programme(world, prog, y) for y in years}
            fmt = "xlsx" if all(len(f) <= XLSX_MAX_ROWS for f in frames.values()) else "csv"
        formats[prog.name] = fmt
        totals[prog.name] = 0
        for y in years:
            df = frames[y] if frames is not None else draw_programme(world, prog, y)
            name = f"{prog.name}_{y}.{fmt}"
            note = f"{prog.name} {y}: {len(df):,} registrations"
            if fmt == "xlsx":
                inbox.write_with(
                    prog.name,
                    y,
                    name,
                    lambda p, df=df, s=prog.sheet, y=y: _write_xlsx(p, df, s, y),
                    len(df),
                    note,
                )
            else:
                inbox.write_bytes(prog.name, y, name, _as_csv(df), len(df), note)
            totals[prog.name] += len(df)
    return totals, formats
