"""Fast unit tests of the compass site: formatting, colours, projection, rings, raster, data."""

from __future__ import annotations

import io
import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest

from basismonitor.site import fmt, palette
from basismonitor.site.data import blank_suppressed, similar_areas
from basismonitor.site.geometry import (
    Projection,
    Radii,
    TreeNode,
    cell_at,
    compass_layout,
    hatch_stripes,
    map_shapes,
    polar,
    sector_path,
)
from basismonitor.site.raster import PNG_WIDTH, FontMissing, font_files, svg_to_png
from basismonitor.site.svg import NodeView, compass_svg, node_summary, sparkline_svg

# --- Dutch formatting -----------------------------------------------------------------------------


def test_numbers_use_decimal_comma_and_thousands_point():
    assert fmt.number(1234567.891, 1) == "1.234.567,9"
    assert fmt.number(-0.04, 1) == "0,0"
    assert fmt.number(None) == fmt.DASH
    assert fmt.number(float("nan")) == fmt.DASH
    assert fmt.number(2.5, 1, sign=True) == "+2,5"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.3597, "aandeel", "36,0%"),
        (49.44, "procent", "49,4%"),
        (235390, "aantal", "235.390"),
        (7.26, "rapportcijfer", "7,3"),
        (3.357, "schaal 1-5", "3,36"),
        (227.8, "x 1.000 euro", "€ 227.800"),
        (1.139, "euro per inwoner", "€ 1,14"),
        (12.34, "per 1.000 inwoners", "12,3"),
        (12.34, "onbekende eenheid", "12,3"),
    ],
)
def test_values_in_their_unit(value, unit, text):
    assert fmt.value(value, unit) == text


def test_changes_intervals_and_reasons():
    assert fmt.change(-0.128, "aandeel") == "-12,8 %-punt"
    assert fmt.change(0.0001, "rapportcijfer") == "0,0"
    assert fmt.change(-0.33, "euro per inwoner") == "-€ 0,33"
    assert fmt.interval(0.32, 0.40, "aandeel") == "32,0 – 40,0%"
    assert fmt.interval(None, 0.4, "aandeel") == fmt.DASH
    assert fmt.reason("n below 50") == "minder dan 50 respondenten"
    assert fmt.reason("count below 5") == "aantal kleiner dan 5"
    assert fmt.reason("source: hidden") == "geheimgehouden door de bron"
    assert fmt.reason("too few parts shown (1 of 5)") == "te weinig onderdelen getoond (1 van 5)"
    assert fmt.reason("derived from suppressed: n below 50") == (
        "afgeleid van een verborgen cijfer (minder dan 50 respondenten)"
    )
    assert fmt.reason("no value in base period 2016") == "geen waarde in basisjaar 2016"
    assert fmt.reason("no city value") == "waarde van de stad onbekend"
    assert fmt.reason("iets nieuws") == "iets nieuws"
    assert fmt.reason(None) == ""


# --- colours --------------------------------------------------------------------------------------

# Machado et al. (2009) simulation matrices (severity 1), linear RGB
CVD = {
    "protanopie": [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ],
    "deuteranopie": [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ],
    "tritanopie": [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ],
    "normaal": np.eye(3).tolist(),
}


def _lab(colour: str, matrix) -> np.ndarray:
    c = np.array(palette.hex_to_rgb(colour), dtype=float) / 255
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    linear = np.clip(np.array(matrix) @ linear, 0, 1)
    xyz = (
        np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
        @ linear
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", sorted(CVD))
def test_judged_classes_stay_distinct_for_colour_blind_readers(vision):
    labs = [_lab(palette.JUDGED[k], CVD[vision]) for k in palette.JUDGED_CLASSES]
    closest = min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(labs, 2))
    assert closest >= 20, f"two classes are hard to tell apart under {vision} (dE {closest:.1f})"
    # diverging: lightest in the middle, darkest at both ends
    lightness = [lab[0] for lab in labs]
    assert lightness[2] == max(lightness)
    assert lightness[0] < lightness[1] and lightness[4] < lightness[3]


