"""Great Expectations Data Docs that work offline: the CSS, scripts and icon fonts they load from
CDNs are shipped with basismonitor (gx_assets/, from the npm packages of the same versions, see
gx_assets/VERSIONS.txt and the licences there) and every page is pointed at the local copies.

GX 1.24's pages ask unpkg, jsdelivr, cdnjs, bootstrapcdn, code.jquery.com and an S3 bucket for
their assets (35 failed loads per page offline: the index shows an empty list, statuses have no
icons). Rewriting the pages after `build_data_docs` is the least code: GX has no setting for
local assets. A page that still asks the network for anything fails tests/validation.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).resolve().parent / "gx_assets"
VENDOR = "static/vendor"  # inside the Data Docs folder

# CDN address (a regex on the URL) -> the local file under VENDOR ('' drops the element)
LOCAL = [
    (r"https://unpkg\.com/bootstrap-table@[\d.]+/dist/extensions/filter-control/"
     r"bootstrap-table-filter-control\.min\.js", "js/bootstrap-table-filter-control.min.js"),
    (r"https://unpkg\.com/bootstrap-table@[\d.]+/dist/extensions/filter-control/"
     r"bootstrap-table-filter-control(\.min)?\.css", "css/bootstrap-table-filter-control.min.css"),
    (r"https://unpkg\.com/bootstrap-table@[\d.]+/dist/bootstrap-table\.min\.js",
     "js/bootstrap-table.min.js"),
    (r"https://unpkg\.com/bootstrap-table@[\d.]+/dist/bootstrap-table\.min\.css",
     "css/bootstrap-table.min.css"),
    (r"https://stackpath\.bootstrapcdn\.com/bootstrap/[\d.]+/js/bootstrap\.min\.js",
     "js/bootstrap.min.js"),
    (r"https://maxcdn\.bootstrapcdn\.com/bootstrap/[\d.]+/css/bootstrap\.min\.css",
     "css/bootstrap.min.css"),
    (r"https://code\.jquery\.com/jquery-[\d.]+\.min\.js", "js/jquery.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/popper\.js/[\d.]+/umd/popper\.min\.js",
     "js/popper.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/[\d.]+/js/"
     r"bootstrap-datepicker\.min\.js", "js/bootstrap-datepicker.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/[\d.]+/css/"
     r"bootstrap-datepicker\.min\.css", "css/bootstrap-datepicker.min.css"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/[\d.]+/css/all\.min\.css",
     "css/all.min.css"),
    (r"https://cdn\.jsdelivr\.net/npm/vega@5", "js/vega.min.js"),
    (r"https://cdn\.jsdelivr\.net/npm/vega-lite@5", "js/vega-lite.min.js"),
    (r"https://cdn\.jsdelivr\.net/npm/vega-embed@6", "js/vega-embed.min.js"),
]
# the dark-mode stylesheet (an optional 880 kB theme) and GX's newsletter form are left out;
# the logo comes from the Data Docs' own static/images
DROP = re.compile(
    r'<link[^>]+href="https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark[^"]*"[^>]*>'
)
LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*?/(logo-long|full_logo_dark)"
                  r"\.png(\?[^\"']*)?")
NEWSLETTER = re.compile(r'href="https://greatexpectations\.io/newsletter[^"]*"')
# subresource integrity and CORS attributes of the CDN tags: from file:// a crossorigin script is
# blocked (the files are the same versions, from the npm registry, not the CDN's bytes)
SRI = re.compile(r"""\s(?:integrity|crossorigin)=(?:"[^"]*"|'[^']*')""")
FAVICON = re.compile(r'href="(?:\./|(?:\.\./)*)static/images/favicon\.ico"')
REMOTE = re.compile(r"""(?:src|href)=["'](https?://[^"']+)["']""")


def make_offline(docs_dir: Path) -> list[str]:
    """Copy the assets into docs_dir/static/vendor and point every page at them; returns the
    remote addresses still referenced by src/href (links a reader may follow, e.g. GX's site)."""
    docs_dir = Path(docs_dir)
    vendor = docs_dir / VENDOR
    if vendor.exists():
        shutil.rmtree(vendor)
    shutil.copytree(ASSETS, vendor, ignore=shutil.ignore_patterns("*.txt"))
    compiled = [(re.compile(pattern), target) for pattern, target in LOCAL]
    left: set[str] = set()
    for page in docs_dir.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        up = os.path.relpath(docs_dir, page.parent).replace(os.sep, "/")
        prefix = "" if up == "." else up + "/"
        for pattern, target in compiled:
            html = pattern.sub(f"{prefix}{VENDOR}/{target}", html)
        html = DROP.sub("", html)
        html = SRI.sub("", html)
        # GX 1.24 writes the favicon's path one folder short on the validation pages
        html = FAVICON.sub(f'href="{prefix}static/images/favicon.ico"', html)
        html = LOGO.sub(f"{prefix}static/images/logo-long.png", html)
        html = NEWSLETTER.sub('href="#"', html)
        page.write_text(html, encoding="utf-8")
        left |= {u for u in REMOTE.findall(html)
                 if re.search(r"\.(js|css|png|svg|woff2?)(\?|$)", u)}
    return sorted(left)
