"""The OData v4 service: a Starlette (ASGI) application served by uvicorn.

    /odata/                      service document of the newest edition (exports/latest)
    /odata/$metadata             its CSDL XML ($format=json: CSDL JSON)
    /odata/<set>                 the rows of a mart, JSON (odata.metadata=minimal) or CSV
    /odata/<set>/$count          the number of rows (after $filter) as text
    /odata/<set>(<key>)          one row by its key
    /odata/<edition>/...         the same for a published edition (a year, or `latest`)

What of OData v4 is and is not supported: docs/ODATA.md.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import os
import re
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import duckdb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from basismonitor.serve import csdl
from basismonitor.serve.catalogue import Catalogue, Edition
from basismonitor.serve.model import Column, Table
from basismonitor.serve.query import (
    MAX_PAGE_SIZE,
    MAX_SKIP,
    MAX_TOP,
    PAGE_SIZE,
    Compiler,
    ODataError,
    bad,
    column_kind,
    compile_orderby,
    decode_token,
    encode_token,
    parse_expand,
    parse_expression,
    parse_int,
    parse_select,
    q,
)

log = logging.getLogger("basismonitor.serve")

ODATA_VERSION = "4.0"
JSON_TYPE = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
MAX_URL_LENGTH = 8192
QUERY_TIMEOUT = 30.0
SUPPORTED = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand", "$format",
             "$skiptoken"}
NOT_SUPPORTED = {"$search", "$apply", "$compute", "$levels", "$index", "$schemaversion", "$id",
                 "$deltatoken"}
EDITION = re.compile(r"^(\d{4}|latest)$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
ENTITY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,127})\((.*)\)$", re.DOTALL)


@dataclass
class Limits:
    page_size: int = PAGE_SIZE
    max_page_size: int = MAX_PAGE_SIZE
    query_timeout: float = QUERY_TIMEOUT


# --- rendering ----------------------------------------------------------------------------------

def json_value(expr: str, column: Column, nonfinite: bool = True) -> str:
    """The SQL giving a column's JSON value (OData JSON: INF/-INF/NaN as strings, timestamps
    ISO 8601 with an offset). `nonfinite`: the column holds INF or NaN somewhere (checked when
    the edition is attached); where it does not, the guard is left out (it doubles the cost)."""
    if column.as_text:
        return f"cast({expr} as varchar)"
    if column.edm_type in ("Edm.Double", "Edm.Single") and not column.collection and nonfinite:
        return (f"case when isnan({expr}) then '\"NaN\"'::json when isinf({expr}) then "
                f"(case when {expr} > 0 then '\"INF\"' else '\"-INF\"' end)::json "
                f"else to_json({expr}) end")
    if column.edm_type == "Edm.DateTimeOffset" and not column.collection:
        zone = "'%Y-%m-%dT%H:%M:%S.%f%z'" if "ZONE" in column.duckdb_type else \
            "'%Y-%m-%dT%H:%M:%S.%fZ'"
        return f"strftime({expr}, {zone})"
    return expr


def json_object(alias: str, table: Table, names: list[str]) -> str:
    """One JSON object per row, built by DuckDB (to_json of a struct: the fastest of the ways
    measured, see BENCHMARKS.md)."""
    def name(n: str) -> str:
        return "'" + n.replace("'", "''") + "'"
    fields = ", ".join(f"{name(n)}: {json_value(f'{alias}.{q(n)}', table.columns[n], n in table.nonfinite)}"
                       for n in names)
    return f"to_json({{{fields}}})"


def odata_response(body: str | bytes, status: int = 200, media: str = JSON_TYPE,
                   headers: dict | None = None) -> Response:
    return Response(body, status_code=status, media_type=media,
                    headers={"OData-Version": ODATA_VERSION, **(headers or {})})


def error_response(error: ODataError) -> Response:
    headers = {"Allow": "GET, HEAD"} if error.status == 405 else None
    return odata_response(json.dumps(error.body()), error.status, "application/json;charset=utf-8",
                          headers)


# --- request handling ---------------------------------------------------------------------------

class Service:
    def __init__(self, catalogue: Catalogue, limits: Limits):
        self.catalogue = catalogue
        self.limits = limits
        self._cursor_lock = threading.Lock()
        self.executed = 0          # queries run (the security tests read it)

    def cursor(self):
        with self._cursor_lock:
            return self.catalogue.cursor()

    def run(self, sql: str, params: list, fetch: str = "all"):
        """Execute with the query time limit; DuckDB errors become OData errors."""
        cursor = self.cursor()
        timer = threading.Timer(self.limits.query_timeout, cursor.interrupt)
        timer.start()
        try:
            self.executed += 1
            cursor.execute(sql, params)
            return cursor.fetchall() if fetch == "all" else cursor.fetchone()
        except duckdb.InterruptException:
            raise ODataError(503, f"the query took longer than {self.limits.query_timeout:g} s "
                             "and was stopped; narrow it with $filter or $top") from None
        except (duckdb.ConversionException, duckdb.OutOfRangeException,
                duckdb.InvalidInputException, duckdb.BinderException) as error:
            raise bad(f"the query cannot be evaluated on these data: "
                      f"{str(error).splitlines()[0]}") from None
        finally:
            timer.cancel()
            with contextlib.suppress(Exception):
                cursor.close()

    # -- the routes --

    def service_document(self, request: Request, edition: Edition, root: str) -> Response:
        body = {"@odata.context": root + "$metadata",
                "value": [{"name": t, "kind": "EntitySet", "url": t} for t in edition.tables]}
        return odata_response(json.dumps(body))

    def metadata(self, request: Request, edition: Edition) -> Response:
        fmt = (request.query_params.get("$format") or "").lower()
        accept = request.headers.get("accept", "")
        if fmt in ("json", "application/json") or (not fmt and "json" in accept
                                                     and "xml" not in accept):
            return odata_response(json.dumps(csdl.metadata_json(edition.tables, edition.name)),
                                  media="application/json;charset=utf-8")
        if fmt not in ("", "xml", "application/xml"):
            raise ODataError(406, f"$metadata is served as xml or json, not {fmt[:40]!r}",
                             target="$format")
        return odata_response(csdl.metadata_xml(edition.tables, edition.name),
                              media="application/xml;charset=utf-8")

    def collection(self, request: Request, edition: Edition, table: Table, root: str,
                   count_only: bool = False) -> Response:
        params = request.query_params
        compiler = Compiler(table, edition.tables, edition.relation)
        where, where_params = "true", []
        if params.get("$filter") is not None:
            condition = compiler.boolean(parse_expression(params["$filter"], "$filter"),
                                         "$filter")
            where, where_params = condition.text, condition.params
        relation = edition.relation(table.name)
        if count_only:
            (n,) = self.run(f"select count(*) from {relation} t where {where}", where_params,
                            "one")
            return odata_response(str(n), media="text/plain;charset=utf-8")

        fmt = response_format(request)
        names = parse_select(params["$select"], table) if params.get("$select") else \
            list(table.columns)
        expands = parse_expand(params["$expand"], table, edition.tables) \
            if params.get("$expand") else []
        top = parse_int(params.get("$top"), "$top", MAX_TOP)
        skip = parse_int(params.get("$skip"), "$skip", MAX_SKIP) or 0
        count = (params.get("$count") or "false").lower()
        if count not in ("true", "false"):
            raise bad(f"$count is true or false, got {count[:20]!r}", "$count")
        orderby = compile_orderby(params["$orderby"], compiler) if params.get("$orderby") \
            else []

        # The order. Without $orderby: the order the edition stores the rows in (the publisher's
        # grain), continued by row id ($skiptoken), so every page costs what the first does.
        # With $orderby: that, then the key (a total order), continued by $skip.
        key = paging_key(table)
        token = params.get("$skiptoken")
        stored = not orderby and "rowid" not in table.columns
        if token is not None and (not stored or skip):
            raise bad("$skiptoken continues a read in stored order, without $orderby or $skip",
                      "$skiptoken")
        # OData: null sorts before every value ascending, after every value descending
        order_sql = [f"{s.text} desc nulls last" if desc else f"{s.text} asc nulls first"
                     for s, desc in orderby]
        order_params = [p for s, _ in orderby for p in s.params]
        if not stored:
            order_sql += [f"t.{q(k)} asc" for k in key]
            if not table.keyset:  # no trusted key: every column, so pages never overlap
                order_sql += [f"t.{q(c)} asc" for c, col in table.columns.items()
                              if c not in key and not col.collection]
        page_where, page_params = "", []
        if token is not None:
            generation, rowid, after = decode_token(
                token, [column_kind(table.columns[k]) for k in key])
            if generation == edition.alias:
                page_where, page_params = " and t.rowid > ?", [rowid]
            elif table.keyset and table.sorted:
                # the edition was republished since the previous page: go on after its last key
                page_where, page_params = after_key(table, key, after)
                order_sql = [f"t.{q(k)} asc" for k in key]
            else:
                raise ODataError(409, f"edition {edition.name} was republished during this "
                                 "read; start it again", code="Conflict", target="$skiptoken")

        if fmt == "csv":
            return self.csv(table, names, relation, where, where_params, page_where, page_params,
                            order_sql, order_params, top, skip)

        page = self.page_size(request)
        limit = page if top is None else min(page, top)
        columns = [json_object("t", table, names)]
        for expand in expands:
            nav = table.navigation[expand.navigation]
            target = edition.tables[nav.target]
            on = " and ".join(f"n.{q(there)} = t.{q(here)}" for here, there in nav.pairs)
            chosen = expand.select or list(target.columns)
            columns.append(f"(select first({json_object('n', target, chosen)}) "
                           f"from {edition.relation(nav.target)} n where {on})")
        columns += ["t.rowid"] if stored else []
        columns += [f"t.{q(k)}" for k in key]
        order = f" order by {', '.join(order_sql)}" if order_sql else ""
        sql = (f"select {', '.join(columns)} from {relation} t where ({where}){page_where}"
               f"{order} limit ? offset ?")
        rows = self.run(sql, where_params + page_params + order_params + [limit + 1, skip])
        more = len(rows) > limit and (top is None or top > limit)
        rows = rows[:limit]

        items = []
        n_expand = len(expands)
        for row in rows:
            item = row[0]
            if n_expand:
                extra = ",".join(f'"{e.navigation}":{row[1 + i] or "null"}'
                                 for i, e in enumerate(expands))
                item = item[:-1] + ("," if len(item) > 2 else "") + extra + "}"
            items.append(item)
        head = {}
        if fmt != "none":
            head["@odata.context"] = root + "$metadata#" + context_fragment(
                table, names if params.get("$select") else None, expands)
        if count == "true":
            (n,) = self.run(f"select count(*) from {relation} t where {where}", where_params,
                            "one")
            head["@odata.count"] = n
        parts = [json.dumps(head)[:-1]] if head else ["{"]
        body = ("".join(parts) + ("," if head else "") + '"value":[' + ",".join(items) + "]")
        headers = {}
        if more:
            keep = [(k, v) for k, v in params.multi_items()
                    if k not in ("$skip", "$skiptoken", "$top")]
            if top is not None:
                keep.append(("$top", str(top - limit)))
            if stored and not skip:
                last = rows[-1]
                keep.append(("$skiptoken", encode_token(
                    edition.alias, last[-len(key) - 1], list(last[-len(key):]))))
            else:
                keep.append(("$skip", str(skip + limit)))
            link = f"{root}{quote(table.name)}?{urlencode(keep, quote_via=quote, safe='$,()/')}"
            body += f',"@odata.nextLink":{json.dumps(link)}'
        if page != self.limits.page_size or "odata.maxpagesize" in request.headers.get(
                "prefer", ""):
            headers["Preference-Applied"] = f"odata.maxpagesize={page}"
        return odata_response(body + "}", headers=headers,
                              media=JSON_TYPE if fmt != "none" else
                              JSON_TYPE.replace("minimal", "none"))

    def entity(self, request: Request, edition: Edition, table: Table, predicate: str,
               root: str) -> Response:
        values = parse_key(predicate, table)
        compiler = Compiler(table, edition.tables, edition.relation)
        names = parse_select(request.query_params["$select"], table) \
            if request.query_params.get("$select") else list(table.columns)
        conditions, params = [], []
        for name, node in values.items():
            literal = compiler.literal(node, "key")
            compiler.compatible(compiler.column(name, "key"), literal, "eq", "key")
            conditions.append(f"t.{q(name)} = {literal.text}")
            params += literal.params
        row = self.run(f"select {json_object('t', table, names)} from "
                       f"{edition.relation(table.name)} t where {' and '.join(conditions)} "
                       "limit 1", params, "one")
        if row is None:
            raise ODataError(404, f"{table.name}({predicate[:200]}) does not exist")
        context = json.dumps(root + f"$metadata#{table.name}/$entity")
        body = row[0]
        return odata_response('{"@odata.context":' + context + ("," if len(body) > 2 else "")
                              + body[1:])

    def page_size(self, request: Request) -> int:
        size = self.limits.page_size
        match = re.search(r"odata\.maxpagesize\s*=\s*(\d{1,9})", request.headers.get("prefer", ""))
        if match:
            size = max(1, min(int(match.group(1)), self.limits.max_page_size))
        return size

    def csv(self, table, names, relation, where, where_params, page_where, page_params,
            order_sql, order_params, top, skip) -> Response:
        """The whole result as CSV (no paging: a download), streamed in chunks."""
        select = ", ".join(f"cast(t.{q(n)} as varchar)" if table.columns[n].as_text
                           or table.columns[n].collection else f"t.{q(n)}" for n in names)
        order = f" order by {', '.join(order_sql)}" if order_sql else ""
        sql = (f"select {select} from {relation} t where ({where}){page_where}{order} "
               "limit ? offset ?")
        params = where_params + page_params + order_params + [top if top is not None
                                                              else MAX_TOP, skip]
        cursor = self.cursor()
        timer = threading.Timer(self.limits.query_timeout, cursor.interrupt)
        timer.start()
        try:
            self.executed += 1
            cursor.execute(sql, params)
        except duckdb.InterruptException:
            cursor.close()
            raise ODataError(503, "the query took longer than the time limit") from None
        except duckdb.Error as error:
            cursor.close()
            raise bad(f"the query cannot be evaluated: {str(error).splitlines()[0]}") from None
        finally:
            timer.cancel()

        def chunks():
            try:
                buffer = io.StringIO()
                writer = csv.writer(buffer, lineterminator="\n")
                writer.writerow(names)
                while True:
                    rows = cursor.fetchmany(10_000)
                    if not rows:
                        break
                    writer.writerows(rows)
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
                yield buffer.getvalue().encode()
            finally:
                cursor.close()

        return StreamingResponse(chunks(), media_type="text/csv;charset=utf-8", headers={
            "OData-Version": ODATA_VERSION,
            "Content-Disposition": f'attachment; filename="{table.name}.csv"'})


def paging_key(table: Table) -> tuple[str, ...]:
    """The key in the order the table is stored in, where the publisher's grain is a reordering
    of it (key-ordered pages then read neighbouring row groups)."""
    from basismonitor.publish.exports import SORT_KEYS

    grain = SORT_KEYS.get(f"marts.{table.name}", ())
    if set(grain) == set(table.key) and len(grain) == len(table.key):
        return tuple(grain)
    return table.key


def after_key(table: Table, key: tuple[str, ...], values: list) -> tuple[str, list]:
    """Rows after `values` in key order: k1 > v1 or (k1 = v1 and (k2 > v2 or ...)), and the
    redundant k1 >= v1 that DuckDB can prune row groups with."""
    params: list = []

    def cast(name: str) -> str:
        return f"?::{table.columns[name].duckdb_type}"

    def level(i: int) -> str:
        name = q(key[i])
        params.append(values[i])
        if i == len(key) - 1:
            return f"t.{name} > {cast(key[i])}"
        greater = f"t.{name} > {cast(key[i])}"
        params.append(values[i])
        equal = f"t.{name} = {cast(key[i])}"
        return f"({greater} or ({equal} and {level(i + 1)}))"

    params_first = [values[0]]
    text = f" and t.{q(key[0])} >= ?::{table.columns[key[0]].duckdb_type} and {level(0)}"
    return text, params_first + params


def context_fragment(table: Table, names: list[str] | None, expands) -> str:
    parts = list(names or [])
    parts += [f"{e.navigation}({','.join(e.select or [])})" for e in expands]
    return table.name + (f"({','.join(parts)})" if parts else "")


def split_path(path: str) -> list[str]:
    """The path's segments: split on '/' outside parentheses and quotes (a key may hold '/')."""
    segments, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(path):
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif char == "/" and not quoted and depth <= 0:
            segments.append(path[start:i])
            start = i + 1
    if path:
        segments.append(path[start:])
    return segments


