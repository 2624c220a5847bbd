"""PNG of a compass: the standalone SVG itself, rendered by resvg (the `resvg-py` package).

There is one drawing: `svg.compass_svg(..., standalone=True)`. The PNG is that SVG rendered by a
maintained renderer with a real font, so the two formats cannot drift apart (issue 19, point 9;
before, a second hand-written rasteriser with a 5x7 bitmap font had to be kept in step by hand).

The font is DejaVu Sans from Debian's `fonts-dejavu-core` (installed by .ci/run and the
Dockerfile), loaded by file and no other font: the same SVG gives the same bytes on every machine
that has that package, whatever else is installed. `BASISMONITOR_FONT_DIR` names another folder
with DejaVuSans.ttf and DejaVuSans-Bold.ttf. Without the font the build stops with an error that
says what to install, rather than writing PNGs without text.
"""

from __future__ import annotations

import os
from pathlib import Path

import resvg_py

FONT_FAMILY = "DejaVu Sans"
FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
FONT_DIRS = (
    # shipped with the package (DejaVu's licence allows it: fonts/LICENSE-DejaVu.txt), so a fresh
    # clone draws the same PNGs without a system font
    str(Path(__file__).with_name("fonts")),
    "/usr/share/fonts/truetype/dejavu",  # Debian/Ubuntu fonts-dejavu-core
    "/usr/share/fonts/dejavu",  # Fedora, Alpine
    "/usr/share/fonts/TTF",  # Arch
)
PNG_WIDTH = 900  # pixels: 1.5 per SVG unit of the 600-unit-wide standalone chart
RENDERER = f"resvg (resvg-py), font {FONT_FAMILY} (Debian fonts-dejavu-core)"


class FontMissing(RuntimeError):
    pass


def font_files() -> list[str]:
    """The font files the PNGs are drawn with (DejaVu Sans regular and bold)."""
    configured = os.environ.get("BASISMONITOR_FONT_DIR")
    folders = [configured] if configured else list(FONT_DIRS)
    for folder in folders:
        paths = [Path(folder) / name for name in FONT_FILES]
        if all(p.is_file() for p in paths):
            return [str(p) for p in paths]
    raise FontMissing(
        f"the compass PNGs need the font {FONT_FAMILY} ({', '.join(FONT_FILES)}), looked for in "
        f"{', '.join(folders)}: install Debian's fonts-dejavu-core "
        "(apt-get install fonts-dejavu-core) or set BASISMONITOR_FONT_DIR to a folder with them"
    )


def svg_to_png(svg: str, *, width: int = PNG_WIDTH) -> bytes:
    """The SVG as PNG bytes, `width` pixels wide (the height keeps the SVG's aspect ratio)."""
    data = resvg_py.svg_to_bytes(
        svg_string=svg,
        width=width,
        background="#ffffff",
        skip_system_fonts=True,
        font_files=font_files(),
        font_family=FONT_FAMILY,
        sans_serif_family=FONT_FAMILY,
        serif_family=FONT_FAMILY,
        monospace_family=FONT_FAMILY,
        languages=["nl"],
    )
    return bytes(data)
