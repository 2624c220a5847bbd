"""Survey waves: the codebook (raw.survey_codebook) and the data file (raw.survey_respondents,
read through the view raw.survey_answers).

The data file is landed in DuckDB without Python loops: read_csv / read_parquet / pyreadstat into
a VARCHAR staging table, checks as SQL (anti-joins against areas and codebook), the agency id keyed
with HMAC-SHA256 in SQL, the birth year turned into an age group, and each respondent's answers
stored as one list (answer_values) whose positions raw.survey_variables names. The quarantine
never holds an agency id or a birth year: they are replaced by the key and the age group.

Reconciliation counts respondents: rows_read = respondents landed + respondents quarantined.
Answer cells that are not a code of the codebook are recorded as cell entries (scope 'cell',
raw.loads.cells_quarantined); the respondent lands and the answer reads as missing 'invalid'.
"""

from __future__ import annotations

import re

from ..context import INTEGER, PROBLEMS, STG, Counts, LoadContext
from ..pseudonym import KEY_HINT, KeyRefused, hmac_sql, key_for_file
from ..reader import Columns, delivered_cells, norm, stage, stage_kind
from ..sqlutil import ident, in_list, lit

CODEBOOK = {"variable": "variabele", "item": "item", "question": "vraag", "scale": "schaal",
            "code": "code", "meaning": "betekenis", "missing": "ontbrekend"}
RESPONDENT = {"respondent_id": "respondent_id", "wave": "golf", "area_code": "buurt_code",
              "birth_year": "geboortejaar", "sex": "geslacht"}
WITHHELD = "(withheld: personal data -- see this row in the delivered file)"


def land(ctx: LoadContext) -> Counts:
    if ctx.spec.get("role") == "codebook":
        return _land_codebook(ctx)
    return _land_data(ctx)


# -- codebook -----------------------------------------------------------------------------------

def _land_codebook(ctx: LoadContext) -> Counts:
    _, label = stage_kind(ctx, CODEBOOK, defaults=CODEBOOK)
    ctx.check_required({c: label[c] for c in ("variable", "item", "scale", "code")})
    ctx.problems(f"""select s._row_number, {lit(label['code'])}, s.code,
        {lit(label['code'])} || ' ''' || trim(s.code) || ''' ' ||
        case when regexp_full_match(trim(s.code), {lit(INTEGER)})
             then 'is beyond the range of a code (a 32-bit whole number)'
             else 'is not a whole number' end, 'row'
        from {ctx.good()} and try_cast(case when regexp_full_match(trim(s.code), {lit(INTEGER)})
                                            then trim(s.code) end as integer) is null""")
    scales = [str(x) for x in ctx.opt("scales") or []]
    if scales:
        ctx.problems(f"""select s._row_number, {lit(label['scale'])}, s.scale,
            {lit(label['scale'])} || ' ''' || trim(s.scale) || ''' is not a known scale ('
            || {lit(', '.join(scales))} || ')', 'row'
            from {ctx.good()} and trim(s.scale) not in {in_list(scales)}""")
    ctx.problems(f"""select s._row_number, {lit(label['missing'])}, s.missing,
        {lit(label['missing'])} || ' ''' || trim(s.missing) || ''' is not 0 or 1', 'row'
        from {ctx.good()} and coalesce(nullif(trim(s.missing), ''), '0') not in ('0', '1')""")
    ctx.check_duplicates(["variable", "code"], "variable and code")
    ctx.problems(f"""
        with v as (select lower(trim(s.variable)) as var,
                          string_agg(distinct trim(s.item), ', ') as items
                   from {ctx.good()} group by 1 having count(distinct trim(s.item)) > 1)
        select s._row_number, {lit(label['item'])}, s.item,
               'variable ' || trim(s.variable) || ' maps to more than one item (' || v.items ||
               '): the codebook must give one item per variable', 'row'
        from {STG} s join v on v.var = lower(trim(s.variable))""")
    ctx.con.execute(f"""insert into raw.survey_codebook (wave, variable, item, question, scale,
            code, meaning, is_missing, _source, _file, _sha256, _row_number, _load_id,
            _loaded_at)
        select {ctx.period}, trim(s.variable), trim(s.item), trim(s.question), trim(s.scale),
               try_cast(trim(s.code) as integer), trim(s.meaning),
               coalesce(nullif(trim(s.missing), ''), '0') = '1', {ctx.lineage()}
        from {ctx.good()} order by s._row_number""")
    landed = ctx.count(f"select count(*) from raw.survey_codebook where _load_id = "
                       f"{lit(ctx.load_id)}")
    return ctx.finish(landed)


