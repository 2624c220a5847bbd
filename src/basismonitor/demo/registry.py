"""Objective sources: areas, crosswalk, population register, CBS KWB, police (47018NED style)."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from .io import InboxWriter, csv_text, round5
from .names import TYPES
from .world import AGE_GROUPS, HH_SIZE, OWNER_SHIFT, SEXES, WOZ_FACTOR, World, rect_wkt, rng_for

KWB_COLUMNS = (
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
)
POLICE_COLUMNS = ("WijkenEnBuurten", "Perioden", "SoortMisdrijf", "GeregistreerdeMisdrijven_1")
CRIME_TYPES = ("0.0.0", "1.1.1", "2.2.1", "3.5.2")
HIDDEN = "."
SECRET = "-99999999"
NOT_APPLICABLE = "-99997"
SMALL_BUURT = 50  # CBS hides most figures of buurten with fewer inhabitants

# house-price index (WOZ value on 1 January of the year before), 2008 = 1
_WOZ_INDEX = {
    2008: 1.0,
    2009: 1.04,
    2010: 1.02,
    2011: 0.99,
    2012: 0.96,
    2013: 0.92,
    2014: 0.87,
    2015: 0.85,
    2016: 0.86,
    2017: 0.88,
    2018: 0.92,
    2019: 1.0,
    2020: 1.08,
    2021: 1.16,
    2022: 1.3,
    2023: 1.5,
    2024: 1.55,
}
# benefits cycle (social assistance peaks after the crisis), crime trend (falling)
_WB_INDEX = {
    2008: 0.8,
    2009: 0.85,
    2010: 0.9,
    2011: 0.95,
    2012: 1.0,
    2013: 1.08,
    2014: 1.12,
    2015: 1.15,
    2016: 1.16,
    2017: 1.14,
    2018: 1.08,
    2019: 1.03,
    2020: 1.05,
    2021: 1.0,
    2022: 0.96,
    2023: 0.95,
    2024: 0.96,
}


def _index(table: dict[int, float], year: int) -> float:
    if year in table:
        return table[year]
    return table[min(table)] if year < min(table) else table[max(table)]


def _crime_index(year: int) -> float:
    return float(np.exp(-0.035 * (year - 2008)))


# --------------------------------------------------------------------------------------------
# areas and crosswalk


def write_areas(world: World, inbox: InboxWriter) -> int:
    total = 0
    for edition in (2008, 2019):
        rows = []
        for a in world.gemeenten + world.stadsdelen + world.wijken + world.buurten[edition]:
            rows.append((a.code, a.name, a.level, a.parent, rect_wkt(a.rect)))
        for _c, name, *_ in rows:
            if ";" in name or '"' in name:
                raise ValueError(f"area name {name!r} would need quoting")
        lines = ["code;naam;niveau;ouder_code;geometrie"]
        lines += [f'{c};{n};{lvl};{p};"{g}"' for c, n, lvl, p, g in rows]
        text = "\n".join(lines) + "\n"
        n_b = len(world.buurten[edition])
        inbox.write_bytes(
            "areas",
            edition,
            f"gebiedsindeling_{edition}.csv",
            text.encode("utf-8"),
            len(rows),
            f"areas {edition}: {len(rows):,} areas ({n_b:,} buurten)",
        )
        total += len(rows)
    return total


def crosswalk_rows(world: World) -> list[tuple]:
    """Every 2008 area to the 2019 areas, shares of its inhabitants on 1 January 2019 (areas
    without inhabitants by surface)."""
    yi = world.year_index(2019)
    inh = world.pop[:, yi, :].sum(axis=1).astype(float)
    rows: list[tuple] = []
    for a in world.gemeenten + world.stadsdelen + world.wijken:
        rows.append((2008, a.code, 2019, a.code, "1.000000", "inwoners"))
    b08, b19 = world.a_buurt[2008], world.a_buurt[2019]
    for i, old in enumerate(world.buurten[2008]):
        sel = np.flatnonzero(b08 == i)
        weights: dict[int, float] = {}
        use_area = inh[sel].sum() <= 0
        for a in sel:
            weights[int(b19[a])] = weights.get(int(b19[a]), 0.0) + (
                world.a_area[a] if use_area else inh[a]
            )
        total = sum(weights.values())
        targets = sorted(weights, key=lambda j: world.buurten[2019][j].code)
        shares = [round(weights[j] / total, 6) for j in targets]
        shares[-1] = round(1.0 - sum(shares[:-1]), 6)
        for j, s in zip(targets, shares, strict=True):
            rows.append((2008, old.code, 2019, world.buurten[2019][j].code, f"{s:.6f}", "inwoners"))
    return rows


def write_crosswalk(world: World, inbox: InboxWriter) -> int:
    rows = crosswalk_rows(world)
    text = csv_text(
        ("van_editie", "van_code", "naar_editie", "naar_code", "aandeel", "methode"), rows
    )
    changed = len(world.split_pairs) + len(world.merge_pairs)
    inbox.write_bytes(
        "crosswalk",
        2019,
        "crosswalk_2008_2019.csv",
        text.encode("utf-8"),
        len(rows),
        f"crosswalk 2008->2019: {len(rows):,} rows "
        f"({changed} splits/merges, {len(world.redivided)} re-divided wijk)",
    )
    return len(rows)


# --------------------------------------------------------------------------------------------
# population register


def write_population(world: World, inbox: InboxWriter) -> int:
    total = 0
    cells_age = np.repeat(np.array(AGE_GROUPS, dtype=object), 2)
    cells_sex = np.tile(np.array(SEXES, dtype=object), 5)
    for year in world.scale.years:
        ed = world.edition_for(year)
        bp = world.buurt_pop(ed, year)  # [buurt, cell]
        codes = np.array([b.code for b in world.buurten[ed]], dtype=object)
        nb = len(codes)
        df = pd.DataFrame(
            {
                "peildatum": f"{year}-01-01",
                "buurt_code": np.repeat(codes, 10),
                "leeftijdsklasse": np.tile(cells_age, nb),
                "geslacht": np.tile(cells_sex, nb),
                "aantal": bp.ravel(),
            }
        )
        text = df.to_csv(sep=";", index=False, lineterminator="\n")
        inbox.write_bytes(
            "population",
            year,
            f"bevolking_{year}.csv",
            text.encode("utf-8"),
            len(df),
            f"population {year}: {int(bp.sum()):,} inhabitants in {nb:,} buurten",
        )
        total += len(df)
    return total


# --------------------------------------------------------------------------------------------
# CBS Kerncijfers wijken en buurten


def _atom_registry(world: World, year: int) -> dict[str, np.ndarray]:
    """Exact per-atom quantities for one year (summable)."""
    rng = rng_for(world.seed, "registry", year)
    yi = world.year_index(year)
    pop = world.pop[:, yi, :]
    inh = pop.sum(axis=1).astype(float)
    d = world.dep[:, yi]
    types = world.w_type[world.a_wijk]
    hh_size = np.array([HH_SIZE[t] for t in TYPES])[types] * np.exp(0.05 * d)
    hh = np.rint(inh / hh_size * np.exp(rng.normal(0, 0.03, inh.size)))
    dwell = np.rint(hh * rng.uniform(1.01, 1.06, inh.size))
    dwell[world.a_kind == 1] = np.rint(inh[world.a_kind == 1] / 2.0)
    dwell[world.a_kind == 2] = 0
    shift = np.array([OWNER_SHIFT[t] for t in TYPES])[types]
    p_own = 1 / (1 + np.exp(-(0.2 + shift - 1.1 * d + rng.normal(0, 0.15, inh.size))))
    unknown = rng.uniform(0.002, 0.02, inh.size)
    own = dwell * p_own * (1 - unknown)
    rent = dwell * (1 - p_own) * (1 - unknown)
    wozf = np.array([WOZ_FACTOR[t] for t in TYPES])[types]
    trend = (world.w_d24 - world.w_d08)[world.a_wijk]
    woz = (
        215.0
        * wozf
        * np.exp(-0.22 * d - 0.12 * trend * (year - 2016) / 16)
        * _index(_WOZ_INDEX, year)
        * np.exp(rng.normal(0, 0.03, inh.size))
    )
    adults = pop[:, 2:8].sum(axis=1).astype(float)  # 15-64
    wb = rng.poisson(adults * 0.035 * np.exp(0.75 * d) * _index(_WB_INDEX, year))
    ao = rng.poisson(adults * 0.055 * np.exp(0.35 * d) * (1 - 0.012 * (year - 2008)))
    return {
        "inh": inh,
        "pop": pop,
        "hh": hh,
        "dwell": dwell,
        "own": own,
        "rent": rent,
        "woz_sum": woz * dwell,
        "wb": wb,
        "ao": ao,
        "area": world.a_area,
    }


def _aggregate(group: np.ndarray, n: int, q: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {}
    for k, v in q.items():
        shape = (n,) + v.shape[1:]
        acc = np.zeros(shape)
        np.add.at(acc, group, v)
        out[k] = acc
    return out


def _fmt_int(v: np.ndarray) -> np.ndarray:
    return np.array([str(int(x)) for x in v], dtype=object)


def _fmt_dec(v: np.ndarray) -> np.ndarray:
    return np.array([f"{x:.1f}".replace(".", ",") for x in v], dtype=object)


def _kwb_level(level: str, a: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Formatted KWB cells of all areas of one level (vectorised)."""
    inh = a["inh"]
    pop = a["pop"]
    age = pop.reshape(len(inh), 5, 2).sum(axis=2)
    counts = {
        "a_inw": inh,
        "a_man": pop[:, 0::2].sum(axis=1),
        "a_vrouw": pop[:, 1::2].sum(axis=1),
        "a_00_14": age[:, 0],
        "a_15_24": age[:, 1],
        "a_25_44": age[:, 2],
        "a_45_64": age[:, 3],
        "a_65_oo": age[:, 4],
        "a_hh": a["hh"],
        "a_woning": a["dwell"],
    }
    vals = {k: _fmt_int(round5(v)) for k, v in counts.items()}
    dwell = a["dwell"]
    has = dwell > 0
    safe = np.where(has, dwell, 1.0)
    for k, v in (
        ("g_woz", a["woz_sum"] / safe),
        ("p_koopw", 100 * a["own"] / safe),
        ("p_huurw", 100 * a["rent"] / safe),
    ):
        vals[k] = np.where(has, _fmt_dec(v), NOT_APPLICABLE)
    for k in ("wb", "ao"):
        v = a[k]
        secret = (v > 0) & (v < 10) if level == "Buurt" else np.zeros(len(v), dtype=bool)
        vals[f"a_soz_{k}"] = np.where(secret, SECRET, _fmt_int(round5(v)))
    ha = a["area"] / 10_000
    vals["a_opp_ha"] = _fmt_int(np.rint(ha))
    vals["bev_dich"] = np.where(
        ha > 0, _fmt_int(np.rint(inh / np.where(ha > 0, ha, 1) * 100)), NOT_APPLICABLE
    )
    if level == "Buurt":
        small = inh < SMALL_BUURT
        for k in (
            "a_man",
            "a_vrouw",
            "a_00_14",
            "a_15_24",
            "a_25_44",
            "a_45_64",
            "a_65_oo",
            "a_hh",
            "a_soz_wb",
            "a_soz_ao",
        ):
            vals[k] = np.where(small, HIDDEN, vals[k])
        for k in ("g_woz", "p_koopw", "p_huurw"):
            vals[k] = np.where(small & (vals[k] != NOT_APPLICABLE), HIDDEN, vals[k])
    return vals


