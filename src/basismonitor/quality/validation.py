"""The quality gate: Great Expectations suites on the warehouse before anything is exported.

One suite per checked table lives in expectations/<schema>.<table>.json (GX's suite format), and
every rule on that table lives there: each expectation with its severity (a failing `critical` one
stops publication, a failing `warning` is reported and publishes), the SQL of each derived check in
the expectation that asserts it (meta.check), the joins it needs (meta.batch.joins), and its schema
as "$dbt_contract" where a dbt contract defines it. docs/QUALITY.md lists what every suite guards
and says where a rule lives and how to add one.

Every table is checked through DuckDB: the checks that need more than one column or table (a CI
holding its estimate, a class matching its index, rows per load reconciling with raw.loads) are
SQL predicates computed in DuckDB. What GX validates (pandas path, so everything shows in the Data
Docs) is one small DataFrame per suite, of one of these kinds (meta.batch.kind):

  rows      the table's rows (the columns its expectations read) plus a boolean column
            `check__<name>` per derived check (the compass marts, the dimensions, raw.loads, the
            weighting report: at most about a million rows at national scale)
  per_group one row per group (meta.batch.group_by) with `n_rows`, `null__<column>` (rows with a
            null), `duplicate_key` (rows whose grain is not unique) and `bad__<name>` (rows that
            fail a derived check), computed as SQL aggregates in DuckDB. For tables too big for
            row-level GX (fct_indicator_value: 17 M rows at national scale; the landing tables,
            grouped per load). An expectation on `bad__x` asserts its sum is 0; the failure
            reports that sum: the number of rows of the table that fail.
  columns   one row per column of the table (name, DuckDB type, whether it holds respondent
            keys): schema and privacy. Expectations with meta.batch = "columns" in a suite file
            run on this batch (GX suite `<name>.columns`); the others on the kind above.

Placeholders in kwargs ("$edition", "$n_compass_areas", "$personal_column_pattern",
"$dbt_contract") and in the SQL ($area_edition, $dim_indicator, the shared relations
expectations/<name>.sql, ...) are filled in per run (_params). Tests plant violations by handing
`frames=`: a DataFrame replaces the table it names (it is registered in DuckDB, so hand frames read
with `read_table` to keep DuckDB's types).
"""

from __future__ import annotations

import functools
import json
import logging
import os
import queue
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template

import duckdb
import pandas as pd

from basismonitor.config import DBT_PROJECT_DIR, EXPECTATIONS_DIR, duckdb_config
from basismonitor.quality.data_docs_offline import make_offline

log = logging.getLogger(__name__)

# --- privacy: one denylist, shared with the publisher ------------------------------------------

# Column names that mean respondent-level (personal) data. Neither the gate nor the publisher lets
# a table with such a column out of the warehouse (publish imports these).
PERSONAL_COLUMNS = frozenset({
    "respondent_key", "respondent_id", "respondent", "respondentnummer",
    "geboortejaar", "geboortedatum", "birth_year", "birth_date", "date_of_birth", "age",
    "leeftijd", "postcode", "huisnummer", "adres", "address", "straat", "email", "telefoon",
    "bsn", "y", "weight", "base_weight", "answer_code", "answer_codes", "invalid_positions",
    "registration_id", "_row_number", "raw_row",
})
PERSONAL_COLUMN_PREFIXES = ("respondent_", "geboorte", "birth_", "answer_", "postcode")
PERSONAL_COLUMN_PATTERN = "(?i)^(?:" + "|".join(
    [re.escape(c) for c in sorted(PERSONAL_COLUMNS)]
    + [re.escape(p) + ".*" for p in PERSONAL_COLUMN_PREFIXES]
) + ")$"


def is_personal_column(name: str) -> bool:
    """The column name means respondent-level data (the gate's and the publisher's denylist)."""
    return re.fullmatch(PERSONAL_COLUMN_PATTERN, name) is not None


# --- results ------------------------------------------------------------------------------------

@dataclass
class Failure:
    table: str
    expectation: str
    column: str | None
    severity: str
    unexpected_count: int | None  # rows of the table that fail (None: a table-level check)
    detail: str
    unit: str = "rows"

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        if self.unexpected_count is None:
            rows = "table-level check fails"
        else:
            unit = self.unit[:-1] if self.unexpected_count == 1 else self.unit
            rows = f"{self.unexpected_count} {unit} fail" + ("s" if self.unexpected_count == 1 else "")
        return f"[{self.severity}] {self.expectation} on {where}: {rows} ({self.detail})"


@dataclass
class GateResult:
    edition: int
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows it holds
    expectations_run: int = 0
    failures: list[Failure] = field(default_factory=list)
    docs_dir: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall time

    @property
    def critical(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity != "critical"]

    @property
    def passed(self) -> bool:
        return not self.critical

    def as_dict(self) -> dict:
        """What the gate found, as written to the report's gate_result.json."""
        return {
            "edition": self.edition,
            "passed": self.passed,
            "expectations_run": self.expectations_run,
            "tables": self.tables,
            "failures": [{**f.__dict__, "message": str(f)} for f in self.failures],
        }


