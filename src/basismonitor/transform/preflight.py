"""Checks before and after `dbt build` that turn a wrong setting into a plain message.

dbt's tests say *that* something is wrong (a uniqueness test with 123 results, an empty mart);
these say *why*, naming the files, sources and periods involved, before the build starts or
right after it ends:

- the catalogue's seeds (dbt_project/seeds/*.csv) must be well-formed and follow their YAML's
  rules: each problem is named by file, row and column (check_seeds);
- the compass division (dbt var ``area_source``) must have landed areas; when other sources did,
  the message lists them so the setting can be corrected;
- the same division file delivered by two sources is refused, naming both files;
- a build whose edition has no figure at all fails, naming the edition and the periods that do
  have data (the gate would otherwise refuse it later with a check name only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import duckdb

from basismonitor.config import duckdb_config


class PreflightError(RuntimeError):
    """The warehouse's inputs cannot make the edition asked for; the message says why."""


def _dbt_var(vars_: dict, name: str):
    if name in vars_:
        return vars_[name]
    import yaml

    from basismonitor.config import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return (project.get("vars") or {}).get(name)


def _connect(warehouse: Path):
    return duckdb.connect(str(warehouse), read_only=True, config=duckdb_config())


def check_inputs(warehouse: Path, vars_: dict) -> list[str]:
    """Before the build: raise PreflightError for inputs that cannot make a compass; return notes
    worth printing (e.g. which sources' divisions reach the compass by overlay). The catalogue's
    seeds are checked first (check_seeds): a malformed row is named before dbt runs."""
    check_seeds()
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise PreflightError(f"warehouse {warehouse} does not exist: run `basismonitor ingest` first")
    area_source = str(_dbt_var(vars_, "area_source") or "areas")
    level = str(_dbt_var(vars_, "compass_level") or "wijk")
    notes: list[str] = []
    with _connect(warehouse) as con:
        tables = {r[0] for r in con.execute(
            "select table_schema || '.' || table_name from information_schema.tables").fetchall()}
        if "raw.areas" not in tables:
            raise PreflightError(f"{warehouse} has no raw.areas: run `basismonitor ingest` first")
        divisions = con.execute("""
            select _source, edition, count(*) filter (where area_level = 'buurt'),
                   count(*) filter (where area_level = ?), string_agg(distinct _file, ', ' order by _file)
            from raw.areas group by all order by 1, 2""", [level]).fetchall()
        if not divisions:
            raise PreflightError("no area division has landed (raw.areas is empty): deliver one "
                                 "under inbox/<areas source>/<edition>/ and run `basismonitor ingest`")
        ours = [d for d in divisions if d[0] == area_source]
        if not ours:
            others = "; ".join(f"{s} {e} ({files})" for s, e, _, _, files in divisions)
            raise PreflightError(
                f"the compass is drawn on the division of source '{area_source}' (dbt var "
                f"area_source), but that source landed no areas. Landed divisions: {others}. "
                f"Set area_source to one of them (e.g. --vars '{{area_source: {divisions[0][0]}}}' "
                f"or `vars:` in the settings file).")
        for source, edition, buurten, compass_areas, files in ours:
            if buurten == 0:
                raise PreflightError(
                    f"the division of '{source}' edition {edition} ({files}) has no buurten: an "
                    f"edition is a buurt division (add the buurt file)")
            if compass_areas == 0:
                raise PreflightError(
                    f"the division of '{source}' edition {edition} ({files}) has no areas at the "
                    f"compass level '{level}' (dbt var compass_level)")
        same = con.execute("""
            select a._source, a._file, b._source, b._file
            from (select distinct _source, _file, _sha256, edition from raw.areas) a
            join (select distinct _source, _file, _sha256, edition from raw.areas) b
              on a._sha256 = b._sha256 and a.edition = b.edition and a._source < b._source
            order by all""").fetchall()
        if same:
            raise PreflightError("the same division is delivered by two sources for one edition: "
                                 + "; ".join(f"{a} {fa} and {b} {fb}" for a, fa, b, fb in same)
                                 + ". Keep it in one source's folder (the compass division's is "
                                 f"'{area_source}')")
        for source, edition, _, _, _ in divisions:
            if source != area_source:
                notes.append(f"areas of '{source}' {edition} are another division: its figures "
                             f"reach '{area_source}' through the overlay (int_division_overlay)")
    return notes


