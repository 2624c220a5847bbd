"""Inline SVG: the compass ring charts, the overview map, the legend and the trend sparklines."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from basismonitor.site import fmt
from basismonitor.site.geometry import (
    HATCH_PERIOD,
    HATCH_STRIPE_WIDTH,
    Cell,
    Projection,
    num,
    polar,
    sector_path,
)
from basismonitor.site.palette import (
    HATCH_BACKGROUND,
    HATCH_STRIPE,
    TEXT_DARK,
    Fill,
    legend_entries,
    node_fill,
    text_on,
)

FONT = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Liberation Sans', Arial, "
    "sans-serif"
)
CHART_HALF = 300.0  # the ring chart's square is -300..300 around the centre
LEVEL_RING = {"centre": 0, "quadrant": 1, "theme": 2, "indicator": 3}  # inside out


def attr(value) -> str:
    return escape(str(value), quote=True)


def hatch_pattern(pattern_id: str) -> str:
    """The hatch (geometry.HATCH_*: also what geometry.hatch_stripes cuts out as shapes)."""
    p, w = num(HATCH_PERIOD), num(HATCH_STRIPE_WIDTH)
    return (
        f'<pattern id="{pattern_id}" width="{p}" height="{p}" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="{p}" height="{p}" '
        f'fill="{HATCH_BACKGROUND}"/><rect width="{w}" height="{p}" fill="{HATCH_STRIPE}"/>'
        "</pattern>"
    )


def fill_paint(fill: Fill, pattern_id: str) -> str:
    return f"url(#{pattern_id})" if fill.hatched else fill.colour


@dataclass(frozen=True)
class NodeView:
    """What the chart needs of one node: the mart's row, reduced and labelled."""

    key: str  # "<level>-<code>"
    label: str
    judged: bool
    klass: str | None
    index: float | None
    suppressed: bool
    reason: str  # Dutch
    summary: str  # one line: label: class, index (for aria-label / <title>)

    @property
    def fill(self) -> Fill:
        return node_fill(judged=self.judged, klass=self.klass, suppressed=self.suppressed)


def node_summary(label: str, *, judged: bool, klass, index, suppressed: bool, reason: str) -> str:
    if suppressed:
        return f"{label}: niet getoond" + (f" ({reason})" if reason else "")
    if klass is None or fmt.is_missing(index):
        return f"{label}: geen gegevens"
    what = fmt.CLASS_TEXT.get(klass, klass)
    if not judged:
        what += " (samenstelling, geen oordeel)"
    return f"{label}: {what}, index {fmt.index(index)}"


def _wrap(text: str, width: int = 16) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def quadrant_label_positions(cells: Sequence[Cell]) -> list[tuple[Cell, float, float]]:
    """(cell, sx, sy): the direction of each quadrant's middle; its name goes in that corner."""
    out = []
    for cell in cells:
        if cell.level == "quadrant":
            mid = math.radians(cell.mid)
            out.append((cell, math.sin(mid), -math.cos(mid)))
    return out