class GateFailed(RuntimeError):
    """A critical expectation failed: nothing is published. The message names each failure."""

    def __init__(self, result: GateResult):
        self.result = result
        lines = [f"quality gate failed for edition {result.edition}; nothing was published:"]
        lines += [f"  {f}" for f in result.critical]
        if result.docs_dir:
            lines.append(f"  report: {result.docs_dir / 'index.html'}")
        lines.append("  fix the source or the model, then rerun `basismonitor refresh`.")
        super().__init__("\n".join(lines))


# --- suites -----------------------------------------------------------------------------------
# A suite is GX's JSON with the gate's additions, all in the one file of the table it guards:
#   meta.batch            how the batch is read (kind rows | per_group, group_by, joins: SQL that
#                         joins other relations to the table `t`, aggregates: {name: SQL})
#   expectation meta.check  a derived check: the SQL predicate (a string, or a list of lines) that
#                         holds for a good row (null counts as failing), computed in DuckDB as the
#                         column the expectation asserts: check__<name> (rows) or bad__<name>
#                         (per_group: the rows failing it, per group)
#   "$dbt_contract"       as a value_set: the columns and types of the dbt model's enforced
#                         contract ("<name> <TYPE>"), read from the model YAML, never retyped
# $names in the SQL are filled per run (_params): tables (frames stand in for them), the run's
# edition and area edition, and the shared relations expectations/<name>.sql.

class SuiteError(ValueError):
    """A suite file the gate cannot run: the message names the file and what to change."""


def _check_sql(expectation: dict) -> str | None:
    sql = (expectation.get("meta") or {}).get("check")
    return "\n".join(sql) if isinstance(sql, list) else sql


def derived_checks(suite: dict) -> dict[str, str]:
    """{name: SQL} of the suite's derived checks (the expectations with meta.check)."""
    prefix = "bad__" if suite["meta"]["batch"]["kind"] == "per_group" else "check__"
    return {e["kwargs"]["column"].removeprefix(prefix): _check_sql(e)
            for e in suite["expectations"] if _check_sql(e) is not None}