# -- data ---------------------------------------------------------------------------------------

def _missing_reason_sql(ctx: LoadContext) -> str:
    meanings = ctx.opt("missing_meanings") or {}
    whens = " ".join(f"when contains(lower(c.meaning), {lit(str(k).lower())}) then {lit(v)}"
                     for k, v in meanings.items())
    return f"case when not c.is_missing then NULL {whens} else 'no_answer' end"


AGE_GROUPS = [None] * 15 + ["15-24"] * 10 + ["25-44"] * 20 + ["45-64"] * 20 + ["65+"] * 51


def age_group_sql(birth_year: str, wave: int) -> str:
    """SQL: the age group of a birth-year cell (age = wave - birth year, 15..115), else NULL."""
    groups = "[" + ", ".join("NULL" if g is None else lit(g) for g in AGE_GROUPS) + "]"
    return f"{groups}[greatest({wave} - try_cast(trim({birth_year}) as integer), -1) + 1]"


def _land_data(ctx: LoadContext) -> Counts:
    con = ctx.con
    wave = ctx.period
    codebook = con.execute("""select lower(variable), any_value(item), any_value(scale),
            list(code order by code)
        from raw.survey_codebook where wave = ? and _source = ? group by 1""",
                           [wave, ctx.source.name]).fetchall()
    if not codebook:
        raise ctx.error(
            f"no codebook is loaded for wave {wave} of source {ctx.source.name}: answers cannot be "
            "checked or named",
            hint=f"put codeboek_{wave}.csv next to the data file and load it first "
                 f"(basismonitor ingest {ctx.source.name} loads the codebook before the data)")
    cb = {var: (item, scale, codes) for var, item, scale, codes in codebook}
    mapping = {**RESPONDENT, **(ctx.opt("columns") or {})}
    try:
        secret, key_note = key_for_file(ctx.path, ctx.sha256)
    except KeyRefused as exc:
        raise ctx.error(str(exc), hint=KEY_HINT) from exc
    if key_note:
        ctx.notes.append(key_note)

    def computed(_staged, _typed: bool) -> dict[str, str]:
        """Per-row work done while the file is read (one parallel pass): the key, the landed
        respondent fields and the check flags."""
        c = ident
        return {
            "_key": hmac_sql(f"trim({c('respondent_id')})", secret),
            "_area": f"trim({c('area_code')})",
            "_age_group": age_group_sql(c("birth_year"), wave),
            "_sex": f"case trim({c('sex')}) when '1' then 'M' when '2' then 'V' end",
            "_no_id": f"nullif(trim({c('respondent_id')}), '') is null",
            "_no_area": f"nullif(trim({c('area_code')}), '') is null",
            "_other_wave": f"trim({c('wave')}) is distinct from {lit(str(wave))}",
            "_bad_birth": f"(nullif(trim({c('birth_year')}), '') is not null and "
                          f"{age_group_sql(c('birth_year'), wave)} is null)",
            "_bad_sex": f"(nullif(trim({c('sex')}), '') is not null and "
                        f"trim({c('sex')}) not in ('1', '2'))",
        }

    st = stage(ctx, Columns(required=list(RESPONDENT), mapping=mapping, extras="keep",
                            ignore=[str(i) for i in ctx.opt("ignore_columns") or []]),
               extras_type="DOUBLE", computed=computed)
    # questions: the data file's other columns, in file order, each named by the codebook
    questions = list(st.extras)
    header = {q: ctx.headers[q] for q in questions}
    not_in_codebook = [header[q] for q in questions if norm(header[q]) not in cb]
    if not_in_codebook:
        raise ctx.error(
            f"data column(s) {', '.join(not_in_codebook)} are not in the codebook of wave {wave}",
            column=not_in_codebook[0],
            hint="add the variables to the codebook (and load it again), or remove the columns")
    in_data = {norm(header[q]) for q in questions}
    not_in_data = sorted(v for v in cb if v not in in_data)
    if not_in_data:
        raise ctx.error(
            f"codebook variable(s) {', '.join(not_in_data)} of wave {wave} have no column in "
            "the data file",
            hint="deliver the complete data file, or the codebook of this wave")
    if st.typed:
        parts = [(st.typed, True)] + ([(st.text, False)] if st.text else [])
    else:   # Excel, Parquet, SPSS: all text, computed here
        extra = ", ".join(f"{sql} as {ident(name)}" for name, sql in computed(st, False).items())
        con.execute(f"create or replace temp table _survey_rows as select *, {extra} from {STG}")
        parts = [("_survey_rows", False)]

    ctx.personal = {"respondent_id": hmac_sql("trim(s.respondent_id)", secret),
                    "birth_year": age_group_sql("s.birth_year", wave)}
    # lines the CSV parser rejected hold the agency id and birth year: never keep them
    con.execute(f"update {PROBLEMS} set raw_row = {lit(WITHHELD)} where raw_row is not null")
    lab = {c: ctx.headers[st.columns[c]] for c in RESPONDENT}
    _respondent_checks(ctx, lab, parts)
    _check_duplicate_ids(ctx, lab["respondent_id"], parts)

    # Answers: the distinct values of each column (one cheap group-by each) tell which values
    # are no codebook code; only the columns that have such values are scanned for their rows.
    codes_of = {q: set(cb[norm(header[q])][2]) for q in questions}
    con.execute("""create or replace temp table _bad_cells (_row_number bigint,
        column_name varchar, value varchar, reason varchar, scope varchar, position integer,
        not_integer boolean)""")
    inserts = []
    for relation, typed in parts:
        bad = _bad_values(ctx, relation, questions, codes_of, typed)
        _check_answer_cells(ctx, relation, typed, questions, header, cb, bad)
        answers = []
        for q in questions:
            col = f"p.{ident(q)}"
            cast = f"cast({col} as integer)" if typed else f"try_cast({col} as integer)"
            unusable = [v for v in bad.get(q, []) if _code(v) is None]
            if unusable:
                answers.append(f"case when {col} in {in_list(unusable)} then NULL else {cast} end")
            else:
                answers.append(cast)
        inserts.append((relation, answers))
    if st.typed:
        _show_as_delivered(ctx, st, questions)
    con.execute(f"insert into {PROBLEMS} (_row_number, column_name, value, reason, scope) "
                "select _row_number, column_name, value, reason, scope from _bad_cells")

    con.execute("insert into raw.survey_variables (load_id, wave, position, variable, item, "
                "scale) select * from (values " + ", ".join(
                    f"({lit(ctx.load_id)}, {wave}, {i}, {lit(header[q])}, "
                    f"{lit(cb[norm(header[q])][0])}, {lit(cb[norm(header[q])][1])})"
                    for i, q in enumerate(questions, start=1)) + ")")
    con.execute(f"""insert into raw.survey_value_codes (load_id, variable, code, is_missing,
            missing_reason)
        select {lit(ctx.load_id)}, v.variable, c.code, c.is_missing, {_missing_reason_sql(ctx)}
        from raw.survey_codebook c
        join raw.survey_variables v on v.load_id = {lit(ctx.load_id)}
            and lower(v.variable) = lower(c.variable)
        where c.wave = {wave} and c._source = {lit(ctx.source.name)}""")
    any_invalid = ctx.count("select count(*) from _bad_cells where not_integer") > 0
    invalid_join = ("left join (select _row_number, list(position order by position) as positions "
                    "from _bad_cells where not_integer group by 1) b "
                    "on b._row_number = p._row_number") if any_invalid else ""
    # Random hex keys do not compress: analysing 150,000 of them for FSST or a dictionary costs
    # more than it saves (constant lineage columns still compress as constants). And rows carry
    # _row_number, so their order need not be kept, which lets DuckDB write in parallel. Both
    # for this load only (core resets them afterwards).
    con.execute("set disabled_compression_methods = 'fsst,dict_fsst,dictionary'")
    con.execute("set preserve_insertion_order = false")
    landed = 0
    for relation, answers in inserts:
        landed += con.execute(f"""insert into raw.survey_respondents (wave, respondent_key,
                area_code, age_group, sex, _source, _file, _sha256, _row_number, _load_id,
                _loaded_at, answer_codes, invalid_positions)
            select {wave}, p._key, p._area, p._age_group, p._sex, {ctx.lineage('p._row_number')},
                   [{', '.join(answers)}]::integer[],
                   {'b.positions' if any_invalid else 'NULL'}
            from {relation} p {invalid_join}
            where {ctx.good_filter('p')}""").fetchone()[0]
    return ctx.finish(landed)