def test_composition_is_a_sequential_scale_and_never_judged():
    lightness = [
        _lab(palette.COMPOSITION[k], CVD["normaal"])[0] for k in palette.COMPOSITION_CLASSES
    ]
    assert lightness == sorted(lightness, reverse=True)  # minder light -> meer dark
    for klass in ("veel beter", "slechter", "meer", "minder", "gemiddeld"):
        fill = palette.node_fill(judged=False, klass=klass, suppressed=False)
        assert fill.kind == "composition"
        assert fill.colour in palette.COMPOSITION.values()
        assert fill.colour not in palette.JUDGED.values()


def test_class_colour_mapping_and_suppression():
    for klass, colour in palette.JUDGED.items():
        fill = palette.node_fill(judged=True, klass=klass, suppressed=False)
        assert (fill.kind, fill.colour, fill.hatched) == ("judged", colour, False)
    suppressed = palette.node_fill(judged=True, klass="veel beter", suppressed=True)
    assert suppressed.hatched and suppressed.kind == "suppressed" and suppressed.css == "k-hatch"
    assert palette.node_fill(judged=False, klass="meer", suppressed=True).hatched
    assert palette.node_fill(judged=True, klass=None, suppressed=False).kind == "none"
    assert palette.node_fill(judged=True, klass=float("nan"), suppressed=False).kind == "none"


def test_text_on_every_fill_is_readable():
    fills = [*palette.JUDGED.values(), *palette.COMPOSITION.values(), palette.NO_DATA]
    for colour in fills:
        assert palette.contrast(colour, palette.text_on(colour)) >= 4.5, colour


def test_css_rules_cover_every_swatch():
    rules = palette.css_rules()
    for group, fill in palette.legend_entries():
        assert f".{fill.css}{{" in rules, (group, fill)


# --- geometry: WKT and projection -----------------------------------------------------------------


def _subpaths(path: str) -> list[list[tuple[float, float]]]:
    """The vertices of each sub-path of ST_AsSVG's absolute path data ('M x y L x y ... Z')."""
    rings = []
    for part in re.findall(r"M([^MZ]*)Z", path):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", part)]
        rings.append(list(zip(numbers[::2], numbers[1::2], strict=True)))
    return rings


def test_wkt_polygons_multipolygons_and_holes_are_drawn():
    drawn = map_shapes(
        {
            "hole": "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 4, 2 2))",
            "multi": "MULTIPOLYGON (((20 0, 21 0, 21 1, 20 0)), ((25 5, 26 5, 26 6, 25 5)))",
            "z": "POLYGON Z ((0 20 1, 10 20 1, 10 30 1, 0 20 1))",
            "none": None,
            "empty": "",
            "point": "POINT (1 2)",
            "empty polygon": "POLYGON EMPTY",
            "broken": "POLYGON ((0 0, 1 0",
        },
        300,
        pad=0,
    )
    assert sorted(drawn.shapes) == ["hole", "multi", "z"]  # what does not draw is left out
    assert drawn.projection.minx == 0 and drawn.projection.maxx == 26  # the box of what draws
    hole = _subpaths(drawn.shapes["hole"].path)
    assert len(hole) == 2  # exterior and hole, drawn with fill-rule evenodd
    assert {p for ring in hole for p in ring} == {
        tuple(round(v, 1) for v in drawn.projection(x, y))
        for x, y in [(0, 0), (10, 0), (10, 10), (0, 10), (2, 2), (4, 2), (4, 4), (2, 4)]
    }
    assert len(_subpaths(drawn.shapes["multi"].path)) == 2
    assert map_shapes({"a": None, "b": "POINT (1 2)"}, 300) is None


def test_drawing_uses_the_projection():
    """ST_Affine with Projection.affine is the projection itself (north up, RD New metres)."""
    box = (226772.0, 576584.0, 239227.0, 587415.0)
    x0, y0, x1, y1 = box
    square = f"POLYGON (({x0} {y0}, {x1} {y0}, {x1} {y1}, {x0} {y1}, {x0} {y0}))"
    drawn = map_shapes({"a": square}, 640)
    assert drawn.projection == Projection.fit(box, 640)
    corners = {p for ring in _subpaths(drawn.shapes["a"].path) for p in ring}
    expected = {tuple(round(v, 1) for v in drawn.projection(x, y))
                for x, y in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]}
    assert corners == expected
    assert drawn.shapes["a"].width == pytest.approx(620, abs=0.1)
    assert drawn.shapes["a"].height == pytest.approx(drawn.projection.height - 20, abs=0.1)