@functools.cache
def _contracts(models_dir: Path) -> dict[str, list[str]]:
    """{model: ["<column> <TYPE>", ...]} of every dbt model with an enforced contract."""
    import yaml

    found = {}
    for path in sorted(Path(models_dir).rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            if ((model.get("config") or {}).get("contract") or {}).get("enforced"):
                found[model["name"]] = [f"{c['name']} {c['data_type'].upper()}"
                                        for c in model.get("columns", [])]
    return found


def dbt_contract(table: str, models_dir: Path = DBT_PROJECT_DIR / "models") -> list[str]:
    """What "$dbt_contract" stands for in `table`'s suite: its dbt model's contract columns as
    "<name> <TYPE>" (DuckDB's spelling), in the contract's order."""
    model = table.rpartition(".")[2]
    contracts = _contracts(Path(models_dir))
    if model not in contracts:
        raise SuiteError(f"{table}: the suite checks its schema against $dbt_contract, but no dbt "
                         f"model {model!r} under {models_dir} has an enforced contract")
    return contracts[model]


def _uses_contract(suite: dict) -> bool:
    return any(e["kwargs"].get("value_set") == "$dbt_contract" for e in suite["expectations"])


def _check_suite(path: Path, suite: dict) -> None:
    """Refuse a suite the gate would misread, naming the file and the expectation."""
    batch = suite["meta"]["batch"]
    if "checks" in batch:
        raise SuiteError(f"{path}: meta.batch.checks names checks, which now live in the suite: "
                         "give each expectation on check__<name> (bad__<name>) its SQL in "
                         "meta.check and drop meta.batch.checks (docs/QUALITY.md, 'Adding a check')")
    if not all(isinstance(j, str) for j in batch.get("joins", [])) \
            or not isinstance(batch.get("aggregates", {}), dict):
        raise SuiteError(f"{path}: meta.batch.joins is a list of SQL joins and aggregates a "
                         "{name: SQL} object")
    prefix = "bad__" if batch["kind"] == "per_group" else "check__"
    defined = set()
    for i, e in enumerate(suite["expectations"]):
        column = e["kwargs"].get("column") or ""
        if _check_sql(e) is not None:
            if not column.startswith(prefix):
                raise SuiteError(f"{path}: expectation {i} ({e['type']}) has meta.check but "
                                 f"asserts {column!r}: a {batch['kind']} batch names a derived "
                                 f"check's column {prefix}<name>")
            if column in defined:
                raise SuiteError(f"{path}: {column} has meta.check twice (expectation {i})")
            defined.add(column)
    for i, e in enumerate(suite["expectations"]):
        column = e["kwargs"].get("column") or ""
        if column.startswith(prefix) and column not in defined:
            raise SuiteError(f"{path}: expectation {i} asserts {column}, which no expectation "
                             "defines: put the check's SQL in its meta.check")
    if _uses_contract(suite):
        dbt_contract(suite["meta"]["table"])


def load_suites(directory: Path = EXPECTATIONS_DIR) -> dict[str, dict]:
    """The suites by the table they guard: {table: suite}."""
    suites = {}
    for path in sorted(Path(directory).glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        _check_suite(path, suite)
        suites[suite["meta"]["table"]] = suite
    return suites


def shared_relations(directory: Path = EXPECTATIONS_DIR) -> dict[str, str]:
    """{name: SQL} of the relations the suites share, expectations/<name>.sql (named $<name>)."""
    return {path.stem: "\n".join(line for line in path.read_text(encoding="utf-8").splitlines()
                                  if not line.lstrip().startswith("--"))  # comments are for readers
            for path in sorted(Path(directory).glob("*.sql"))}

def read_table(warehouse: Path, table: str) -> pd.DataFrame:
    """A table as a DataFrame that keeps its DuckDB types when handed back as `frames=`."""
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        return con.sql(f"select * from {table}").arrow().read_all().to_pandas(
            types_mapper=pd.ArrowDtype
        )


def _fill(value, params: dict):
    if isinstance(value, str) and value.startswith("$") and value[1:] in params:
        return params[value[1:]]
    if isinstance(value, list):
        return [_fill(v, params) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, params) for k, v in value.items()}
    return value


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- batches ------------------------------------------------------------------------------------

@dataclass
class _Batch:
    suite: str  # GX suite name
    table: str
    kind: str  # rows | per_group | columns
    frame: pd.DataFrame | None
    expectations: list[dict]
    examples: list[str]  # columns that identify a row or group in failure messages
    unit: str = "rows"
    errors: list[Failure] = field(default_factory=list)
    compass_areas: list[str] = field(default_factory=list)  # to name the missing ones


class _Warehouse:
    """The warehouse read-only, with handed frames standing in for the tables they name."""

    def __init__(self, con: duckdb.DuckDBPyConnection, frames: dict[str, pd.DataFrame]):
        self.con = con
        self._keys: str | None = None
        self.names: dict[str, str] = {}
        for table, df in frames.items():
            name = "frame__" + table.replace(".", "__")
            con.register(name, df)
            self.names[table] = name

    def __getitem__(self, table: str) -> str:
        return self.names.get(table, table)

    def exists(self, table: str) -> bool:
        if table in self.names:
            return True
        schema, _, name = table.partition(".")
        return bool(self.con.execute(
            "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
            "and database_name = current_database()", [schema, name]).fetchone()[0]
            + self.con.execute(
            "select count(*) from duckdb_views() where schema_name = ? and view_name = ? "
            "and database_name = current_database()", [schema, name]).fetchone()[0])

    def respondent_keys(self) -> str | None:
        """A temp table of every respondent key (materialised once per run), or None."""
        if not self.exists("raw.survey_respondents"):
            return None
        if self._keys is None:
            self.con.execute("create or replace temp table gate_respondent_keys as select distinct "
                             f"respondent_key as v from {self['raw.survey_respondents']}")
            self._keys = "gate_respondent_keys"
        return self._keys

    def columns(self, table: str) -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in self.con.sql(f"describe select * from {self[table]}").fetchall()]

    def landing_tables(self) -> list[str]:
        """Every raw table with lineage (`_load_id`, `_row_number`): what ingestion lands into."""
        rows = self.con.execute("""
            select t.schema_name || '.' || t.table_name from duckdb_tables() t
            where t.schema_name = 'raw' and t.database_name = current_database()
              and exists (select 1 from duckdb_columns() c where c.table_oid = t.table_oid
                          and c.column_name = '_load_id')
              and exists (select 1 from duckdb_columns() c where c.table_oid = t.table_oid
                          and c.column_name = '_row_number')
            order by 1""").fetchall()
        return [r[0] for r in rows]


def _params(wh: _Warehouse, edition: int) -> dict:
    """What the suites' $placeholders and the checks' SQL are filled with for this run."""
    params = _run_params(wh, edition)
    for name, sql in shared_relations().items():  # may name the run's tables: filled in turn
        params[name] = f"({_sql(sql, params, f'expectations/{name}.sql')})"
    return params