def _respondent_checks(ctx: LoadContext, lab: dict[str, str], parts) -> None:
    """Respondent-level checks from the flags computed while reading: empty id or buurt,
    another wave, unknown buurt (rows), an implausible birth year or sex code (cells)."""
    con, wave = ctx.con, ctx.period
    edition = ctx.area_edition()
    source = ctx.areas_source()
    areas = (f"(select distinct area_code from raw.areas where _source = {lit(source)} "
             f"and edition = {edition} and area_level = 'buurt')")
    union = " union all ".join(
        f"select _row_number, _no_id, _no_area, _other_wave, _area, _bad_birth, _bad_sex "
        f"from {relation}" for relation, _ in parts)
    con.execute(f"""create or replace temp table _flags as select * from (
        select p._row_number, p._no_id as no_id, p._no_area as no_area,
               p._other_wave as other_wave,
               not p._no_area and a.area_code is null as unknown_area,
               p._bad_birth as bad_birth, p._bad_sex as bad_sex
        from ({union}) p left join {areas} a on a.area_code = p._area)
        where no_id or no_area or other_wave or unknown_area or bad_birth or bad_sex""")
    n_rows = ctx.count(f"select count(*) from ({union})")
    n_other = ctx.count("select count(*) from _flags where other_wave")
    if n_rows and n_other == n_rows:
        example = con.execute(f"select mode(trim(wave)) from {STG}").fetchone()[0]
        raise ctx.error(
            f"{lab['wave']} is {example!r} in this file, but the file is delivered for period "
            f"{wave} (expected {wave})", column=lab["wave"],
            hint=f"move the file to the folder of its own period, or load it with --period "
                 f"matching {lab['wave']}")
    if not ctx.count("select count(*) from _flags"):
        return
    flagged = f"_flags f join {STG} s on s._row_number = f._row_number"
    rid, area, wv = lab["respondent_id"], lab["area_code"], lab["wave"]
    quoted = "coalesce('''' || trim({c}) || '''', '(empty)')"
    ctx.problems(f"""
        select s._row_number, {lit(rid)}, NULL, {lit(rid + ' is empty: a required value')},
               'row' from {flagged} where f.no_id
        union all
        select s._row_number, {lit(area)}, s.area_code,
               {lit(area + ' is empty: a required value')}, 'row' from {flagged} where f.no_area
        union all
        select s._row_number, {lit(wv)}, s.wave, {lit(wv + ' is ')} ||
               {quoted.format(c='s.wave')} ||
               ' but the file is for period {wave} (expected {wave})', 'row'
            from {flagged} where f.other_wave
        union all
        select s._row_number, {lit(area)}, s.area_code, 'unknown area code ' ||
               {quoted.format(c='s.area_code')} || ': not a buurt of area edition {edition} '
               || {lit(f'(source {source})')}, 'row' from {flagged} where f.unknown_area""")
    ok = "not (f.no_id or f.no_area or f.other_wave or f.unknown_area)"
    by = "try_cast(trim(s.birth_year) as integer)"
    birth, sex = lab["birth_year"], lab["sex"]
    ctx.problems(f"""
        select s._row_number, {lit(birth)}, NULL,
               {lit(birth + ' is ')} || case when {by} is null then 'not a year'
               else 'implausible for a respondent in wave {wave} (age ' || ({wave} - {by}) ||
               ')' end || '; the age group is left empty (value withheld: personal data)',
               'cell' from {flagged} where f.bad_birth and {ok}
        union all
        select s._row_number, {lit(sex)}, s.sex, {lit(sex + ' ')} ||
               {quoted.format(c='s.sex')} || ' is not 1 (man) or 2 (vrouw); sex is left empty',
               'cell' from {flagged} where f.bad_sex and {ok}""")