def test_projection_puts_north_up_and_fits_the_width():
    box = (226772.0, 576584.0, 239227.0, 587415.0)  # RD New metres
    project = Projection.fit(box, 640, pad=10)
    x0, y0 = project(box[0], box[3])  # north-west corner
    x1, y1 = project(box[2], box[1])  # south-east corner
    assert (x0, y0) == pytest.approx((10, 10))
    assert x1 == pytest.approx(630)
    assert y1 > y0  # SVG y grows downwards: south is below north
    assert project.height == pytest.approx((box[3] - box[1]) * project.scale + 20)
    # same scale on both axes (RD New is metric): a square stays a square
    a, b = project(230000, 580000), project(231000, 581000)
    assert abs(b[0] - a[0]) == pytest.approx(abs(b[1] - a[1]))


def test_geographic_coordinates_are_scaled_by_latitude():
    project = Projection.fit((6.5, 53.0, 6.7, 53.3), 400, crs="EPSG:4326")
    assert project.x_factor == pytest.approx(math.cos(math.radians(53.15)))


def test_paths_are_simplified_to_the_pixel():
    wiggly = [(x / 10, 0.001 * (x % 2)) for x in range(0, 101)] + [(10, 10), (0, 10), (0, 0)]
    wkt = "POLYGON ((" + ", ".join(f"{x} {y}" for x, y in wiggly) + "))"
    drawn = map_shapes({"a": wkt}, 100, pad=0)
    path = drawn.shapes["a"].path
    assert path.startswith("M") and path.endswith("Z")
    assert sum(len(ring) for ring in _subpaths(path)) < 8  # 104 vertices in, a square out
    exact = map_shapes({"a": wkt}, 100, pad=0, tolerance=0)
    assert sum(len(ring) for ring in _subpaths(exact.shapes["a"].path)) > 50


def test_a_label_lies_inside_a_concave_area():
    """A U: its centroid (2.5, 2.04) lies in the notch, outside the area; the label does not."""
    u_shape = "POLYGON ((0 0, 5 0, 5 5, 4 5, 4 1, 1 1, 1 5, 0 5, 0 0))"
    drawn = map_shapes({"u": u_shape}, 100, pad=0)
    x, y = drawn.shapes["u"].label
    project = drawn.projection
    # back to the area's own coordinates
    ux, uy = x / project.scale + project.minx, project.maxy - y / project.scale
    inside_bottom = 0 < uy < 1 and 0 < ux < 5
    inside_legs = 0 < ux < 1 or 4 < ux < 5
    assert inside_bottom or (inside_legs and 0 < uy < 5), (ux, uy)


# --- geometry: the rings --------------------------------------------------------------------------


def _tree(quadrants: dict[str, dict[str, list[str]]]) -> list[TreeNode]:
    nodes = [TreeNode("centre", "centrum", None, None)]
    for qi, (q, themes) in enumerate(quadrants.items()):
        nodes.append(TreeNode("quadrant", q, "centrum", q, (qi,)))
        for theme, indicators in themes.items():
            nodes.append(TreeNode("theme", theme, q, q, (theme,)))
            nodes += [TreeNode("indicator", i, theme, q, (i,)) for i in indicators]
    return nodes


TREE = _tree(
    {
        "samenstelling": {"bevolking": ["a1", "a2", "a3"]},
        "fysiek": {"wonen": ["b1"], "groen": ["b2", "b3", "b4"]},
        "leefbaarheid": {"veiligheid": ["c1", "c2"]},
        "sociaal": {"samenhang": ["d1"], "welzijn": ["d2"]},
    }
)


