"""Population register extract (counts by buurt x age group x sex) -> raw.population."""

from __future__ import annotations

from ..context import Counts, LoadContext, count_check_sql, not_a_count_case_sql
from ..reader import stage_kind
from ..sqlutil import in_list, lit

COLUMNS = {"reference_date": "peildatum", "area_code": "buurt_code",
           "age_group": "leeftijdsklasse", "sex": "geslacht", "population": "aantal"}
AGE_GROUPS = ("0-14", "15-24", "25-44", "45-64", "65+")
DATE = "try_strptime(trim({col}), '%Y-%m-%d')::date"


def land(ctx: LoadContext) -> Counts:
    _, label = stage_kind(ctx, COLUMNS, defaults=COLUMNS)
    ctx.check_required({c: label[c] for c in COLUMNS})
    date = DATE.format(col="s.reference_date")
    ctx.problems(f"""select s._row_number, {lit(label['reference_date'])}, s.reference_date,
        {lit(label['reference_date'])} || ' ''' || trim(s.reference_date) ||
        ''' is not a date (YYYY-MM-DD)', 'row'
        from {ctx.good()} and {date} is null""")
    ctx.problems(f"""select s._row_number, {lit(label['reference_date'])}, s.reference_date,
        {lit(label['reference_date'])} || ' ' || {date} || ' lies in the future (today is '
        || {lit(ctx.today.isoformat())} || ')', 'row'
        from {ctx.good()} and {date} > DATE {lit(ctx.today.isoformat())}""")
    ctx.check_period_column("reference_date", f"DATE '{ctx.period}-01-01'",
                            f"{ctx.period}-01-01", parse_sql=DATE)
    ctx.problems(f"""select s._row_number, {lit(label['age_group'])}, s.age_group,
        {lit(label['age_group'])} || ' ''' || trim(s.age_group) || ''' is not one of
        {', '.join(AGE_GROUPS)}', 'row'
        from {ctx.good()} and trim(s.age_group) not in {in_list(AGE_GROUPS)}""")
    ctx.problems(f"""select s._row_number, {lit(label['sex'])}, s.sex,
        {lit(label['sex'])} || ' ''' || trim(s.sex) || ''' is not M or V', 'row'
        from {ctx.good()} and upper(trim(s.sex)) not in ('M', 'V')""")
    n = "trim(s.population)"
    decimal = (f"when regexp_full_match({n}, '^[+-]?[0-9]+[.,][0-9]+$') "
               "then 'is not a whole number (decimal separator in a count)' else 'is not a number'")
    ctx.problems(f"""select s._row_number, {lit(label['population'])}, s.population,
        {lit(label['population'])} || ' ''' || {n} || ''' ' ||
        {not_a_count_case_sql(n, decimal)}, 'row'
        from {ctx.good()} and not ({count_check_sql(n)})""")
    ctx.check_duplicates(["area_code", "age_group", "sex"], "buurt x age group x sex")
    if ctx.areas_source():
        ctx.check_areas("area_code", level="buurt")
    ctx.con.execute(f"""insert into raw.population (period, reference_date, area_code, age_group,
            sex, population, _source, _file, _sha256, _row_number, _load_id, _loaded_at)
        select {ctx.period}, {date}, trim(s.area_code), trim(s.age_group), upper(trim(s.sex)),
               try_cast({n} as bigint), {ctx.lineage()}
        from {ctx.good()} order by s._row_number""")
    landed = ctx.count(f"select count(*) from raw.population where _load_id = {lit(ctx.load_id)}")
    return ctx.finish(landed)
