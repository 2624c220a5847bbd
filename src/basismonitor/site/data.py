"""Read a published edition (its exported Parquet files) into what the pages need.

The site shows only what the edition publishes. On top of the marts' own suppression, every
measure of a suppressed row is blanked here once more (defence in depth): a page, a chart or a
download never holds a value the marts suppress.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

TABLES = (
    "mart_compass_status",
    "mart_compass_development",
    "mart_area_profile",
    "fct_indicator_value",
    "dim_area",
    "dim_indicator",
    "dim_period",
)

# measures that a suppressed row must not carry (the reason and the city's figure stay)
STATUS_MEASURES = (
    "value",
    "index_value",
    "class",
    "significant",
    "n_unweighted",
    "standard_error",
    "ci_low",
    "ci_high",
)
DEVELOPMENT_MEASURES = ("change", "index_value", "class", "significant")
FACT_MEASURES = (
    "value",
    "numerator",
    "denominator",
    "n_unweighted",
    "n_weighted",
    "standard_error",
    "ci_low",
    "ci_high",
    "contrast_with_city",
    "contrast_se",
    "significant",
)

# the order of the quadrants around the compass (clockwise from 9 o'clock); others follow by code
QUADRANT_ORDER = ("samenstelling", "fysiek", "leefbaarheid", "sociaal")


class EditionError(RuntimeError):
    """The folder is not a usable published edition."""


def clean(v):
    """pandas/numpy scalars -> plain Python; NaN/NA -> None."""
    if v is None:
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if hasattr(v, "item") and not isinstance(v, list | tuple | dict | str):
        with contextlib.suppress(ValueError, AttributeError):
            v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    return v


def plain_values(series: pd.Series) -> list:
    """A column's values as clean() gives them, a column at a time: to_dict(orient="records")
    iterated the pyarrow-backed text columns value by value (most of a national site's set-up)."""
    values = series.tolist()
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):  # text or a missing value (NaN or NA)
        return [v if type(v) is str else clean(v) for v in values]
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        return [None if v != v else v for v in values]
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return values
    return [clean(v) for v in values]


def records(df: pd.DataFrame) -> list[dict]:
    columns = list(df.columns)
    values = [plain_values(df.iloc[:, i]) for i in range(len(columns))]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)] if (
        columns) else [{} for _ in range(len(df))]


def blank_suppressed(df: pd.DataFrame, measures: tuple[str, ...]) -> pd.DataFrame:
    """Set the measures of suppressed rows to null (NaN in a float column, which stays float:
    a national edition's ~3 M facts as Python objects took gigabytes; clean() reads NaN as
    None)."""
    df = df.copy()
    mask = df["suppressed"].fillna(False).astype(bool)
    for column in measures:
        if column in df.columns and mask.any():
            if pd.api.types.is_float_dtype(df[column].dtype):
                df[column] = df[column].where(~mask)
            elif pd.api.types.is_integer_dtype(df[column].dtype):
                df[column] = df[column].astype("float64").where(~mask)
            else:
                df[column] = df[column].astype("object").where(~mask, None)
    return df


@dataclass
class Edition:
    edition: int
    area_edition: int
    gemeente_code: str
    gemeente_name: str
    base_period: int | None
    development_period: int  # the development compass runs base_period -> this (the edition, or
    # earlier where the figures end earlier: mart_compass_development.current_period)
    areas: pd.DataFrame  # compass areas: area_code, area_name, parent_code, parent_name, ...
    status: pd.DataFrame
    development: pd.DataFrame
    facts: pd.DataFrame  # the current area edition, periods up to the edition, area and city rows
    indicators: pd.DataFrame  # dim_indicator indexed by indicator_code
    profile: pd.DataFrame
    periods: list[int] = field(default_factory=list)
    edition_files: list[str] = field(default_factory=list)  # the edition's own files (for links)
    crs: str | None = None

    def indicator(self, code: str) -> dict:
        """The catalogue entry of an indicator ({} when unknown)."""
        cache = self.__dict__.setdefault("_indicator_cache", {})
        if not cache and len(self.indicators):
            for row_code, row in zip(self.indicators.index, records(self.indicators), strict=True):
                cache[row_code] = row
        return cache.get(code, {})


def _read(edition_dir: Path, name: str) -> pd.DataFrame:
    path = edition_dir / f"{name}.parquet"
    if not path.exists():
        raise EditionError(f"{path} is missing: build the site from a published edition folder")
    return pd.read_parquet(path)


