"""Police registered crime per buurt (CBS 47018NED style) -> raw.police_crimes."""

from __future__ import annotations

from ..context import (
    STG,
    Counts,
    LoadContext,
    codes_case_sql,
    count_check_sql,
    not_a_count_case_sql,
)
from ..reader import stage_kind
from ..sqlutil import lit

COLUMNS = {"area_code": "WijkenEnBuurten", "period": "Perioden", "crime_type": "SoortMisdrijf",
           "crimes": "GeregistreerdeMisdrijven_1"}


def land(ctx: LoadContext) -> Counts:
    _, label = stage_kind(ctx, COLUMNS, defaults=COLUMNS)
    ctx.check_required({"area_code": label["area_code"], "crime_type": label["crime_type"]})
    ctx.check_period_column("period", lit(str(ctx.period)), f"{ctx.period}JJ00",
                            parse_sql="regexp_replace(trim({col}), 'JJ00$', '')")
    ctx.check_duplicates(["area_code", "crime_type"], "area and crime type")
    if ctx.areas_source():
        ctx.check_areas("area_code")
    t = "nullif(trim(s.crimes), '')"
    code = codes_case_sql(t, {str(k): v for k, v in (ctx.opt("missing_codes") or {}).items()})
    ok = count_check_sql(t)
    ctx.problems(f"""select s._row_number, {lit(label['crimes'])}, s.crimes,
        {lit(label['crimes'])} || ' ''' || {t} || ''' ' ||
        {not_a_count_case_sql(t, "else 'is not a whole number'")}
        || '; landed as missing (invalid)', 'cell'
        from {ctx.good()} and {t} is not null and ({code}) is null and not ({ok})""")
    ctx.con.execute(f"""insert into raw.police_crimes (period, area_code, crime_type, crimes,
            missing_reason, _source, _file, _sha256, _row_number, _load_id, _loaded_at)
        select {ctx.period}, trim(s.area_code), trim(s.crime_type),
               case when {t} is not null and ({code}) is null and {ok}
                    then try_cast({t} as bigint) end,
               case when {t} is null then 'empty' when ({code}) is not null then ({code})
                    when {ok} then NULL else 'invalid' end,
               {ctx.lineage()}
        from {ctx.good()} order by s._row_number""")
    landed = ctx.count(f"select count(*) from raw.police_crimes where _load_id = "
                       f"{lit(ctx.load_id)}")
    return ctx.finish(landed, raw_row_table=STG)
