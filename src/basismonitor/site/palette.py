"""Colours of the compass: colour-blind safe, never red/green.

Judged nodes: a diverging orange-purple scale (ColorBrewer PuOr, 5 classes; the middle class a
neutral grey so it stands out from the white page). Composition (not judged): a neutral
blue-grey sequential scale, minder -> meer, so it never reads as good or bad. Suppressed nodes:
grey hatching; nodes without a figure: a pale grey.
"""

from __future__ import annotations

from dataclasses import dataclass

JUDGED_CLASSES = ("veel slechter", "slechter", "gemiddeld", "beter", "veel beter")
COMPOSITION_CLASSES = ("minder", "gemiddeld", "meer")

JUDGED = {
    "veel slechter": "#b35806",
    "slechter": "#f1a340",
    "gemiddeld": "#e2e2e2",
    "beter": "#998ec3",
    "veel beter": "#542788",
}
COMPOSITION = {
    "minder": "#c9d5e0",
    "gemiddeld": "#8fa4b8",
    "meer": "#4b6784",
}
HATCH_BACKGROUND = "#ffffff"
HATCH_STRIPE = "#8a8a8a"
NO_DATA = "#f3f3f3"
TEXT_DARK = "#1a1a1a"
TEXT_LIGHT = "#ffffff"


@dataclass(frozen=True)
class Fill:
    """How one node is painted: a solid colour, or hatching for a suppressed figure."""

    kind: str  # "judged", "composition", "suppressed", "none"
    colour: str  # the solid colour (for suppressed: the stripe colour)
    label: str  # legend text
    hatched: bool = False

    @property
    def css(self) -> str:
        """The CSS class of a swatch in this fill (rules from css_rules())."""
        if self.hatched:
            return "k-hatch"
        return CSS_CLASS.get((self.kind, self.colour), "k-none")


def node_fill(*, judged: bool, klass, suppressed: bool) -> Fill:
    """The fill of a compass node from the mart's is_judged, class and suppressed."""
    if suppressed:
        return Fill("suppressed", HATCH_STRIPE, "niet getoond", hatched=True)
    if klass is None or klass != klass or klass == "":
        return Fill("none", NO_DATA, "geen gegevens")
    klass = str(klass)
    if not judged:
        # composition is shaded minder/meer and never judged, whatever the class text says
        shade = klass if klass in COMPOSITION else "gemiddeld"
        return Fill("composition", COMPOSITION[shade], f"samenstelling: {shade}")
    if klass in JUDGED:
        return Fill("judged", JUDGED[klass], klass)
    if klass in COMPOSITION:  # a judged node should not be minder/meer; show it neutrally
        return Fill("judged", JUDGED["gemiddeld"], klass)
    return Fill("none", NO_DATA, "geen gegevens")


CSS_CLASS = {
    **{("judged", colour): f"k-j{i}" for i, colour in enumerate(JUDGED.values())},
    **{("composition", colour): f"k-c{i}" for i, colour in enumerate(COMPOSITION.values())},
    ("none", NO_DATA): "k-none",
}


def css_rules() -> str:
    """CSS for the swatches, generated from the palette (one source of the colours)."""
    rules = [f".{name}{{background:{colour}}}" for (kind, colour), name in CSS_CLASS.items()]
    rules.append(
        f".k-hatch{{background:repeating-linear-gradient(45deg,{HATCH_STRIPE} 0 1.6px,"
        f"{HATCH_BACKGROUND} 1.6px 4.4px)}}"
    )
    return "\n".join(rules) + "\n"


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def luminance(colour: str) -> float:
    """WCAG relative luminance."""

    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in hex_to_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(colour: str) -> str:
    """Dark or light text, whichever contrasts more with the fill."""
    return TEXT_DARK if contrast(colour, TEXT_DARK) >= contrast(colour, TEXT_LIGHT) else TEXT_LIGHT


def legend_entries() -> list[tuple[str, Fill]]:
    """(group, fill) in legend order."""
    entries = [
        ("Beoordeeld (index, stad = 100)", node_fill(judged=True, klass=k, suppressed=False))
        for k in JUDGED_CLASSES
    ]
    entries += [
        (
            "Samenstelling (beschrijvend, geen oordeel)",
            node_fill(judged=False, klass=k, suppressed=False),
        )
        for k in COMPOSITION_CLASSES
    ]
    entries.append(("Overig", node_fill(judged=True, klass=None, suppressed=True)))
    entries.append(("Overig", node_fill(judged=True, klass=None, suppressed=False)))
    return entries