def load_edition(edition_dir: Path) -> Edition:
    edition_dir = Path(edition_dir)
    if not edition_dir.is_dir():
        raise EditionError(f"{edition_dir} is not a folder")
    status = _read(edition_dir, "mart_compass_status")
    development = _read(edition_dir, "mart_compass_development")
    profile = _read(edition_dir, "mart_area_profile")
    facts = _read(edition_dir, "fct_indicator_value")
    areas = _read(edition_dir, "dim_area")
    indicators = _read(edition_dir, "dim_indicator")
    periods = _read(edition_dir, "dim_period")

    edition = None
    manifest = edition_dir / "manifest.json"
    if manifest.exists():
        try:
            edition = int(json.loads(manifest.read_text(encoding="utf-8"))["edition"])
        except (ValueError, KeyError, TypeError):
            edition = None
    if edition is None or edition not in set(status["edition"].tolist()):
        if status.empty:
            raise EditionError(f"{edition_dir}: mart_compass_status is empty")
        edition = int(status["edition"].max())

    status = status[status["edition"] == edition]
    development = development[development["edition"] == edition]
    profile = profile[profile["edition"] == edition]
    if "area_edition" in status and status["area_edition"].notna().any():
        area_edition = int(status["area_edition"].max())
    else:
        area_edition = int(areas.loc[areas["is_current_edition"], "area_edition"].max())
    gemeente_code = str(status["gemeente_code"].dropna().iloc[0]) if len(status) else ""

    # facts on the compass's area division, up to the edition; suppressed measures blanked
    facts = facts[(facts["area_edition"] == area_edition) & (facts["period"] <= edition)]
    facts = blank_suppressed(facts, FACT_MEASURES)
    # (column lists, not itertuples: a national edition has ~3 M facts and ~0.3 M compass rows)
    shown = facts.loc[facts["suppressed"].astype(bool), ["area_code", "period", "indicator_code"]]
    suppressed_facts = set(
        zip(
            shown["area_code"].tolist(),
            [int(p) for p in shown["period"].tolist()],
            shown["indicator_code"].tolist(),
            strict=True,
        )
    )

    # an indicator whose published fact is suppressed is suppressed in the compass too
    status = status.copy()
    status_nodes = list(
        zip(
            status["node_level"].tolist(),
            status["area_code"].tolist(),
            status["node_code"].tolist(),
            strict=True,
        )
    )
    hidden = pd.Series(
        [
            level == "indicator" and (area, edition, node) in suppressed_facts
            for level, area, node in status_nodes
        ],
        index=status.index,
        dtype=bool,
    )
    if hidden.any():
        current = facts[facts["suppressed"].astype(bool) & (facts["period"] == edition)]
        reasons = dict(
            zip(
                zip(current["area_code"].tolist(), current["indicator_code"].tolist(),
                    strict=True),
                current["suppression_reason"].tolist(),
                strict=True,
            )
        )
        fact_reason = pd.Series(
            [reasons.get((area, node)) for _, area, node in status_nodes],
            index=status.index,
        )
        status["suppression_reason"] = status["suppression_reason"].where(
            ~hidden | status["suppression_reason"].notna(), fact_reason
        )
        status["suppressed"] = status["suppressed"].astype(bool) | hidden
    status = blank_suppressed(status, STATUS_MEASURES)

    base_period = None
    if "base_period" in development and development["base_period"].notna().any():
        base_period = int(development["base_period"].max())
    development_period = edition
    if "current_period" in development and development["current_period"].notna().any():
        development_period = int(development["current_period"].max())
    development = blank_suppressed(development, DEVELOPMENT_MEASURES)
    development = development.copy()
    for column, period in (("base_value", base_period), ("current_value", development_period)):
        if column in development and period is not None:
            hide = [
                level == "indicator" and (area, period, node) in suppressed_facts
                for level, area, node in zip(
                    development["node_level"].tolist(),
                    development["area_code"].tolist(),
                    development["node_code"].tolist(),
                    strict=True,
                )
            ]
            development[column] = (
                development[column]
                .astype("object")
                .where(~pd.Series(hide, index=development.index, dtype=bool), None)
            )

    # the compass areas of the division the compass is drawn on
    division = areas[areas["area_edition"] == area_edition]
    compass = division[division["is_compass_area"].astype(bool)]
    codes = set(status["area_code"])
    if compass.empty:
        compass = division[division["area_code"].isin(codes)]
    compass = compass[compass["area_code"].isin(codes)].copy()
    names = dict(zip(division["area_code"], division["area_name"], strict=True))
    levels = dict(zip(division["area_code"], division["area_level"], strict=True))
    compass["parent_name"] = compass["parent_code"].map(names)
    compass["parent_level"] = compass["parent_code"].map(levels)
    population = dict(zip(profile["area_code"], profile["population"], strict=True))
    compass["population"] = compass["area_code"].map(population)
    compass = compass.sort_values(["area_name", "area_code"]).reset_index(drop=True)
    gemeente_name = names.get(gemeente_code) or gemeente_code
    crs = None
    if "crs" in compass and compass["crs"].notna().any():
        crs = str(compass["crs"].dropna().iloc[0])

    indicators = indicators.drop_duplicates("indicator_code").set_index("indicator_code")
    period_list = sorted(int(p) for p in periods["period"] if int(p) <= edition)
    files = sorted(
        p.name for p in edition_dir.iterdir() if p.is_file() and not p.name.startswith(".")
    )
    return Edition(
        edition=edition,
        area_edition=area_edition,
        gemeente_code=gemeente_code,
        gemeente_name=str(gemeente_name),
        base_period=base_period,
        development_period=development_period,
        areas=compass,
        status=status.reset_index(drop=True),
        development=development.reset_index(drop=True),
        facts=facts.reset_index(drop=True),
        indicators=indicators,
        profile=profile.reset_index(drop=True),
        periods=period_list,
        edition_files=files,
        crs=crs,
    )


