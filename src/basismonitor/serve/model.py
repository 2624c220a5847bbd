"""The entity model of one published edition, read from the edition's own DuckDB file.

Nothing here is a hard-coded column list: the entity sets are the tables of the file's `marts`
schema, the properties its columns (DuckDB types mapped to Edm types), the descriptions its
COMMENTs (written by basismonitor.publish.exports from the dbt YAML). Keys come from the dbt YAML's
uniqueness tests (unique_combination on the model, `unique` on a column) where the published table
has those columns, else from the publisher's grain (publish.SORT_KEYS); a key that is not unique
and non-null in the file is not trusted for paging (see Table.keyset).

Navigation: every table whose columns include the whole key of a `dim_*` table gets a to-one
navigation property named after that dimension (fct_indicator_value -> dim_area, dim_indicator,
dim_period).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from basismonitor.quality.validation import is_personal_column

SCHEMA = "marts"
NAMESPACE = "Basismonitor"

# DuckDB type -> Edm type; what Power Query maps to its own types without loss
_SCALAR = {
    "BOOLEAN": "Edm.Boolean",
    "TINYINT": "Edm.Int16",
    "UTINYINT": "Edm.Int16",
    "SMALLINT": "Edm.Int16",
    "USMALLINT": "Edm.Int32",
    "INTEGER": "Edm.Int32",
    "UINTEGER": "Edm.Int64",
    "BIGINT": "Edm.Int64",
    "UBIGINT": "Edm.Decimal",
    "HUGEINT": "Edm.Decimal",
    "UHUGEINT": "Edm.Decimal",
    "FLOAT": "Edm.Single",
    "DOUBLE": "Edm.Double",
    "VARCHAR": "Edm.String",
    "DATE": "Edm.Date",
    "TIME": "Edm.TimeOfDay",
    "TIMESTAMP": "Edm.DateTimeOffset",
    "TIMESTAMP WITH TIME ZONE": "Edm.DateTimeOffset",
    "UUID": "Edm.Guid",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")
NUMERIC = {"Edm.Int16", "Edm.Int32", "Edm.Int64", "Edm.Decimal", "Edm.Single", "Edm.Double"}


@dataclass(frozen=True)
class Column:
    name: str
    duckdb_type: str
    edm_type: str                   # scalar Edm type (of the elements for a collection)
    collection: bool = False
    nullable: bool = True
    description: str | None = None
    precision: int | None = None
    scale: int | None = None
    as_text: bool = False           # served as its text form (types with no Edm equivalent)

    @property
    def type_name(self) -> str:
        return f"Collection({self.edm_type})" if self.collection else self.edm_type


@dataclass(frozen=True)
class Navigation:
    name: str                       # the property name (the dimension's table name)
    target: str                     # the dimension table
    pairs: tuple[tuple[str, str], ...]  # (column here, key column there)


@dataclass
class Table:
    name: str
    columns: dict[str, Column]
    key: tuple[str, ...]
    description: str | None = None
    rows: int = 0
    keyset: bool = False            # the key is unique and non-null in the file
    sorted: bool = False            # the file stores the rows in key order (publish's grain)
    nonfinite: frozenset[str] = frozenset()  # DOUBLE/FLOAT columns holding INF or NaN
    navigation: dict[str, Navigation] = field(default_factory=dict)

    @property
    def entity_type(self) -> str:
        return self.name


def edm_column(name: str, dtype: str, nullable: bool, description: str | None) -> Column:
    dtype = dtype.upper()
    collection = False
    if dtype.endswith("[]"):
        collection, dtype = True, dtype[:-2]
    if dtype in _SCALAR:
        return Column(name, dtype, _SCALAR[dtype], collection, nullable, description)
    match = _DECIMAL.match(dtype)
    if match:
        return Column(name, dtype, "Edm.Decimal", collection, nullable, description,
                      precision=int(match.group(1)), scale=int(match.group(2)))
    if dtype.startswith("TIMESTAMP"):
        return Column(name, dtype, "Edm.DateTimeOffset", collection, nullable, description)
    # STRUCT, MAP, BLOB, GEOMETRY, ENUM...: their text form, so nothing is silently dropped
    return Column(name, dtype, "Edm.String", collection, nullable, description, as_text=True)


def _first_sentence(text: str) -> str:
    match = re.match(r"^(.+?[.:])(\s|$)", text)
    return match.group(1) if match else text


def short_and_long(text: str | None) -> tuple[str | None, str | None]:
    """Core.Description (the first sentence) and Core.LongDescription (the whole text where it
    says more)."""
    if not text:
        return None, None
    short = _first_sentence(text)
    return short, (text if text != short else None)


def documented_keys(marts_yaml: Path | None) -> dict[str, tuple[str, ...]]:
    """{model: key columns} from the dbt YAML's uniqueness tests (a folder of <model>.yml files,
    or one file)."""
    from basismonitor.publish.exports import mart_models

    keys: dict[str, tuple[str, ...]] = {}
    for model in mart_models(marts_yaml):
        for test in model.get("data_tests") or model.get("tests") or []:
            if isinstance(test, dict) and "unique_combination" in test:
                body = test["unique_combination"] or {}
                columns = (body.get("arguments") or body).get("columns") or []
                if columns:
                    keys[model["name"]] = tuple(columns)
                    break
        if model["name"] in keys:
            continue
        for column in model.get("columns", []):
            tests = column.get("data_tests") or column.get("tests") or []
            if "unique" in tests or any(isinstance(t, dict) and "unique" in t for t in tests):
                keys[model["name"]] = (column["name"],)
                break
    return keys


def read_model(con, database: str, marts_yaml: Path | None,
               grains: dict[str, tuple[str, ...]]) -> dict[str, Table]:
    """Every table of `database`.marts as a Table (the connection is read-only)."""
    documented = documented_keys(marts_yaml)
    tables: dict[str, Table] = {}
    for name, comment in con.execute(
        "select table_name, comment from duckdb_tables() where database_name = ? "
        "and schema_name = ? order by table_name", [database, SCHEMA]
    ).fetchall():
        rows = con.execute(
            "select column_name, data_type, is_nullable, comment from duckdb_columns() "
            "where database_name = ? and schema_name = ? and table_name = ? "
            "order by column_index", [database, SCHEMA, name]).fetchall()
        if any(is_personal_column(r[0]) for r in rows):
            continue  # never served: exports hold aggregates only (publish refuses these too)
        columns = {r[0]: edm_column(r[0], r[1], bool(r[2]), r[3] or None) for r in rows}
        scalar = [c for c, col in columns.items() if not col.collection]
        key = next((k for k in (documented.get(name), grains.get(name))
                    if k and all(c in scalar for c in k)), None)
        if key is None:
            key = tuple(scalar[:1])
        tables[name] = Table(name, columns, key, comment or None)
    for table in tables.values():
        for dim in tables.values():
            if dim is table or not dim.name.startswith("dim_") or dim.name in table.columns:
                continue
            if all(k in table.columns and not table.columns[k].collection for k in dim.key):
                table.navigation[dim.name] = Navigation(
                    dim.name, dim.name, tuple((k, k) for k in dim.key))
    return tables
