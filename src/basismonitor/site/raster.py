"""PNG of a compass without a browser: a small rasteriser for the ring chart (numpy + zlib).

The chart is a set of annular sectors, so every pixel is classified exactly in polar coordinates
(radius -> ring, angle -> cell) on a supersampled grid (anti-aliasing), with the white gaps
between cells and the grey hatching of suppressed cells. Text (heading, the centre's index,
quadrant names, legend) uses a built-in 5x7 bitmap font. The layout follows the standalone SVG.
The output is deterministic: the same chart gives the same bytes.
"""

from __future__ import annotations

import functools
import math
import struct
import unicodedata
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from basismonitor.site import fmt
from basismonitor.site.geometry import Cell
from basismonitor.site.palette import HATCH_BACKGROUND, HATCH_STRIPE, TEXT_DARK, hex_to_rgb, text_on
from basismonitor.site.svg import (
    CHART_HALF,
    LEGEND_NOTE,
    NodeView,
    _wrap,
    legend_layout,
    quadrant_label_positions,
)

SCALE = 1.5  # pixels per SVG unit
SUPERSAMPLE = 3
TOP, BOTTOM = -CHART_HALF - 70, CHART_HALF + 125  # as the standalone SVG
GAP = 1.0  # white gap between cells (SVG units)
QUADRANT_GAP = 3.5
STRIPE_PERIOD = 6.0
STRIPE_WIDTH = 2.2

# --- PNG encoding ---------------------------------------------------------------------------------


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB image (H x W x 3, uint8) as PNG bytes (filter 'up', zlib level 3: a quarter of
    level 6's time for a file ~25% larger; the chart is mostly flat colour)."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    height, width, _ = rgb.shape
    flat = rgb.reshape(height, width * 3)
    rows = np.empty((height, width * 3 + 1), dtype=np.uint8)
    rows[:, 0] = 2  # filter type 'up': each byte minus the byte above, modulo 256
    rows[0, 1:] = flat[0]
    np.subtract(flat[1:], flat[:-1], out=rows[1:, 1:])  # uint8 arithmetic wraps modulo 256
    raw = rows.tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 3))
        + chunk(b"IEND", b"")
    )


# --- a 5x7 bitmap font ----------------------------------------------------------------------------

_GLYPHS = {
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#",
    "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.",
    "D": "####.|#...#|#...#|#...#|#...#|#...#|####.",
    "E": "#####|#....|#....|####.|#....|#....|#####",
    "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####",
    "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": "###|.#.|.#.|.#.|.#.|.#.|###",
    "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#",
    "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#",
    "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.",
    "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#",
    "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.",
    "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.",
    "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.",
    "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|.#.#.|..#..|..#..|..#..|..#..",
    "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "a": "....|....|.###|...#|.###|#..#|.###",
    "b": "#...|#...|###.|#..#|#..#|#..#|###.",
    "c": "....|....|.###|#...|#...|#...|.###",
    "d": "...#|...#|.###|#..#|#..#|#..#|.###",
    "e": "....|....|.##.|#..#|####|#...|.###",
    "f": "..##|.#..|.#..|###.|.#..|.#..|.#..",
    "g": "....|....|.###|#..#|#..#|#..#|.###|...#|.##.",
    "h": "#...|#...|###.|#..#|#..#|#..#|#..#",
    "i": "#|.|#|#|#|#|#",
    "j": "..#|...|.##|..#|..#|..#|..#|..#|##.",
    "k": "#...|#...|#..#|#.#.|##..|#.#.|#..#",
    "l": "#.|#.|#.|#.|#.|#.|.#",
    "m": ".....|.....|####.|#.#.#|#.#.#|#.#.#|#.#.#",
    "n": "....|....|###.|#..#|#..#|#..#|#..#",
    "o": "....|....|.##.|#..#|#..#|#..#|.##.",
    "p": "....|....|###.|#..#|#..#|#..#|###.|#...|#...",
    "q": "....|....|.###|#..#|#..#|#..#|.###|...#|...#",
    "r": "...|...|#.#|##.|#..|#..|#..",
    "s": "....|....|.###|#...|.##.|...#|###.",
    "t": ".#..|.#..|###.|.#..|.#..|.#..|..##",
    "u": "....|....|#..#|#..#|#..#|#..#|.###",
    "v": ".....|.....|#...#|#...#|#...#|.#.#.|..#..",
    "w": ".....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.",
    "x": "....|....|#..#|#..#|.##.|#..#|#..#",
    "y": "....|....|#..#|#..#|#..#|#..#|.###|...#|.##.",
    "z": "....|....|####|...#|.##.|#...|####",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.",
    "1": ".#.|##.|.#.|.#.|.#.|.#.|###",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####",
    "3": "####.|....#|....#|.###.|....#|....#|####.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.",
    "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.",
    "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.",
    "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
    " ": "..|..|..|..|..|..|..",
    ".": ".|.|.|.|.|.|#",
    ",": "..|..|..|..|..|.#|.#|#.",
    ":": ".|.|#|.|.|#|.",
    "-": "...|...|...|###|...|...|...",
    "–": "....|....|....|####|....|....|....",
    "(": "..#|.#.|#..|#..|#..|.#.|..#",
    ")": "#..|.#.|..#|..#|..#|.#.|#..",
    "/": "....#|....#|...#.|..#..|.#...|#....|#....",
    "%": "##...|##..#|...#.|..#..|.#...|#..##|...##",
    "=": "....|....|####|....|####|....|....",
    "+": "...|...|.#.|###|.#.|...|...",
    "·": ".|.|.|#|.|.|.",
    "'": "#|#|.|.|.|.|.",
    "€": "..###|.#...|####.|.#...|####.|.#...|..###",
    "?": ".###.|#...#|....#|...#.|..#..|.....|..#..",
}
GLYPH_ROWS = 9  # 7 rows above the baseline, 2 for descenders