_NAMED = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", re.DOTALL)


def parse_key(predicate: str, table: Table) -> dict[str, object]:
    """`'x'` (single key) or `a=1,b='x'`: {column: literal node}."""
    from basismonitor.serve.query import split_top_level

    items = split_top_level(predicate, "key")
    found = {}
    for item in items:
        named = _NAMED.match(item)
        name, value = (named.group(1), named.group(2)) if named else (None, item)
        if name is None:
            if len(table.key) != 1 or len(items) != 1:
                raise bad(f"{table.name} has the key ({', '.join(table.key)}): name each part, "
                          "e.g. " + ",".join(f"{k}=..." for k in table.key), "key")
            name, value = table.key[0], item
        name = name.strip()
        if name not in table.key:
            raise bad(f"{name[:60]!r} is not part of the key of {table.name} "
                      f"({', '.join(table.key)})", "key")
        node = parse_expression(f"{table.key[0]} eq {value.strip()}", "key").right
        from odata_query import ast

        if not isinstance(node, ast._Literal) or isinstance(node, ast.List):
            raise bad(f"key value {value[:60]!r} is not a literal", "key")
        found[name] = node
    if set(found) != set(table.key):
        raise bad(f"{table.name} has the key ({', '.join(table.key)}); got "
                  f"({', '.join(found)})", "key")
    return found


