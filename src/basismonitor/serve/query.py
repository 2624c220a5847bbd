"""OData system query options -> parameterised DuckDB SQL.

$filter and $orderby expressions are parsed by odata-query (a maintained OData v4 grammar, sly
LALR); this module compiles its AST to SQL. Every literal of a request becomes a bound parameter
(`?`); every name becomes a column, function or navigation property looked up in the edition's
model, and only the model's own names (read from the DuckDB catalogue) are quoted into the SQL.
Anything else is an ODataError naming the bad part: nothing of a bad request is executed.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import re
from dataclasses import dataclass, field

from odata_query import ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser

from basismonitor.serve.model import NUMERIC, Column, Table

# --- limits (docs/ODATA.md) ---------------------------------------------------------------------
PAGE_SIZE = 1000          # rows per page unless the client prefers fewer (or more, up to MAX)
MAX_PAGE_SIZE = 5000      # Prefer: odata.maxpagesize above this is capped
MAX_TOP = 10_000_000      # $top above this is refused
MAX_SKIP = 100_000_000
MAX_FILTER_LENGTH = 4096  # characters of $filter (and of $orderby)
MAX_DEPTH = 32            # nesting of a $filter expression
MAX_IN_LIST = 1000
MAX_EXPAND = 8


class ODataError(Exception):
    def __init__(self, status: int, message: str, *, code: str | None = None,
                 target: str | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or {400: "BadRequest", 404: "NotFound", 405: "MethodNotAllowed",
                             406: "NotAcceptable", 414: "URITooLong", 501: "NotImplemented",
                             503: "ServiceUnavailable"}.get(status, str(status))
        self.target = target

    def body(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}


def bad(message: str, target: str | None = None) -> ODataError:
    return ODataError(400, message, target=target)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- parsing ------------------------------------------------------------------------------------

def parse_expression(text: str, option: str) -> ast._Node:
    if len(text) > MAX_FILTER_LENGTH:
        raise bad(f"{option} is {len(text)} characters long; at most {MAX_FILTER_LENGTH} are "
                  "accepted", option)
    nesting = _paren_depth(text)
    if nesting > MAX_DEPTH:
        raise bad(f"{option} nests parentheses {nesting} deep; at most {MAX_DEPTH} are accepted",
                  option)
    try:
        tree = ODataParser().parse(ODataLexer().tokenize(text))
    except ODataException as error:
        raise bad(f"{option} is not a valid OData expression: {error}", option) from None
    except Exception as error:  # the grammar's own errors on odd input (sly internals)
        raise bad(f"{option} is not a valid OData expression ({type(error).__name__})",
                  option) from None
    if tree is None:
        raise bad(f"{option} is empty or incomplete", option)
    depth = _depth(tree)
    if depth > MAX_DEPTH:
        raise bad(f"{option} is nested {depth} levels deep; at most {MAX_DEPTH} are accepted",
                  option)
    return tree


def _paren_depth(text: str) -> int:
    deepest = depth = 0
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif not quoted and char == ")":
            depth -= 1
    return deepest


def _children(node) -> list:
    if isinstance(node, ast.BoolOp | ast.BinOp | ast.Compare):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    if isinstance(node, ast.List):
        return list(node.val)
    if isinstance(node, ast.Attribute):
        return [node.owner]
    return []


def _depth(tree) -> int:
    """Depth without recursion (a hostile filter must not exhaust Python's stack)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in _children(node))
    return deepest


# --- compiling ----------------------------------------------------------------------------------

@dataclass
class Sql:
    text: str
    kind: str            # string, number, boolean, date, datetime, time, guid, null, collection
    params: list = field(default_factory=list)


_KIND = {"Edm.String": "string", "Edm.Boolean": "boolean", "Edm.Date": "date",
         "Edm.DateTimeOffset": "datetime", "Edm.TimeOfDay": "time", "Edm.Guid": "guid"}


def column_kind(column: Column) -> str:
    if column.collection:
        return "collection"
    if column.as_text:
        return "string"
    return "number" if column.edm_type in NUMERIC else _KIND.get(column.edm_type, "string")


_COMPARE = {ast.Eq: "=", ast.NotEq: "<>", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
            ast.GtE: ">="}
_ARITH = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Mod: "%"}
_OP_NAME = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt",
            ast.GtE: "ge", ast.In: "in", ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul",
            ast.Div: "div", ast.Mod: "mod"}