# --- labels and tree ------------------------------------------------------------------------------


def node_labels(ed: Edition) -> dict[tuple[str, str], str]:
    """(level, code) -> Dutch label for every node of the compass."""
    labels: dict[tuple[str, str], str] = {("centre", "centrum"): "Totaal (centrum)"}
    for code, row in ed.indicators.iterrows():
        labels[("indicator", code)] = str(row.get("label_nl") or code)
        if clean(row.get("theme_code")):
            labels[("theme", row["theme_code"])] = str(
                clean(row.get("theme_label_nl")) or row["theme_code"]
            )
        if clean(row.get("quadrant_code")):
            labels[("quadrant", row["quadrant_code"])] = str(
                clean(row.get("quadrant_label_nl")) or row["quadrant_code"]
            )
    return labels


def label_of(labels: dict, level: str, code: str) -> str:
    if level == "centre":
        return labels.get(("centre", code), "Totaal (centrum)")
    return labels.get((level, code)) or code.replace("_", " ").capitalize()


def quadrant_rank(code: str) -> tuple[int, str]:
    return (
        (QUADRANT_ORDER.index(code), "") if code in QUADRANT_ORDER else (len(QUADRANT_ORDER), code)
    )


def tree_nodes(mart: pd.DataFrame, labels: dict):
    """The compass's tree as TreeNodes (the union over all areas, so every compass looks alike)."""
    from basismonitor.site.geometry import TreeNode

    seen: dict[tuple[str, str], TreeNode] = {}
    rows = mart[["node_level", "node_code", "parent_node_code", "quadrant_code"]].drop_duplicates()
    for row in rows.itertuples(index=False):
        level, code = row.node_level, row.node_code
        if (level, code) in seen:
            continue
        if level == "quadrant":
            key = quadrant_rank(code)
        else:
            key = (label_of(labels, level, code).lower(),)
        seen[(level, code)] = TreeNode(
            level, code, clean(row.parent_node_code), clean(row.quadrant_code), key
        )
    return sorted(seen.values(), key=lambda n: (n.level, n.code))


# --- similar areas ------------------------------------------------------------------------------

SIMILAR_METHOD = (
    "Vergelijkbare wijken zijn de {k} wijken waarvan de samenstelling het meest lijkt op die van "
    "{name}: de kleinste afstand tussen de indexen (stad = 100) van de {n} indicatoren van "
    "{group} in het statuskompas ({indicators}), gemeten als de wortel uit het gemiddelde "
    "gekwadrateerde verschil over de indicatoren die bij beide wijken getoond worden. "
    "Samenstelling is beschrijvend; zo vergelijkt u wijken met een vergelijkbare bevolking en "
    "woningvoorraad."
)


def composition_quadrants(status: pd.DataFrame) -> list[str]:
    """Quadrants whose indicators are all descriptive (not judged): the composition."""
    indicators = status[status["node_level"] == "indicator"]
    judged = indicators.groupby("quadrant_code")["is_judged"].apply(lambda s: s.astype(bool).any())
    codes = sorted(q for q, any_judged in judged.items() if not any_judged)
    return codes or [c for c in QUADRANT_ORDER[:1] if c in set(status["quadrant_code"].dropna())]


def similar_areas(
    status: pd.DataFrame, k: int = 5
) -> tuple[dict[str, list[tuple[str, float]]], list[str]]:
    """For every area the k areas nearest in the composition indicators' indices.

    Returns ({area: [(other, distance), ...]}, indicator codes used). Distance: root mean square
    difference of the indices over the indicators shown for both areas (at least half of them);
    ties are broken by area code, so the result is deterministic.
    """
    quads = composition_quadrants(status)
    rows = status[(status["node_level"] == "indicator") & status["quadrant_code"].isin(quads)]
    wide = rows.pivot_table(
        index="area_code", columns="node_code", values="index_value", aggfunc="first"
    )
    wide = wide.apply(pd.to_numeric, errors="coerce")
    used = sorted(wide.columns)
    codes = sorted(wide.index)
    matrix = wide.reindex(index=codes, columns=used).to_numpy(dtype=float)
    shown = ~np.isnan(matrix)
    result: dict[str, list[tuple[str, float]]] = {}
    minimum = max(1, math.ceil(len(used) / 2))
    order_of_code = np.arange(len(codes))
    # one area against all others at once (an area-by-area loop in pandas took ~20 min for the
    # 3,407 areas of the national benchmark)
    for i, a in enumerate(codes):
        both = shown & shown[i]
        count = both.sum(axis=1)
        squares = np.where(both, (matrix - matrix[i]) ** 2, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            distance = np.round(np.sqrt(squares / count), 6)
        keep = (count >= minimum) & (order_of_code != i)
        candidates = order_of_code[keep]
        nearest = candidates[np.lexsort((candidates, distance[keep]))][:k]
        result[a] = [(codes[j], float(distance[j])) for j in nearest]
    return result, used