def _run_params(wh: _Warehouse, edition: int) -> dict:
    dim_area = wh["marts.dim_area"]
    wh.con.execute("create or replace temp table gate_compass_areas (area_code varchar)")
    try:  # the compass areas of the edition: what completeness is checked against
        wh.con.execute(f"insert into gate_compass_areas select distinct area_code from {dim_area} "
                       "where is_current_edition and is_compass_area")
        area_edition = wh.con.sql(
            f"select max(area_edition) from {dim_area} where is_current_edition").fetchone()[0]
    except duckdb.Error:  # no usable dim_area: its own suite reports why
        area_edition = None
    compass = [r[0] for r in wh.con.sql(
        "select area_code from gate_compass_areas order by 1").fetchall()]
    landing = wh.landing_tables()
    union = " union all ".join(f"select _load_id, _row_number from {wh[t]}" for t in landing)
    return {
        "edition": edition,
        "area_edition": area_edition if area_edition is not None else -1,
        "compass_areas": compass,
        "n_compass_areas": len(compass),
        "compass_area_table": "gate_compass_areas",
        "dim_indicator": wh["marts.dim_indicator"],
        "dim_area": dim_area,
        "status": wh["marts.mart_compass_status"],
        "development": wh["marts.mart_compass_development"],
        "loads": wh["raw.loads"],
        # rows each load landed (distinct source rows: registry values are one row per cell)
        "landing_rows": (f"(select load_id, count(*) as source_rows from (select distinct "
                         f"_load_id as load_id, _row_number from ({union})) group by 1)")
                        if landing else
                        "(select null::varchar as load_id, 0 as source_rows where false)",
        "quarantine_rows": (
            f"(select load_id, count(*) as quarantined_rows from (select distinct load_id, "
            f"row_number from {wh['raw.quarantine']} where coalesce(scope, 'row') = 'row' "
            f"and row_number is not null) group by 1)") if wh.exists("raw.quarantine") else
            "(select null::varchar as load_id, 0 as quarantined_rows where false)",
        "personal_column_pattern": PERSONAL_COLUMN_PATTERN,
    }


def _sql(template: str, params: dict, where: str = "") -> str:
    """The SQL with its $placeholders filled; an unknown one is named with where it stands."""
    try:
        return Template(template).substitute(
            {k: v for k, v in params.items() if not isinstance(v, list)})
    except (KeyError, ValueError) as error:
        known = ", ".join(f"${k}" for k, v in sorted(params.items()) if not isinstance(v, list))
        raise SuiteError(f"{where}: cannot fill the SQL's placeholders ({error!r}; known: "
                         f"{known}; write $$ for a literal $)") from None


def _relation(table: str, spec: dict, wh: _Warehouse, params: dict) -> str:
    joins = " ".join(_sql(j, params, f"{table}: meta.batch.joins") for j in spec.get("joins", []))
    return f"{wh[table]} as t {joins}"


def _query_with_checks(wh: _Warehouse, build: Callable[[dict[str, str]], str],
                       checks: dict[str, str], table: str) -> tuple[pd.DataFrame, list[Failure]]:
    """Run the batch query; a check that cannot be computed (a planted schema change) is
    reported as a failure of its own and left out instead of failing the whole gate."""
    try:
        return wh.con.sql(build(checks)).df(), []
    except duckdb.Error:
        pass
    good, failures = {}, []
    for name, expr in checks.items():
        try:
            wh.con.sql(build({name: expr}) + " limit 0").fetchall()
            good[name] = expr
        except duckdb.Error as error:
            failures.append(Failure(table, f"derived check {name}", None, "critical", None,
                                    f"could not be computed: {str(error).splitlines()[0]}"))
    try:
        return wh.con.sql(build(good)).df(), failures
    except duckdb.Error as error:
        failures.append(Failure(table, "batch", None, "critical", None,
                                f"could not be read: {str(error).splitlines()[0]}"))
        return None, failures


def _read_columns(suite: dict, available: list[str]) -> list[str]:
    """The table's columns a rows batch needs: those its expectations read, and its grain (to
    name failing rows). Columns nothing reads stay in DuckDB (a national compass mart is a
    million rows: every text column read costs seconds)."""
    wanted = set(suite["meta"].get("grain", []))
    for expectation in suite["expectations"]:
        if (expectation.get("meta") or {}).get("batch") == "columns":
            continue
        kwargs = expectation["kwargs"]
        wanted.update(kwargs.get("column_list", []))
        wanted.update(c for c in (kwargs.get("column"), kwargs.get("column_A"),
                                  kwargs.get("column_B")) if c)
    return [c for c in available if c in wanted]


def _rows_batch(table: str, suite: dict, wh: _Warehouse, params: dict) -> _Batch:
    spec = suite["meta"]["batch"]
    relation = _relation(table, spec, wh, params)
    columns = _read_columns(suite, [c for c, _ in wh.columns(table)])
    star = ", ".join(f"t.{_q(c)}" for c in columns) or "1 as no_columns"
    checks = {name: _sql(sql, params, f"{table}: check {name}")
              for name, sql in derived_checks(suite).items()}
    star += "".join(f", {item}" for item in spec.get("extra", []))

    def build(selected: dict[str, str]) -> str:
        cols = "".join(f",\n coalesce(({expr}), false) as {_q('check__' + name)}"
                       for name, expr in selected.items())
        return f"select {star}{cols} from {relation}"

    frame, errors = _query_with_checks(wh, build, checks, table)
    return _Batch(suite["name"], table, "rows", frame, [], suite["meta"].get("grain", []),
                  suite["meta"].get("unit", "rows"), errors, params["compass_areas"])