def response_format(request: Request) -> str:
    """json, none (odata.metadata=none) or csv, from $format or else the Accept header."""
    fmt = (request.query_params.get("$format") or "").strip().lower()
    if fmt:
        base, _, rest = fmt.partition(";")
        if base in ("json", "application/json"):
            if "odata.metadata=full" in rest:
                raise ODataError(406, "odata.metadata=full is not supported (minimal or none)",
                                 target="$format")
            return "none" if "odata.metadata=none" in rest else "json"
        if base in ("csv", "text/csv"):
            return "csv"
        raise ODataError(406, f"$format {fmt[:40]!r} is not supported (json or csv)",
                         target="$format")
    accept = request.headers.get("accept", "").lower()
    if not accept or "json" in accept or "*/*" in accept or "application/*" in accept:
        return "none" if "odata.metadata=none" in accept else "json"
    if "text/csv" in accept:
        return "csv"
    raise ODataError(406, f"cannot answer with {accept[:80]!r}: this service speaks "
                     "application/json (and text/csv)")


def check_request(request: Request) -> None:
    if request.method not in ("GET", "HEAD"):
        raise ODataError(405, f"{request.method} is not allowed: the feed is read-only")
    if len(str(request.url)) > MAX_URL_LENGTH:
        raise ODataError(414, f"the URL is longer than {MAX_URL_LENGTH} characters")
    version = request.headers.get("odata-maxversion")
    if version and not re.fullmatch(r"\s*[4-9](\.\d+)?\s*", version):
        raise bad(f"OData-MaxVersion {version[:20]!r}: this service speaks OData 4.0 only")
    for key in request.query_params:
        if key in NOT_SUPPORTED:
            raise ODataError(501, f"{key} is not supported (docs/ODATA.md)", target=key)
        if key.startswith("$") and key not in SUPPORTED:
            raise bad(f"unknown system query option {key[:40]!r}", key[:40])
    for key, _ in request.query_params.multi_items():
        if key.startswith("$") and len(request.query_params.getlist(key)) > 1:
            raise bad(f"{key} is given more than once", key)