def _check_duplicate_ids(ctx: LoadContext, label: str, parts) -> None:
    """Every copy of a duplicated agency id is quarantined; the message shows the key, never
    the id (equal ids have equal keys)."""
    union = " union all ".join(f"select _row_number, _key from {relation}"
                               for relation, _ in parts)
    ctx.con.execute(f"""create or replace temp table _dups as
        with k as (select _row_number, _key from ({union}) p where {ctx.good_filter('p')}),
        d as (select _key from k group by 1 having count(*) > 1)
        select k._row_number, k._key, string_agg(k._row_number::varchar, ', '
               order by k._row_number) over (partition by k._key) as row_list
        from k join d on d._key = k._key""")
    ctx.problems(f"""select _row_number, {lit(label)}, _key,
        'duplicate respondent: the same ' || {lit(label)} || ' occurs in rows ' || row_list ||
        ' (shown as its key); every copy is quarantined', 'row' from _dups""")


def _show_as_delivered(ctx: LoadContext, st, questions) -> None:
    """Answers read typed are numbers; a quarantined cell shows the text the file has
    (``99999999999999999999``, ``-0``, ``3.50``), in its value and its reason."""
    cells = ctx.con.execute("select distinct _row_number, position from _bad_cells").fetchall()
    if not cells:
        return
    text = delivered_cells(st, [(row, questions[pos - 1]) for row, pos in cells])
    fixes = [(row, pos, text[(row, questions[pos - 1])]) for row, pos in cells
             if (row, questions[pos - 1]) in text]
    if not fixes:
        return
    ctx.con.execute("create or replace temp table _delivered (r bigint, p integer, t varchar)")
    ctx.con.executemany("insert into _delivered values (?, ?, ?)", fixes)
    ctx.con.execute("""update _bad_cells b set
            reason = replace(b.reason, chr(39) || b.value || chr(39), chr(39) || d.t || chr(39)),
            value = d.t
        from _delivered d where d.r = b._row_number and d.p = b.position
          and d.t is distinct from b.value""")