# name: (argument kinds, result kind, SQL template)
_FUNCTIONS = {
    "contains": (("string", "string"), "boolean", "contains({0}, {1})"),
    "startswith": (("string", "string"), "boolean", "starts_with({0}, {1})"),
    "endswith": (("string", "string"), "boolean", "ends_with({0}, {1})"),
    "tolower": (("string",), "string", "lower({0})"),
    "toupper": (("string",), "string", "upper({0})"),
    "trim": (("string",), "string", "trim({0})"),
    "length": (("string",), "number", "length({0})"),
    "indexof": (("string", "string"), "number", "(strpos({0}, {1}) - 1)"),
    "concat": (("string", "string"), "string", "concat({0}, {1})"),
    "year": (("date",), "number", "year({0})"),
    "month": (("date",), "number", "month({0})"),
    "day": (("date",), "number", "day({0})"),
    "round": (("number",), "number", "round({0})"),
    "floor": (("number",), "number", "floor({0})"),
    "ceiling": (("number",), "number", "ceiling({0})"),
}


class Compiler:
    """Compiles expressions over `table` (as SQL alias `t`) of one edition."""

    def __init__(self, table: Table, tables: dict[str, Table], relation):
        self.table = table
        self.tables = tables
        self.relation = relation   # table name -> the attached relation's SQL

    def column(self, name: str, option: str) -> Sql:
        column = self.table.columns.get(name)
        if column is None:
            if name in self.table.navigation:
                raise bad(f"{name} in {option} is a navigation property; use {name}/<property>",
                          option)
            raise bad(f"{option}: {self.table.name} has no property {name!r}", option)
        text = f"t.{q(name)}"
        if column.as_text:
            text = f"cast({text} as varchar)"
        return Sql(text, column_kind(column))

    def navigation_path(self, node: ast.Attribute, option: str) -> Sql:
        if not isinstance(node.owner, ast.Identifier) or node.owner.namespace:
            raise bad(f"{option}: only one navigation step (dim_x/property) is supported", option)
        nav = self.table.navigation.get(node.owner.name)
        if nav is None:
            raise bad(f"{option}: {self.table.name} has no navigation property "
                      f"{node.owner.name!r}", option)
        target = self.tables[nav.target]
        column = target.columns.get(node.attr)
        if column is None or column.collection:
            raise bad(f"{option}: {nav.target} has no property {node.attr!r}", option)
        on = " and ".join(f"n.{q(there)} = t.{q(here)}" for here, there in nav.pairs)
        value = f"n.{q(node.attr)}" + ("::varchar" if column.as_text else "")
        return Sql(f"(select first({value}) from {self.relation(nav.target)} n where {on})",
                   column_kind(column))

    def compile(self, node, option: str) -> Sql:
        if isinstance(node, ast.Identifier):
            if node.namespace:
                raise bad(f"{option}: unknown name {'.'.join(node.namespace)}.{node.name}", option)
            return self.column(node.name, option)
        if isinstance(node, ast.Attribute):
            return self.navigation_path(node, option)
        if isinstance(node, ast._Literal):
            return self.literal(node, option)
        if isinstance(node, ast.BoolOp):
            left = self.boolean(node.left, option)
            right = self.boolean(node.right, option)
            op = "and" if isinstance(node.op, ast.And) else "or"
            return Sql(f"({left.text} {op} {right.text})", "boolean", left.params + right.params)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                operand = self.boolean(node.operand, option)
                return Sql(f"(not {operand.text})", "boolean", operand.params)
            operand = self.compile(node.operand, option)
            self.expect(operand, "number", "-", option)
            return Sql(f"(-{operand.text})", "number", operand.params)
        if isinstance(node, ast.Compare):
            return self.comparison(node, option)
        if isinstance(node, ast.BinOp):
            left, right = self.compile(node.left, option), self.compile(node.right, option)
            name = _OP_NAME[type(node.op)]
            self.expect(left, "number", name, option)
            self.expect(right, "number", name, option)
            sql_op = _ARITH[type(node.op)]
            if isinstance(node.op, ast.Div):
                text = f"({left.text} / nullif({right.text}, 0))"
            else:
                text = f"({left.text} {sql_op} {right.text})"
            return Sql(text, "number", left.params + right.params)
        if isinstance(node, ast.Call):
            return self.call(node, option)
        raise ODataError(501, f"{option}: {type(node).__name__} expressions are not supported",
                         target=option)

    def boolean(self, node, option: str) -> Sql:
        sql = self.compile(node, option)
        self.expect(sql, "boolean", "a condition", option)
        return sql

    @staticmethod
    def expect(sql: Sql, kind: str, where: str, option: str) -> None:
        if sql.kind not in (kind, "null"):
            raise bad(f"{option}: {where} needs a {kind}, got a {sql.kind}", option)

    def comparison(self, node: ast.Compare, option: str) -> Sql:
        left = self.compile(node.left, option)
        if isinstance(node.comparator, ast.In):
            if not isinstance(node.right, ast.List):
                raise bad(f"{option}: 'in' needs a list of literals: in ('a','b')", option)
            if len(node.right.val) > MAX_IN_LIST:
                raise bad(f"{option}: 'in' lists at most {MAX_IN_LIST} values", option)
            items = [self.literal(item, option) for item in node.right.val]
            for item in items:
                self.compatible(left, item, "in", option)
            if not items:
                return Sql("false", "boolean")
            return Sql(f"({left.text} in ({', '.join(i.text for i in items)}))", "boolean",
                       left.params + [p for i in items for p in i.params])
        right = self.compile(node.right, option)
        name = _OP_NAME[type(node.comparator)]
        self.compatible(left, right, name, option)
        if left.kind == "collection" or right.kind == "collection":
            raise bad(f"{option}: collections cannot be compared with {name}", option)
        if "null" in (left.kind, right.kind):
            if name not in ("eq", "ne"):
                return Sql("null", "boolean", left.params + right.params)
            other = right if left.kind == "null" else left
            test = "is null" if name == "eq" else "is not null"
            return Sql(f"({other.text} {test})", "boolean", other.params)
        return Sql(f"({left.text} {_COMPARE[type(node.comparator)]} {right.text})", "boolean",
                   left.params + right.params)

    @staticmethod
    def compatible(left: Sql, right: Sql, name: str, option: str) -> None:
        kinds = {left.kind, right.kind} - {"null"}
        if len(kinds) > 1 and kinds != {"date", "datetime"}:
            raise bad(f"{option}: cannot compare a {left.kind} with a {right.kind} ({name})",
                      option)

    def call(self, node: ast.Call, option: str) -> Sql:
        name = node.func.name
        spec = _FUNCTIONS.get(name) if not node.func.namespace else None
        if spec is None:
            raise ODataError(501, f"{option}: function {name}() is not supported (supported: "
                             f"{', '.join(sorted(_FUNCTIONS))})", target=option)
        kinds, result, template = spec
        if len(node.args) != len(kinds):
            raise bad(f"{option}: {name}() takes {len(kinds)} argument(s), got "
                      f"{len(node.args)}", option)
        args = [self.compile(arg, option) for arg in node.args]
        for arg, kind in zip(args, kinds, strict=True):
            if kind == "date" and arg.kind == "datetime":
                continue
            self.expect(arg, kind, f"{name}()", option)
        return Sql(template.format(*(a.text for a in args)), result,
                   [p for a in args for p in a.params])

    @staticmethod
    def literal(node, option: str) -> Sql:
        try:
            if isinstance(node, ast.Null):
                return Sql("null", "null")
            if isinstance(node, ast.String):
                return Sql("?::varchar", "string", [node.val])
            if isinstance(node, ast.Boolean):
                return Sql("?::boolean", "boolean", [node.val.lower() == "true"])
            if isinstance(node, ast.Integer):
                value = int(node.val)
                if abs(value) >= 2**63:
                    return Sql("?::hugeint", "number", [value])
                return Sql("?::bigint", "number", [value])
            if isinstance(node, ast.Float):
                text = node.val
                if re.fullmatch(r"-?\d+\.\d+", text):   # exact decimals stay exact
                    return Sql("?::decimal(38,10)", "number", [decimal.Decimal(text)])
                return Sql("?::double", "number", [float(text)])
            if isinstance(node, ast.Date):
                return Sql("?::date", "date", [dt.date.fromisoformat(node.val)])
            if isinstance(node, ast.DateTime):
                return Sql("?::timestamptz", "datetime", [node.py_val])
            if isinstance(node, ast.Time):
                return Sql("?::time", "time", [node.py_val])
            if isinstance(node, ast.GUID):
                return Sql("?::uuid", "guid", [str(node.val)])
        except (ValueError, TypeError, decimal.InvalidOperation) as error:
            raise bad(f"{option}: bad literal {getattr(node, 'val', node)!r}: {error}",
                      option) from None
        raise ODataError(501, f"{option}: {type(node).__name__} literals are not supported",
                         target=option)