def test_rings_from_outside_in_and_four_equal_quadrants():
    radii = Radii()
    cells = compass_layout(TREE, radii)
    by_key = {c.key: c for c in cells}
    assert [c.level for c in cells][:3] == ["centre", "quadrant", "theme"]
    levels = {c.level: (c.r0, c.r1) for c in cells}
    assert (
        levels["indicator"][0] == levels["theme"][1] > levels["theme"][0] == levels["quadrant"][1]
    )
    assert levels["quadrant"][0] == levels["centre"][1] and levels["centre"][0] == 0
    quadrants = [c for c in cells if c.level == "quadrant"]
    assert [q.code for q in quadrants] == ["samenstelling", "fysiek", "leefbaarheid", "sociaal"]
    assert all(q.a1 - q.a0 == pytest.approx(90) for q in quadrants)
    assert quadrants[0].a0 == pytest.approx(-90)  # composition in the top-left corner
    # within a quadrant every indicator has the same angle; a theme spans its indicators
    fysiek = [c for c in cells if c.level == "indicator" and c.quadrant == "fysiek"]
    assert all(c.a1 - c.a0 == pytest.approx(22.5) for c in fysiek)
    groen = by_key["theme-groen"]
    assert groen.a1 - groen.a0 == pytest.approx(67.5)
    for cell in cells:
        if cell.level in ("theme", "indicator"):
            parent = by_key[f"{'quadrant' if cell.level == 'theme' else 'theme'}-{cell.parent}"]
            assert parent.a0 - 1e-9 <= cell.a0 < cell.a1 <= parent.a1 + 1e-9
    # the indicators tile the circle without gaps or overlaps
    ring = sorted((c.a0, c.a1) for c in cells if c.level == "indicator")
    assert ring[0][0] == pytest.approx(-90) and ring[-1][1] == pytest.approx(270)
    assert all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(ring))


def test_layout_is_deterministic_whatever_the_input_order():
    assert compass_layout(list(reversed(TREE))) == compass_layout(TREE)


def test_hit_testing_and_sector_paths():
    cells = compass_layout(TREE)
    assert cell_at(cells, 0, 0).level == "centre"
    x, y = polar(200, -45)  # top-left, in the indicator ring
    hit = cell_at(cells, x, y)
    assert hit.level == "indicator" and hit.quadrant == "samenstelling"
    x, y = polar(80, 135)
    assert cell_at(cells, x, y).code == "leefbaarheid"
    assert cell_at(cells, 300, 0) is None
    path = sector_path(100, 200, 0, 90)
    assert path.startswith("M0 -200A200 200 0 0 1 200 0L100 0A100 100 0 0 0 0 -100Z")
    assert sector_path(0, 50, 0, 360).count("A") == 2  # a disc: two half arcs
    assert " 0 1 1 " in sector_path(10, 20, 0, 270)  # large-arc flag beyond 180 degrees


# --- the charts -----------------------------------------------------------------------------------


def _views(cells, *, suppressed=()):
    views = {}
    for i, cell in enumerate(cells):
        judged = cell.quadrant != "samenstelling"
        klass = palette.JUDGED_CLASSES[i % 5] if judged else palette.COMPOSITION_CLASSES[i % 3]
        hidden = cell.code in suppressed
        summary = node_summary(
            cell.code,
            judged=judged,
            klass=klass,
            index=100.0 + i,
            suppressed=hidden,
            reason="minder dan 50 respondenten",
        )
        views[cell.key] = NodeView(
            cell.key,
            cell.code,
            judged,
            klass,
            100.0 + i,
            hidden,
            "minder dan 50 respondenten" if hidden else "",
            summary,
        )
    return views


def test_compass_svg_has_text_alternatives_and_hatches_suppressed_cells():
    import xml.etree.ElementTree as ET

    cells = compass_layout(TREE)
    views = _views(cells, suppressed={"b2"})
    labels = {
        "samenstelling": "Samenstelling",
        "fysiek": "Fysieke omgeving",
        "leefbaarheid": "Leefbaarheid en veiligheid",
        "sociaal": "Sociale omgeving",
    }
    svg = compass_svg(
        cells,
        views,
        labels,
        prefix="status",
        title="Statuskompas X",
        desc="Beschrijving",
        standalone=True,
        heading=("Statuskompas", "X"),
    )
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "Statuskompas X"
    assert root.find(f"{ns}desc").text == "Beschrijving"
    paths = [p for p in root.iter(f"{ns}path") if p.find(f"{ns}title") is not None]
    assert len(paths) == len(cells)
    hatched = [p for p in paths if p.get("fill") == "url(#status-hatch)"]
    assert len(hatched) == 1 and "niet getoond" in hatched[0].find(f"{ns}title").text
    inline = compass_svg(cells, views, labels, prefix="s", title="T", desc="D")
    # one tab stop per compass (its centre); the other cells are reached with the arrow keys
    assert inline.count('class="cell"') == len(cells) and inline.count('tabindex="0"') == 1
    assert inline.count('tabindex="-1"') == len(cells) - 1
    assert re.search(r'tabindex="0"[^>]*aria-label="[^"]*"', inline)
    assert inline.count('data-ring="0"') == 1 and inline.count('data-ring="3"') == sum(
        c.level == "indicator" for c in cells
    )
    assert 'data-row="s-indicator-b2"' in inline and "xmlns" not in inline


