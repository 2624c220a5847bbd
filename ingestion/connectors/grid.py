"""CBS square statistics (kind ``grid``: vierkantstatistieken, 100 m or 500 m) -> raw.grid_values.

One row per square x column, long: ``edition`` is the file's period folder, ``square_code`` the
square's code (``C28992R100``: E2269N5800), ``x_rd`` / ``y_rd`` its centroid in RD New
(EPSG:28992). The variable and year come from the column name by the rules under ``variables:``
in sources.yml (a regex with the groups ``variable`` and ``year``, and optionally a ``name``
template): ``INW2000`` -> inw 2000, ``I2011_014`` -> i_014 2011, ``MAN_2011`` -> man 2011. A
column that fits no rule lands with year NULL and its lower-case name, and the load message
lists it; no column is dropped.

Cells: a number is the value; the missing codes of the source classify the rest. A code whose
reason is ``nil`` (CBS ``-99998``, "none or not applicable", and ``nihil``) lands as value 0 --
the square has none, so it counts as 0 in a sum, documented in docs/SOURCES.md; any other code
(``-99997`` / ``geheim``: hidden) lands as value NULL with its reason. An empty cell is NULL
``empty``. A class variable (``classes:``, e.g. p_auto: "75% tot 90%") keeps its class text in
value_raw with value NULL and no missing_reason. Other text, or a negative number in a count
(``nonnegative:``), is NULL ``invalid`` and a cell entry in the quarantine naming row and column.

Centroid: from the centroid columns (``x``, ``y``) where both are numbers, else the centroid of
the polygon (``geometry`` WKT), transformed from the source's ``crs`` to RD New with
``ST_Transform(..., always_xy := true)``. A file with neither the square code nor a centroid or
polygon column fails naming the file and the columns; a square whose row has neither (or lies
outside RD New) is quarantined as a row.
"""

from __future__ import annotations

import re

from basismonitor.config import load_spatial

from ..context import (
    PROBLEMS,
    STG,
    Counts,
    LoadContext,
    codes_case_sql,
    glob_to_regex,
    not_a_number_reason_sql,
    number_check_sql,
    number_value_sql,
)
from ..reader import Columns, stage
from ..sqlutil import ident, lit
from .areas import CRS_BOUNDS, WKT

DEFAULT_COLUMNS = {"square_code": "C28992R100", "x": "x", "y": "y", "geometry": "geometry"}
RD = "EPSG:28992"


def parse_variables(headers: dict[str, str], rules: list) -> dict[str, tuple[str, int | None]]:
    """{stg column: (variable, year)} by the first rule whose regex matches the whole header
    (case-insensitive); (lower-case header, None) where no rule fits."""
    compiled = []
    for rule in rules:
        rule = {"regex": rule} if isinstance(rule, str) else dict(rule)
        compiled.append((re.compile(str(rule["regex"]), re.IGNORECASE), rule.get("name")))
    out: dict[str, tuple[str, int | None]] = {}
    for col, header in headers.items():
        for regex, template in compiled:
            m = regex.fullmatch(header.strip())
            if not m:
                continue
            groups = {k: (v or "") for k, v in m.groupdict().items()}
            name = (str(template).format(**groups) if template
                    else groups.get("variable") or header)
            name = re.sub(r"_+", "_", name.lower()).strip("_")
            year = int(groups["year"]) if groups.get("year") else None
            out[col] = (name, year)
            break
        else:
            out[col] = (re.sub(r"[^0-9a-z_]+", "_", header.strip().lower()).strip("_"), None)
    return out