def _duplicates_within_groups(source: str, group: list[str], grain: list[str],
                              universe: list[str] | None) -> str:
    """SQL: per group, the rows whose grain repeats (duplicate_key), without grouping the whole
    table by its grain (17 M distinct keys take DuckDB seconds). First the groups that may hold a
    duplicate are found cheaply; only their rows are then grouped by the grain, exactly.

    With `universe` (columns the key set depends on, e.g. area_edition for the fact table, whose
    every indicator x period should hold the same areas), a group is suspect unless it has as
    many rows as the universe has keys and the same sum of key hashes: a repeated key with a
    missing one would need a 64-bit hash collision to pass. Without it, a group is suspect when
    two of its rows share a key hash. A suspect group costs time, never a wrong answer."""
    g = ", ".join(_q(c) for c in group)
    rest = [c for c in grain if c not in group]
    key_hash = f"hash({', '.join(_q(c) for c in rest)})" if rest else "0"
    if universe:
        u = ", ".join(_q(c) for c in universe)
        on = " and ".join(f"grp.{_q(c)} is not distinct from uni.{_q(c)}" for c in universe)
        suspects = (
            f"select {', '.join(f'grp.{_q(c)}' for c in group)} from "
            f"(select {g}, count(*) as n, sum({key_hash}::hugeint) as fp from {source} "
            f"group by all) as grp left join "
            f"(select {u}, count(*) as n, sum(h::hugeint) as fp from "
            f"(select distinct {u}, {key_hash} as h from {source}) group by all) as uni on {on} "
            f"where uni.n is null or grp.n <> uni.n or grp.fp <> uni.fp")
    else:
        suspects = (f"select distinct {g} from (select {g}, {key_hash} as h from {source} "
                    f"group by all having count(*) > 1)")
    on = " and ".join(f"t.{_q(c)} is not distinct from s.{_q(c)}" for c in group)
    keys = ", ".join(f"t.{_q(c)}" for c in dict.fromkeys(group + rest))
    return (f"select {g}, sum(n) - count(*) as duplicate_key from "
            f"(select {keys}, count(*) as n from {source} as t semi join ({suspects}) as s "
            f"on {on} group by all) group by all")


def _group_batch(table: str, suite: dict, wh: _Warehouse, params: dict) -> _Batch:
    spec = suite["meta"]["batch"]
    relation = _relation(table, spec, wh, params)
    group = spec["group_by"]
    grain = suite["meta"].get("grain", [])
    parts = ["count(*) as n_rows"]
    parts += [f"count(*) filter (where t.{_q(c)} is null) as {_q('null__' + c)}"
              for c in spec.get("not_null", [])]
    source = relation
    per_group_duplicates = None
    if grain and spec.get("key_scope", "group") == "group":
        per_group_duplicates = _duplicates_within_groups(wh[table], group, grain,
                                                         spec.get("key_universe"))
    elif grain:  # the grain must be unique over the whole table, not only within a group
        on = " and ".join(f"d.{_q(c)} = t.{_q(c)}" for c in grain)
        cols = ", ".join(_q(c) for c in grain)
        source += (f" left join (select {cols}, true as is_duplicate from {wh[table]} "
                   f"group by all having count(*) > 1) as d on {on}")
        parts.append("count(*) filter (where d.is_duplicate) as duplicate_key")
    parts += [f"{_sql(sql, params, f'{table}: aggregate {name}')} as {_q(name)}"
              for name, sql in spec.get("aggregates", {}).items()]
    checks = {name: _sql(sql, params, f"{table}: check {name}")
              for name, sql in derived_checks(suite).items()}
    keys = ", ".join(f"t.{_q(c)} as {_q(c)}" for c in group)

    def build(selected: dict[str, str]) -> str:
        bad = [f"count(*) filter (where not coalesce(({expr}), false)) as {_q('bad__' + name)}"
               for name, expr in selected.items()]
        main = f"select {keys}, {', '.join(parts + bad)} from {source} group by all"
        if per_group_duplicates is None:
            return f"{main} order by all"
        on = " and ".join(f"m.{_q(c)} is not distinct from d.{_q(c)}" for c in group)
        return (f"select m.*, coalesce(d.duplicate_key, 0) as duplicate_key "
                f"from ({main}) as m left join ({per_group_duplicates}) as d on {on} "
                f"order by all")

    frame, errors = _query_with_checks(wh, build, checks, table)
    return _Batch(suite["name"], table, "per_group", frame, [], group, "rows", errors)