@functools.lru_cache(maxsize=512)
def _glyph(ch: str) -> np.ndarray:
    pattern = _GLYPHS.get(ch)
    if pattern is None:
        base = unicodedata.normalize("NFKD", ch)[:1]
        pattern = _GLYPHS.get(base) or _GLYPHS.get(base.upper()) or _GLYPHS["?"]
    rows = pattern.split("|")
    width = max(len(r) for r in rows)
    grid = np.zeros((GLYPH_ROWS, width), dtype=bool)
    for i, row in enumerate(rows[:GLYPH_ROWS]):
        for j, c in enumerate(row):
            grid[i, j] = c == "#"
    return grid


@functools.lru_cache(maxsize=1024)
def _scaled(ch: str, size: int) -> np.ndarray:
    return np.kron(_glyph(ch), np.ones((size, size), dtype=bool))


def text_width(text: str, size: int) -> int:
    """Width in pixels of text drawn at `size` pixels per font dot."""
    if not text:
        return 0
    return sum((_glyph(c).shape[1] + 1) * size for c in text) - size


def draw_text(
    img: np.ndarray, x: float, y: float, text: str, size: int, colour: str, anchor: str = "start"
) -> None:
    """Draw text with its baseline at y (pixels); anchor start, middle or end."""
    width = text_width(text, size)
    left = int(round(x - (width / 2 if anchor == "middle" else width if anchor == "end" else 0)))
    top = int(round(y)) - 7 * size
    rgb = np.array(hex_to_rgb(colour), dtype=np.uint8)
    h, w, _ = img.shape
    for ch in text:
        grid = _glyph(ch)
        big = _scaled(ch, size)
        y0, x0 = top, left
        y1, x1 = y0 + big.shape[0], x0 + big.shape[1]
        cy0, cx0, cy1, cx1 = max(y0, 0), max(x0, 0), min(y1, h), min(x1, w)
        if cy1 > cy0 and cx1 > cx0:
            region = big[cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
            img[cy0:cy1, cx0:cx1][region] = rgb
        left += (grid.shape[1] + 1) * size


# --- the ring chart -------------------------------------------------------------------------------


class RingRaster:
    """The pixel -> cell map of one compass layout, computed once and reused for every area."""

    def __init__(
        self, cells: Sequence[Cell], *, scale: float = SCALE, supersample: int = SUPERSAMPLE
    ):
        self.cells = list(cells)
        self.scale = scale
        self.width = int(round(2 * CHART_HALF * scale))
        self.height = int(round((BOTTOM - TOP) * scale))
        self._rings: dict[tuple[float, float], list[int]] = {}
        for i, cell in enumerate(self.cells):
            self._rings.setdefault((cell.r0, cell.r1), []).append(i)
        self._quadrant_bounds = sorted({c.a0 % 360.0 for c in self.cells if c.level == "quadrant"})
        self._centre_r = max((c.r1 for c in self.cells if c.level == "centre"), default=0.0)

        # pass 1: the cell under every pixel centre
        yc = TOP + (np.arange(self.height, dtype=np.float64) + 0.5) / scale
        xc = -CHART_HALF + (np.arange(self.width, dtype=np.float64) + 0.5) / scale
        centre_index = self.classify(*np.meshgrid(xc, yc))
        # a pixel is mixed when a neighbour's centre lies in another cell (or a gap)
        padded = np.pad(centre_index, 1, mode="edge")
        mixed = np.zeros(centre_index.shape, dtype=bool)
        for dy in (0, 1, 2):
            for dx in (0, 1, 2):
                mixed |= padded[dy : dy + self.height, dx : dx + self.width] != centre_index
        # pass 2: supersample only the mixed pixels
        s = supersample
        offsets = (np.arange(s) + 0.5) / s - 0.5
        oy, ox = (a.ravel() for a in np.meshgrid(offsets, offsets, indexing="ij"))
        rows, cols = np.nonzero(mixed)
        sub_x = xc[cols][None, :] + ox[:, None] / scale
        sub_y = yc[rows][None, :] + oy[:, None] / scale
        self.mixed_at = (rows, cols)
        self.mixed_index = self.classify(sub_x, sub_y)
        self.mixed_stripe = self._stripe(sub_x, sub_y)
        self.pure_index = np.where(mixed, -2, centre_index).astype(np.int16)
        # the share of each pixel on a hatching stripe (for suppressed cells)
        share = np.zeros(centre_index.shape, dtype=np.float32)
        gx, gy = np.meshgrid(xc, yc)
        for dy_, dx_ in zip(oy, ox, strict=True):
            share += self._stripe(gx + dx_ / scale, gy + dy_ / scale)
        self.stripe_share = share / len(oy)
        self.samples = s * s

    @staticmethod
    def _stripe(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        return (((xs + ys) / np.sqrt(2)) % STRIPE_PERIOD) < STRIPE_WIDTH  # 45 degree stripes

    def classify(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The cell index (-1: background or a gap) at chart coordinates xs, ys."""
        r = np.hypot(xs, ys)
        theta = np.degrees(np.arctan2(xs, -ys))
        index = np.full(r.shape, -1, dtype=np.int16)
        for (r0, r1), members in self._rings.items():
            in_ring = (r >= max(r0, r0 + GAP / 2 if r0 > 0 else 0.0)) & (r < r1)
            if not in_ring.any():
                continue
            first = self.cells[members[0]]
            if len(members) == 1 and (first.a1 - first.a0) >= 359.999:
                index[in_ring] = members[0]
                continue
            rr, tt = r[in_ring], theta[in_ring]
            rel = (tt - first.a0) % 360.0
            starts = np.array([self.cells[m].a0 - first.a0 for m in members])
            ends = np.array([self.cells[m].a1 - first.a0 for m in members])
            pos = np.clip(np.searchsorted(starts, rel, side="right") - 1, 0, len(members) - 1)
            inside = rel < ends[pos]
            # the white gap between neighbouring cells, in chart units along the arc
            to_edge = np.minimum(rel - starts[pos], ends[pos] - rel)
            keep = inside & (np.radians(to_edge) * rr >= GAP / 2)
            chosen = np.where(keep, np.array(members, dtype=np.int16)[pos], -1)
            index[in_ring] = chosen
        # the wider gap along the quadrant boundaries (outside the centre disc)
        for bound in self._quadrant_bounds:
            delta = np.radians(((theta - bound + 180.0) % 360.0) - 180.0)
            near = (
                (np.abs(np.sin(delta)) * r < QUADRANT_GAP / 2)
                & (np.cos(delta) > 0)
                & (r >= self._centre_r)
            )
            index[near] = -1
        return index

    def render(self, fills: Sequence[tuple[str, bool]]) -> np.ndarray:
        """fills[i] = (colour, hatched) for cell i -> RGB image of the chart area (H x W x 3)."""
        n = len(self.cells)
        solid = np.empty((n + 1, 3), dtype=np.float32)
        stripe = np.empty((n + 1, 3), dtype=np.float32)
        for i, (colour, hatched) in enumerate(fills):
            if hatched:
                solid[i] = hex_to_rgb(HATCH_BACKGROUND)
                stripe[i] = hex_to_rgb(HATCH_STRIPE)
            else:
                solid[i] = stripe[i] = hex_to_rgb(colour)
        solid[n] = stripe[n] = hex_to_rgb("#ffffff")
        idx, at_mixed, samples = self._lookups(n)
        # the fills are whole RGB values: plain pixels are a uint8 lookup (np.take: several
        # times faster than fancy indexing); only the hatched and the anti-aliased (mixed)
        # pixels are blended in floats and rounded
        img = np.take(_to_u8(solid), idx, axis=0)
        hatched = np.array([h for _, h in fills] + [False], dtype=bool)
        if hatched.any():
            at = np.take(hatched, idx)
            share = self.stripe_share[at][:, None]
            img[at] = _to_u8(solid[idx[at]] * (1 - share) + stripe[idx[at]] * share)
        if not len(at_mixed[0]):
            return img
        both = np.concatenate([solid, stripe])  # sample k of a mixed pixel: solid or stripe
        img[at_mixed] = _to_u8(np.take(both, samples, axis=0).mean(axis=0))
        return img

    def _lookups(self, n: int):
        """Per pixel the fill row (n: white), and per mixed pixel's sample its row in
        [solid; stripe]; computed once per layout."""
        if getattr(self, "_lookup_cache", None) is None:
            idx = np.where(self.pure_index < 0, n, self.pure_index).astype(np.intp)
            m_idx = np.where(self.mixed_index < 0, n, self.mixed_index).astype(np.intp)
            samples = m_idx + (n + 1) * self.mixed_stripe.astype(np.intp)
            self._lookup_cache = (idx, self.mixed_at, samples)
        return self._lookup_cache


def _to_u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def compass_png(
    raster: RingRaster,
    nodes: Mapping[str, NodeView],
    quadrant_labels: Mapping[str, str],
    *,
    heading: tuple[str, str],
) -> bytes:
    """The standalone compass (heading, rings, numbers, quadrant names, legend) as PNG bytes."""
    fills = []
    for cell in raster.cells:
        node = nodes.get(cell.key)
        fill = node.fill if node is not None else None
        fills.append((fill.colour, fill.hatched) if fill else ("#f3f3f3", False))
    img = raster.render(fills)
    k = raster.scale

    def px(x: float, y: float) -> tuple[float, float]:
        return (x + CHART_HALF) * k, (y - TOP) * k

    # heading
    draw_text(img, *px(-290, TOP + 30), _ascii(heading[0]), 3, TEXT_DARK)
    draw_text(img, *px(-290, TOP + 54), _ascii(heading[1]), 2, "#444444")
    # the centre's index and class
    centre = next((c for c in raster.cells if c.level == "centre"), None)
    if centre is not None and centre.key in nodes:
        node = nodes[centre.key]
        colour = TEXT_DARK if node.fill.hatched else text_on(node.fill.colour)
        big = fmt.index(node.index) if not node.suppressed else "-"
        draw_text(img, *px(0, 6), big, 4, colour, "middle")
        draw_text(
            img,
            *px(0, 26),
            node.klass or ("niet getoond" if node.suppressed else ""),
            2,
            colour,
            "middle",
        )
    # quadrant indices
    for cell in raster.cells:
        node = nodes.get(cell.key)
        if (
            cell.level != "quadrant"
            or node is None
            or node.suppressed
            or fmt.is_missing(node.index)
        ):
            continue
        r_mid = (cell.r0 + cell.r1) / 2
        t = math.radians(cell.mid)
        colour = text_on(node.fill.colour)
        draw_text(
            img,
            *px(r_mid * math.sin(t), -r_mid * math.cos(t) + 6),
            f"{node.index:.0f}",
            2,
            colour,
            "middle",
        )
    # quadrant names in the corners
    for cell, sx, sy in quadrant_label_positions(raster.cells):
        lines = _wrap(_ascii(quadrant_labels.get(cell.code, cell.code)))
        anchor = "start" if sx < -0.2 else "end" if sx > 0.2 else "middle"
        x = -CHART_HALF + 8 if sx < -0.2 else CHART_HALF - 8 if sx > 0.2 else 0
        y0 = -CHART_HALF + 20 if sy < 0 else CHART_HALF - 10 - 17 * (len(lines) - 1)
        for i, line in enumerate(lines):
            draw_text(img, *px(x, y0 + 17 * i), line, 2, "#333333", anchor)
    # legend (the same layout as the standalone SVG's)
    headings, swatches = legend_layout(CHART_HALF + 12)
    for x, baseline, heading in headings:
        draw_text(img, *px(x, baseline), _ascii(heading), 2, "#555555")
    size = int(round(16 * k))
    for x, top, fill in swatches:
        x0, y0 = (int(round(v)) for v in px(x, top))
        box = img[y0 : y0 + size, x0 : x0 + size]
        box[:] = hex_to_rgb("#999999")
        inner = box[1:-1, 1:-1]
        if fill.hatched:
            yy, xx = np.mgrid[0 : inner.shape[0], 0 : inner.shape[1]]
            on = ((xx + yy) / k / np.sqrt(2)) % STRIPE_PERIOD < STRIPE_WIDTH
            inner[:] = hex_to_rgb(HATCH_BACKGROUND)
            inner[on] = hex_to_rgb(HATCH_STRIPE)
        else:
            inner[:] = hex_to_rgb(fill.colour)
        label = fill.label.replace("samenstelling: ", "")
        draw_text(img, *px(x + 21, top + 13), label, 2, "#222222")
    draw_text(img, *px(-290, CHART_HALF + 12 + 112), LEGEND_NOTE, 2, "#555555")
    return png_bytes(img)


def _ascii(text: str) -> str:
    """Letters with accents to their base letter (the bitmap font has no accents)."""
    return "".join(
        c if c in _GLYPHS else (unicodedata.normalize("NFKD", c)[:1] or "?") for c in text
    )
