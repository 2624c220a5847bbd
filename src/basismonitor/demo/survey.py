"""Survey waves (Wijkenquête Leefbaarheid en Veiligheid) and their codebooks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .io import InboxWriter, csv_text
from .names import TYPES
from .world import World, rng_for

RESPONDENT_COLUMNS = ("respondent_id", "golf", "buurt_code", "geboortejaar", "geslacht")
FIRST_NO_ANSWER_WAVE = 2016  # the web questionnaire (from 2016) has an explicit "geen antwoord"

SCALES: dict[str, tuple[tuple[int, str], ...]] = {
    "eens5": (
        (1, "helemaal oneens"),
        (2, "oneens"),
        (3, "niet eens, niet oneens"),
        (4, "eens"),
        (5, "helemaal eens"),
    ),
    "tevreden5": (
        (1, "zeer ontevreden"),
        (2, "ontevreden"),
        (3, "niet tevreden, niet ontevreden"),
        (4, "tevreden"),
        (5, "zeer tevreden"),
    ),
    "cijfer10": tuple(
        (i, {1: "1 (zeer slecht)", 10: "10 (uitstekend)"}.get(i, str(i))) for i in range(1, 11)
    ),
    "janee": ((0, "nee"), (1, "ja")),
    "vaak3": ((1, "vaak"), (2, "soms"), (3, "(bijna) nooit")),
}
DONT_KNOW = {"eens5": 9, "tevreden5": 9, "janee": 9, "vaak3": 9, "cijfer10": 99}
NO_ANSWER = -1


@dataclass(frozen=True)
class Item:
    item: str
    scale: str
    vraag: str
    mu: float  # base level of the latent answer
    bd: float  # effect of the area's deprivation (per unit)
    types: dict[str, float] = field(default_factory=dict)
    age: float = 0.0  # per 20 years above 45
    female: float = 0.0
    lg: float = 0.3  # loading on the respondent's general positivity
    lc: float = 0.0  # loading on the respondent's sense of community
    dk: float = 0.02  # share "weet niet"
    trend: float = 0.0  # effect of the area's 16-year deprivation change (buurt_vooruit)
    first_wave: int = 0
    renames: tuple[tuple[int, str], ...] = ()  # (from wave, variable name)


_T = "Hoe tevreden bent u over "
ITEMS: tuple[Item, ...] = (
    Item(
        "cohesie_1",
        "eens5",
        "De mensen in deze buurt kennen elkaar goed.",
        0.3,
        -0.45,
        {"binnenstad": -0.5, "student": -0.8, "dorp": 0.6, "villa": 0.2},
        0.3,
        0,
        0.3,
        0.9,
    ),
    Item(
        "cohesie_2",
        "eens5",
        "De mensen in deze buurt gaan op een prettige manier met elkaar om.",
        0.9,
        -0.5,
        {"binnenstad": -0.2, "student": -0.3, "dorp": 0.3},
        0.2,
        0,
        0.3,
        0.8,
    ),
    Item(
        "cohesie_3",
        "eens5",
        "Ik woon in een gezellige buurt, waar mensen elkaar helpen en dingen samen doen.",
        0.2,
        -0.5,
        {"binnenstad": -0.5, "student": -0.6, "dorp": 0.6, "villa": 0.2},
        0.2,
        0,
        0.3,
        0.9,
    ),
    Item(
        "cohesie_4",
        "eens5",
        "Ik voel me thuis bij de mensen die in deze buurt wonen.",
        0.8,
        -0.5,
        {"student": -0.5, "dorp": 0.4},
        0.25,
        0,
        0.3,
        0.85,
    ),
    Item(
        "cohesie_5",
        "eens5",
        "Ik heb veel contact met andere buurtbewoners.",
        -0.1,
        -0.35,
        {"binnenstad": -0.6, "student": -0.6, "dorp": 0.6},
        0.3,
        0,
        0.2,
        0.8,
    ),
    Item(
        "cijfer_buurt",
        "cijfer10",
        "Welk rapportcijfer geeft u uw buurt als woonomgeving?",
        7.4,
        -0.6,
        {"villa": 0.2, "dorp": 0.2, "nieuwbouw": 0.2},
        0.1,
        0,
        0.5,
        0.3,
        0.01,
        renames=((2016, "v06a"),),
    ),
    Item(
        "cijfer_woning",
        "cijfer10",
        "Welk rapportcijfer geeft u uw woning?",
        7.6,
        -0.4,
        {"student": -0.6, "villa": 0.4, "nieuwbouw": 0.3, "binnenstad": -0.2},
        0.15,
        0,
        0.5,
        0,
        0.005,
    ),
    Item(
        "cijfer_veiligheid",
        "cijfer10",
        "Welk rapportcijfer geeft u de veiligheid in uw buurt?",
        7.2,
        -0.55,
        {"binnenstad": -0.4, "dorp": 0.3},
        -0.05,
        -0.15,
        0.4,
        0,
        0.02,
    ),
    Item(
        "onveilig",
        "janee",
        "Voelt u zich wel eens onveilig in uw eigen buurt?",
        -1.3,
        0.55,
        {"binnenstad": 0.4, "student": 0.1, "dorp": -0.4, "villa": -0.2},
        0.05,
        0.35,
        -0.3,
        0,
        0.01,
    ),
    Item(
        "onveilig_avond",
        "janee",
        "Voelt u zich \u2019s avonds op straat in uw buurt wel eens onveilig?",
        -0.9,
        0.55,
        {"binnenstad": 0.4, "dorp": -0.5},
        0.15,
        0.5,
        -0.3,
        0,
        0.015,
    ),
    Item(
        "slachtoffer",
        "janee",
        "Bent u het afgelopen jaar slachtoffer geweest van een misdrijf in uw buurt?",
        -2.2,
        0.35,
        {"binnenstad": 0.5, "student": 0.3},
        -0.15,
        0,
        -0.1,
        0,
        0.01,
    ),
    Item(
        "overlast_buren",
        "vaak3",
        "Hoe vaak heeft u overlast van buren?",
        -1.2,
        0.5,
        {"volkswijk": 0.2, "naoorlogs": 0.2, "student": 0.2, "dorp": -0.3, "villa": -0.4},
        -0.1,
        0,
        -0.3,
        0,
        0.01,
    ),
    Item(
        "overlast_jongeren",
        "vaak3",
        "Hoe vaak is er overlast van rondhangende jongeren?",
        -0.9,
        0.6,
        {"naoorlogs": 0.3, "binnenstad": 0.1, "dorp": -0.1},
        0.1,
        0,
        -0.3,
        0,
        0.03,
        renames=((2012, "v13a"),),
    ),
    Item(
        "overlast_verkeer",
        "vaak3",
        "Hoe vaak wordt er in uw buurt te hard gereden?",
        0.0,
        0.15,
        {"dorp": 0.2, "nieuwbouw": 0.2, "binnenstad": -0.2},
        0.1,
        0,
        -0.2,
        0,
        0.02,
    ),
    Item(
        "overlast_zwerfafval",
        "vaak3",
        "Hoe vaak ligt er rommel of zwerfafval op straat?",
        -0.3,
        0.6,
        {"binnenstad": 0.5, "student": 0.4, "villa": -0.4, "dorp": -0.4},
        0,
        0,
        -0.3,
        0,
        0.01,
    ),
    Item(
        "overlast_hondenpoep",
        "vaak3",
        "Hoe vaak ligt er hondenpoep op straat of in het groen?",
        0.0,
        0.4,
        {"binnenstad": -0.1},
        0,
        0,
        -0.2,
        0,
        0.01,
    ),
    Item(
        "overlast_drugs",
        "vaak3",
        "Hoe vaak is er drugsoverlast in uw buurt?",
        -1.8,
        0.6,
        {"binnenstad": 0.7, "student": 0.3, "dorp": -0.5, "villa": -0.4},
        -0.1,
        0,
        -0.2,
        0,
        0.06,
    ),
    Item(
        "overlast_geluid",
        "vaak3",
        "Hoe vaak heeft u last van lawaai, bijvoorbeeld van caf\u00e9\u2019s of evenementen?",
        -1.3,
        0.3,
        {"binnenstad": 1.0, "student": 0.7, "dorp": -0.4},
        -0.1,
        0,
        -0.2,
        0,
        0.01,
    ),
    Item(
        "tevreden_woning",
        "tevreden5",
        "Hoe tevreden bent u met uw woning?",
        1.1,
        -0.35,
        {"student": -0.6, "villa": 0.4, "nieuwbouw": 0.4},
        0.2,
        0,
        0.6,
        0,
        0.005,
    ),
    Item(
        "tevreden_groen",
        "tevreden5",
        _T + "het groen in uw buurt?",
        0.6,
        -0.3,
        {"binnenstad": -0.6, "dorp": 0.5, "villa": 0.4, "gezin": 0.2},
        0,
        0,
        0.4,
        0,
        0.01,
    ),
    Item(
        "tevreden_speelvoorzieningen",
        "tevreden5",
        _T + "de speelvoorzieningen voor kinderen?",
        0.2,
        -0.3,
        {"binnenstad": -0.5, "nieuwbouw": 0.3, "gezin": 0.3},
        0,
        0,
        0.4,
        0,
        0.12,
    ),
    Item(
        "tevreden_winkels",
        "tevreden5",
        _T + "de winkels voor dagelijkse boodschappen?",
        0.9,
        -0.1,
        {"binnenstad": 0.6, "dorp": -0.5, "nieuwbouw": -0.6},
        0,
        0,
        0.3,
        0,
        0.01,
    ),
    Item(
        "tevreden_onderhoud",
        "tevreden5",
        _T + "het onderhoud van straten en stoepen?",
        0.1,
        -0.35,
        {"villa": 0.2, "nieuwbouw": 0.5},
        0,
        0,
        0.4,
        0,
        0.02,
    ),
    Item(
        "tevreden_verlichting",
        "tevreden5",
        _T + "de straatverlichting?",
        0.5,
        -0.2,
        {"dorp": -0.3},
        0,
        0,
        0.3,
        0,
        0.03,
    ),
    Item(
        "tevreden_ov",
        "tevreden5",
        _T + "het openbaar vervoer in uw buurt?",
        0.7,
        0.0,
        {"binnenstad": 0.6, "student": 0.4, "dorp": -0.8, "nieuwbouw": -0.5},
        0,
        0,
        0.3,
        0,
        0.06,
        renames=((2020, "v25r"),),
    ),
    Item(
        "tevreden_jongeren",
        "tevreden5",
        _T + "de voorzieningen voor jongeren (12\u201318 jaar)?",
        -0.3,
        -0.25,
        {"binnenstad": 0.2, "dorp": -0.3},
        0,
        0,
        0.3,
        0,
        0.2,
    ),
    Item(
        "buurt_vooruit",
        "eens5",
        "De buurt is het afgelopen jaar vooruitgegaan.",
        -0.1,
        -0.1,
        {"nieuwbouw": 0.5},
        0,
        0,
        0.3,
        0,
        0.08,
        trend=-0.9,
        first_wave=2010,
    ),
    Item(
        "verantwoordelijk",
        "eens5",
        "Ik voel me medeverantwoordelijk voor de leefbaarheid in mijn buurt.",
        0.8,
        -0.15,
        {"student": -0.6, "dorp": 0.3},
        0.3,
        0,
        0.2,
        0.4,
        0.02,
    ),
    Item(
        "gemeente_betrekt",
        "eens5",
        "De gemeente betrekt buurtbewoners voldoende bij plannen voor de buurt.",
        -0.3,
        -0.2,
        {},
        -0.1,
        0,
        0.4,
        0,
        0.12,
        first_wave=2012,
    ),
    Item(
        "verhuiswens",
        "janee",
        "Wilt u binnen twee jaar verhuizen?",
        -1.3,
        0.35,
        {"student": 1.2, "binnenstad": 0.4, "villa": -0.3, "dorp": -0.3},
        -0.45,
        0,
        -0.3,
        0,
        0.03,
    ),
    # national-scale extras (items 31..40)
    Item(
        "vrijwilligerswerk",
        "janee",
        "Doet u vrijwilligerswerk?",
        -0.8,
        -0.3,
        {"dorp": 0.4},
        0.2,
        0,
        0,
        0.3,
        0.005,
    ),
    Item(
        "eenzaam",
        "janee",
        "Voelt u zich wel eens eenzaam?",
        -1.0,
        0.3,
        {"student": 0.3},
        0.15,
        0,
        -0.4,
        0,
        0.03,
    ),
    Item(
        "cijfer_leven",
        "cijfer10",
        "Welk rapportcijfer geeft u uw leven als geheel?",
        7.5,
        -0.3,
        {},
        0,
        0,
        0.7,
        0,
        0.01,
    ),
    Item(
        "overlast_parkeren",
        "vaak3",
        "Hoe vaak zijn er parkeerproblemen in uw buurt?",
        -0.3,
        0.1,
        {"binnenstad": 0.8, "volkswijk": 0.5, "dorp": -0.6},
        0,
        0,
        -0.2,
        0,
        0.01,
    ),
    Item(
        "overlast_vandalisme",
        "vaak3",
        "Hoe vaak worden bushokjes, straatmeubilair of auto\u2019s vernield?",
        -1.2,
        0.55,
        {"binnenstad": 0.3},
        0,
        0,
        -0.2,
        0,
        0.04,
    ),
    Item(
        "tevreden_sport",
        "tevreden5",
        _T + "de sportvoorzieningen?",
        0.5,
        -0.15,
        {},
        0,
        0,
        0.3,
        0,
        0.08,
    ),
    Item(
        "tevreden_zorg",
        "tevreden5",
        _T + "de zorgvoorzieningen (huisarts, apotheek)?",
        0.9,
        -0.1,
        {"dorp": -0.4},
        0.2,
        0,
        0.3,
        0,
        0.04,
    ),
    Item(
        "wijkagent_bekend",
        "janee",
        "Weet u wie de wijkagent in uw buurt is?",
        -0.9,
        0.1,
        {"dorp": 0.6},
        0.5,
        0,
        0,
        0,
        0.02,
    ),
    Item(
        "buurtactiviteit",
        "janee",
        "Heeft u het afgelopen jaar meegedaan aan een activiteit in de buurt?",
        -0.9,
        -0.2,
        {"dorp": 0.5, "student": -0.4},
        0.1,
        0,
        0,
        0.5,
        0.005,
    ),
    Item(
        "mantelzorg",
        "janee",
        "Geeft u mantelzorg aan een naaste?",
        -1.4,
        0.05,
        {},
        0.35,
        0.3,
        0,
        0,
        0.01,
    ),
)


def items_for(n: int) -> list[Item]:
    out = list(ITEMS[:n])
    for k in range(len(out) + 1, n + 1):
        out.append(
            Item(
                f"stelling_{k}",
                "eens5",
                f"Stelling {k}: over het algemeen ben ik tevreden met deze buurt.",
                0.3,
                -0.3,
                {},
                0,
                0,
                0.4,
                0.2,
                0.02,
            )
        )
    return out


def variable_name(pos: int, item: Item, wave: int) -> str:
    name = f"v{pos:02d}"
    for since, alt in item.renames:
        if wave >= since:
            name = alt
    return name


def wave_variables(items: list[Item], wave: int) -> list[tuple[str, Item]]:
    return [
        (variable_name(i + 1, it, wave), it) for i, it in enumerate(items) if wave >= it.first_wave
    ]


def codebook_rows(wave: int, variables: list[tuple[str, Item]]) -> list[tuple]:
    rows = []
    for var, it in variables:
        codes = list(SCALES[it.scale])
        missing = [(DONT_KNOW[it.scale], "weet niet")]
        if wave >= FIRST_NO_ANSWER_WAVE:
            missing.insert(0, (NO_ANSWER, "geen antwoord"))
        for code, label in sorted(codes + missing):
            miss = 1 if (code, label) in missing else 0
            rows.append((var, it.item, it.vraag, it.scale, code, label, miss))
    return rows


def value_labels(wave: int, it: Item) -> dict[int, str]:
    labels = {code: label for code, label in SCALES[it.scale]}
    labels[DONT_KNOW[it.scale]] = "weet niet"
    if wave >= FIRST_NO_ANSWER_WAVE:
        labels[NO_ANSWER] = "geen antwoord"
    return dict(sorted(labels.items()))


# --------------------------------------------------------------------------------------------
# respondents

_PROPENSITY_AGE = np.array([0.0, 0.45, 0.7, 1.0, 1.25])  # by age group; 0-14 never sampled
_PROPENSITY_SEX = np.array([0.85, 1.0])


def draw_wave(world: World, wave: int) -> tuple[pd.DataFrame, list[tuple[str, Item]]]:
    """One wave's respondents and answers (integer codes; <NA> for an empty cell)."""
    scale = world.scale
    rng = rng_for(world.seed, "survey", wave)
    yi = world.year_index(wave)
    edition = world.edition_for(wave)
    n = scale.respondents_per_wave

    pop = world.pop[:, yi, :].astype(float)  # [atom, cell]
    pop[:, 2:4] *= 0.9  # 15-year-olds are not in the sample frame
    pop[:, 0:2] = 0.0
    dep = world.dep[:, yi]
    pop16 = pop.sum(axis=1)
    alloc = np.power(pop16, 0.75) * np.exp(-0.25 * dep)  # small areas over-sampled
    prop = pop * (_PROPENSITY_AGE.repeat(2) * np.tile(_PROPENSITY_SEX, 5))[None, :]
    within = prop / np.where(
        prop.sum(axis=1, keepdims=True) > 0, prop.sum(axis=1, keepdims=True), 1
    )
    p = (alloc[:, None] * within).ravel()
    p /= p.sum()
    pick = rng.choice(p.size, size=n, p=p)
    atom, cell = np.divmod(pick, 10)
    group, sex = np.divmod(cell, 2)

    lo = np.array([0, 16, 25, 45, 65])[group]
    hi = np.array([14, 24, 44, 64, 65])[group]
    age = lo + np.floor(rng.random(n) * (hi - lo + 1)).astype(int)
    old = group == 4
    age[old] = 65 + np.minimum(np.floor(rng.exponential(9.0, size=old.sum())), 34).astype(int)
    birth = wave - age

    wijk = world.a_wijk[atom]
    typ = world.w_type[wijk]
    d = dep[atom]
    trend = (world.w_d24 - world.w_d08)[wijk]
    agec = (age - 45) / 20.0
    fem = sex.astype(float)
    e_gen = rng.normal(0, 1, n)
    e_coh = rng.normal(0, 1, n)
    wave_shift = 0.02 * (wave - 2016)
    items = items_for(scale.survey_items)
    variables = wave_variables(items, wave)
    rng_wi = rng_for(world.seed, "survey-wijk-item")
    wijk_item = rng_wi.normal(0, 0.15, size=(len(world.wijken), max(len(items), 1)))
    pos = {it.item: i for i, it in enumerate(items)}

    codes = {"buurt": np.array([b.code for b in world.buurten[edition]], dtype=object)}
    data: dict[str, object] = {}
    ids = np.array([f"W{wave}-{i:06d}" for i in range(1, n + 1)], dtype=object)
    data["respondent_id"] = ids
    data["golf"] = pd.array(np.full(n, wave), dtype="Int16")
    data["buurt_code"] = codes["buurt"][world.a_buurt[edition][atom]]
    gb = pd.array(birth, dtype="Int16")
    gs = pd.array(sex + 1, dtype="Int16")
    gb[rng.random(n) < 0.002] = pd.NA
    gs[rng.random(n) < 0.002] = pd.NA
    data["geboortejaar"] = gb
    data["geslacht"] = gs

    breakoff = np.where(rng.random(n) < 0.01, rng.integers(5, max(6, len(variables)), n), 10**6)
    for k, (var, it) in enumerate(variables):
        type_eff = np.zeros(len(TYPES))
        for t, v in it.types.items():
            type_eff[TYPES.index(t)] = v
        # the loading on general positivity also carries a slow city-wide improvement
        z = (
            it.mu
            + it.bd * d
            + type_eff[typ]
            + it.age * agec
            + it.female * fem
            + it.lg * (e_gen + wave_shift)
            + it.lc * e_coh
            + it.trend * trend
            + wijk_item[wijk, pos[it.item]]
        )
        if it.scale == "cijfer10":
            val = np.clip(np.rint(z + rng.normal(0, 0.95, n)), 1, 10)
        elif it.scale in ("eens5", "tevreden5"):
            zz = z + rng.normal(0, 1, n)
            val = 1 + (zz[:, None] > np.array([-1.6, -0.6, 0.5, 1.6])[None, :]).sum(axis=1)
        elif it.scale == "janee":
            val = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
        else:  # vaak3: z is the nuisance intensity
            zz = z + rng.normal(0, 1, n)
            val = np.where(zz > 1.0, 1, np.where(zz > -0.3, 2, 3))
        val = val.astype(np.int16)
        dk = rng.random(n) < it.dk * np.where(age >= 65, 1.4, 1.0)
        val[dk] = DONT_KNOW[it.scale]
        if wave >= FIRST_NO_ANSWER_WAVE:
            val[rng.random(n) < 0.004] = NO_ANSWER
        col = pd.array(val, dtype="Int16")
        col[(rng.random(n) < 0.006) | (k >= breakoff)] = pd.NA
        data[var] = col
    # the agency's id order is unrelated to the buurt: shuffle, then number
    df = pd.DataFrame(data).iloc[rng.permutation(n)].reset_index(drop=True)
    df["respondent_id"] = ids
    return df, variables