def compass_svg(
    cells: Sequence[Cell],
    nodes: Mapping[str, NodeView],
    quadrant_labels: Mapping[str, str],
    *,
    prefix: str,
    title: str,
    desc: str,
    standalone: bool = False,
    heading: tuple[str, str] | None = None,
    stripes: Mapping[str, str] | None = None,
) -> str:
    """The ring chart. Inline: focusable cells (data-row links to the table row); standalone:
    a complete SVG file with a heading, a legend and a <title> per cell.

    `stripes` (geometry.hatch_stripes of these cells): a hatched cell is drawn as its background
    with the stripes as shapes on it instead of filled with the hatch pattern: the same picture,
    cheaper for resvg to draw (the PNG, site.raster; 0.73x on a half-hatched compass,
    BENCHMARKS.md)."""
    pattern_id = f"{prefix}-hatch"
    top, bottom = -CHART_HALF, CHART_HALF
    if standalone:
        top, bottom = -CHART_HALF - 70, CHART_HALF + 135
    height = bottom - top
    out: list[str] = []
    title_id, desc_id = f"{prefix}-title", f"{prefix}-desc"
    if standalone:
        out.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{num(-CHART_HALF)} {num(top)} '
            f'{num(2 * CHART_HALF)} {num(height)}" width="{num(2 * CHART_HALF)}" '
            f'height="{num(height)}" '
            f'role="img" aria-labelledby="{title_id} {desc_id}" lang="nl" '
            f'font-family="{attr(FONT)}">'
        )
    else:
        out.append(
            f'<svg class="compass" viewBox="{num(-CHART_HALF)} {num(top)} {num(2 * CHART_HALF)} '
            f'{num(height)}" role="group" aria-labelledby="{title_id} {desc_id}">'
        )
    out.append(
        f'<title id="{title_id}">{escape(title)}</title><desc id="{desc_id}">{escape(desc)}</desc>'
    )
    out.append(f"<defs>{hatch_pattern(pattern_id)}</defs>")
    if standalone:
        out.append(
            f'<rect x="-300" y="{num(top)}" width="600" height="{num(height)}" fill="#ffffff"/>'
        )
        if heading:
            out.append(
                f'<text x="-290" y="{num(top + 30)}" font-size="20" font-weight="700" '
                f'fill="{TEXT_DARK}">{escape(heading[0])}</text>'
                f'<text x="-290" y="{num(top + 52)}" font-size="13" fill="#444444">'
                f"{escape(heading[1])}</text>"
            )

    out.append('<g stroke="#ffffff" stroke-width="1" stroke-linejoin="round">')
    # one tab stop per compass (the centre; arrow keys move between cells: site.js)
    entry = next((c.key for c in cells if c.level == "centre"), cells[0].key if cells else None)
    drawn_stripes = []
    for cell in cells:
        node = nodes.get(cell.key)
        if node is None:
            node = NodeView(
                cell.key, cell.code, True, None, None, False, "", f"{cell.code}: geen gegevens"
            )
        paint = fill_paint(node.fill, pattern_id)
        if stripes is not None and node.fill.hatched:
            paint = HATCH_BACKGROUND
            drawn_stripes.append(stripes.get(cell.key, ""))
        d = sector_path(cell.r0, cell.r1, cell.a0, cell.a1, decimals=1)
        if standalone:
            out.append(f'<path d="{d}" fill="{paint}"><title>{escape(node.summary)}</title></path>')
        else:
            ring = LEVEL_RING.get(cell.level, 0)
            out.append(
                f'<path class="cell" d="{d}" fill="{paint}" data-row="{prefix}-{attr(cell.key)}" '
                f'data-ring="{ring}" data-a0="{num(cell.a0)}" data-a1="{num(cell.a1)}" '
                f'tabindex="{0 if cell.key == entry else -1}" role="img" '
                f'aria-label="{attr(node.summary)}"/>'
            )
    out.append("</g>")
    if any(drawn_stripes):
        out.append(
            f'<path d="{" ".join(d for d in drawn_stripes if d)}" fill="{HATCH_STRIPE}" '
            'pointer-events="none"/>'
        )

    # quadrant boundaries: a wider white gap
    radii_out = max((c.r1 for c in cells), default=0)
    radii_in = min((c.r1 for c in cells if c.level == "centre"), default=0)
    lines = []
    for cell in cells:
        if cell.level == "quadrant":
            x0, y0 = polar(radii_in, cell.a0)
            x1, y1 = polar(radii_out + 1, cell.a0)
            lines.append(f"M{num(x0)} {num(y0)}L{num(x1)} {num(y1)}")
    if lines:
        out.append(
            f'<path d="{"".join(lines)}" stroke="#ffffff" stroke-width="3.5" fill="none" '
            'pointer-events="none"/>'
        )

    # numbers: the centre, the quadrants, the themes where they fit
    texts = []
    for cell in cells:
        node = nodes.get(cell.key)
        if node is None or cell.level == "indicator":
            continue
        colour = TEXT_DARK if node.fill.hatched else text_on(node.fill.colour)
        if cell.level == "centre":
            big = fmt.index(node.index) if not node.suppressed else "–"
            texts.append(
                f'<text x="0" y="4" font-size="26" font-weight="700" text-anchor="middle" '
                f'fill="{colour}">{escape(big)}</text>'
                f'<text x="0" y="24" font-size="11" text-anchor="middle" fill="{colour}">'
                f"{escape(node.klass or ('niet getoond' if node.suppressed else ''))}</text>"
            )
            continue
        if node.suppressed or fmt.is_missing(node.index):
            continue
        r_mid = (cell.r0 + cell.r1) / 2
        arc = math.radians(cell.a1 - cell.a0) * r_mid
        size = 16 if cell.level == "quadrant" else 13
        label = f"{node.index:.0f}"
        if arc < size * 0.62 * len(label) + 6:
            continue
        x, y = polar(r_mid, cell.mid)
        weight = ' font-weight="700"' if cell.level == "quadrant" else ""
        texts.append(
            f'<text class="n-{cell.level}" x="{num(x)}" y="{num(y + size * 0.35)}" '
            f'font-size="{num(size)}" text-anchor="middle" fill="{colour}"{weight}>{label}</text>'
        )
    if texts:
        out.append(f'<g pointer-events="none" aria-hidden="true">{"".join(texts)}</g>')

    # quadrant names in the corners
    names = []
    for cell, sx, sy in quadrant_label_positions(cells):
        lines_ = _wrap(quadrant_labels.get(cell.code, cell.code))
        anchor = "start" if sx < -0.2 else "end" if sx > 0.2 else "middle"
        x = -CHART_HALF + 8 if sx < -0.2 else CHART_HALF - 8 if sx > 0.2 else 0
        y0 = -CHART_HALF + 20 if sy < 0 else CHART_HALF - 10 - 17 * (len(lines_) - 1)
        tspans = "".join(
            f'<tspan x="{num(x)}" y="{num(y0 + 17 * i)}">{escape(line)}</tspan>'
            for i, line in enumerate(lines_)
        )
        names.append(
            f'<text font-size="15" font-weight="600" fill="#333333" text-anchor="{anchor}">'
            f"{tspans}</text>"
        )
    out.append(f'<g aria-hidden="true">{"".join(names)}</g>')

    if standalone:
        out.append(svg_legend(CHART_HALF + 12, pattern_id))
    out.append("</svg>")
    return "".join(out)


