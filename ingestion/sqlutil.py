"""Small helpers to build SQL text safely (literals and identifiers)."""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Iterable


def lit(value: object) -> str:
    """A SQL literal: NULL, a number, or a single-quoted string."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        # beyond 64 bits DuckDB reads the digits as HUGEINT or DOUBLE: still a number
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value):
            return "'nan'::DOUBLE"
        if math.isinf(value):
            return "'inf'::DOUBLE" if value > 0 else "'-inf'::DOUBLE"
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def ident(name: str) -> str:
    """A double-quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def in_list(values: Iterable[object]) -> str:
    items = [lit(v) for v in values]
    return "(" + ", ".join(items) + ")" if items else "(NULL)"


def matches_any(name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name.lower(), p.lower()) for p in patterns)