def test_sparkline_breaks_at_suppressed_periods():
    axis = [2016, 2017, 2018, 2019, 2020]
    spark = sparkline_svg(
        axis,
        {2016: 1.0, 2017: 2.0, 2018: None, 2019: 2.5, 2020: 3.0},
        {2016: 2.0, 2018: 2.0, 2020: 2.0},
        label="Trend",
    )
    area_path = spark.split('class="a" d="')[1].split('"')[0]
    assert area_path.count("M") == 2  # two segments around the suppressed 2018
    city_path = spark.split('class="c" d="')[1].split('"')[0]
    assert city_path.count("M") == 1  # no survey in odd years: the line goes on
    assert sparkline_svg(axis, {}, {}, label="x") == ""
    assert 'aria-label="Trend"' in spark


# --- the PNG: the standalone SVG rendered by resvg ----------------------------------------------


def _decode_png(data: bytes) -> np.ndarray:
    """A PNG as an array of RGB pixels (Pillow decodes; it checks the chunks' CRCs)."""
    from PIL import Image

    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return np.asarray(image.convert("RGB"))


def _standalone(cells, views, heading=("Statuskompas Één", "WK000100 · editie 2024")):
    return compass_svg(
        cells,
        views,
        {"samenstelling": "Samenstelling"},
        prefix="status",
        title="Statuskompas",
        desc="test",
        standalone=True,
        heading=heading,
    )


