"""Fetch CBS OData (v3 ``value`` + ``odata.nextLink``, v4 ``@odata.nextLink``) into the inbox.

The base URL comes from the source's environment variable (location: env:VARIABLE); a period's
table id from ``tables:`` in sources.yml. All pages are saved as one JSON document
{"value": [...], "source_url": ...} at inbox/<source>/<period>/<table>.json, which load_file lands
like any other file (sha256, lineage, replace on change).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from ..config import SourceConfig, SourcesConfig, load_config
from ..errors import IngestionError

TIMEOUT = 60
MAX_PAGES = 10_000


def _get(url: str) -> dict:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise IngestionError(f"fetching {url} failed: HTTP {exc.code} {exc.reason}",
                             hint="check the table id in sources.yml and the base URL") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise IngestionError(f"fetching {url} failed: {exc}",
                             hint="check the network and the base URL variable") from exc
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise IngestionError(f"the response of {url} is not JSON: {exc}",
                             hint="is the URL an OData feed?") from exc
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise IngestionError(f"the response of {url} has no 'value' array: not an OData feed")
    return data


def fetch_odata(inbox: Path, source: str | SourceConfig, period: str, *,
                config: SourcesConfig | None = None, base_url: str | None = None) -> Path:
    """Download one period of an OData source into inbox/<source>/<period>/<table>.json."""
    src = source if isinstance(source, SourceConfig) else (config or load_config()).source(source)
    var = src.url_env
    base = base_url or (os.environ.get(var) if var else None)
    if not base:
        raise IngestionError(f"source {src.name}: the environment variable {var} is not set",
                             hint=f"set {var} to the OData base URL")
    tables = {str(k): str(v) for k, v in (src.options.get("tables") or {}).items()}
    table = tables.get(str(period))
    if not table:
        raise IngestionError(f"source {src.name} has no OData table for period {period}",
                             hint="add it under tables: in sources.yml")
    url = f"{base.rstrip('/')}/{table}/TypedDataSet"
    query = src.options.get("query")
    if query:
        url += "?" + urllib.parse.quote(str(query), safe="$=&',()")
    rows: list = []
    next_url: str | None = url
    pages = 0
    while next_url:
        pages += 1
        if pages > MAX_PAGES:
            raise IngestionError(f"fetching {url}: more than {MAX_PAGES} pages")
        data = _get(next_url)
        rows.extend(data["value"])
        link = data.get("odata.nextLink") or data.get("@odata.nextLink")
        next_url = urllib.parse.urljoin(next_url, link) if link else None
    target = Path(inbox) / src.name / str(period) / f"{table}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".json.part")
    tmp.write_text(json.dumps({"source_url": url, "value": rows}, ensure_ascii=False,
                              sort_keys=False), encoding="utf-8")
    tmp.replace(target)
    return target


def fetch_missing(inbox: Path, src: SourceConfig, *, refetch: bool = False) -> list[Path]:
    """Fetch the configured periods of an OData source that are not in the inbox yet (all of
    them with refetch). Does nothing when the source's URL variable is not set."""
    var = src.url_env
    if not var or not os.environ.get(var):
        return []
    fetched = []
    for period, table in (src.options.get("tables") or {}).items():
        target = Path(inbox) / src.name / str(period) / f"{table}.json"
        if target.exists() and not refetch:
            continue
        fetched.append(fetch_odata(inbox, src, str(period)))
    return fetched