def check_edition_has_figures(warehouse: Path, edition: int) -> None:
    """After the build (and before the gate): the edition must have figures."""
    with _connect(Path(warehouse)) as con:
        try:
            periods = con.execute("""
                select period, count(*) from marts.fct_indicator_value
                where area_edition = (select max(area_edition) from marts.fct_indicator_value)
                group by all order by 1""").fetchall()
            survey = con.execute("select distinct wave from raw.survey_respondents order by 1").fetchall()
        except duckdb.CatalogException:
            return
    counts = dict(periods)
    if counts.get(edition, 0) == 0:
        have = ", ".join(f"{p} ({n:,} figures)" for p, n in periods) or "none"
        waves = ", ".join(str(w) for (w,) in survey) or "none"
        raise PreflightError(
            f"no figure for edition {edition}: the warehouse has figures for the periods {have}; "
            f"survey waves landed: {waves}. Build an edition that has data (--edition, "
            f"BASISMONITOR_EDITION or `edition:` in the settings file), or deliver the data of "
            f"{edition}")


# --- the catalogue's seeds ------------------------------------------------------------------------
#
# dbt loads dbt_project/seeds/*.csv with DuckDB's CSV reader. A malformed row there fails the whole
# build with a message about the CSV dialect and no file or row ("It was not possible to
# automatically detect the CSV parsing dialect"), and a value outside the catalogue's rules is only
# caught by a dbt test after every model has run. check_seeds reads the seeds first and names the
# file, row and column of each problem. The rules are the seeds' own YAML (dbt_project/seeds/*.yml):
# column_types, not_null, unique, accepted_values, relationships between seeds and
# unique_combination, plus the catalogue's rules for an indicator's kind (docs/CATALOGUE.md).

MAX_SEED_PROBLEMS = 20
INTEGER_TYPES = {"integer", "int", "bigint", "smallint", "tinyint", "hugeint"}
NUMBER_TYPES = {"double", "float", "real", "numeric"}
BOOLEAN_VALUES = {"true", "false", "t", "f", "1", "0"}
INDICATOR_CODE = r"[a-z][a-z0-9_]*"
# what each indicator kind needs from its row (the kind's models read these columns)
KIND_NEEDS = {
    "survey_mean": ("item",),
    "survey_share": ("item", "answer_codes"),
    "survey_scale": ("item", "min_items"),
}


def _display(path: Path) -> str:
    from basismonitor.config import PROJECT_ROOT

    try:
        return path.resolve().relative_to(PROJECT_ROOT).as_posix()
    except ValueError:
        return str(path)


def _seed_specs(seeds_dir: Path) -> dict[str, dict]:
    import yaml

    specs: dict[str, dict] = {}
    for path in sorted(seeds_dir.glob("*.yml")):
        for seed in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("seeds") or []:
            specs[seed["name"]] = seed
    return specs


def _test_args(test) -> tuple[str, dict]:
    """A dbt data test as (name, arguments), for `unique` and `{accepted_values: {arguments:
    {...}}}` alike (and the older form without `arguments:`)."""
    if isinstance(test, str):
        return test, {}
    name, body = next(iter(test.items()))
    body = body or {}
    return name, dict(body.get("arguments") or {k: v for k, v in body.items() if k != "config"})


@dataclass
class _SeedFile:
    name: str
    label: str  # the file as named in messages
    header: list[str]
    rows: list[tuple[str, dict[str, str]]]  # (where: "row 5" or "row 5 (lines 5-6)", values)


def _line_endings(label: str, data: bytes) -> list[str]:
    if b"\r" not in data:
        return []
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    crlf = [i + 1 for i, line in enumerate(lines) if line.endswith(b"\r")]
    fix = f"convert it with `sed -i 's/\\r$//' {label}` (the seeds are LF, see .gitattributes)"
    if len(crlf) == len(lines):
        return [f"{label}: written with CRLF line endings; {fix}"]
    first = lines[0].endswith(b"\r")
    other = next(i + 1 for i, line in enumerate(lines) if line.endswith(b"\r") != first)
    return [f"{label} line {other}: line endings are mixed (line 1 ends with "
            f"{'CRLF' if first else 'LF'}, line {other} with {'LF' if first else 'CRLF'}); {fix}"]


