"""Crosswalk between area editions (old area, new area, share) -> raw.crosswalk.

The shares of one old area must sum to 1: a group that does not (after its bad rows are
quarantined) is quarantined as a whole -- a partial mapping would silently lose inhabitants.
"""

from __future__ import annotations

from ..context import (
    INTEGER,
    NUMBER_COMMA,
    NUMBER_POINT,
    WITH_COMMA,
    WITH_POINT,
    Counts,
    LoadContext,
)
from ..reader import stage_kind
from ..sqlutil import lit

COLUMNS = {"from_edition": "van_editie", "from_code": "van_code", "to_edition": "naar_editie",
           "to_code": "naar_code", "share": "aandeel", "method": "methode"}
TOLERANCE = 0.001


def land(ctx: LoadContext) -> Counts:
    _, label = stage_kind(ctx, COLUMNS, defaults=COLUMNS)
    ctx.check_required({c: label[c] for c in COLUMNS})
    ctx.problems(f"""select s._row_number, {lit(label['from_edition'])}, s.from_edition,
        {lit(label['from_edition'])} || ' ''' || trim(s.from_edition) || ''' is not a year', 'row'
        from {ctx.good()} and not regexp_full_match(trim(s.from_edition), {lit(INTEGER)})""")
    ctx.check_period_column("to_edition", lit(str(ctx.period)), str(ctx.period))
    share = "trim(s.share)"
    other = lit(WITH_COMMA if ctx.opt("decimal", ".") == "." else WITH_POINT)
    declared = lit(NUMBER_POINT if ctx.opt("decimal", ".") == "." else NUMBER_COMMA)
    value = (f"try_cast({share} as double)" if ctx.opt("decimal", ".") == "."
             else f"try_cast(replace({share}, ',', '.') as double)")
    sep, other_name = (("decimal point", "decimal comma") if ctx.opt("decimal", ".") == "."
                       else ("decimal comma", "decimal point"))
    ctx.problems(f"""select s._row_number, {lit(label['share'])}, s.share,
        {lit(label['share'])} || ' ''' || {share} || ''' ' ||
        case when regexp_full_match({share}, {other})
             then 'has a {other_name} but the source declares a {sep}'
             else 'is not a number' end, 'row'
        from {ctx.good()} and not regexp_full_match({share}, {declared})""")
    ctx.problems(f"""select s._row_number, {lit(label['share'])}, s.share,
        {lit(label['share'])} || ' ' || {share} || ' is not a share between 0 and 1', 'row'
        from {ctx.good()} and ({value} <= 0 or {value} > 1)""")
    ctx.check_duplicates(["from_edition", "from_code", "to_code"], "crosswalk pair")
    for (edition,) in ctx.con.execute(f"""select distinct try_cast(trim(s.from_edition) as integer)
            from {ctx.good()} order by 1""").fetchall():
        ctx.check_areas("from_code", at=int(edition), exact=True, label=label["from_code"])
    ctx.check_areas("to_code", at=ctx.period, exact=True, label=label["to_code"])
    # groups whose shares do not sum to 1
    ctx.problems(f"""
        with good as (select s._row_number, trim(s.from_edition) fe, trim(s.from_code) fc,
                             {value} as v from {ctx.good()}),
        groups as (select fe, fc, sum(v) total, string_agg(_row_number::varchar, ', '
                   order by _row_number) as row_list from good group by fe, fc
                   having abs(sum(v) - 1) > {TOLERANCE})
        select g._row_number, {lit(label['share'])}, cast(g.v as varchar),
               'the shares of ' || g.fc || ' (edition ' || g.fe || ') sum to ' ||
               round(x.total, 4) || ', not 1 (rows ' || x.row_list || '); the whole group is '
               || 'quarantined', 'row'
        from good g join groups x on x.fe = g.fe and x.fc = g.fc""")
    ctx.con.execute(f"""insert into raw.crosswalk (from_edition, from_code, to_edition, to_code,
            share, method, _source, _file, _sha256, _row_number, _load_id, _loaded_at)
        select try_cast(trim(s.from_edition) as integer), trim(s.from_code), {ctx.period},
               trim(s.to_code), {value}, trim(s.method), {ctx.lineage()}
        from {ctx.good()} order by s._row_number""")
    landed = ctx.count(f"select count(*) from raw.crosswalk where _load_id = {lit(ctx.load_id)}")
    _note_unmapped(ctx)
    return ctx.finish(landed)


def _note_unmapped(ctx: LoadContext) -> None:
    """Note (not an error) buurten of the old edition that the crosswalk does not map."""
    source = ctx.areas_source()
    # per old edition of the load, its buurten (not every crosswalk row x every buurt: that join
    # was 20,000 x 14,500 rows at national scale, ~160 s and up to 19 GB)
    rows = ctx.con.execute("""
        select e.from_edition, count(*)
        from (select distinct from_edition from raw.crosswalk where _load_id = $load) as e
        join raw.areas a on a._source = $source and a.edition = e.from_edition
        where a.area_level = 'buurt'
          and not exists (select 1 from raw.crosswalk c2 where c2._load_id = $load
                          and c2.from_code = a.area_code)
        group by 1 order by 1""", {"source": source, "load": ctx.load_id}).fetchall()
    for edition, n in rows:
        ctx.notes.append(f"{n} buurten of edition {edition} have no crosswalk rows")