def kwb_rows(world: World, year: int) -> list[list[str]]:
    ed = world.edition_for(year)
    q = _atom_registry(world, year)
    rng = rng_for(world.seed, "registry-secret", year)
    buurten = world.buurten[ed]
    gm_of_atom = np.array([w.gm for w in world.wijken])[world.a_wijk]
    levels = {
        "Buurt": (buurten, _kwb_level("Buurt", _aggregate(world.a_buurt[ed], len(buurten), q))),
        "Wijk": (world.wijken, _kwb_level("Wijk", _aggregate(world.a_wijk, len(world.wijken), q))),
        "Gemeente": (
            world.gemeenten,
            _kwb_level("Gemeente", _aggregate(gm_of_atom, len(world.gemeenten), q)),
        ),
    }
    # a few figures CBS could not establish: unknown WOZ in some buurten
    bv = levels["Buurt"][1]
    unknown = rng.choice(
        len(buurten), size=min(len(buurten), max(1, len(buurten) // 60)), replace=False
    )
    for i in unknown:
        if bv["g_woz"][i] not in (HIDDEN, NOT_APPLICABLE):
            bv["g_woz"][i] = SECRET
    changed19 = {b.code for b in world.buurten[2019] if b.changed}
    gm_names = [g.name for g in world.gemeenten]
    value_cols = KWB_COLUMNS[6:]

    def row(level: str, i: int) -> list[str]:
        areas, vals = levels[level]
        area = areas[i]
        if level == "Gemeente":
            ind = HIDDEN
        elif year == 2019 and area.code in changed19:
            ind = "3"
        else:
            ind = "1"
        code = area.code.ljust(10)
        return [code, code, area.name, gm_names[area.gm], level, ind] + [
            vals[c][i] for c in value_cols
        ]

    rows = []
    by_wijk: dict[int, list[int]] = {}
    for j, b in enumerate(buurten):
        by_wijk.setdefault(b.wijk, []).append(j)
    wijken_of: dict[int, list[int]] = {}
    for wi, w in enumerate(world.wijken):
        wijken_of.setdefault(w.gm, []).append(wi)
    for gi in range(len(world.gemeenten)):
        rows.append(row("Gemeente", gi))
        for wi in wijken_of.get(gi, []):
            rows.append(row("Wijk", wi))
            for j in by_wijk.get(wi, []):
                rows.append(row("Buurt", j))
    return rows


def write_registry(world: World, inbox: InboxWriter) -> int:
    total = 0
    for year in world.scale.years:
        rows = kwb_rows(world, year)
        text = csv_text(KWB_COLUMNS, rows)
        inbox.write_bytes(
            "registry",
            year,
            f"kwb-{year}.csv",
            text.encode("utf-8"),
            len(rows),
            f"registry {year}: {len(rows):,} KWB rows",
        )
        total += len(rows)
    return total


# --------------------------------------------------------------------------------------------
# police


def write_police(world: World, inbox: InboxWriter) -> int:
    total = 0
    types = world.w_type[world.a_wijk]
    t_binnen = np.isin(types, [TYPES.index("binnenstad"), TYPES.index("student")])
    for year in world.scale.years:
        rng = rng_for(world.seed, "police", year)
        ed = world.edition_for(year)
        yi = world.year_index(year)
        inh = world.pop[:, yi, :].sum(axis=1).astype(float)
        d = world.dep[:, yi]
        rate = 0.045 * np.exp(0.45 * d) * np.where(t_binnen, 2.6, 1.0) * _crime_index(year)
        base = (
            inh * rate
            + np.where(world.a_kind == 1, 25.0, 0.0)
            + np.where(world.a_kind == 2, 6.0, 0.0)
        )
        burg_f = 0.09 * np.exp(-0.1 * d) * (0.6 if year in (2020, 2021) else 1.0)
        vern_f = 0.13 * np.exp(0.15 * d)
        gew_f = 0.1 * np.exp(0.2 * d) * np.where(t_binnen, 1.4, 1.0)
        parts = np.stack([rng.poisson(base * f) for f in (burg_f, vern_f, gew_f)], axis=1)
        other = rng.poisson(base * np.clip(1 - burg_f - vern_f - gew_f, 0.3, None))
        per_atom = np.column_stack([parts.sum(axis=1) + other, parts])
        nb = len(world.buurten[ed])
        acc = np.zeros((nb, 4), dtype=np.int64)
        np.add.at(acc, world.a_buurt[ed], per_atom)
        inh_b = np.zeros(nb)
        np.add.at(inh_b, world.a_buurt[ed], inh)
        rows = []
        period = f"{year}JJ00"
        # Like CBS 47018NED the file also holds the gemeente and wijk totals the source itself
        # computes (from exact counts, hidden buurten included).
        by_wijk = np.zeros((len(world.wijken), 4), dtype=np.int64)
        np.add.at(by_wijk, world.a_wijk, per_atom)
        gm_of_wijk = np.array([w.gm for w in world.wijken])
        by_gm = np.zeros((len(world.gemeenten), 4), dtype=np.int64)
        np.add.at(by_gm, gm_of_wijk, by_wijk)
        for g, gemeente in enumerate(world.gemeenten):
            for k, ct in enumerate(CRIME_TYPES):
                rows.append((gemeente.code, period, ct, int(by_gm[g, k])))
        for w, wijk in enumerate(world.wijken):
            for k, ct in enumerate(CRIME_TYPES):
                rows.append((wijk.code, period, ct, int(by_wijk[w, k])))
        for j, b in enumerate(world.buurten[ed]):
            hidden = inh_b[j] < SMALL_BUURT
            for k, ct in enumerate(CRIME_TYPES):
                rows.append((b.code, period, ct, HIDDEN if hidden else int(acc[j, k])))
        text = csv_text(POLICE_COLUMNS, rows, quoting=csv.QUOTE_NONNUMERIC)
        inbox.write_bytes(
            "police",
            year,
            f"misdrijven_{year}.csv",
            text.encode("utf-8"),
            len(rows),
            f"police {year}: {int(acc[:, 0].sum()):,} crimes in {nb:,} buurten",
        )
        total += len(rows)
    return total
