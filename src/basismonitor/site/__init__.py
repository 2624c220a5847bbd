"""The compass pages: a static site per published edition.

    build_site(edition_dir)  ->  edition_dir/site/  (index.html, area/<code>.html, downloads)

The site is built from the edition's exported Parquet files (what is published), never from the
warehouse, and opens from disk (file://) without a server: data is embedded in the pages, all
assets are local, and there is no fetch(). `basismonitor site` builds it for an edition that is
already published.
"""

from __future__ import annotations

from basismonitor.site.build import build_site
from basismonitor.site.cli import register, run

__all__ = ["build_site", "register", "run"]