def test_png_is_the_standalone_svg_drawn_by_resvg_with_a_real_font():
    try:
        font_files()
    except FontMissing as e:
        pytest.skip(str(e))
    cells = compass_layout(TREE)
    views = _views(cells, suppressed={"a1"})
    svg = _standalone(cells, views)
    png = svg_to_png(svg)
    assert png == svg_to_png(svg)  # deterministic
    image = _decode_png(png)
    assert image.shape[1] == PNG_WIDTH
    viewbox = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    assert image.shape[0] == round(PNG_WIDTH * viewbox[3] / viewbox[2])
    k = PNG_WIDTH / viewbox[2]

    def pixel(x: float, y: float) -> tuple:
        return tuple(int(v) for v in image[int((y - viewbox[1]) * k), int((x - viewbox[0]) * k)])

    centre = next(c for c in cells if c.level == "centre")
    assert pixel(-299, -299) == (255, 255, 255)  # background
    colour = palette.hex_to_rgb(views[centre.key].fill.colour)
    assert pixel(-35, 0) == colour  # the centre disc, off its number
    b2 = next(c for c in cells if c.code == "a1")
    region = {
        pixel(*polar(r, a))
        for r in range(235, 290, 3)
        for a in np.linspace(b2.a0 + 2, b2.a1 - 2, 9)
    }
    assert palette.hex_to_rgb(palette.HATCH_STRIPE) in region  # suppressed: hatched
    # the heading is drawn in the font: dark pixels in its line, none without a heading
    top = int((viewbox[1] + 10 - viewbox[1]) * k), int((viewbox[1] + 36 - viewbox[1]) * k)
    heading_band = image[top[0] : top[1], : PNG_WIDTH // 2]
    assert (heading_band.max(axis=2) < 80).sum() > 300
    blank = _decode_png(svg_to_png(_standalone(cells, views, heading=("", ""))))
    assert (blank[top[0] : top[1], : PNG_WIDTH // 2].max(axis=2) < 80).sum() == 0
    # a change in the SVG shows in the PNG: the two cannot drift
    other = _views(cells, suppressed={"a1", "b2"})
    assert svg_to_png(_standalone(cells, other)) != png


def test_hatch_as_shapes_draws_the_hatch_pattern_s_picture():
    """The PNG is drawn from the chart with its hatch as shapes (geometry.hatch_stripes), which
    resvg draws faster than the pattern: the two pictures must be the same, stripes lined up
    across cells, the cells' white outlines kept, every hatched cell striped."""
    try:
        font_files()
    except FontMissing as e:
        pytest.skip(str(e))
    cells = compass_layout(TREE)
    every = {c.code for c in cells}
    views = _views(cells, suppressed=every - {"b1", "bevolking"})  # nearly all hatched
    stripes = hatch_stripes(cells)
    assert set(stripes) == {c.key for c in cells}
    svg = _standalone(cells, views)
    shapes = compass_svg(
        cells, views, {"samenstelling": "Samenstelling"}, prefix="status", title="Statuskompas",
        desc="test", standalone=True, heading=("Statuskompas Één", "WK000100 · editie 2024"),
        stripes=stripes,
    )
    assert svg.count("url(#status-hatch)") > 20
    assert shapes.count("url(#status-hatch)") == 1  # the legend's swatch keeps the pattern
    a = _decode_png(svg_to_png(svg)).astype(int)
    b = _decode_png(svg_to_png(shapes)).astype(int)
    diff = np.abs(a - b).max(axis=2)
    # anti-aliasing differs along the stripes' edges (resvg samples the pattern's tile); a
    # stripe out of phase, turned the other way or missing in a cell differs by ~20 on average
    assert diff.mean() < 3.0, diff.mean()
    assert (diff > 96).mean() < 0.002, (diff > 96).mean()


def test_png_without_the_font_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("BASISMONITOR_FONT_DIR", str(tmp_path))
    with pytest.raises(FontMissing, match="fonts-dejavu-core"):
        svg_to_png('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')


# --- data: suppression and similar areas ----------------------------------------------------------


def test_suppressed_rows_lose_every_measure():
    df = pd.DataFrame(
        {
            "suppressed": [True, False],
            "value": [0.42, 0.5],
            "index_value": [151.3, 99.0],
            "class": ["beter", "gemiddeld"],
            "significant": [True, False],
            "suppression_reason": ["n below 50", None],
            "city_value": [0.3, 0.3],
        }
    )
    out = blank_suppressed(df, ("value", "index_value", "class", "significant"))
    assert out.loc[0, ["value", "index_value", "class", "significant"]].isna().all()
    assert out.loc[0, "suppression_reason"] == "n below 50" and out.loc[0, "city_value"] == 0.3
    assert out.loc[1, "value"] == 0.5 and df.loc[0, "value"] == 0.42  # input untouched


def test_similar_areas_nearest_in_composition():
    rows = []
    profiles = {"A": [100, 100], "B": [101, 99], "C": [130, 70], "D": [100, 100], "E": [None, 100]}
    for area, (i1, i2) in profiles.items():
        for code, idx in (("c1", i1), ("c2", i2)):
            rows.append(
                dict(
                    area_code=area,
                    node_level="indicator",
                    node_code=code,
                    quadrant_code="samenstelling",
                    is_judged=False,
                    index_value=idx,
                )
            )
        rows.append(
            dict(
                area_code=area,
                node_level="indicator",
                node_code="j1",
                quadrant_code="fysiek",
                is_judged=True,
                index_value=50.0,
            )
        )
    rows.append(
        dict(
            area_code="A",
            node_level="quadrant",
            node_code="samenstelling",
            quadrant_code="samenstelling",
            is_judged=False,
            index_value=100.0,
        )
    )
    similar, used = similar_areas(pd.DataFrame(rows), k=2)
    assert used == ["c1", "c2"]  # only the composition indicators
    assert similar["A"] == [("D", 0.0), ("E", 0.0)]  # ties broken by code; E by its shown part
    assert [b for b, _ in similar["B"]] == ["A", "D"]
    assert all(a not in [b for b, _ in similar[a]] for a in similar)