def _code(value) -> int | None:
    """The answer code a delivered value stands for: a whole number (text '7', ' 7', or a
    typed 7.0) within integer range; None for anything else ('x', '3.5', 3.5)."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**31 else None
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        number = int(value)
        return number if abs(number) < 2**31 else None
    return None


def _bad_values(ctx: LoadContext, relation: str, questions, codes_of, typed: bool):
    """Per question column, the delivered values that are not a code of its codebook."""
    if not questions:
        return {}
    rows = ctx.con.execute(" union all ".join(
        f"select {i} as position, {_as_text(q, typed)} as v, "
        f"{'s.' + ident(q) if typed else 'NULL::double'} as d "
        f"from {relation} s group by s.{ident(q)}"
        for i, q in enumerate(questions))).fetchall()
    bad: dict[str, list] = {}
    for position, text, number in rows:
        value = number if typed else text
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        column = questions[position]
        code = _code(value)
        if code is None or code not in codes_of[column]:
            bad.setdefault(column, []).append(value)
    return bad


def _as_text(column: str, typed: bool) -> str:
    col = f"s.{ident(column)}"
    if not typed:
        return col
    return (f"case when {col} = trunc({col}) and abs({col}) < 1e15 "
            f"then cast(cast({col} as bigint) as varchar) else cast({col} as varchar) end")


def _check_answer_cells(ctx: LoadContext, relation: str, typed: bool, questions, header, cb,
                        bad) -> None:
    """Cell entries (in _bad_cells) for answers that are not a code of the codebook; only the
    columns that have such values are scanned."""
    checks = []
    for i, q in enumerate(questions, start=1):
        if q not in bad:
            continue
        item, _scale, codes = cb[norm(header[q])]
        col = f"s.{ident(q)}"
        text = _as_text(q, typed)
        unusable = [v for v in bad[q] if _code(v) is None]
        checks.append(f"""select s._row_number, {lit(header[q])}, {text},
            {lit(header[q])} || ' ' || '''' || {text} || '''' || ' is not a code of the '
            || 'codebook (' || {lit(item)} || ': ' || {lit(', '.join(map(str, codes)))} ||
            '); read as missing (invalid)', 'cell', {i},
            {col} in {in_list(unusable)}
            from {relation} s where {col} in {in_list(bad[q])} and {ctx.good_filter()}""")
    if checks:
        ctx.con.execute("insert into _bad_cells " + " union all ".join(checks))