def _read_seed(path: Path) -> tuple[_SeedFile | None, list[str]]:
    import csv
    import io

    label = _display(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, [f"{label} line {line}: not UTF-8 ({exc.reason} at byte {exc.start}); "
                      "save the file as UTF-8"]
    problems = _line_endings(label, data)
    if not text.strip():
        return None, problems + [f"{label}: empty (a seed needs at least its header)"]
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, int, list[str]]] = []
    end = 0
    try:
        for record in reader:
            records.append((end + 1, reader.line_num, record))
            end = reader.line_num
    except csv.Error as exc:
        return None, problems + [f"{label} line {reader.line_num}: {exc}"]
    header = records[0][2]
    if not text.endswith(("\n", "\r")):
        problems.append(f"{label} row {len(records)}: the file does not end with a newline, so a "
                        "row appended with `echo ... >>` would be joined to this last row")
    seen: set[str] = set()
    for column in header:
        if not column.strip():
            problems.append(f"{label} row 1: a column without a name in the header")
        elif column in seen:
            problems.append(f"{label} row 1, column {column}: named twice in the header")
        seen.add(column)
    rows = []
    for number, (first_line, last_line, record) in enumerate(records[1:], start=2):
        where = f"row {number}" + (f" (line {first_line})" if first_line != number else "")
        if last_line != first_line:
            where = f"row {number} (lines {first_line}-{last_line})"
        if not record or record == [""]:
            problems.append(f"{label} {where}: an empty line (remove it)")
            continue
        if len(record) != len(header):
            problems.append(
                f"{label} {where}: {len(record)} field{'s' if len(record) != 1 else ''} where the "
                f"header has {len(header)} "
                "(a text with a comma belongs in double quotes; an empty field is still "
                "written, as two commas in a row)")
            continue
        rows.append((where, dict(zip(header, record, strict=True))))
    return _SeedFile(path.stem, label, header, rows), problems


def _is_integer(value: str) -> bool:
    import re

    return re.fullmatch(r"[+-]?\d+", value.strip()) is not None


def _is_number(value: str) -> bool:
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _type_problem(value: str, declared: str) -> str | None:
    kind = declared.split("(")[0].strip().lower()
    if kind in INTEGER_TYPES and not _is_integer(value):
        return f"{value!r} is not a whole number ({declared})"
    if (kind in NUMBER_TYPES or kind.startswith("decimal")) and not _is_number(value):
        hint = " (write a decimal point, not a comma)" if "," in value else ""
        return f"{value!r} is not a number ({declared}){hint}"
    if kind == "boolean" and value.strip().lower() not in BOOLEAN_VALUES:
        return f"{value!r} is not true or false"
    return None


def _seed_rule_problems(seed: _SeedFile, spec: dict | None, seeds: dict[str, _SeedFile]) -> list[str]:
    import re

    problems: list[str] = []
    label = seed.label
    spec = spec or {}
    types = {k: str(v) for k, v in ((spec.get("config") or {}).get("column_types") or {}).items()}
    columns = {c["name"]: c for c in spec.get("columns") or []}
    expected = list(types) or list(columns)
    if expected:
        missing = [c for c in expected if c not in seed.header]
        extra = [c for c in seed.header if c not in expected and c not in columns]
        if missing:
            problems.append(f"{label} row 1: the header lacks the column(s) {', '.join(missing)} "
                            f"(the columns are {', '.join(expected)})")
        if extra:
            problems.append(f"{label} row 1: the header has column(s) {', '.join(extra)} that "
                            "dbt_project/seeds/*.yml does not describe")
    for column in seed.header:
        declared = types.get(column)
        values = [(where, row[column]) for where, row in seed.rows]
        if declared:
            for where, value in values:
                problem = value != "" and _type_problem(value, declared)
                if problem:
                    problems.append(f"{label} {where}, column {column}: {problem}")
        else:  # no declared type: dbt infers one; a number column stays one
            filled = [(where, v) for where, v in values if v != ""]
            for check, what in ((_is_integer, "a whole number"), (_is_number, "a number")):
                odd = [(where, v) for where, v in filled if not check(v)]
                if len(filled) >= 3 and len(odd) == 1:
                    problems.append(f"{label} {odd[0][0]}, column {column}: {odd[0][1]!r} is not "
                                    f"{what}, as every other row of this column is")
                    break
        for test in (columns.get(column) or {}).get("data_tests") or []:
            name, args = _test_args(test)
            if name == "not_null":
                problems += [f"{label} {where}, column {column}: empty, and it must be filled"
                             for where, value in values if value.strip() == ""]
            elif name == "unique":
                first: dict[str, str] = {}
                for where, value in values:
                    if value in first and value != "":
                        problems.append(f"{label} {where}, column {column}: {value!r} is already "
                                        f"used in {first[value]} (it must be unique)")
                    first.setdefault(value, where)
            elif name == "accepted_values":
                allowed = args.get("values") or []
                if args.get("quote") is False:
                    numbers = {float(v) for v in allowed}
                    bad = [(w, v) for w, v in values
                           if v != "" and not (_is_number(v) and float(v) in numbers)]
                else:
                    bad = [(w, v) for w, v in values if v != "" and v not in map(str, allowed)]
                noun = "a known kind" if column == "kind" else "an accepted value"
                problems += [f"{label} {where}, column {column}: {value!r} is not {noun} (one of "
                             f"{', '.join(map(str, allowed))})" for where, value in bad]
            elif name == "relationships":
                match = re.fullmatch(r"\s*ref\(\s*['\"](\w+)['\"]\s*\)\s*", str(args.get("to", "")))
                target = seeds.get(match.group(1)) if match else None
                field_ = args.get("field", column)
                if target is None or field_ not in target.header:
                    continue
                known = {row[field_] for _, row in target.rows}
                problems += [f"{label} {where}, column {column}: {value!r} is not a "
                             f"{field_} of {target.label}" for where, value in values
                             if value != "" and value not in known]
    for test in spec.get("data_tests") or []:
        name, args = _test_args(test)
        if name == "unique_combination":
            keys = [c for c in args.get("columns") or [] if c in seed.header]
            first_seen: dict[tuple, str] = {}
            for where, row in seed.rows:
                key = tuple(row[c] for c in keys)
                if key in first_seen:
                    problems.append(f"{label} {where}: the same {', '.join(keys)} as "
                                    f"{first_seen[key]} (the combination must be unique)")
                first_seen.setdefault(key, where)
    if seed.name == "indicators":
        problems += _indicator_problems(seed)
    return problems


