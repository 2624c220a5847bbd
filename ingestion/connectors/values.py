"""Land wide value columns long in raw.registry_values (one row per area x variable).

Each cell is classified in SQL: a missing code (``.``, ``-99999999``, ``geheim`` ...) becomes
value NULL with its missing_reason; an empty cell 'empty'; a number in the declared decimal style
a value; anything else -- text, a decimal comma where a point is declared, a negative count --
value NULL, missing_reason 'invalid' and a cell entry in the quarantine with the delivered text.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..context import (
    PROBLEMS,
    LoadContext,
    codes_case_sql,
    glob_to_regex,
    not_a_number_reason_sql,
    number_check_sql,
    number_value_sql,
)
from ..sqlutil import ident, lit


def land_values(ctx: LoadContext, source_table: str, value_cols: Sequence[str], *,
                empty_reason: str = "empty", variable_names: dict[str, str] | None = None) -> int:
    """Unpivot value_cols of source_table (which has _row_number, area_code, area_level,
    area_name, period) into raw.registry_values; returns the number of values landed."""
    if not value_cols:
        return 0
    names = variable_names or {}
    cols = ", ".join(ident(c) for c in value_cols)
    ctx.con.execute(f"""
        create or replace temp table _long as
        select _row_number, period, area_code, area_level, area_name, variable, value_raw,
               nullif(trim(value_raw), '') as t
        from (select _row_number, period, area_code, area_level, area_name,
                     {', '.join(f'cast({ident(c)} as varchar) as {ident(c)}' for c in value_cols)}
              from {source_table})
        unpivot include nulls (value_raw for variable in ({cols}))""")
    if names:
        whens = " ".join(f"when {lit(k)} then {lit(v)}" for k, v in names.items())
        ctx.con.execute(f"update _long set variable = case variable {whens} else variable end")
    return classify_and_land(ctx, empty_reason=empty_reason)


def classify_and_land(ctx: LoadContext, *, empty_reason: str = "empty") -> int:
    """Classify temp table _long (_row_number, period, area_code, area_level, area_name,
    variable, value_raw, t = trimmed text) and land it in raw.registry_values."""
    decimal = ctx.opt("decimal", ".")
    codes = {str(k).strip(): v for k, v in (ctx.opt("missing_codes") or {}).items()}
    nonneg = glob_to_regex(ctx.opt("nonnegative") or [])
    value_map = {str(k).lower(): v for k, v in (ctx.opt("value_map") or {}).items()}
    mapped = "NULL"
    if value_map:
        whens = []
        for var, mapping in value_map.items():
            for text, number in (mapping or {}).items():
                whens.append(f"when variable = {lit(var)} and upper(t) = {lit(str(text).upper())} "
                             f"then {float(number)!r}")
        mapped = "case " + " ".join(whens) + " else NULL end" if whens else "NULL"
    is_number = number_check_sql("t", decimal)
    number = number_value_sql("t", decimal)
    negative_bad = (f"(regexp_full_match(variable, {lit(nonneg)}) and {number} < 0)"
                    if nonneg else "false")
    code = codes_case_sql("t", codes)
    ctx.con.execute(f"""
        create or replace temp table _classified as
        select *,
            case when t is null then {lit(empty_reason)}
                 when ({code}) is not null then ({code})
                 when ({mapped}) is not null then NULL
                 when {is_number} and not {negative_bad} then NULL
                 else 'invalid' end as missing_reason,
            case when t is null or ({code}) is not null then NULL
                 when ({mapped}) is not null then ({mapped})
                 when {is_number} and not {negative_bad} then {number}
                 else NULL end as value,
            case when t is null or ({code}) is not null or ({mapped}) is not null then NULL
                 when {is_number} and {negative_bad} then
                     variable || ' ' || '''' || t || ''' is negative: a count cannot be negative'
                 when {is_number} then NULL
                 else {not_a_number_reason_sql('t', decimal, 'variable')} end as problem
        from _long""")
    ctx.con.execute(f"""
        insert into {PROBLEMS} (_row_number, column_name, value, reason, scope)
        select _row_number, variable, value_raw, problem, 'cell'
        from _classified where problem is not null""")
    ctx.con.execute(f"""
        insert into raw.registry_values (period, area_code, area_level, area_name, variable,
            value_raw, value, missing_reason, _source, _file, _sha256, _row_number, _load_id,
            _loaded_at)
        select period, area_code, area_level, area_name, variable, value_raw, value,
               missing_reason, {ctx.lineage('_row_number')}
        from _classified order by _row_number, variable""")
    n = ctx.count("select count(*) from _classified")
    variables = [v for (v,) in ctx.con.execute(
        "select distinct variable from _classified order by 1").fetchall()]
    unbound = [v for v in variables if v not in bound_variables(ctx.source.name)]
    if unbound:
        ctx.notes.append(f"{len(unbound)} of {len(variables)} variables landed, bound to no "
                         f"indicator (dbt_project/seeds/registry_bindings.csv): "
                         + ", ".join(unbound))
    ctx.con.execute("drop table _long; drop table _classified")
    return n


def bound_variables(source: str) -> set[str]:
    """The variables of a source that the seed registry_bindings binds to an indicator."""
    import csv

    from basismonitor.config import DBT_PROJECT_DIR

    path = DBT_PROJECT_DIR / "seeds" / "registry_bindings.csv"
    if not path.exists():  # an installed package without the dbt project: nothing to compare
        return set()
    with path.open(newline="", encoding="utf-8") as f:
        return {r["variable"].lower() for r in csv.DictReader(f) if r["source"] == source}
