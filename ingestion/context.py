"""State of one load: lineage, the problems found, the quarantine and the reconciliation."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb

from .config import FileSpec, SourceConfig, SourcesConfig
from .errors import IngestionError
from .scan import FileScan
from .sqlutil import ident, lit

# Temp tables of a load (one load per connection).
STG = "stg"
PROBLEMS = "_problems"


@dataclass
class Counts:
    rows_read: int
    rows_landed: int
    rows_quarantined: int
    cells_quarantined: int = 0


@dataclass
class LoadContext:
    con: duckdb.DuckDBPyConnection
    config: SourcesConfig
    source: SourceConfig
    spec: FileSpec
    load_id: str
    period: int
    path: Path
    file_label: str
    sha256: str
    loaded_at: datetime
    scan: FileScan | None = None
    workdir: Path | None = None
    today: date = field(default_factory=date.today)
    notes: list[str] = field(default_factory=list)
    rows_read: int = 0
    # stg column -> delivered header (for the raw row and messages)
    headers: dict[str, str] = field(default_factory=dict)
    personal: dict[str, str] = field(default_factory=dict)   # stg column -> masking SQL

    # -- errors ---------------------------------------------------------------------------------
    def error(self, message: str, *, row: int | None = None, column: str | None = None,
              hint: str | None = None) -> IngestionError:
        return IngestionError(message, file=self.path, row=row, column=column, hint=hint)

    def opt(self, key: str, default=None):
        return self.spec.get(key, default)

    # -- lineage --------------------------------------------------------------------------------
    def lineage(self, row_number: str = "s._row_number") -> str:
        return (f"{lit(self.source.name)} as _source, {lit(self.file_label)} as _file, "
                f"{lit(self.sha256)} as _sha256, {row_number} as _row_number, "
                f"{lit(self.load_id)} as _load_id, "
                f"TIMESTAMP {lit(self.loaded_at.isoformat(sep=' '))} as _loaded_at")

    # -- problems -------------------------------------------------------------------------------
    def start(self) -> None:
        self.con.execute(f"""create or replace temp table {PROBLEMS} (
            _row_number bigint, column_name varchar, value varchar, reason varchar not null,
            scope varchar not null, raw_row varchar)""")

    def problems(self, select_sql: str) -> None:
        """Record problems: select_sql yields (_row_number, column_name, value, reason, scope)."""
        self.con.execute(f"insert into {PROBLEMS} (_row_number, column_name, value, reason, scope) "
                         f"{select_sql}")

    def file_problem(self, reason: str, column: str | None = None, value: str | None = None) -> None:
        self.con.execute(f"insert into {PROBLEMS} values (NULL, ?, ?, ?, 'file', NULL)",
                         [column, value, reason])

    def bad_rows(self) -> str:
        """SQL set of the row numbers rejected as a whole."""
        return f"(select _row_number from {PROBLEMS} where scope = 'row')"

    def good_filter(self, alias: str = "s") -> str:
        """WHERE condition: the row was not rejected as a whole (no anti-join at all while
        nothing is rejected: the common case, and the fast one for a national file)."""
        rejected = self.con.execute(f"select count(*) from {PROBLEMS} where scope = 'row'"
                                    ).fetchone()[0]
        if not rejected:
            return "true"
        return (f"{alias}._row_number not in "
                f"(select _row_number from {PROBLEMS} where scope = 'row')")

    def good(self, alias: str = "s", table: str = STG) -> str:
        """FROM-clause: the staged rows that no row-level problem rejected."""
        return f"{table} {alias} where {self.good_filter(alias)}"

    def raw_row_sql(self, alias: str = "s") -> str:
        """JSON object of the row as delivered (personal columns masked)."""
        if not self.headers:
            return "NULL"
        parts = []
        for col, header in self.headers.items():
            expr = self.personal.get(col, f"{alias}.{ident(col)}")
            parts.append(f"{ident(header or col)} := {expr}")
        return f"to_json(struct_pack({', '.join(parts)}))::varchar"

    # -- reference data -------------------------------------------------------------------------
    def areas_source(self) -> str | None:
        value = self.opt("areas_source")
        return str(value) if value else None

    def area_edition(self, at: int | None = None, *, exact: bool = False) -> int:
        """The edition of the areas source valid at a period (latest edition <= period)."""
        source = self.areas_source()
        at = self.period if at is None else at
        if exact:
            row = self.con.execute("select max(edition) from raw.areas where _source = ? "
                                   "and edition = ?", [source, at]).fetchone()
        else:
            row = self.con.execute("select max(edition) from raw.areas where _source = ? "
                                   "and edition <= ?", [source, at]).fetchone()
        if row is None or row[0] is None:
            loaded = [r[0] for r in self.con.execute(
                "select distinct edition from raw.areas where _source = ? order by 1",
                [source]).fetchall()]
            what = f"edition {at}" if exact else f"an edition <= {at}"
            have = (f"loaded editions: {', '.join(map(str, loaded))}" if loaded
                    else "no areas of that source are loaded at all")
            raise self.error(
                f"area codes cannot be checked: no area division of source {source!r} with "
                f"{what} is loaded ({have})",
                hint=f"load the areas first (basismonitor ingest {source}), then this file",
            )
        return int(row[0])

    def check_areas(self, column: str, *, level: str | None = None, at: int | None = None,
                    exact: bool = False, label: str | None = None) -> int:
        """Row problems for codes in stg.column that are not areas of the valid edition."""
        edition = self.area_edition(at, exact=exact)
        source = self.areas_source()
        col = ident(column)
        level_sql = f" and a.area_level = {lit(level)}" if level else ""
        what = f"a {level}" if level else "an area"
        name = label or self.headers.get(column, column)
        self.problems(f"""
            select s._row_number, {lit(name)}, s.{col},
                   'unknown area code ' || coalesce('''' || trim(s.{col}) || '''', '(empty)') ||
                   ': not {what} of area edition {edition} (source {source})', 'row'
            from {self.good()} and not exists (
                select 1 from raw.areas a where a._source = {lit(source)}
                and a.edition = {edition} and a.area_code = trim(s.{col}){level_sql})""")
        return edition

    def check_required(self, columns: Mapping[str, str]) -> None:
        """Row problems for empty required cells: {stg column: label}."""
        for col, label in columns.items():
            self.problems(f"""select s._row_number, {lit(label)}, s.{ident(col)},
                {lit(f'{label} is empty: a required value')}, 'row'
                from {STG} s where nullif(trim(s.{ident(col)}), '') is null""")

    def check_duplicates(self, key: Sequence[str], what: str) -> None:
        """Every row of a key that occurs more than once is rejected (which one is right is
        not ours to guess)."""
        cols = ", ".join(f"trim(s.{ident(c)})" for c in key)
        labels = ", ".join(self.headers.get(c, c) for c in key)
        join = " and ".join(f"d.k{i} is not distinct from trim(s.{ident(c)})"
                            for i, c in enumerate(key))
        keys = ", ".join(f"trim(s.{ident(c)}) as k{i}" for i, c in enumerate(key))
        self.problems(f"""
            with d as (
                select {keys}, string_agg(s._row_number::varchar, ', '
                                          order by s._row_number) as row_list
                from {self.good()} group by all having count(*) > 1)
            select s._row_number, {lit(labels)}, concat_ws(' / ', {cols}),
                   'duplicate {what}: ' || concat_ws(' / ', {cols}) || ' occurs in rows '
                   || d.row_list || '; every copy is quarantined, deliver one row per key', 'row'
            from {STG} s join d on {join}
            where not exists (select 1 from {PROBLEMS} p
                              where p.scope = 'row' and p._row_number = s._row_number)""")

    def check_period_column(self, column: str, expected_sql: str, shown: str,
                            parse_sql: str | None = None) -> None:
        """Rows whose period column differs from the folder's period are rejected; when no row
        (of those not rejected already) matches, the whole file belongs elsewhere and fails."""
        col = f"s.{ident(column)}"
        value = parse_sql.format(col=col) if parse_sql else f"trim({col})"
        label = self.headers.get(column, column)
        n_total, n_match, example = self.con.execute(f"""
            select count(*), count(*) filter (where {value} = {expected_sql}),
                   mode(trim({col})) from {self.good()}""").fetchone()
        if n_total and not n_match:
            raise self.error(
                f"{label} is {example!r} in this file, but the file is delivered for period "
                f"{self.period} (expected {shown})",
                column=label,
                hint=f"move the file to the folder of its own period, or load it with --period "
                     f"matching {label}",
            )
        self.problems(f"""select s._row_number, {lit(label)}, {col},
            {lit(label)} || ' is ' || coalesce('''' || trim({col}) || '''', '(empty)') ||
            ' but the file is for period {self.period} (expected {shown})', 'row'
            from {self.good()} and ({value}) is distinct from {expected_sql}""")

    # -- finish ---------------------------------------------------------------------------------
    def finish(self, rows_landed: int, *, raw_row_table: str = STG) -> Counts:
        """Write the quarantine and reconcile rows_read = rows_landed + rows_quarantined."""
        if not self.count(f"select count(*) from {PROBLEMS}"):
            counts = Counts(self.rows_read, rows_landed, 0, 0)
            if counts.rows_read != counts.rows_landed:
                raise self.error(
                    f"reconciliation failed: {counts.rows_read} rows read but "
                    f"{counts.rows_landed} landed and none quarantined (an ingestion bug)",
                    hint="report this with the file; nothing was landed")
            return counts
        has_stg = raw_row_table and self._exists(raw_row_table)
        raw = self.raw_row_sql("s") if has_stg else "NULL"
        join = (f"left join (select * from {raw_row_table} where _row_number in "
                f"(select _row_number from {PROBLEMS})) s on s._row_number = p._row_number"
                if has_stg else "")
        self.con.execute(f"""
            insert into raw.quarantine (load_id, source, file_path, row_number, column_name,
                value, reason, raw_row, quarantined_at, scope)
            select {lit(self.load_id)}, {lit(self.source.name)}, {lit(self.file_label)},
                   p._row_number, p.column_name, p.value, p.reason,
                   coalesce(p.raw_row, {raw}),
                   TIMESTAMP {lit(self.loaded_at.isoformat(sep=' '))}, p.scope
            from {PROBLEMS} p {join}
            order by p._row_number nulls first, p.column_name""")
        rows_q, cells_q = self.con.execute(f"""
            select count(distinct _row_number) filter (where scope = 'row'),
                   count(*) filter (where scope = 'cell')
            from {PROBLEMS}""").fetchone()
        counts = Counts(self.rows_read, rows_landed, int(rows_q), int(cells_q))
        if counts.rows_read != counts.rows_landed + counts.rows_quarantined:
            raise self.error(
                f"reconciliation failed: {counts.rows_read} rows read but {counts.rows_landed} "
                f"landed + {counts.rows_quarantined} quarantined (an ingestion bug)",
                hint="report this with the file; nothing was landed",
            )
        return counts

    def _exists(self, table: str) -> bool:
        return bool(self.con.execute(
            "select count(*) from (select table_name from duckdb_tables() where temporary "
            "union all select view_name from duckdb_views() where temporary) where table_name = ?",
            [table]).fetchone()[0])

    def count(self, sql: str) -> int:
        return int(self.con.execute(sql).fetchone()[0])


# -- value parsing ------------------------------------------------------------------------------

NUMBER_POINT = r"^[+-]?[0-9]+(\.[0-9]+)?$"
NUMBER_COMMA = r"^[+-]?[0-9]+(,[0-9]+)?$"
INTEGER = r"^[+-]?[0-9]+$"
WITH_COMMA = r"^[+-]?[0-9]+,[0-9]+$"      # a number that has a decimal comma
WITH_POINT = r"^[+-]?[0-9]+\.[0-9]+$"    # a number that has a decimal point


def number_check_sql(t: str, decimal: str) -> str:
    """SQL boolean: the trimmed text t is a number in the declared decimal style."""
    return f"regexp_full_match({t}, {lit(NUMBER_COMMA if decimal == ',' else NUMBER_POINT)})"


def count_check_sql(t: str) -> str:
    """SQL boolean: the trimmed text t is a count (a whole number >= 0 that fits 64 bits)."""
    return f"regexp_full_match({t}, {lit(INTEGER)}) and coalesce(try_cast({t} as bigint) >= 0, false)"


def not_a_count_case_sql(t: str, otherwise: str) -> str:
    """SQL CASE: why the text t, which is not a count, is not: negative, beyond the range of a
    count, else as the remaining branches `otherwise` say (``when ... then ... else ...``)."""
    return (f"case when regexp_full_match({t}, {lit(INTEGER)}) and {t} like '-%' "
            "then 'is negative: a count cannot be negative' "
            f"when regexp_full_match({t}, {lit(INTEGER)}) "
            f"then 'is beyond the range of a count (a 64-bit whole number)' {otherwise} end")


def number_value_sql(t: str, decimal: str) -> str:
    if decimal == ",":
        return f"try_cast(replace({t}, ',', '.') as double)"
    return f"try_cast({t} as double)"


def not_a_number_reason_sql(t: str, decimal: str, label_sql: str) -> str:
    """SQL text: why t is not a number (decimal style named when that is the problem)."""
    other, other_name = ((WITH_POINT, "decimal point") if decimal == ","
                         else (WITH_COMMA, "decimal comma"))
    declared = "decimal comma" if decimal == "," else "decimal point"
    return (f"case when regexp_full_match({t}, {lit(other)}) then {label_sql} || ' ' || "
            f"'''' || {t} || ''' has a {other_name} but the source declares a {declared}' "
            f"else {label_sql} || ' ' || '''' || {t} || ''' is not a number' end")


def codes_case_sql(t: str, codes: Mapping[str, str]) -> str:
    """SQL: the missing_reason of a code cell, NULL when t is no code. Numeric codes also match
    their float spelling (CBS files written by pandas have -99999999.0)."""
    if not codes:
        return "NULL"
    whens = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in codes.items())
    numeric = {}
    for k, v in codes.items():
        try:
            numeric[float(k)] = v
        except ValueError:
            continue
    inner = "NULL"
    if numeric:
        nwhens = " ".join(f"when {k!r} then {lit(v)}" for k, v in numeric.items())
        inner = f"case try_cast(replace({t}, ',', '.') as double) {nwhens} else NULL end"
    return f"case {t} {whens} else {inner} end"


def glob_to_regex(patterns: Iterable[str]) -> str | None:
    parts = [re.escape(p.lower()).replace(r"\*", ".*").replace(r"\?", ".") for p in patterns]
    return "^(" + "|".join(parts) + ")$" if parts else None