def land(ctx: LoadContext) -> Counts:
    mapping = {**DEFAULT_COLUMNS, **(ctx.opt("columns") or {})}
    st = stage(ctx, Columns(required=["square_code"], optional=["x", "y", "geometry"],
                            mapping=mapping, extras="keep",
                            ignore=[str(i) for i in ctx.opt("ignore_columns") or []]))
    label = {c: ctx.headers.get(st.columns[c], c) for c in st.columns}
    has_xy = st.has("x") and st.has("y")
    if not has_xy and not st.has("geometry"):
        raise ctx.error(
            f"no centroid or geometry column: expected {mapping['x']} and {mapping['y']} (the "
            f"square's centroid) or {mapping['geometry']} (its polygon as WKT); the header has: "
            + ", ".join(ctx.headers.values()),
            column=f"{mapping['x']}/{mapping['y']}/{mapping['geometry']}",
            hint="deliver the grid with its centroid or polygon, or map them under columns: "
                 "in sources.yml")
    crs = str(st.crs or ctx.opt("crs") or "").upper()
    if not crs:
        raise ctx.error("the source declares no crs: for the grid's centroid/polygon",
                        hint="set crs: EPSG:28992 or EPSG:4326 for this source in sources.yml")
    if not st.extras:
        raise ctx.error("the grid file has no value columns besides the square code and its "
                        "location", hint="deliver the file with its statistics")

    ctx.check_required({"square_code": label["square_code"]})
    ctx.check_duplicates(["square_code"], "square code")
    load_spatial(ctx.con)

    # centroid in the source CRS: the centroid columns where both are numbers, else the polygon's
    point_parts = []
    if has_xy:
        for c in ("x", "y"):
            t = f"nullif(trim(s.{c}), '')"
            ctx.problems(f"""select s._row_number, {lit(label[c])}, s.{c},
                {not_a_number_reason_sql(t, '.', lit(label[c]))} ||
                '; the square cannot be placed', 'row'
                from {ctx.good()} and {t} is not null and not {number_check_sql(t, '.')}""")
        point_parts.append("when try_cast(trim(s.x) as double) is not null and "
                           "try_cast(trim(s.y) as double) is not null then "
                           "ST_Point(trim(s.x)::double, trim(s.y)::double)")
    if st.has("geometry"):
        g = "nullif(trim(s.geometry), '')"
        # the polygon is only needed (and only checked) where the centroid columns are not usable
        no_xy = ("and not (try_cast(trim(s.x) as double) is not null and "
                 "try_cast(trim(s.y) as double) is not null)") if has_xy else ""
        ok = f"regexp_full_match({g}, {lit(WKT)})"
        ctx.problems(f"""select s._row_number, {lit(label['geometry'])}, left(s.geometry, 200),
            {lit(label['geometry'])} || ' does not parse as WKT: ' || left({g}, 60) ||
            '...; the square cannot be placed', 'row'
            from {ctx.good()} and {g} is not null and not {ok} {no_xy}""")
        point_parts.append(f"when {ok} then ST_Centroid(ST_GeomFromText({g}))")
    point = "case " + " ".join(point_parts) + " end"
    if crs != RD:
        point = f"ST_Transform({point}, {lit(crs)}, {lit(RD)}, always_xy := true)"
    ctx.con.execute(f"""create or replace temp table _grid_rows as
        select s._row_number, trim(s.{st.col('square_code')}) as square_code,
               ST_X(p) as x_rd, ST_Y(p) as y_rd,
               {', '.join(f's.{ident(c)}' for c in st.extras)}
        from (select *, {point} as p from {ctx.good()}) s""")
    where = (f"{mapping['x']}/{mapping['y']}" if has_xy else "") + \
        ("" if not st.has("geometry") else (" or " if has_xy else "") + mapping["geometry"])
    x0, y0, x1, y1 = CRS_BOUNDS[RD]
    ctx.problems(f"""select _row_number, {lit(where)}, square_code,
        case when x_rd is null then 'square ' || square_code || ' has no centroid or polygon ({where}): '
             || 'it cannot be placed'
             else 'square ' || square_code || ' lies outside RD New after transformation from '
             || {lit(crs)} || ' (x ' || round(x_rd) || ', y ' || round(y_rd) || '): another '
             || 'coordinate system?' end, 'row'
        from _grid_rows where (x_rd is null or x_rd not between {x0} and {x1}
                               or y_rd not between {y0} and {y1})
          and _row_number not in (select _row_number from {PROBLEMS} where scope = 'row')""")

    # column -> (variable, year) by the documented rules
    parsed = parse_variables({c: ctx.headers[c] for c in st.extras},
                             list(ctx.opt("variables") or []))
    seen: dict[tuple[str, int | None], str] = {}
    for col, key in parsed.items():
        if key in seen and key[1] is not None:
            raise ctx.error(f"columns {ctx.headers[seen[key]]} and {ctx.headers[col]} both read "
                            f"as variable {key[0]} year {key[1]} by the rules under variables:",
                            column=ctx.headers[col],
                            hint="make the rules in sources.yml tell them apart")
        seen[key] = col
    unruled = [ctx.headers[c] for c, (_, y) in parsed.items() if y is None]
    if unruled:
        ctx.notes.append("columns that fit no year rule, landed with year NULL: "
                         + ", ".join(unruled))
    ctx.con.execute("create or replace temp table _grid_vars (col varchar, header varchar, "
                    "variable varchar, year integer)")
    ctx.con.executemany("insert into _grid_vars values (?, ?, ?, ?)",
                        [[c, ctx.headers[c], v, y] for c, (v, y) in parsed.items()])

    codes = {str(k).strip(): v for k, v in (ctx.opt("missing_codes") or {}).items()}
    code = codes_case_sql("t", codes)
    is_number = number_check_sql("t", ctx.opt("decimal", "."))
    number = number_value_sql("t", ctx.opt("decimal", "."))
    cols = ", ".join(ident(c) for c in st.extras)
    ctx.con.execute(f"""create or replace temp table _grid_long as
        select g._row_number, g.square_code, g.x_rd, g.y_rd, v.variable, v.year, v.header,
               g.value_raw, nullif(trim(g.value_raw), '') as t
        from (select * from _grid_rows
              where _row_number not in (select _row_number from {PROBLEMS} where scope = 'row'))
        unpivot include nulls (value_raw for col in ({cols})) g
        join _grid_vars v on v.col = g.col""")
    nonneg = glob_to_regex(ctx.opt("nonnegative") or [])
    negative_bad = (f"(regexp_full_match(variable, {lit(nonneg)}) and {number} < 0)"
                    if nonneg else "false")
    classes = glob_to_regex(ctx.opt("classes") or [])
    is_class = f"regexp_full_match(variable, {lit(classes)})" if classes else "false"
    ctx.con.execute(f"""create or replace temp table _grid_classified as
        select *,
            case when t is null then 'empty' when ({code}) is not null then ({code})
                 when {is_number} and not {negative_bad} then NULL
                 when {is_class} and not {is_number} then NULL else 'invalid' end
                as missing_reason,
            case when t is null then NULL when ({code}) = 'nil' then 0.0
                 when ({code}) is not null then NULL
                 when {is_number} and not {negative_bad} then {number} end as value
        from _grid_long""")
    ctx.problems(f"""select _row_number, header, value_raw,
        case when {is_number} then header || ' ' || '''' || t || ''' is negative: a count '
                 || 'cannot be' else {not_a_number_reason_sql('t', '.', 'header')} end
            || '; landed as missing (invalid)', 'cell'
        from _grid_classified where missing_reason = 'invalid'""")
    ctx.con.execute(f"""insert into raw.grid_values (edition, square_code, year, variable, value,
            value_raw, missing_reason, x_rd, y_rd, _source, _file, _sha256, _row_number, _load_id,
            _loaded_at)
        select {ctx.period}, square_code, year, variable, value, value_raw, missing_reason,
               x_rd, y_rd, {ctx.lineage('_row_number')}
        from _grid_classified order by _row_number, variable, year""")
    landed = ctx.count(f"select count(distinct _row_number) from raw.grid_values "
                       f"where _load_id = {lit(ctx.load_id)}")
    years = ctx.con.execute("select min(year), max(year), count(distinct variable) "
                            "from _grid_vars").fetchone()
    if years[0] is not None:
        ctx.notes.append(f"{len(parsed)} columns: {years[2]} variables, years {years[0]}-"
                         f"{years[1]}")
    _check_code_centroid(ctx, label["square_code"])
    return ctx.finish(landed, raw_row_table=STG)


def _check_code_centroid(ctx: LoadContext, code_header: str) -> None:
    """Where the square code spells the square (C28992R100: E<x/100>N<y/100>), note the largest
    distance between the landed centroid and the code's square centre: a check on the CRS and
    the transformation, in the load message."""
    m = re.fullmatch(r"C28992R(\d+)", code_header.strip(), re.IGNORECASE)
    if not m:
        return
    res = int(m.group(1))
    row = ctx.con.execute(f"""
        with c as (select x_rd, y_rd,
                          try_cast(regexp_extract(square_code, '^E(\\d+)N(\\d+)$', 1) as bigint)
                              * {res} + {res / 2} as cx,
                          try_cast(regexp_extract(square_code, '^E(\\d+)N(\\d+)$', 2) as bigint)
                              * {res} + {res / 2} as cy
                   from _grid_rows where x_rd is not null)
        select max(sqrt((x_rd - cx) ^ 2 + (y_rd - cy) ^ 2)), count(*) filter (where cx is null)
        from c""").fetchone()
    if row[0] is not None:
        ctx.notes.append(f"centroids within {row[0]:.1f} m of the centre their square code "
                         f"spells ({code_header})")