def create_app(exports: Path, *, limits: Limits | None = None, poll: float = 1.0,
               memory_limit: str | None = None, threads: int | None = None) -> Starlette:
    limits = limits or Limits()
    state: dict = {}

    @asynccontextmanager
    async def lifespan(app):
        catalogue = Catalogue(exports, memory_limit=memory_limit or os.environ.get(
            "BASISMONITOR_SERVE_MEMORY_LIMIT", "1GB"), threads=threads, poll=poll)
        catalogue.start()
        state["service"] = app.state.service = Service(catalogue, limits)
        try:
            yield
        finally:
            catalogue.close()

    async def odata(request: Request) -> Response:
        started = time.perf_counter()
        try:
            check_request(request)
            response = await run_in_threadpool(handle, request)
        except ODataError as error:
            response = error_response(error)
        except Exception:
            log.exception("failed: %s", request.url)
            response = error_response(ODataError(500, "internal error (see the server log)",
                                                 code="InternalError"))
        log.debug("%s %s %.1f ms", request.method, request.url.path,
                  (time.perf_counter() - started) * 1000)
        return response

    def handle(request: Request) -> Response:
        service: Service = state["service"]
        path = request.path_params.get("path", "")
        segments = split_path(path)
        edition_name = None
        base = str(request.base_url).rstrip("/") + "/odata/"
        if segments and EDITION.match(segments[0]):
            edition_name = segments.pop(0)
            base += edition_name + "/"
        if segments and segments[-1] == "":
            segments.pop()
        with service.catalogue.use(edition_name) as edition:
            if edition is None:
                published = ", ".join(service.catalogue.names())
                if edition_name:
                    raise ODataError(404, f"edition {edition_name} is not published "
                                     f"(published: {published or 'none'})")
                raise ODataError(503, "no edition is published yet (run basismonitor publish)")
            if not segments:
                return service.service_document(request, edition, base)
            if segments == ["$metadata"]:
                return service.metadata(request, edition)
            resource = segments[0]
            match = ENTITY.match(resource)
            name = match.group(1) if match else resource
            table = edition.tables.get(name) if IDENTIFIER.match(name) else None
            if table is None:
                raise ODataError(404, f"no entity set {name[:80]!r} in edition {edition.name} "
                                 f"(it has: {', '.join(edition.tables)})")
            rest = segments[1:]
            if match:
                if rest:
                    raise ODataError(501, "property and navigation paths after a key are not "
                                     "supported; use $select and $expand")
                return service.entity(request, edition, table, match.group(2), base)
            if rest == ["$count"]:
                return service.collection(request, edition, table, base, count_only=True)
            if rest:
                raise ODataError(404, f"no resource {'/'.join(rest)[:80]!r} under {name}")
            return service.collection(request, edition, table, base)

    async def health(request: Request) -> Response:
        service: Service = state["service"]
        editions = service.catalogue.names()
        return JSONResponse({"status": "ok" if editions else "no edition",
                             "editions": editions, "latest": service.catalogue.latest()},
                            status_code=200 if editions else 503)

    async def root(request: Request) -> Response:
        return RedirectResponse(str(request.base_url) + "odata/")

    async def elsewhere(request: Request) -> Response:
        return error_response(ODataError(404, "nothing here: the OData feed is at /odata/"))

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route("/", root),
        Route("/health", health),
        Route("/odata", odata, methods=methods),
        Route("/odata/{path:path}", odata, methods=methods),
        Route("/{path:path}", elsewhere, methods=methods),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def serve(exports: Path, host: str = "127.0.0.1", port: int = 8081, *,
          limits: Limits | None = None, log_level: str = "info") -> None:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = create_app(Path(exports), limits=limits)
    print(f"OData feed of {Path(exports).resolve()} at http://{host}:{port}/odata/ "
          "(paste this URL into Power BI / Excel: Get Data > OData feed)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False,
                limit_concurrency=200, timeout_keep_alive=30, h11_max_incomplete_event_size=16384)
