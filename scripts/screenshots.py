"""Screenshots of a published edition's site for the README: the overview and one area page at
desktop (1366x900) and phone (390x844) width, in headless Chromium (the test suite's DevTools
client, tests/site/conftest.py).

    .venv/bin/python scripts/screenshots.py exports/2024 [--area WK001400] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SIZES = {"desktop": (1366, 900, 4200), "phone": (390, 844, 5200)}  # width, height, max height


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("edition_dir", type=Path)
    parser.add_argument("--area", help="the area page (default: the first in the list)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "tests" / "site"))
    from conftest import Chromium, chromium_binary

    site = args.edition_dir.resolve() / "site"
    area = args.area or sorted((site / "area").glob("*.html"))[0].stem
    pages = {"overview": site / "index.html", "area": site / "area" / f"{area}.html"}
    binary = chromium_binary()
    if binary is None:
        raise SystemExit("no Chromium found (apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    browser = Chromium(binary, Path(tempfile.mkdtemp(prefix="bm-shots-")))
    try:
        for size, (width, height, cap) in SIZES.items():
            browser.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                         deviceScaleFactor=1, mobile=size == "phone")
            for name, page in pages.items():
                result = browser.open(page.as_uri())
                if result.console_errors:
                    raise SystemExit(f"{page}: {result.console_errors}")
                full = browser.evaluate("document.documentElement.scrollHeight")
                data = browser.call(
                    "Page.captureScreenshot", format="png", captureBeyondViewport=True,
                    clip={"x": 0, "y": 0, "width": width, "height": min(full, cap), "scale": 1},
                )["data"]
                path = args.out / f"{name}-{size}.png"
                path.write_bytes(base64.b64decode(data))
                print(f"{path} ({width} px wide, {min(full, cap)} of {full} px high)")
    finally:
        browser.close()


if __name__ == "__main__":
    main()