# --- the other options --------------------------------------------------------------------------

def split_top_level(text: str, option: str, separator: str = ",") -> list[str]:
    """Split on commas (or `separator`) outside parentheses and quotes ($select, $orderby,
    $expand; `;` between the options inside an $expand item)."""
    items, depth, quote, start = [], 0, False, 0
    for i, char in enumerate(text):
        if char == "'":
            quote = not quote
        elif not quote and char == "(":
            depth += 1
        elif not quote and char == ")":
            depth -= 1
            if depth < 0:
                raise bad(f"{option}: unbalanced ')'", option)
        elif not quote and depth == 0 and char == separator:
            items.append(text[start:i].strip())
            start = i + 1
    if depth or quote:
        raise bad(f"{option}: unbalanced parentheses or quotes", option)
    items.append(text[start:].strip())
    if any(not item for item in items):
        raise bad(f"{option}: empty item in a comma-separated list", option)
    return items


def parse_select(text: str, table: Table, option: str = "$select") -> list[str]:
    if len(text) > MAX_FILTER_LENGTH:
        raise bad(f"{option} is too long", option)
    names: list[str] = []
    for item in split_top_level(text, option):
        if item == "*":
            names.extend(c for c in table.columns if c not in names)
        elif item in table.columns:
            if item not in names:
                names.append(item)
        elif item in table.navigation:
            raise bad(f"{option}: {item} is a navigation property: use $expand={item}", option)
        else:
            raise bad(f"{option}: {table.name} has no property {item!r}", option)
    return names


