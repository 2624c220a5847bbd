"""Registry figures per area: CBS Kerncijfers wijken en buurten CSV (``registry_kwb``) and CBS
OData JSON (``registry_odata``), both landing long in raw.registry_values."""

from __future__ import annotations

from ..context import STG, Counts, LoadContext
from ..reader import Columns, norm, stage
from ..sqlutil import ident, lit
from .values import classify_and_land, land_values

RECS = {"gemeente": "gemeente", "wijk": "wijk", "buurt": "buurt"}
PREFIX_LEVEL = "case when {c} like 'GM%' then 'gemeente' when {c} like 'WK%' then 'wijk' " \
               "when {c} like 'BU%' then 'buurt' end"


def land(ctx: LoadContext) -> Counts:
    if ctx.source.kind == "registry_odata":
        return _land_odata(ctx)
    return _land_kwb(ctx)


def _id_columns(ctx: LoadContext) -> list[str]:
    return [norm(c) for c in (ctx.opt("id_columns") or [])]


def _land_kwb(ctx: LoadContext) -> Counts:
    mapping = {"gwb_code": "gwb_code", "regio": "regio", "recs": "recs",
               **(ctx.opt("columns") or {})}
    ids = [c for c in _id_columns(ctx) if c not in {norm(v) for v in mapping.values()}]
    st = stage(ctx, Columns(required=["gwb_code", "regio", "recs"], optional=ids,
                            mapping=mapping, extras="keep",
                            ignore=[str(i) for i in ctx.opt("ignore_columns") or []]))
    code_col, recs_col = st.columns["gwb_code"], st.columns["recs"]
    code = f"trim(s.{ident(code_col)})"
    level = f"lower(trim(s.{ident(recs_col)}))"
    ctx.check_required({code_col: ctx.headers[code_col]})
    recs_label = ctx.headers[recs_col]
    ctx.problems(f"""select s._row_number, {lit(recs_label)}, s.{ident(recs_col)},
        {lit(recs_label)} || ' ' || coalesce('''' || s.{ident(recs_col)} || '''', '(empty)') ||
        ' is not Gemeente, Wijk or Buurt', 'row'
        from {STG} s where {level} is null or {level} not in ('gemeente', 'wijk', 'buurt')""")
    prefix = PREFIX_LEVEL.format(c=code)
    ctx.problems(f"""select s._row_number, {lit(ctx.headers[code_col])}, s.{ident(code_col)},
        'code ' || {code} || ' is not a ' || {level} || ' code (GM/WK/BU prefix)', 'row'
        from {ctx.good()} and {level} in ('gemeente', 'wijk', 'buurt')
          and ({prefix}) is distinct from {level}""")
    ctx.check_duplicates([code_col], "area code")
    if ctx.areas_source():
        ctx.check_areas(code_col)
    value_cols = [c for c in st.extras if c not in ids]
    return _finish(ctx, value_cols, code, level, f"trim(s.{st.col('regio')})")


def _finish(ctx: LoadContext, value_cols: list[str], code: str, level: str, name: str,
            empty_reason: str = "empty") -> Counts:
    cols = ", ".join(f"s.{ident(c)}" for c in value_cols)
    ctx.con.execute(f"""create or replace temp table _reg_rows as
        select s._row_number, {ctx.period} as period, {code} as area_code,
               {level} as area_level, {name} as area_name{', ' + cols if cols else ''}
        from {ctx.good()}""")
    landed = ctx.count("select count(*) from _reg_rows")
    land_values(ctx, "_reg_rows", value_cols, empty_reason=empty_reason)
    return ctx.finish(landed)


def _land_odata(ctx: LoadContext) -> Counts:
    ids = _id_columns(ctx)
    st = stage(ctx, Columns(required=["wijkenenbuurten", "perioden"],
                            optional=[c for c in ids + ["measure", "value"]
                                      if c not in ("wijkenenbuurten", "perioden")],
                            extras="keep"))
    area_col = st.columns["wijkenenbuurten"]
    code = f"trim(s.{ident(area_col)})"
    prefix = PREFIX_LEVEL.format(c=code)
    label = ctx.headers[area_col]
    ctx.check_required({area_col: label})
    ctx.check_period_column(st.columns["perioden"], lit(str(ctx.period)),
                            f"{ctx.period}JJ00",
                            parse_sql="regexp_replace(trim({col}), 'JJ00$', '')")
    ctx.problems(f"""select s._row_number, {lit(label)}, s.{ident(area_col)},
        {lit(label)} || ' ' || coalesce('''' || {code} || '''', '(empty)') ||
        ' is not a CBS gemeente, wijk or buurt code (GM/WK/BU)', 'row'
        from {ctx.good()} and ({prefix}) is null""")
    null_reason = str(ctx.opt("null_reason", "hidden"))
    long = st.has("measure") and st.has("value")
    if long:   # OData v4 Observations: one row per area x measure
        ctx.check_duplicates([area_col, st.columns["measure"]], "area and measure")
        if ctx.areas_source():
            ctx.check_areas(area_col)
        ctx.con.execute(f"""create or replace temp table _long as
            select s._row_number, {ctx.period} as period, {code} as area_code,
                   {prefix} as area_level, NULL::varchar as area_name,
                   lower(trim(s.{st.col('measure')})) as variable,
                   s.{st.col('value')} as value_raw, nullif(trim(s.{st.col('value')}), '') as t
            from {ctx.good()}""")
        landed = ctx.count("select count(*) from _long")
        classify_and_land(ctx, empty_reason=null_reason)
        return ctx.finish(landed)
    ctx.check_duplicates([area_col], "area code")
    if ctx.areas_source():
        ctx.check_areas(area_col)
    value_cols = [c for c in st.extras if c not in ids]
    name = f"trim(s.{st.col('gemeentenaam_1')})" if st.has("gemeentenaam_1") else "NULL"
    name = f"case when ({prefix}) = 'gemeente' then {name} end" if name != "NULL" else name
    return _finish(ctx, value_cols, code, prefix, name, empty_reason=null_reason)