def _columns_holding_respondent_keys(wh: _Warehouse, table: str,
                                    columns: list[tuple[str, str]]) -> set[str]:
    """Text columns of `table` in which some value is a respondent key, whatever the column's name
    (one scan of the table against the keys of raw.survey_respondents)."""
    keys = wh.respondent_keys()
    if keys is None:
        return set()
    text = [c for c, t in columns if t == "VARCHAR"]
    lists = [c for c, t in columns if t == "VARCHAR[]"]
    if not text and not lists:
        return set()
    # one pass for the longest value per column: a column whose values are all shorter than the
    # shortest key cannot hold one (keeps the lookup off the big fact table's short codes)
    shortest = wh.con.sql(f"select min(length(v)) from {keys}").fetchone()[0] or 0
    longest = ", ".join([f"max(length({_q(c)}))" for c in text]
                        + [f"max(list_max(list_transform({_q(c)}, x -> length(x))))"
                           for c in lists])
    lengths = dict(zip(text + lists, wh.con.sql(f"select {longest} from {wh[table]}").fetchone(),
                       strict=True))
    text = [c for c in text if (lengths[c] or 0) >= shortest]
    lists = [c for c in lists if (lengths[c] or 0) >= shortest]
    parts = []
    if text:
        cols = ", ".join(_q(c) for c in text)
        parts.append(f"select col, v from (unpivot (select {cols} from {wh[table]}) "
                     f"on {cols} into name col value v)")
    for c in lists:
        parts.append(f"select '{c.replace(chr(39), chr(39) * 2)}' as col, "
                     f"unnest({_q(c)}) as v from {wh[table]}")
    if not parts:
        return set()
    union = " union all ".join(parts)
    rows = wh.con.sql(f"select distinct col from (select distinct col, v from ({union})) d "
                      f"where d.v in (select v from {keys})").fetchall()
    return {r[0] for r in rows}


def _columns_batch(table: str, suite: dict, wh: _Warehouse, params: dict) -> _Batch:
    columns = wh.columns(table)
    holding = (_columns_holding_respondent_keys(wh, table, columns)
               if suite["meta"].get("exported") else set())
    frame = pd.DataFrame({
        "column_name": [c for c, _ in columns],
        "data_type": [t for _, t in columns],
        "column_spec": [f"{c} {t}" for c, t in columns],
        "holds_respondent_keys": [c in holding for c, _ in columns],
    })
    return _Batch(f"{suite['name']}.columns", table, "columns", frame, [], ["column_name"], "columns")


_BATCHES = {"rows": _rows_batch, "per_group": _group_batch}


def _with_sql_in_notes(expectation: dict) -> dict:
    """A derived check's SQL shown under its notes in the Data Docs, where the report's reader
    sees what was computed (GX renders notes as Markdown)."""
    sql = _check_sql(expectation)
    if sql is None:
        return expectation
    notes = expectation.get("notes") or []
    notes = [notes] if isinstance(notes, str) else list(notes)
    code = "\n".join("    " + line for line in sql.splitlines())
    return {**expectation, "notes": [*notes, "Computed in DuckDB as, per row (`t`: the table):\n\n" + code]}


def _batches_for(table: str, suite: dict, wh: _Warehouse, params: dict) -> list[_Batch]:
    if _uses_contract(suite):
        params = {**params, "dbt_contract": dbt_contract(table)}
    by_batch: dict[str, list[dict]] = {"main": [], "columns": []}
    for expectation in suite["expectations"]:
        on = (expectation.get("meta") or {}).get("batch", "main")
        by_batch[on].append(_with_sql_in_notes(_fill(expectation, params)))
    if not wh.exists(table):
        return [_Batch(suite["name"], table, "missing", None, [], [], errors=[Failure(
            table, "table exists", None, "critical", None,
            "the table is not in the warehouse: run `basismonitor build`")])]
    batches = []
    if by_batch["columns"]:
        batch = _columns_batch(table, suite, wh, params)
        batch.expectations = by_batch["columns"]
        batches.append(batch)
    if by_batch["main"]:
        batch = _BATCHES[suite["meta"]["batch"]["kind"]](table, suite, wh, params)
        batch.expectations = by_batch["main"]
        batches.append(batch)
    return batches


# --- Great Expectations -------------------------------------------------------------------------

