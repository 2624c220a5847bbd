"""Dutch number formatting (decimal comma, thousands point) and Dutch texts for the marts' codes."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

DASH = "–"  # shown where there is no figure


def is_missing(value) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


def number(value, decimals: int = 1, *, sign: bool = False) -> str:
    """1234.5 -> '1.234,5'; None/NaN -> '–'."""
    if is_missing(value):
        return DASH
    value = float(value)
    if round(value, decimals) == 0:
        value, sign = 0.0, False  # '0,0', never '-0,0' or '+0,0'
    text = f"{value:{'+' if sign else ''},.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


@dataclass(frozen=True)
class UnitFormat:
    decimals: int
    factor: float = 1.0
    prefix: str = ""
    suffix: str = ""
    change_suffix: str = ""


# the catalogue's units (dim_indicator.unit); anything else gets a magnitude-based default
UNITS: dict[str, UnitFormat] = {
    "aandeel": UnitFormat(1, 100.0, "", "%", " %-punt"),
    "procent": UnitFormat(1, 1.0, "", "%", " %-punt"),
    "aantal": UnitFormat(0),
    "euro per inwoner": UnitFormat(2, 1.0, "€ "),
    "ha": UnitFormat(0, 1.0, "", " ha", " ha"),
    "per 1.000 inwoners": UnitFormat(1),
    "per km2": UnitFormat(0, 1.0, "", " per km²", " per km²"),
    "rapportcijfer": UnitFormat(1),
    "schaal 1-5": UnitFormat(2),
    "x 1.000 euro": UnitFormat(0, 1000.0, "€ "),
}


def unit_format(unit: str | None, sample=None) -> UnitFormat:
    if unit in UNITS:
        return UNITS[unit]
    magnitude = 0.0 if is_missing(sample) else abs(float(sample))
    return UnitFormat(0 if magnitude >= 100 else 1 if magnitude >= 10 else 2)


def value(v, unit: str | None) -> str:
    """An indicator value in its unit: 0.359 'aandeel' -> '35,9%'."""
    if is_missing(v):
        return DASH
    f = unit_format(unit, v)
    return f"{f.prefix}{number(float(v) * f.factor, f.decimals)}{f.suffix}"


def change(v, unit: str | None) -> str:
    """A change (development) in its unit, with a sign: '+2,3 %-punt'."""
    if is_missing(v):
        return DASH
    f = unit_format(unit, v)
    text = number(float(v) * f.factor, f.decimals, sign=True)
    if f.prefix:
        text = f"{text[0]}{f.prefix}{text[1:]}"
    return f"{text}{f.change_suffix}"


def relative_change(v) -> str:
    """A count's change in the development compass, relative: '+9,9%' (docs/STATISTICS.md 10)."""
    if is_missing(v):
        return DASH
    return f"{number(float(v), 1, sign=True)}%"


def is_additive_total(indicator: dict) -> bool:
    """Counts and surfaces (dbt macro is_additive_total): their change is relative."""
    return indicator.get("kind") == "registry_count" or indicator.get("unit") == "ha"


def interval(low, high, unit: str | None) -> str:
    """A 95% confidence interval: '32,0 – 40,0%'."""
    if is_missing(low) or is_missing(high):
        return DASH
    f = unit_format(unit, high)
    return (
        f"{f.prefix}{number(float(low) * f.factor, f.decimals)} – "
        f"{number(float(high) * f.factor, f.decimals)}{f.suffix}"
    )


def index(v) -> str:
    return number(v, 1) if not is_missing(v) else DASH


def count(v) -> str:
    return number(v, 0) if not is_missing(v) else DASH


def yes_no(v) -> str:
    if v is None or is_missing(v):
        return DASH
    return "ja" if bool(v) else "nee"


# --- the marts' suppression reasons, in Dutch ----------------------------------------------------

_SOURCE_CODES = {
    "hidden": "geheimgehouden door de bron",
    "unknown": "onbekend bij de bron",
    "not_applicable": "niet van toepassing",
    "empty": "leeg bij de bron",
    "nil": "nihil",
    "invalid": "ongeldig bij de bron",
}

_REASONS: list[tuple[re.Pattern, object]] = [
    (re.compile(r"^count below (\d+)$"), lambda m: f"aantal kleiner dan {m[1]}"),
    # issue 21: model figures (modelschatting) and counts apportioned onto a new division
    (re.compile(r"^count below (\d+) after harmonisation$"),
     lambda m: f"aantal kleiner dan {m[1]} na omrekening naar de huidige indeling"),
    (re.compile(r"^cv > ([\d.]+)$"),
     lambda m: f"modelschatting te onzeker (variatiecoëfficiënt boven {float(m[1]):.0%})"),
    (re.compile(r"^no respondents and no covariates$"),
     lambda m: "geen respondenten en geen registergegevens voor een modelschatting"),
    (re.compile(r"^n below (\d+)$"), lambda m: f"minder dan {m[1]} respondenten"),
    (re.compile(r"^population below (\d+)$"), lambda m: f"minder dan {m[1]} inwoners"),
    (re.compile(r"^no city change$"), lambda m: "ontwikkeling van de stad onbekend"),
    (re.compile(r"^no city value$"), lambda m: "waarde van de stad onbekend"),
    (re.compile(r"^no value$"), lambda m: "geen waarde"),
    (re.compile(r"^no denominator$"), lambda m: "geen noemer (aantal inwoners onbekend)"),
    (re.compile(r"^no value in base period (\d+)$"), lambda m: f"geen waarde in basisjaar {m[1]}"),
    (re.compile(r"^derived from suppressed$"), lambda m: "afgeleid van een verborgen cijfer"),
    (
        re.compile(r"^too few parts shown \((\d+) of (\d+)\)$"),
        lambda m: f"te weinig onderdelen getoond ({m[1]} van {m[2]})",
    ),
    (
        re.compile(r"^source: (\w+)$"),
        lambda m: _SOURCE_CODES.get(m[1], f"bron: {m[1]}"),
    ),
    (
        re.compile(r"^derived from suppressed: (.+)$"),
        lambda m: f"afgeleid van een verborgen cijfer ({reason(m[1])})",
    ),
]


def reason(text) -> str:
    """The mart's suppression reason in Dutch; an unknown reason is shown as it is."""
    if text is None or is_missing(text) or not str(text).strip():
        return ""
    text = str(text).strip()
    for pattern, make in _REASONS:
        match = pattern.match(text)
        if match:
            return make(match)
    return text


CLASS_TEXT = {
    "veel slechter": "veel slechter dan de stad",
    "slechter": "slechter dan de stad",
    "gemiddeld": "gemiddeld",
    "beter": "beter dan de stad",
    "veel beter": "veel beter dan de stad",
    "minder": "minder dan de stad",
    "meer": "meer dan de stad",
}