LEGEND_NOTE = "Ringen van buiten naar binnen: indicator, thema, kwadrant, centrum."


def legend_layout(
    y: float,
) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, Fill]]]:
    """Headings (x, baseline, text) and swatches (x, top, fill) of a standalone chart's legend:
    the judged classes on one row; composition and the other fills on the next."""
    entries = legend_entries()
    rows = [
        [("Beoordeeld: klasse van de index (stad = 100)", "Beoordeeld")],
        [("Samenstelling: beschrijvend, geen oordeel", "Samenstelling"), ("Overig", "Overig")],
    ]
    headings, swatches = [], []
    for r, groups in enumerate(rows):
        top, column = y + r * 50, 0
        for heading, prefix in groups:
            headings.append((-290 + column * 118, top + 10, heading))
            for _, fill in (e for e in entries if e[0].startswith(prefix)):
                swatches.append((-290 + column * 118, top + 18, fill))
                column += 1
    return headings, swatches


def svg_legend(y: float, pattern_id: str) -> str:
    """The legend inside a standalone compass SVG (two rows under the chart)."""
    headings, swatches = legend_layout(y)
    out = ['<g font-size="12" fill="#222222">']
    for x, baseline, heading in headings:
        out.append(
            f'<text x="{num(x)}" y="{num(baseline)}" font-size="11.5" fill="#555555">'
            f"{escape(heading)}</text>"
        )
    for x, top, fill in swatches:
        label = fill.label.replace("samenstelling: ", "")
        out.append(
            f'<rect x="{num(x)}" y="{num(top)}" width="16" height="16" '
            f'fill="{fill_paint(fill, pattern_id)}" stroke="#999999" stroke-width="0.5"/>'
            f'<text x="{num(x + 21)}" y="{num(top + 13)}">{escape(label)}</text>'
        )
    out.append(
        f'<text x="-290" y="{num(y + 112)}" font-size="10.5" fill="#555555">'
        f"{escape(LEGEND_NOTE)}</text>"
    )
    out.append("</g>")
    return "".join(out)


# --- the overview map -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MapArea:
    code: str
    name: str
    path: str  # SVG path data in map units
    fill: Fill
    summary: str
    href: str
    label_at: tuple[float, float] | None
    number: int | None = None  # a numbered marker where the name does not fit (key under the map)
    marker_at: tuple[float, float] | None = None