_DIRECTION = re.compile(r"^(.*?)(?:\s+(asc|desc))?$", re.DOTALL)


def compile_orderby(text: str, compiler: Compiler) -> list[tuple[Sql, bool]]:
    if len(text) > MAX_FILTER_LENGTH:
        raise bad("$orderby is too long", "$orderby")
    result = []
    for item in split_top_level(text, "$orderby"):
        match = _DIRECTION.match(item)
        expression, direction = match.group(1), match.group(2)
        sql = compiler.compile(parse_expression(expression, "$orderby"), "$orderby")
        if sql.kind == "collection":
            raise bad(f"$orderby: cannot order by the collection {expression!r}", "$orderby")
        result.append((sql, direction == "desc"))
    return result


@dataclass
class Expand:
    navigation: str
    select: list[str] | None = None


_EXPAND_ITEM = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?:\((.*)\))?$", re.DOTALL)


def parse_expand(text: str, table: Table, tables: dict[str, Table]) -> list[Expand]:
    if len(text) > MAX_FILTER_LENGTH:
        raise bad("$expand is too long", "$expand")
    found: list[Expand] = []
    for item in split_top_level(text, "$expand"):
        if item == "*":
            found.extend(Expand(n) for n in table.navigation if n not in {e.navigation
                                                                          for e in found})
            continue
        match = _EXPAND_ITEM.match(item)
        if not match:
            raise bad(f"$expand: {item!r} is not a navigation property (one level is supported)",
                      "$expand")
        name, options = match.group(1), match.group(2)
        if name not in table.navigation:
            raise bad(f"$expand: {table.name} has no navigation property {name!r} (it has: "
                      f"{', '.join(table.navigation) or 'none'})", "$expand")
        select = None
        for option in split_top_level(options, "$expand", ";") if options else []:
            key, _, value = option.partition("=")
            if key.strip() != "$select":
                raise ODataError(501, f"$expand: only $select is supported inside $expand "
                                 f"({key.strip()!r} is not)", target="$expand")
            select = parse_select(value.strip(), tables[table.navigation[name].target],
                                  "$expand($select)")
        found.append(Expand(name, select))
    if len(found) > MAX_EXPAND:
        raise bad(f"$expand: at most {MAX_EXPAND} navigation properties", "$expand")
    return found