def _context(docs_dir: Path | None):
    """One in-memory GX context for the whole run; Data Docs, if asked, go to docs_dir."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = {}
    if docs_dir is not None:
        sites["local_site"] = {
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "site_section_builders": {"profiling": "0"},
        }
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        data_docs_sites=sites,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _severity(config) -> str:
    raw = getattr(config, "severity", "critical")
    return str(getattr(raw, "value", raw)).lower()


def _examples(batch: _Batch, column: str) -> str:
    """A few rows (or groups) that fail a derived check, named by their key columns."""
    frame = batch.frame
    if frame is None or column not in frame or not batch.examples:
        return ""
    keys = [c for c in batch.examples if c in frame.columns]
    if not keys:
        return ""
    if column.startswith("check__"):
        failing = frame.loc[~frame[column].astype(bool), keys]
    elif batch.kind == "per_group":
        failing = frame.loc[frame[column] > 0, keys]
    else:
        return ""
    failing = failing.sort_values(keys).head(3)  # the same examples whatever the row order
    shown = [", ".join(f"{k}={row[k]}" for k in keys) for _, row in failing.iterrows()]
    return ("; e.g. " + " | ".join(shown)) if shown else ""


def _failure(batch: _Batch, res) -> Failure:
    config = res.expectation_config
    details = res.result or {}
    column = config.kwargs.get("column")
    count = details.get("unexpected_count")
    detail: dict = {}
    if config.type == "expect_column_sum_to_be_between" and column != "n_rows":
        count = details.get("observed_value")  # the number of rows failing, summed over groups
        detail["must_be"] = f"sum {config.kwargs.get('min_value')}..{config.kwargs.get('max_value')}"
    elif config.type == "expect_column_unique_value_count_to_be_between" \
            and column == "area_code" and batch.frame is not None and column in batch.frame:
        detail["observed_value"] = details.get("observed_value")
        missing = sorted(set(batch.compass_areas) - set(batch.frame[column].dropna().unique()))
        if missing:
            detail["missing"] = missing[:10]
            detail["n_missing"] = len(missing)
    elif config.type.startswith("expect_column_distinct_values") and batch.frame is not None \
            and column in batch.frame:
        # GX's observed_value is cut short: compare with the batch's own values instead
        expected = set(config.kwargs["value_set"])
        observed = set(batch.frame[column].dropna().unique().tolist())
        if expected - observed:
            detail["missing"] = sorted(expected - observed, key=str)[:10]
            detail["n_missing"] = len(expected - observed)
        if config.type.endswith("equal_set") and observed - expected:
            detail["unexpected"] = sorted(observed - expected, key=str)[:10]
    else:
        for key in ("observed_value", "partial_unexpected_list"):
            value = details.get(key)
            if value is None or (hasattr(value, "__len__") and not isinstance(value, str)
                                 and len(value) == 0):
                continue
            detail[key] = list(value)[:5] if key == "partial_unexpected_list" else value
    if res.exception_info and res.exception_info.get("raised_exception"):
        detail = {"exception": str(res.exception_info.get("exception_message"))[:200]}
    text = json.dumps(detail, default=str)
    if column:
        text += _examples(batch, column)
    return Failure(
        table=batch.table,
        expectation=config.type,
        column=column,
        severity=_severity(config),
        unexpected_count=int(count) if count is not None else None,
        detail=text[:500],
        unit=batch.unit if batch.kind != "per_group" else "rows",
    )


def _validate(batches: Iterable[_Batch], edition: int, docs_dir: Path | None,
              result: GateResult) -> None:
    """Validate every batch in one in-memory context; render the Data Docs once at the end.

    GX's checkpoint and validation-definition machinery saves configuration to its stores on every
    addition; the gate needs none of it, so it runs GX's validator per batch and stores only the
    validation results, which the Data Docs render.
    """
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )
    from great_expectations.validator.v1_validator import Validator

    started = time.perf_counter()
    context = _context(docs_dir)
    definition = (context.data_sources.add_pandas("warehouse")
                  .add_dataframe_asset(name="gate_batch")
                  .add_batch_definition_whole_dataframe("whole table or aggregate"))
    run_id = RunIdentifier(run_name=f"edition {edition}", run_time=datetime.now(UTC))
    store = context.validation_results_store
    result.seconds["gx_setup"] = time.perf_counter() - started
    started = time.perf_counter()
    for batch in batches:
        result.failures.extend(batch.errors)
        rows = _table_rows(batch)
        if rows is not None:
            result.tables[batch.table] = rows
        if batch.frame is None or not batch.expectations:
            continue
        suite = gx.ExpectationSuite(
            name=batch.suite,
            expectations=batch.expectations,
            meta={"table": batch.table, "batch": batch.kind, "edition": edition},
        )
        validator = Validator(batch_definition=definition,
                              batch_parameters={"dataframe": batch.frame},
                              result_format={"result_format": "BASIC"})
        run = validator.validate_expectation_suite(suite)
        for res in run.results:
            result.expectations_run += 1
            if not res.success:
                result.failures.append(_failure(batch, res))
        if docs_dir is not None:
            # the report's status of a suite is the gate's: a failing warning does not fail it
            # (the manifest says passed; each failing expectation still shows as failed)
            run.success = all(r.success or _severity(r.expectation_config) != "critical"
                              for r in run.results)
            context.suites.add(suite)  # the report links each result to its suite's page
            run.meta.update(run_id=run_id, validation_time=run_id.run_time,
                            batch_parameters={"table": batch.table, "batch": batch.kind})
            suite_id = ExpectationSuiteIdentifier(name=batch.suite)
            store.store_validation_results(
                suite_validation_result=run,
                suite_validation_result_identifier=ValidationResultIdentifier(
                    expectation_suite_identifier=suite_id, run_id=run_id,
                    batch_identifier=validator.active_batch_id),
                expectation_suite_identifier=suite_id,
            )
    result.seconds["gx_validate"] = time.perf_counter() - started
    if docs_dir is not None:
        started = time.perf_counter()
        context.build_data_docs()
        make_offline(docs_dir)  # the CDN assets shipped locally: the report works offline
        result.seconds["data_docs"] = time.perf_counter() - started


def _table_rows(batch: _Batch) -> int | None:
    if batch.frame is None:
        return None
    if batch.kind == "per_group":
        return int(batch.frame["n_rows"].sum()) if "n_rows" in batch.frame else None
    if batch.kind == "rows":
        return len(batch.frame)
    return None


def _publish_docs(staging: Path, docs_root: Path, edition: int, run_name: str) -> Path:
    """Move this run's report into docs_root/<edition>/<run>/ and point `latest` at it."""
    folder = Path(docs_root) / str(edition)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / run_name
    os.replace(staging, target)
    link = folder / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(run_name, link)
    os.replace(link, folder / "latest")
    return target