def map_svg(areas: Sequence[MapArea], projection: Projection, *, title: str, desc: str) -> str:
    width, height = projection.width, projection.height
    out = [
        f'<svg class="map" viewBox="0 0 {num(width, 1)} {num(height, 1)}" role="group" '
        f'aria-labelledby="map-title map-desc">'
        f'<title id="map-title">{escape(title)}</title><desc id="map-desc">{escape(desc)}</desc>'
        f"<defs>{hatch_pattern('map-hatch')}</defs>"
    ]
    for area in areas:
        paint = fill_paint(area.fill, "map-hatch")
        out.append(
            f'<a href="{attr(area.href)}" class="area" data-code="{attr(area.code)}" '
            f'aria-label="{attr(area.summary)}">'
            f'<path d="{area.path}" fill="{paint}" fill-rule="evenodd"/>'
            f"<title>{escape(area.summary)}</title></a>"
        )
    labels = []
    for area in areas:
        if area.label_at is None:
            continue
        x, y = area.label_at
        colour = TEXT_DARK if area.fill.hatched else text_on(area.fill.colour)
        labels.append(
            f'<text x="{num(x, 1)}" y="{num(y + 3.8, 1)}" fill="{colour}" '
            f'data-code="{attr(area.code)}">{escape(area.name)}</text>'
        )
    out.append(
        f'<g class="map-labels" font-size="11" text-anchor="middle" pointer-events="none" '
        f'aria-hidden="true">{"".join(labels)}</g>'
    )
    markers = []
    for area in areas:
        if area.number is None or area.marker_at is None:
            continue
        x, y = area.marker_at
        markers.append(
            f'<g data-code="{attr(area.code)}"><circle cx="{num(x, 1)}" cy="{num(y, 1)}" r="8"/>'
            f'<text x="{num(x, 1)}" y="{num(y + 3.6, 1)}">{area.number}</text></g>'
        )
    if markers:
        out.append(
            f'<g class="map-num" font-size="10" text-anchor="middle" pointer-events="none" '
            f'aria-hidden="true">{"".join(markers)}</g>'
        )
    out.append("</svg>")
    return "".join(out)


# --- sparklines -------------------------------------------------------------------------------

SPARK_W, SPARK_H = 120.0, 30.0


def sparkline_svg(
    axis: Sequence[int], area: Mapping[int, float], city: Mapping[int, float], *, label: str
) -> str:
    """A small trend: the area (solid, dots) against the city (dashed), periods on one axis.

    Suppressed or missing periods are gaps in the line.
    """
    values = [v for v in list(area.values()) + list(city.values()) if not fmt.is_missing(v)]
    if not values or not axis:
        return ""
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 1, hi + 1
    pad = 3.0
    p0, p1 = axis[0], axis[-1]

    def xy(period: int, v: float) -> tuple[float, float]:
        x = pad + (SPARK_W - 2 * pad) * ((period - p0) / (p1 - p0) if p1 > p0 else 0.5)
        y = pad + (SPARK_H - 2 * pad) * (1 - (v - lo) / (hi - lo))
        return x, y

    def polyline(series: Mapping[int, float]) -> str:
        segments, current = [], []
        for period in axis:
            v = series.get(period)
            if period not in series:
                continue  # no figure that period (e.g. no survey wave): the line goes on
            if fmt.is_missing(v):
                if current:
                    segments.append(current)
                current = []
                continue
            x, y = xy(period, float(v))
            current.append(f"{num(x, 1)} {num(y, 1)}")
        if current:
            segments.append(current)
        return "".join("M" + "L".join(s) for s in segments if s)

    parts = [
        f'<svg class="spark" viewBox="0 0 {num(SPARK_W)} {num(SPARK_H)}" width="{num(SPARK_W)}" '
        f'height="{num(SPARK_H)}" role="img" aria-label="{attr(label)}">'
    ]
    city_d = polyline(city)
    if city_d:
        parts.append(f'<path class="c" d="{city_d}"/>')  # styles: site.css (.spark .c/.a/.d)
    area_d = polyline(area)
    if area_d:
        parts.append(f'<path class="a" d="{area_d}"/>')
    # dots: the last figure and figures without a neighbour (a line needs two points)
    shown = [p for p in axis if p in area and not fmt.is_missing(area.get(p))]
    dots = []
    for i, period in enumerate(shown):
        previous_gap = i == 0 or _gap_between(axis, area, shown[i - 1], period)
        next_gap = i == len(shown) - 1 or _gap_between(axis, area, period, shown[i + 1])
        if period == axis[-1] or (previous_gap and next_gap):
            x, y = xy(period, float(area[period]))
            dots.append(f"M{num(x, 1)} {num(y, 1)}h0")
    if dots:
        parts.append(f'<path class="d" d="{"".join(dots)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _gap_between(axis: Sequence[int], series: Mapping[int, float], a: int, b: int) -> bool:
    """True when a suppressed figure lies between periods a and b (no line joins them)."""
    return any(a < p < b and p in series and fmt.is_missing(series.get(p)) for p in axis)