def parse_int(value: str | None, option: str, maximum: int) -> int | None:
    if value is None:
        return None
    if not re.fullmatch(r"\d{1,12}", value.strip()):
        raise bad(f"{option} must be a non-negative integer, got {value[:40]!r}", option)
    number = int(value)
    if number > maximum:
        raise bad(f"{option} is at most {maximum:,}, got {number:,}", option)
    return number


# --- the skip token: where the previous page ended --------------------------------------------

def encode_token(generation: str, rowid: int, values: list) -> str:
    """Where a page ended: the attached file (its alias), the last row id, and the last row's key
    (to go on after it should the edition be republished between two pages)."""
    def plain(value):
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return {"t": type(value).__name__, "v": value.isoformat()}
        if isinstance(value, decimal.Decimal):
            return {"t": "decimal", "v": str(value)}
        return value
    raw = json.dumps({"e": generation, "r": rowid, "k": [plain(v) for v in values]},
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_TOKEN_TYPES = {"string": str, "number": int | float | decimal.Decimal, "boolean": bool,
                "date": dt.date, "datetime": dt.datetime, "time": dt.time, "guid": str}


def decode_token(token: str, kinds: list[str]) -> tuple[str, int, list]:
    """(generation, row id, key values) of a $skiptoken, each key value of its column's kind
    (else 400: a token is checked whole before any SQL runs)."""
    invalid = bad("$skiptoken is not one this service issued", "$skiptoken")
    if len(token) > MAX_FILTER_LENGTH:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        body = json.loads(raw)
    except (ValueError, TypeError):
        raise invalid from None
    if not isinstance(body, dict) or set(body) != {"e", "r", "k"}:
        raise invalid
    generation, rowid, values = body["e"], body["r"], body["k"]
    if not isinstance(generation, str) or not isinstance(rowid, int) or isinstance(rowid, bool) \
            or rowid < 0 or not isinstance(values, list) or len(values) != len(kinds):
        raise invalid
    out = []
    for value, kind in zip(values, kinds, strict=True):
        if isinstance(value, dict):
            text = value.get("v")
            parse = {"datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
                     "time": dt.time.fromisoformat, "decimal": decimal.Decimal}.get(value.get("t"))
            if parse is None or not isinstance(text, str):
                raise invalid
            try:
                value = parse(text)
            except (ValueError, decimal.InvalidOperation):
                raise invalid from None
        expected = _TOKEN_TYPES.get(kind)
        if expected is None or not isinstance(value, expected) or (
                kind == "number" and isinstance(value, bool)):
            raise invalid
        out.append(value)
    return generation, rowid, out
