"""Registrations of the municipality's own programmes (buurtbemiddeling, straathoekwerk,
buurtconcierges, buurtinitiatieven) -> raw.activity_registrations, programme = source name."""

from __future__ import annotations

from ..context import NUMBER_COMMA, NUMBER_POINT, WITH_COMMA, WITH_POINT, Counts, LoadContext
from ..reader import stage_kind
from ..sqlutil import in_list, lit

REQUIRED = ("registration_id", "event_date", "area_code")
OPTIONAL = ("category", "outcome", "amount_requested", "amount_granted", "age_group")
DATE = ("coalesce(try_strptime(trim({col}), '%Y-%m-%d'), "
        "try_strptime(trim({col}), '%Y-%m-%d %H:%M:%S'))::date")


def land(ctx: LoadContext) -> Counts:
    st, label = stage_kind(ctx, REQUIRED, OPTIONAL)
    ctx.check_required({c: label[c] for c in REQUIRED})
    date = DATE.format(col="s.event_date")
    lab = lit(label["event_date"])
    ctx.problems(f"""select s._row_number, {lab}, s.event_date,
        {lab} || ' ''' || trim(s.event_date) || ''' is not a date (YYYY-MM-DD)', 'row'
        from {ctx.good()} and {date} is null""")
    today = ctx.today.isoformat()
    ctx.problems(f"""select s._row_number, {lab}, s.event_date,
        {lab} || ' ' || {date} || ' lies in the future (today is {today})', 'row'
        from {ctx.good()} and {date} > DATE '{today}'""")
    ctx.problems(f"""select s._row_number, {lab}, s.event_date,
        {lab} || ' ' || {date} || ' is not in {ctx.period}, the period of this file', 'row'
        from {ctx.good()} and year({date}) <> {ctx.period}""")
    for column, allowed in (ctx.opt("allowed") or {}).items():
        if column not in st.columns:
            continue
        values = [str(v).lower() for v in allowed]
        ctx.problems(f"""select s._row_number, {lit(label[column])}, s.{column},
            {lit(label[column])} || ' ' || coalesce('''' || trim(s.{column}) || '''', '(empty)')
            || ' is not one of {", ".join(values)}', 'row'
            from {ctx.good()} and (lower(trim(s.{column})) not in {in_list(values)}
                                   or s.{column} is null)""")
    decimal = ctx.opt("decimal", ".")
    declared, other = ((NUMBER_POINT, WITH_COMMA) if decimal == "." else
                       (NUMBER_COMMA, WITH_POINT))
    names = ("decimal point", "decimal comma") if decimal == "." else ("decimal comma",
                                                                        "decimal point")
    for column in ("amount_requested", "amount_granted"):
        if column not in st.columns:
            continue
        t = f"nullif(trim(s.{column}), '')"
        ctx.problems(f"""select s._row_number, {lit(label[column])}, s.{column},
            {lit(label[column])} || ' ''' || {t} || ''' ' ||
            case when regexp_full_match({t}, {lit(other)})
                 then 'has a {names[1]} but the source declares a {names[0]}'
                 when regexp_full_match({t}, {lit(declared)}) then 'is negative'
                 else 'is not an amount' end, 'row'
            from {ctx.good()} and {t} is not null and not (regexp_full_match({t}, {lit(declared)})
                 and {_amount(t, decimal)} >= 0)""")
    ctx.check_duplicates(["registration_id"], label["registration_id"])
    if ctx.areas_source():
        ctx.check_areas("area_code", level="buurt")

    def opt(column: str, expr: str) -> str:
        return expr if column in st.columns else "NULL"

    ctx.con.execute(f"""insert into raw.activity_registrations (programme, period,
            registration_id, event_date, area_code, category, outcome, amount_requested,
            amount_granted, age_group, _source, _file, _sha256, _row_number, _load_id, _loaded_at)
        select {lit(ctx.source.name)}, {ctx.period}, trim(s.registration_id), {date},
               trim(s.area_code), {opt('category', 'trim(s.category)')},
               {opt('outcome', 'lower(trim(s.outcome))')},
               {opt('amount_requested', _amount('nullif(trim(s.amount_requested), chr(0))', decimal))},
               {opt('amount_granted', _amount('nullif(trim(s.amount_granted), chr(0))', decimal))},
               {opt('age_group', 'trim(s.age_group)')}, {ctx.lineage()}
        from {ctx.good()} order by s._row_number""")
    landed = ctx.count(f"select count(*) from raw.activity_registrations "
                       f"where _load_id = {lit(ctx.load_id)}")
    return ctx.finish(landed)


def _amount(t: str, decimal: str) -> str:
    if decimal == ",":
        return f"try_cast(replace(nullif({t}, ''), ',', '.') as decimal(14, 2))"
    return f"try_cast(nullif({t}, '') as decimal(14, 2))"