def _indicator_problems(seed: _SeedFile) -> list[str]:
    """The catalogue's own rules for one indicator row (beyond its YAML's column tests)."""
    import re

    problems = []
    label = seed.label
    for where, row in seed.rows:
        code = row.get("indicator_code", "")
        if code and not re.fullmatch(INDICATOR_CODE, code):
            problems.append(f"{label} {where}, column indicator_code: {code!r} is not a code "
                            "(lower-case letters, digits and _, starting with a letter)")
        kind, source_kind = row.get("kind", ""), row.get("source_kind", "")
        if kind and source_kind and kind.split("_")[0] != source_kind:
            problems.append(f"{label} {where}, column source_kind: {source_kind!r} does not go "
                            f"with kind {kind!r} (a {kind.split('_')[0]} kind)")
        for needed in KIND_NEEDS.get(kind, ()):
            if needed in row and not row[needed].strip():
                problems.append(f"{label} {where}, column {needed}: empty, and kind {kind!r} "
                                "needs it")
        first, last = row.get("first_year", ""), row.get("last_year", "")
        if _is_integer(first or "x") and _is_integer(last or "x") and int(first) > int(last):
            problems.append(f"{label} {where}, column last_year: {last} is before first_year "
                            f"{first}")
    return problems


def seed_problems(seeds_dir: Path | None = None) -> list[str]:
    """Every problem found in the seeds (dbt_project/seeds), each naming file, row and column."""
    from basismonitor.config import DBT_PROJECT_DIR

    seeds_dir = Path(seeds_dir or DBT_PROJECT_DIR / "seeds")
    specs = _seed_specs(seeds_dir)
    problems: list[str] = []
    seeds: dict[str, _SeedFile] = {}
    for path in sorted(seeds_dir.glob("*.csv")):
        seed, found = _read_seed(path)
        problems += found
        if seed is not None:
            seeds[seed.name] = seed
    for name, seed in seeds.items():
        problems += _seed_rule_problems(seed, specs.get(name), seeds)
    return problems


def check_seeds(seeds_dir: Path | None = None) -> None:
    """Before dbt: raise PreflightError naming each malformed seed row (file, row, column)."""
    problems = seed_problems(seeds_dir)
    if not problems:
        return
    shown = problems[:MAX_SEED_PROBLEMS]
    more = len(problems) - len(shown)
    raise PreflightError(
        f"the catalogue's seeds have {len(problems)} problem{'s' if len(problems) > 1 else ''} "
        "(dbt would fail on them or build wrong figures; see docs/CATALOGUE.md):\n  "
        + "\n  ".join(shown) + (f"\n  ... and {more} more" if more else ""))