def write_survey(world: World, inbox: InboxWriter) -> int:
    total = 0
    for wave in world.scale.waves:
        df, variables = draw_wave(world, wave)
        n = len(df)
        total += n
        as_csv = world.scale.survey_format == "csv" or wave <= 2014
        book = csv_text(
            ("variabele", "item", "vraag", "schaal", "code", "betekenis", "ontbrekend"),
            codebook_rows(wave, variables),
        )
        name = f"wijkenquete_{wave}.{'csv' if as_csv else 'sav'}"
        note = f"survey {wave}: {n:,} respondents"
        if as_csv:
            text = df.to_csv(sep=";", index=False, lineterminator="\n")
            inbox.write_bytes("survey", wave, name, text.encode("cp1252"), n, note)
        else:
            inbox.write_with(
                "survey",
                wave,
                name,
                lambda p, df=df, v=variables, w=wave: _write_sav(p, df, v, w),
                n,
                note,
            )
        inbox.write_bytes(
            "survey",
            wave,
            f"codeboek_{wave}.csv",
            book.encode("utf-8"),
            book.count("\n") - 1,
            f"survey {wave}: codebook",
        )
    return total


def _write_sav(path: Path, df: pd.DataFrame, variables: list[tuple[str, Item]], wave: int) -> None:
    import pyreadstat

    out = df.copy()
    for c in out.columns:
        if c not in ("respondent_id", "buurt_code"):
            out[c] = out[c].astype("float64")
    labels = {
        "respondent_id": "Respondentnummer (bureau)",
        "golf": "Golf (jaar)",
        "buurt_code": "Buurtcode (CBS)",
        "geboortejaar": "Geboortejaar",
        "geslacht": "Geslacht",
    }
    vlabels: dict[str, dict[int, str]] = {"geslacht": {1: "man", 2: "vrouw"}}
    measure = {
        "respondent_id": "nominal",
        "golf": "ordinal",
        "buurt_code": "nominal",
        "geboortejaar": "scale",
        "geslacht": "nominal",
    }
    fmt = {"golf": "F4.0", "geboortejaar": "F4.0", "geslacht": "F1.0"}
    for var, it in variables:
        labels[var] = it.vraag
        vlabels[var] = value_labels(wave, it)
        measure[var] = "nominal" if it.scale == "janee" else "ordinal"
        fmt[var] = "F2.0"
    pyreadstat.write_sav(
        out,
        str(path),
        file_label=f"Wijkenquete Leefbaarheid en Veiligheid {wave}",
        column_labels=labels,
        variable_value_labels=vlabels,
        variable_measure=measure,
        variable_format=fmt,
        row_compress=True,
    )
    fix_sav_timestamp(path, wave)


def fix_sav_timestamp(path: Path, wave: int) -> None:
    """ReadStat stamps the creation date and time into the SAV header (bytes 92..108):
    replace them by a fixed moment (end of the wave's fieldwork) so files are reproducible."""
    with open(path, "r+b") as f:
        head = f.read(109)
        if head[:4] != b"$FL2":
            raise ValueError(f"{path} is not an SPSS .sav file")
        f.seek(92)
        f.write(f"15 Dec {wave % 100:02d}".encode("ascii"))
        f.write(b"12:00:00")
