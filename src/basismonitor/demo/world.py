"""The demo world: municipalities, two area editions, latent deprivation and population.

Everything else (survey, registry, police, activities) is drawn from this model.

Geometry: every area is an axis-aligned rectangle in RD New metres with integer corners. A
municipality is laid out as stadsdelen, each stadsdeel as wijken, each wijk as rows of buurten,
so children tile their parent exactly. The two editions (2008, 2019) only differ inside wijken:
a split cuts a buurt in two, a merge removes the cut between two neighbours, a re-divided wijk
(laid out as one row) gets a new set of cuts. The common refinement of both editions are the
*atoms*: the model's population lives on atoms, so every edition's buurt is a sum of atoms and
the crosswalk shares are exact shares of inhabitants.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field

import numpy as np

from .names import (
    GM_PREFIXES,
    GM_STEMS,
    GRONINGEN,
    GRONINGEN_PRIORITY,
    GRONINGEN_TINY,
    STADSDEEL_NAMES,
    TINY_GENERIC,
    TYPES,
    WIJK_NAMES,
    extend_names,
)
from .scale import DemoScale

AGE_GROUPS = ("0-14", "15-24", "25-44", "45-64", "65+")
SEXES = ("M", "V")
N_CELLS = len(AGE_GROUPS) * len(SEXES)  # cell index = age * 2 + sex
GRONINGEN_CODE = 9014

# Per type: age shares, yearly drift of the shares, male share per age, density (inh/km2),
# household size, owner-occupied tendency, WOZ factor.
_AGE_PROFILE = {
    "binnenstad": (0.05, 0.30, 0.38, 0.16, 0.11),
    "student": (0.03, 0.52, 0.30, 0.09, 0.06),
    "volkswijk": (0.13, 0.17, 0.34, 0.21, 0.15),
    "naoorlogs": (0.16, 0.13, 0.27, 0.24, 0.20),
    "gezin": (0.21, 0.12, 0.26, 0.28, 0.13),
    "villa": (0.15, 0.11, 0.18, 0.30, 0.26),
    "dorp": (0.17, 0.11, 0.21, 0.30, 0.21),
    "nieuwbouw": (0.26, 0.08, 0.41, 0.19, 0.06),
}
_AGE_DRIFT = {  # change of the shares per year (renormalised afterwards)
    "binnenstad": (0.0, 0.001, 0.0, 0.0, 0.0005),
    "student": (0.0, 0.0, 0.0, 0.0, 0.0),
    "volkswijk": (-0.0005, 0.002, 0.0005, -0.001, -0.001),
    "naoorlogs": (-0.0005, 0.0, -0.001, -0.001, 0.0025),
    "gezin": (-0.002, 0.0, -0.002, 0.001, 0.003),
    "villa": (-0.001, 0.0, -0.001, 0.0, 0.003),
    "dorp": (-0.002, -0.0005, -0.0015, 0.0005, 0.0035),
    "nieuwbouw": (0.002, 0.001, -0.002, 0.0, 0.0005),
}
_MALE_SHARE = {"student": (0.51, 0.53, 0.55, 0.49, 0.44)}
_MALE_DEFAULT = (0.51, 0.51, 0.50, 0.50, 0.45)
_DENSITY = {
    "binnenstad": 8500,
    "student": 1200,
    "volkswijk": 7000,
    "naoorlogs": 4800,
    "gezin": 3200,
    "villa": 2600,
    "dorp": 350,
    "nieuwbouw": 900,
}
HH_SIZE = {
    "binnenstad": 1.45,
    "student": 1.3,
    "volkswijk": 1.75,
    "naoorlogs": 1.95,
    "gezin": 2.45,
    "villa": 2.2,
    "dorp": 2.35,
    "nieuwbouw": 2.5,
}
OWNER_SHIFT = {
    "binnenstad": -0.6,
    "student": -2.0,
    "volkswijk": -0.3,
    "naoorlogs": -0.5,
    "gezin": 0.8,
    "villa": 1.2,
    "dorp": 1.0,
    "nieuwbouw": 0.9,
}
WOZ_FACTOR = {
    "binnenstad": 1.0,
    "student": 0.75,
    "volkswijk": 0.85,
    "naoorlogs": 0.8,
    "gezin": 1.05,
    "villa": 1.6,
    "dorp": 1.1,
    "nieuwbouw": 1.25,
}


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """An independent, reproducible generator per purpose (so one source's change does not
    shift another's numbers)."""
    ints = [int(seed) & 0xFFFFFFFF] + [zlib.crc32(str(k).encode()) for k in keys]
    return np.random.default_rng(np.random.SeedSequence(ints))


Rect = tuple[int, int, int, int]  # x0, y0, x1, y1


def rect_wkt(r: Rect) -> str:
    x0, y0, x1, y1 = r
    return f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"


def rect_area(r: Rect) -> int:
    return (r[2] - r[0]) * (r[3] - r[1])


@dataclass
class Area:
    code: str
    name: str
    level: str  # gemeente | stadsdeel | wijk | buurt
    parent: str  # "" for a gemeente
    rect: Rect
    gm: int  # municipality index
    wijk: int = -1  # global wijk index (buurt and wijk rows)
    kind: str = "regular"  # regular | industrie | park
    changed: bool = False  # new or re-bounded in this edition (CBS ind_wbi 3)


@dataclass
class World:
    scale: DemoScale
    seed: int
    gemeenten: list[Area]
    stadsdelen: list[Area]
    wijken: list[Area]
    buurten: dict[int, list[Area]]  # edition -> buurten
    # wijk arrays
    w_type: np.ndarray  # index into TYPES
    w_d08: np.ndarray
    w_d24: np.ndarray
    # atom arrays
    a_wijk: np.ndarray
    a_buurt: dict[int, np.ndarray]  # edition -> index into buurten[edition]
    a_area: np.ndarray  # m2
    a_kind: np.ndarray  # 0 regular, 1 industrie, 2 park
    a_u: np.ndarray  # local deviation of deprivation
    model_years: tuple[int, ...] = ()
    pop: np.ndarray = field(default=None)  # [atom, year index, cell] exact inhabitants
    dep: np.ndarray = field(default=None)  # [atom, year index] latent deprivation
    split_pairs: list[tuple[str, str, str]] = field(default_factory=list)  # old, new1, new2
    merge_pairs: list[tuple[str, str, str]] = field(default_factory=list)  # old1, old2, new
    redivided: list[str] = field(default_factory=list)  # wijk codes

    @staticmethod
    def edition_for(year: int) -> int:
        return 2019 if year >= 2019 else 2008

    def year_index(self, year: int) -> int:
        return self.model_years.index(year)

    @property
    def n_atoms(self) -> int:
        return len(self.a_wijk)

    def wijk_dep(self, year: int) -> np.ndarray:
        t = (year - 2008) / 16.0
        return self.w_d08 + (self.w_d24 - self.w_d08) * t

    def buurt_pop(self, edition: int, year: int) -> np.ndarray:
        """[buurt, cell] exact inhabitants of the edition's buurten in that year."""
        idx = self.a_buurt[edition]
        out = np.zeros((len(self.buurten[edition]), N_CELLS), dtype=np.int64)
        np.add.at(out, idx, self.pop[:, self.year_index(year), :])
        return out


# --------------------------------------------------------------------------------------------
# layout


def _cuts(lo: int, hi: int, weights: list[float]) -> list[int]:
    """Integer cut positions lo = c0 < c1 < ... < cn = hi proportional to weights."""
    w = np.asarray(weights, dtype=float)
    cum = np.concatenate([[0.0], np.cumsum(w)]) / w.sum()
    pos = [lo + int(round((hi - lo) * c)) for c in cum]
    pos[0], pos[-1] = lo, hi
    for i in range(1, len(pos)):
        pos[i] = max(pos[i], pos[i - 1] + 1)
    for i in range(len(pos) - 2, 0, -1):
        pos[i] = min(pos[i], pos[i + 1] - 1)
    return pos


def _grid(rect: Rect, weights: list[float], n_rows: int | None = None):
    """Lay out cells in rows (north to south, west to east), areas proportional to weights.

    Returns a list of rows; a row is (y0, y1, [x cuts]) covering its items in order."""
    x0, y0, x1, y1 = rect
    n = len(weights)
    if n_rows is None:
        n_rows = max(1, min(n, round(math.sqrt(n * (y1 - y0) / max(1, x1 - x0)))))
    base, extra = divmod(n, n_rows)
    counts = [base + (1 if r < extra else 0) for r in range(n_rows)]
    rows_w, start = [], 0
    for c in counts:
        rows_w.append(weights[start : start + c])
        start += c
    ycuts = _cuts(y0, y1, [sum(r) for r in rows_w][::-1])[::-1]  # first row in the north
    rows = []
    for r, ws in enumerate(rows_w):
        rows.append((ycuts[r + 1], ycuts[r], _cuts(x0, x1, ws)))
    return rows


def _grid_rects(rect: Rect, weights: list[float]) -> list[Rect]:
    out = []
    for ya, yb, xs in _grid(rect, weights):
        out.extend((xs[i], ya, xs[i + 1], yb) for i in range(len(xs) - 1))
    return out


# --------------------------------------------------------------------------------------------
# municipality specs


@dataclass
class _WijkSpec:
    name: str
    stadsdeel: str
    type: str
    pop2024: float
    d08: float
    d24: float
    ratio: float
    names: tuple[str, ...]
    n_regular: int = 0
    tiny: list[tuple[str, str]] = field(default_factory=list)  # (name, kind)


def _largest_remainder(total: int, weights: np.ndarray, minimum: int, maximum: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    k = np.full(len(w), minimum, dtype=int)
    rest = total - k.sum()
    if rest <= 0:
        return k
    exact = rest * w / w.sum()
    add = np.floor(exact).astype(int)
    k += add
    order = np.argsort(-(exact - add), kind="stable")
    for i in order[: rest - add.sum()]:
        k[i] += 1
    return np.minimum(k, maximum)


def _groningen_specs(scale: DemoScale) -> list[_WijkSpec]:
    keep = set(GRONINGEN_PRIORITY[: scale.wijken])
    specs = [
        _WijkSpec(t.name, t.stadsdeel, t.type, t.pop2024, t.d2008, t.d2024, t.ratio2008, t.buurten)
        for t in GRONINGEN
        if t.name in keep
    ]
    i = len(specs)
    while len(specs) < scale.wijken:  # more wijken than the template: invent a few
        name = WIJK_NAMES[i % len(WIJK_NAMES)] + ("" if i < len(WIJK_NAMES) else f" {i}")
        specs.append(_WijkSpec(name, "West", "gezin", 6000, 0.0, 0.0, 1.0, ()))
        i += 1
    n_total = max(len(specs), round(scale.wijken * scale.buurten_per_wijk))
    n_tiny = 3 if n_total >= 40 else (2 if n_total >= len(specs) + 2 else 0)
    by_name = {s.name: s for s in specs}
    order = [by_name[n] for n in GRONINGEN_PRIORITY if n in by_name] + specs[len(by_name) :]
    for j, (tname, kind, pref) in enumerate(GRONINGEN_TINY[:n_tiny]):
        target = by_name.get(pref) or order[j % len(order)]
        target.tiny.append((tname, kind))
    _allocate_buurten(specs, n_total - n_tiny)
    return specs


def _allocate_buurten(specs: list[_WijkSpec], n_regular: int) -> None:
    n_regular = max(n_regular, len(specs))
    pops = np.array([s.pop2024 for s in specs])
    k = _largest_remainder(n_regular, np.sqrt(pops), 1, 99 - 4)
    for s, n in zip(specs, k, strict=True):
        s.n_regular = int(n)


def _generic_specs(scale: DemoScale, rng: np.random.Generator) -> list[_WijkSpec]:
    n_w = int(np.clip(round(scale.wijken * math.exp(rng.normal(-0.125, 0.5))), 1, 100))
    type_p = np.array([0.0, 0.02, 0.12, 0.18, 0.25, 0.1, 0.25, 0.08])
    gm_d = rng.normal(0, 0.45)
    names = ["Centrum"] + [str(n) for n in rng.permutation(WIJK_NAMES[1:])]
    names += [f"Wijk {i}" for i in range(len(names), n_w)]
    n_sd = max(1, round(n_w / 5))
    sd_names = list(STADSDEEL_NAMES[:n_sd]) if n_sd > 1 else ["Kern"]
    if n_sd > len(STADSDEEL_NAMES):
        sd_names = [f"Stadsdeel {i + 1}" for i in range(n_sd)]
    specs = []
    for i in range(n_w):
        typ = (
            "binnenstad" if i == 0 and n_w > 3 else str(rng.choice(TYPES, p=type_p / type_p.sum()))
        )
        name = names[i]
        pop = float(np.exp(rng.normal(math.log(4800), 0.45)))
        mean_d = {
            "binnenstad": 0.2,
            "student": 0.3,
            "volkswijk": 0.6,
            "naoorlogs": 0.7,
            "gezin": -0.3,
            "villa": -1.0,
            "dorp": -0.5,
            "nieuwbouw": -0.6,
        }[typ]
        d08 = gm_d + mean_d + rng.normal(0, 0.45)
        d24 = d08 + rng.normal(0, 0.4)
        ratio = (
            float(rng.uniform(0.25, 0.7)) if typ == "nieuwbouw" else float(rng.uniform(0.9, 1.05))
        )
        sd = sd_names[min(n_sd - 1, i * n_sd // n_w)]
        specs.append(_WijkSpec(name, sd, typ, pop, d08, d24, ratio, ()))
    n_total = max(n_w, round(n_w * scale.buurten_per_wijk))
    n_tiny = 1 if n_total >= n_w + 4 else 0
    for j in range(n_tiny):
        tname, kind = TINY_GENERIC[j % len(TINY_GENERIC)]
        target = specs[int(rng.integers(0, n_w))]
        target.tiny.append((f"{tname} {target.name}", kind))
    _allocate_buurten(specs, n_total - n_tiny)
    return specs


def _gm_name(i: int, rng: np.random.Generator, used: set[str]) -> str:
    while True:
        p = str(rng.choice(GM_PREFIXES))
        s = str(rng.choice(GM_STEMS))
        name = (p + s) if not p.endswith(" ") else (p + s.capitalize())
        name = name[0].upper() + name[1:]
        name = f"{name}-demo"
        if name not in used:
            used.add(name)
            return name
        if len(used) > 300:
            name = f"{name[:-5]} {i}-demo"
            used.add(name)
            return name


# --------------------------------------------------------------------------------------------
# building


def build_world(scale: DemoScale, seed: int) -> World:
    rng_geo = rng_for(seed, "geography")
    numbers = [GRONINGEN_CODE] + [n for n in range(9001, 10000) if n != GRONINGEN_CODE]
    numbers = numbers[: scale.municipalities]

    gemeenten: list[Area] = []
    stadsdelen: list[Area] = []
    wijken: list[Area] = []
    b08: list[Area] = []
    b19: list[Area] = []
    w_type, w_d08, w_d24, w_ratio, w_pop = [], [], [], [], []
    atoms: dict[str, list] = {
        k: [] for k in ("wijk", "b08", "b19", "area", "kind", "u", "share", "extra")
    }
    world_changes: dict[str, list] = {"split": [], "merge": [], "redivided": []}
    used_names: set[str] = set()

    # Municipality placement: GM9014 around the real Groningen, the others on a grid south of it.
    grid_step, grid_cols, grid_x0, grid_y0 = 13_000, 20, 14_000, 306_000
    grid_pos = 0
    gron_rect: Rect | None = None

    for gi, num in enumerate(numbers):
        rng = rng_for(seed, "municipality", num)
        if num == GRONINGEN_CODE:
            specs = _groningen_specs(scale)
            gm_name = "Groningen-demo"
        else:
            specs = _generic_specs(scale, rng)
            gm_name = _gm_name(gi, rng, used_names)
        gm_code = f"GM{num:04d}"

        # areas (m2) of wijken and of their buurten
        w_area = []
        for s in specs:
            reg = s.pop2024 / _DENSITY[s.type] * 1e6 * math.exp(rng.normal(0, 0.2))
            tiny = sum(
                rng.uniform(0.6, 1.2) * 1e6 * (1.6 if k == "industrie" else 1.0) for _, k in s.tiny
            )
            w_area.append(reg + tiny)
        total_area = sum(w_area)
        width = math.sqrt(total_area * 1.15)
        height = total_area / width
        if num != GRONINGEN_CODE:
            f = min(1.0, (grid_step - 1500) / max(width, height))
            width, height = width * f, height * f
            while True:
                gx = grid_x0 + (grid_pos % grid_cols) * grid_step
                gy = grid_y0 + (grid_pos // grid_cols) * grid_step
                grid_pos += 1
                cand = (gx, gy, gx + int(width), gy + int(height))
                if gron_rect is None or not _overlaps(cand, gron_rect, 2000):
                    break
            gm_rect = cand
        else:
            cx, cy = 233_000, 582_000
            gm_rect = (
                int(cx - width / 2),
                int(cy - height / 2),
                int(cx + width / 2),
                int(cy + height / 2),
            )
            gron_rect = gm_rect
        gemeenten.append(Area(gm_code, gm_name, "gemeente", "", gm_rect, gi))

        # stadsdelen (in order of first appearance) and their wijken
        sd_order: list[str] = []
        for s in specs:
            if s.stadsdeel not in sd_order:
                sd_order.append(s.stadsdeel)
        sd_area = [
            sum(a for s, a in zip(specs, w_area, strict=True) if s.stadsdeel == sd)
            for sd in sd_order
        ]
        sd_rects = _grid_rects(gm_rect, sd_area)
        wijk_rect: dict[int, Rect] = {}
        for si, (sd, r) in enumerate(zip(sd_order, sd_rects, strict=True)):
            sd_code = f"SD{num:04d}{si + 1:02d}"
            stadsdelen.append(Area(sd_code, sd, "stadsdeel", gm_code, r, gi))
            members = [i for i, s in enumerate(specs) if s.stadsdeel == sd]
            for i, wr in zip(members, _grid_rects(r, [w_area[i] for i in members]), strict=True):
                wijk_rect[i] = wr

        # wijk codes follow spec order
        sd_code_of = {sd: f"SD{num:04d}{si + 1:02d}" for si, sd in enumerate(sd_order)}
        redivide = _choose_redivision(specs, rng)
        wijk_base = len(wijken)
        pending: list[tuple] = []
        for wi, s in enumerate(specs):
            wcode = f"WK{num:04d}{wi:02d}"
            wijken.append(
                Area(
                    wcode,
                    s.name,
                    "wijk",
                    sd_code_of[s.stadsdeel],
                    wijk_rect[wi],
                    gi,
                    wijk=len(wijken),
                )
            )
            w_type.append(TYPES.index(s.type))
            w_d08.append(s.d08)
            w_d24.append(s.d24)
            w_ratio.append(s.ratio)
            w_pop.append(s.pop2024)
            names = extend_names(s.name, s.names, s.n_regular)
            kinds = ["regular"] * s.n_regular
            for tname, kind in s.tiny:
                names.append(tname)
                kinds.append(kind)
            # regular buurt areas and population shares; tiny ones get area, no share
            area_w = list(rng.dirichlet(np.full(s.n_regular, 5.0)) * (w_area[wi] * 0.999))
            for _, kind in s.tiny:
                area_w.append(rng.uniform(0.6, 1.2) * 1e6 * (1.6 if kind == "industrie" else 1.0))
            shares = list(rng.dirichlet(np.full(s.n_regular, 6.0))) + [0.0] * len(s.tiny)
            n_rows = 1 if wi == redivide else None
            rows = _grid(wijk_rect[wi], area_w, n_rows)
            pending.append((wi, wcode, s, names, kinds, shares, rows))

        merges, splits = _choose_merges_splits(pending, redivide, rng)
        for wi, wcode, s, names, kinds, shares, rows in pending:
            gw = wijk_base + wi
            _build_wijk_buurten(
                num,
                wi,
                wcode,
                s,
                names,
                kinds,
                shares,
                rows,
                gi,
                gw,
                redivide == wi,
                merges.get(wi, []),
                splits.get(wi, []),
                rng,
                b08,
                b19,
                atoms,
                world_changes,
            )

    n_w = len(wijken)
    model_years = tuple(sorted(set(scale.years) | set(scale.waves) | {2019}))
    world = World(
        scale=scale,
        seed=seed,
        gemeenten=gemeenten,
        stadsdelen=stadsdelen,
        wijken=wijken,
        buurten={2008: b08, 2019: b19},
        w_type=np.array(w_type, dtype=np.int16),
        w_d08=np.array(w_d08, dtype=float),
        w_d24=np.array(w_d24, dtype=float),
        a_wijk=np.array(atoms["wijk"], dtype=np.int64),
        a_buurt={
            2008: np.array(atoms["b08"], dtype=np.int64),
            2019: np.array(atoms["b19"], dtype=np.int64),
        },
        a_area=np.array(atoms["area"], dtype=float),
        a_kind=np.array(atoms["kind"], dtype=np.int8),
        a_u=np.array(atoms["u"], dtype=float),
        model_years=model_years,
        split_pairs=world_changes["split"],
        merge_pairs=world_changes["merge"],
        redivided=world_changes["redivided"],
    )
    assert n_w == len(world.w_type)
    _populate(
        world,
        np.array(w_pop, dtype=float),
        np.array(w_ratio),
        np.array(atoms["share"]),
        np.array(atoms["extra"]),
        rng_geo,
    )
    return world


def _overlaps(a: Rect, b: Rect, margin: int) -> bool:
    return not (
        a[2] + margin <= b[0]
        or b[2] + margin <= a[0]
        or a[3] + margin <= b[1]
        or b[3] + margin <= a[1]
    )


def _choose_redivision(specs: list[_WijkSpec], rng: np.random.Generator) -> int:
    """The wijk whose buurten are re-divided (laid out as one row): no tiny buurten, >= 2
    buurten, post-war renewal areas preferred. -1 if none fits (or fewer than 2 wijken)."""
    if len(specs) < 2:
        return -1
    ok = [i for i, s in enumerate(specs) if not s.tiny and 2 <= s.n_regular <= 6]
    if not ok:
        return -1
    pref = [i for i in ok if specs[i].type == "naoorlogs"] or ok
    return int(pref[int(rng.integers(0, len(pref)))])


def _choose_merges_splits(pending, redivide: int, rng: np.random.Generator):
    """Two merges (adjacent regular buurten in one row) and two splits (fastest-growing wijken
    first), each in different wijken where possible and never in the re-divided wijk."""
    merges: dict[int, list[int]] = {}
    splits: dict[int, list[int]] = {}
    used_wijk: set[int] = set()
    cand_m = []
    for wi, _wc, _s, _names, kinds, _sh, rows in pending:
        if wi == redivide:
            continue
        item = 0
        for _ya, _yb, xs in rows:
            n = len(xs) - 1
            for j in range(n - 1):
                if kinds[item + j] == "regular" and kinds[item + j + 1] == "regular":
                    cand_m.append((wi, item + j))
            item += n
    order = rng.permutation(len(cand_m)) if cand_m else []
    for k in order:
        wi, j = cand_m[k]
        if wi in used_wijk:
            continue
        merges.setdefault(wi, []).append(j)
        used_wijk.add(wi)
        if len(merges) == 2:
            break
    cand_s = []
    for wi, _wc, s, _names, kinds, _sh, _rows in pending:
        if wi == redivide or wi in used_wijk:
            continue
        for j, kind in enumerate(kinds):
            if kind == "regular":
                cand_s.append((s.ratio, rng.random(), wi, j))
    cand_s.sort()
    for _r, _x, wi, j in cand_s:
        if wi in splits:
            continue
        splits[wi] = [j]
        if len(splits) == 2:
            break
    return merges, splits


def _build_wijk_buurten(
    num,
    wi,
    wcode,
    s,
    names,
    kinds,
    shares,
    rows,
    gi,
    gw,
    redivide,
    merge_at,
    split_at,
    rng,
    b08,
    b19,
    atoms,
    changes,
):
    """Create the 2008 and 2019 buurten of one wijk and their atoms."""
    kind_code = {"regular": 0, "industrie": 1, "park": 2}
    # 2008 buurten, in layout order
    item = 0
    first08 = len(b08)
    cells = []  # (row index, item index, x0, x1, y0, y1)
    for ri, (ya, yb, xs) in enumerate(rows):
        for j in range(len(xs) - 1):
            code = f"BU{num:04d}{wi:02d}{item:02d}"
            b08.append(
                Area(
                    code,
                    names[item],
                    "buurt",
                    wcode,
                    (xs[j], ya, xs[j + 1], yb),
                    gi,
                    wijk=gw,
                    kind=kinds[item],
                )
            )
            cells.append((ri, item, xs[j], xs[j + 1], ya, yb))
            item += 1
    next_num = item
    u08 = rng.normal(0, 0.3, size=item)

    # 2019 cuts per row
    for ri, (ya, yb, xs) in enumerate(rows):
        row_items = [c for c in cells if c[0] == ri]
        cuts08 = list(xs)
        cuts19 = list(xs)
        split_mid: dict[int, int] = {}
        if redivide:
            k_old = len(xs) - 1
            n_new = k_old + 1 if k_old <= 3 else k_old - 1
            w = rng.uniform(0.7, 1.3, size=n_new)
            cuts19 = _cuts(xs[0], xs[-1], list(w))
            inner08 = set(xs[1:-1])
            for k in range(1, len(cuts19) - 1):  # no 2019 cut may coincide with a 2008 cut
                while cuts19[k] in inner08:
                    cuts19[k] += 7
        for _r, it, x0, x1, _y0, _y1 in row_items:
            if it in split_at:
                mid = int(round(x0 + (x1 - x0) * rng.uniform(0.4, 0.6)))
                cuts19.append(mid)
                split_mid[it] = mid
            if it in merge_at:
                cuts19.remove(x1)
        cuts19 = sorted(set(cuts19))
        bounds = sorted(set(cuts08) | set(cuts19))
        # 2019 buurten of this row
        idx19 = []
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for k in range(len(cuts19) - 1):
            x0, x1 = cuts19[k], cuts19[k + 1]
            same = [c for c in row_items if c[2] == x0 and c[3] == x1]
            if same:
                old = b08[first08 + same[0][1]]
                b19.append(
                    Area(old.code, old.name, "buurt", wcode, old.rect, gi, wijk=gw, kind=old.kind)
                )
            else:
                code = f"BU{num:04d}{wi:02d}{next_num:02d}"
                next_num += 1
                inside = [c for c in row_items if c[2] <= x0 and x1 <= c[3]]
                covering = [c for c in row_items if c[2] >= x0 and c[3] <= x1]
                if redivide:
                    name = f"{s.name} {letters[k]}"
                elif inside:  # half of a split buurt
                    old = names[inside[0][1]]
                    name = f"{old} {'West' if x0 == inside[0][2] else 'Oost'}"
                else:  # merged
                    parts = [names[c[1]] for c in covering]
                    stems = {p.split("-")[0] for p in parts}
                    name = (
                        stems.pop()
                        if len(stems) == 1 and all("-" in p for p in parts)
                        else " en ".join(parts)
                    )
                b19.append(
                    Area(code, name, "buurt", wcode, (x0, ya, x1, yb), gi, wijk=gw, changed=True)
                )
            idx19.append(len(b19) - 1)
        # record the changes (codes) for the report/tests
        for it, _mid in split_mid.items():
            old = b08[first08 + it]
            halves = [
                b19[i].code
                for i in idx19
                if b19[i].rect[0] >= old.rect[0] and b19[i].rect[2] <= old.rect[2]
            ]
            changes["split"].append((old.code, halves[0], halves[1]))
        for it in merge_at:
            if any(c[1] == it for c in row_items):
                a, b = b08[first08 + it], b08[first08 + it + 1]
                new = [b19[i].code for i in idx19 if b19[i].rect[0] == a.rect[0]][0]
                changes["merge"].append((a.code, b.code, new))
        # atoms
        for k in range(len(bounds) - 1):
            x0, x1 = bounds[k], bounds[k + 1]
            c08 = next(c for c in row_items if c[2] <= x0 and x1 <= c[3])
            k19 = next(i for i in range(len(cuts19) - 1) if cuts19[i] <= x0 and x1 <= cuts19[i + 1])
            it = c08[1]
            frac = (x1 - x0) / (c08[3] - c08[2])
            atoms["wijk"].append(gw)
            atoms["b08"].append(first08 + it)
            atoms["b19"].append(idx19[k19])
            atoms["area"].append(float((x1 - x0) * (yb - ya)))
            atoms["kind"].append(kind_code[kinds[it]])
            extra = 0.0
            if it in split_mid and x0 >= split_mid[it]:
                extra = 0.06  # the eastern half of a split buurt is new-build: it grows
            atoms["u"].append(u08[it] + rng.normal(0, 0.1) - (0.3 if extra else 0.0))
            atoms["share"].append(shares[it] * frac * math.exp(rng.normal(0, 0.15)))
            atoms["extra"].append(extra)
    if redivide:
        changes["redivided"].append(wcode)


# --------------------------------------------------------------------------------------------
# population and deprivation


def _populate(
    world: World,
    pop2024: np.ndarray,
    w_ratio: np.ndarray,
    share: np.ndarray,
    extra: np.ndarray,
    rng: np.random.Generator,
) -> None:
    years = np.array(world.model_years)
    n_a, n_y = world.n_atoms, len(years)
    aw = world.a_wijk
    types = [TYPES[t] for t in world.w_type]

    # wijk totals per year: exponential growth from ratio (2008) to pop2024
    growth = -np.log(np.clip(w_ratio, 0.02, 5)) / 16.0
    w_tot = pop2024[:, None] * np.exp(growth[:, None] * (years[None, :] - 2024))
    w_tot *= np.exp(np.cumsum(rng.normal(0, 0.004, size=(len(w_tot), n_y)), axis=1))

    # atom weights within wijk, drifting slowly; tiny atoms have no share
    eps = rng.normal(0, 0.008, size=n_a) + extra
    weight = share[:, None] * np.exp(eps[:, None] * (years[None, :] - 2016))
    wsum = np.zeros((len(world.wijken), n_y))
    np.add.at(wsum, aw, weight)
    a_tot = w_tot[aw] * weight / np.where(wsum[aw] > 0, wsum[aw], 1)
    # tiny atoms: a handful of inhabitants
    tiny_i = world.a_kind == 1
    tiny_p = world.a_kind == 2
    a_tot[tiny_i] = rng.uniform(18, 42, size=(tiny_i.sum(), 1)) * np.exp(
        rng.normal(0, 0.1, size=(tiny_i.sum(), n_y))
    )
    a_tot[tiny_p] = rng.uniform(0, 4, size=(tiny_p.sum(), 1))

    # age x sex shares
    prof = np.array([_AGE_PROFILE[t] for t in types])[aw]  # [atom, age]
    drift = np.array([_AGE_DRIFT[t] for t in types])[aw]
    prof = prof * np.exp(rng.normal(0, 0.12, size=prof.shape))
    age = prof[:, None, :] + drift[:, None, :] * (years[None, :, None] - 2016)
    age = np.clip(age, 0.005, None) * np.exp(rng.normal(0, 0.03, size=(n_a, n_y, 5)))
    age /= age.sum(axis=2, keepdims=True)
    male = np.array([_MALE_SHARE.get(t, _MALE_DEFAULT) for t in types])[aw]
    male = np.clip(male + rng.normal(0, 0.01, size=male.shape), 0.3, 0.7)
    cells = np.empty((n_a, n_y, N_CELLS))
    cells[:, :, 0::2] = age * male[:, None, :]
    cells[:, :, 1::2] = age * (1 - male[:, None, :])
    expected = a_tot[:, :, None] * cells
    base = np.floor(expected)
    world.pop = (base + (rng.random(expected.shape) < expected - base)).astype(np.int64)

    # latent deprivation per atom and year
    t = (years - 2008) / 16.0
    wd = world.w_d08[:, None] + (world.w_d24 - world.w_d08)[:, None] * t[None, :]
    wd = wd + rng.normal(0, 0.04, size=wd.shape)
    world.dep = wd[aw] + world.a_u[:, None]
