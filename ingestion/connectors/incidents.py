"""Police incident exports (kind ``incidents``: BVH, one row per incident) -> raw.incidents.

- ``incident_key`` is the HMAC-SHA256 of the police incident id (ingestion/pseudonym.py, the
  survey's key; a real export is refused without BASISMONITOR_PSEUDONYM_KEY, as a survey is):
  the id itself is not landed. A duplicate id quarantines every copy.
- ``begin_at`` is required: a row without a begin date-time that parses is quarantined (the year
  of an incident is the year of its begin date-time, and without it the incident has no year).
  ``end_at`` / ``reported_at`` that do not parse are cell problems and land NULL.
- ``x_rd`` / ``y_rd``: the source's coordinates (``crs:``, RD New for BVH; WGS84 is transformed).
  Text, half a pair, or a point outside RD New is a cell problem naming row and column, and the
  incident lands with NULL coordinates, so the dbt side can still locate it by the police's
  wijk/buurt name.
- Street, house number and postcode are personal data: they land in raw.incidents only (the
  staging models drop them) and are masked in the quarantine's copy of a row.
- The period folder is the delivery; one export may span years (``year`` says which).
"""

from __future__ import annotations

from basismonitor.config import load_spatial

from ..context import STG, Counts, LoadContext, number_check_sql
from ..pseudonym import KEY_HINT, KeyRefused, hmac_sql, key_for_file
from ..reader import stage_kind
from ..sqlutil import lit
from .areas import CRS_BOUNDS

REQUIRED = ("incident_id", "begin_at")
OPTIONAL = ("incident_type", "end_at", "reported_at", "x", "y", "police_wijk", "police_buurt",
            "street", "house_number", "postcode")
PERSONAL = ("street", "house_number", "postcode")
RD = "EPSG:28992"
TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S",
                     "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y")


def timestamp_sql(col: str) -> str:
    t = f"nullif(trim({col}), '')"
    tries = ", ".join(f"try_strptime({t}, {lit(f)})" for f in TIMESTAMP_FORMATS)
    return f"coalesce({tries})"


def land(ctx: LoadContext) -> Counts:
    st, label = stage_kind(ctx, REQUIRED, OPTIONAL)
    # incident ids are often sequential: under the public demo key their pseudonyms would be
    # reversed by trying every id, so a real export needs the deployment's own key
    try:
        secret, key_note = key_for_file(ctx.path, ctx.sha256, "police incident ids")
    except KeyRefused as exc:
        raise ctx.error(str(exc), hint=KEY_HINT) from exc
    if key_note:
        ctx.notes.append(key_note)
    for c in PERSONAL:
        if st.has(c):
            ctx.personal[st.columns[c]] = "'(personal data: see the delivered file)'"
    ctx.check_required({"incident_id": label["incident_id"]})
    begin = timestamp_sql("s.begin_at")
    lab = lit(label["begin_at"])
    ctx.problems(f"""select s._row_number, {lab}, s.begin_at,
        case when nullif(trim(s.begin_at), '') is null
             then {lab} || ' is empty: the incident has no begin date-time, so no year'
             else {lab} || ' ''' || trim(s.begin_at) || ''' is not a date-time (YYYY-MM-DD HH:MM)'
        end, 'row'
        from {ctx.good()} and {begin} is null""")
    ctx.check_duplicates(["incident_id"], label["incident_id"])

    for c in ("end_at", "reported_at"):
        if st.has(c):
            ctx.problems(f"""select s._row_number, {lit(label[c])}, s.{c},
                {lit(label[c])} || ' ''' || trim(s.{c}) || ''' is not a date-time; landed empty',
                'cell'
                from {ctx.good()} and nullif(trim(s.{c}), '') is not null
                  and {timestamp_sql('s.' + c)} is null""")

    x_rd = y_rd = "NULL"
    if st.has("x") and st.has("y"):
        crs = str(ctx.opt("crs") or RD).upper()
        for c in ("x", "y"):
            t = f"nullif(trim(s.{c}), '')"
            ctx.problems(f"""select s._row_number, {lit(label[c])}, s.{c},
                {lit(label[c])} || ' ''' || {t} || ''' is not a number; the incident is landed '
                || 'without coordinates (located by its wijk/buurt name)', 'cell'
                from {ctx.good()} and {t} is not null
                  and not {number_check_sql(t, ctx.opt('decimal', '.'))}""")
        xn, yn = (f"try_cast(replace(trim(s.{c}), ',', '.') as double)"
                  if ctx.opt("decimal", ".") == "," else f"try_cast(trim(s.{c}) as double)"
                  for c in ("x", "y"))
        x0, y0, x1, y1 = CRS_BOUNDS.get(crs, CRS_BOUNDS[RD])
        ctx.problems(f"""select s._row_number, {lit(label['x'] + '/' + label['y'])},
                coalesce(trim(s.x), '') || ' / ' || coalesce(trim(s.y), ''),
                case when {xn} is null or {yn} is null
                     then 'only one coordinate of the pair is given'
                     else 'the point lies outside the coordinate range of {crs}' end
                || '; the incident is landed without coordinates', 'cell'
            from {ctx.good()} and ({xn} is not null or {yn} is not null)
              and (nullif(trim(s.x), '') is null or {xn} is not null)
              and (nullif(trim(s.y), '') is null or {yn} is not null)
              and not coalesce({xn} between {x0} and {x1} and {yn} between {y0} and {y1},
                               false)""")
        ok = f"{xn} between {x0} and {x1} and {yn} between {y0} and {y1}"
        if crs == RD:
            x_rd, y_rd = f"case when {ok} then {xn} end", f"case when {ok} then {yn} end"
        else:
            load_spatial(ctx.con)
            p = (f"case when {ok} then ST_Transform(ST_Point({xn}, {yn}), {lit(crs)}, "
                 f"{lit(RD)}, always_xy := true) end")
            x_rd, y_rd = f"ST_X({p})", f"ST_Y({p})"

    def opt(c: str, expr: str | None = None) -> str:
        return (expr or f"nullif(trim(s.{c}), '')") if st.has(c) else "NULL"

    ctx.con.execute(f"""insert into raw.incidents (period, incident_key, incident_type,
            begin_at, end_at, reported_at, year, x_rd, y_rd, police_wijk, police_buurt, street,
            house_number, postcode, _source, _file, _sha256, _row_number, _load_id, _loaded_at)
        select {ctx.period}, {hmac_sql('trim(s.incident_id)', secret)}, {opt('incident_type')},
               {begin}, {opt('end_at', timestamp_sql('s.end_at'))},
               {opt('reported_at', timestamp_sql('s.reported_at'))}, year({begin}),
               {x_rd}, {y_rd}, {opt('police_wijk')}, {opt('police_buurt')}, {opt('street')},
               {opt('house_number')}, {opt('postcode')}, {ctx.lineage()}
        from {ctx.good()} order by s._row_number""")
    landed = ctx.count(f"select count(*) from raw.incidents where _load_id = {lit(ctx.load_id)}")
    years = ctx.con.execute(f"""select string_agg(year || ': ' || n, ', ' order by year) from
        (select year, count(*) n from raw.incidents where _load_id = {lit(ctx.load_id)}
         group by year)""").fetchone()[0]
    if years:
        ctx.notes.append(f"incidents per year of the begin date {years}")
    return ctx.finish(landed, raw_row_table=STG)