def _compute_batches(warehouse: Path, edition: int, suites: dict[str, dict],
                     frames: dict[str, pd.DataFrame], threads: int | None,
                     out: queue.Queue) -> None:
    """The DuckDB half of the gate, run in its own thread: put each suite's batches on `out`."""
    try:
        with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
            if threads:
                con.execute(f"set threads = {int(threads)}")
            wh = _Warehouse(con, frames)
            params = _params(wh, edition)
            for table, suite in suites.items():
                for batch in _batches_for(table, suite, wh, params):
                    out.put(batch)
    except BaseException as error:  # handed to the caller's thread, raised there
        out.put(error)
    finally:
        out.put(None)


def _drain(out: queue.Queue, result: GateResult) -> Iterator[_Batch]:
    waited = 0.0
    while True:
        started = time.perf_counter()
        item = out.get()
        waited += time.perf_counter() - started
        result.seconds["waiting_for_duckdb"] = waited
        if item is None:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


def validate_warehouse(
    warehouse: Path,
    edition: int,
    *,
    docs_root: Path | None = None,
    suites: dict[str, dict] | None = None,
    frames: dict[str, pd.DataFrame] | None = None,
    progress: Callable[[str], None] = print,
    threads: int | None = None,
) -> GateResult:
    """Validate every table that has a suite; write Data Docs; return the result.

    Data problems never raise: they are failures in the result (raising `GateFailed(result)` is
    the caller's part). With `docs_root`, this run's Data Docs are kept in
    docs_root/<edition>/<run>/ (docs_root/<edition>/latest points at the newest) and
    `result.docs_dir` is that folder. `frames` hand in DataFrames that replace the tables they
    name (tests plant violations that way); everything else is read from the warehouse read-only.
    `threads` limits DuckDB's threads (default: all cores).
    """
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    started = time.perf_counter()
    suites = suites if suites is not None else load_suites()
    result = GateResult(edition=edition)
    # DuckDB computes the batches in a thread of its own (it releases the GIL) while this thread
    # imports GX and validates the batches already computed
    out: queue.Queue = queue.Queue()
    worker = threading.Thread(target=_compute_batches, name="gate-duckdb", daemon=True,
                              args=(warehouse, edition, suites, dict(frames or {}), threads, out))
    worker.start()

    docs_staging = None
    run_name = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
    if docs_root is not None:
        docs_staging = Path(docs_root) / str(edition) / f".staging-{run_name}"
        docs_staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        _validate(_drain(out, result), edition, docs_staging, result)
        if docs_staging is not None and docs_staging.exists():
            (docs_staging / "gate_result.json").write_text(
                json.dumps(result.as_dict(), indent=2, default=str) + "\n", encoding="utf-8")
            result.docs_dir = _publish_docs(docs_staging, Path(docs_root), edition, run_name)
    finally:
        worker.join()
        if docs_staging is not None and docs_staging.exists():
            shutil.rmtree(docs_staging, ignore_errors=True)
    for table in suites:
        failing = [f for f in result.failures if f.table == table]
        rows = result.tables.get(table)
        progress(f"  validated {table}: "
                 + (f"{rows:,} rows, " if rows is not None else "")
                 + f"{sum(f.severity == 'critical' for f in failing)} critical, "
                 f"{sum(f.severity != 'critical' for f in failing)} warning(s)")
    result.seconds["total"] = time.perf_counter() - started
    return result


