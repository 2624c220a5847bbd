"""Read a delivered file into the temp table ``stg``: one VARCHAR column per delivered column,
the cells as delivered, plus ``_row_number`` (1-based data row; for CSV the record's line number
minus the header line, so a quarantined row can be found in the file).

CSV is read by DuckDB's read_csv (all_varchar, strict, rejects stored): rows the parser cannot
split (too few fields -- a truncated last line -- too many fields, a stray quote) go to the
quarantine with the delivered line. Before that, the header decides: the delimiter must split it
into the expected columns, every required column must be there and unknown columns are refused
(or ignored, as configured). The encoding is checked on the bytes first (see scan.py).
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pyarrow as pa

from .config import ENCODINGS
from .context import PROBLEMS, STG, LoadContext
from .scan import CHUNK, FileScan
from .sqlutil import ident, lit, matches_any

CANDIDATE_DELIMITERS = [";", ",", "\t", "|"]
Computed = Callable[["Staged", bool], dict[str, str]]
DELIMITER_NAMES = {";": "';'", ",": "','", "\t": "tab", "|": "'|'"}


@dataclass
class Columns:
    """What the kind expects: canonical column names and how they are named in the file."""

    required: Sequence[str]
    optional: Sequence[str] = ()
    mapping: Mapping[str, str] = field(default_factory=dict)   # canonical -> delivered header
    extras: str = "fail"                                         # fail | ignore | keep
    ignore: Sequence[str] = ()                                   # delivered headers not landed


@dataclass
class Staged:
    columns: dict[str, str]          # canonical -> stg column (present ones only)
    extras: list[str]                # stg columns of unknown columns kept (registry)
    order: list[str]                 # all stg columns in delivered order
    typed: str | None = None         # CSV with extras_type: relation of the typed rows
    text: str | None = None          # ... and of the rows re-read as text (or None)
    crs: str | None = None           # GIS files: the CRS the file declares (ingestion/gis.py)
    path: Path | None = None         # CSV: the UTF-8 file DuckDB read (delivered_cells)
    delimiter: str | None = None     # CSV: its delimiter

    def has(self, canonical: str) -> bool:
        return canonical in self.columns

    def col(self, canonical: str) -> str:
        return ident(self.columns[canonical])


# Messages (raw.loads.message, the log) quote a delivered header in part only: a file that is not
# what it claims (a link to /proc/self/environ, a wrong export) must not be copied into them.
MAX_HEADERS_SHOWN = 12
MAX_QUOTED = 200
# A CSV of at least REJECT_MIN_ROWS data rows of which more than MAX_REJECT_SHARE cannot be split
# into the header's fields is refused as a whole (docs/QUALITY.md): it is not the expected format,
# and quarantining millions of lines costs minutes and gigabytes. The first REJECT_SAMPLE_LINES
# lines decide before the file is read; the full read decides again.
MAX_REJECT_SHARE = 0.5
REJECT_MIN_ROWS = 100
REJECT_SAMPLE_LINES = 10_000


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    """text cut to limit characters, control characters escaped."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit + 1])
    return text if len(text) <= limit else text[:limit] + "..."


def norm(header: str | None) -> str:
    return (header or "").strip().lstrip("\ufeff").strip().strip('"').strip().lower()


def stage_kind(ctx: LoadContext, required: Sequence[str], optional: Sequence[str] = (),
               defaults: Mapping[str, str] | None = None) -> tuple[Staged, dict[str, str]]:
    """Stage the file of a kind with fixed columns: ``required`` always, each of ``optional`` where
    the source's ``columns:`` maps it; ``defaults`` are the delivered headers where ``columns:``
    names none. The source's ``extra_columns`` and ``ignore_columns`` apply. Returns the staged
    file and the delivered header of each present column (its label in messages)."""
    mapping = {**(defaults or {}), **(ctx.opt("columns") or {})}
    st = stage(ctx, Columns(required=list(required),
                            optional=[c for c in optional if c in mapping], mapping=mapping,
                            extras=ctx.opt("extra_columns", "fail"),
                            ignore=[str(i) for i in ctx.opt("ignore_columns") or []]))
    return st, {c: ctx.headers[st.columns[c]] for c in st.columns}


def stage(ctx: LoadContext, cols: Columns, *, extras_type: str | None = None,
          computed: Computed | None = None) -> Staged:
    """Stage the file as ``stg``. For a CSV, extras_type parses the unknown columns typed and
    computed(staged, typed) gives extra columns {name: SQL on the bare column names} evaluated in
    the read pass itself (see _stage_csv); Staged.typed / Staged.text then name the relations
    that have them."""
    suffix = ctx.path.suffix.lower()
    if suffix in (".csv", ".txt"):
        return _stage_csv(ctx, cols, extras_type, computed)
    if suffix == ".xlsx":
        return _stage_excel(ctx, cols)
    if suffix == ".parquet":
        return _stage_duckdb(ctx, cols, f"read_parquet({lit(str(ctx.path))}, file_row_number=true)",
                             row_expr="file_row_number + 1", drop=("file_row_number",))
    if suffix == ".sav":
        return _stage_sav(ctx, cols)
    if suffix == ".json":
        return _stage_json(ctx, cols)
    if suffix in (".zip", ".shp", ".gpkg"):
        from .gis import stage_gis

        return stage_gis(ctx, cols)
    raise ctx.error(f"files of type {suffix or '(none)'} cannot be read",
                    hint="deliver CSV, Excel (.xlsx), Parquet, SPSS (.sav), OData JSON, or a "
                         "GIS file (zipped shapefile .zip, .shp, GeoPackage .gpkg)")


# -- header -----------------------------------------------------------------------------------

def _plan(ctx: LoadContext, headers: list[str], cols: Columns) -> Staged:
    """Match delivered headers to the expected columns; fail on missing or unknown ones."""
    normed = [norm(h) for h in headers]
    seen: dict[str, int] = {}
    for i, h in enumerate(normed):
        if h and h in seen:
            raise ctx.error(f"column {headers[i].strip()!r} occurs twice in the header "
                            f"(columns {seen[h] + 1} and {i + 1})",
                            hint="deliver each column once")
        seen[h] = i
    names: list[str | None] = [None] * len(headers)
    columns: dict[str, str] = {}
    missing = []
    for canonical in list(cols.required) + list(cols.optional):
        delivered = norm(cols.mapping.get(canonical, canonical))
        if delivered in seen and names[seen[delivered]] is None:
            names[seen[delivered]] = canonical
            columns[canonical] = canonical
        elif canonical in cols.required:
            missing.append(cols.mapping.get(canonical, canonical))
    found = shorten(", ".join(h.strip() or "(unnamed)" for h in headers[:MAX_HEADERS_SHOWN]))
    if len(headers) > MAX_HEADERS_SHOWN:
        found += f", ... ({len(headers)} columns)"
    if missing:
        raise ctx.error(f"missing column(s) {', '.join(missing)}; the header has: {found}",
                        hint="deliver the columns the source format requires "
                             "(see docs/SOURCES.md), or map them under columns: in sources.yml")
    extras = []
    used = set(n for n in names if n)
    unknown = []
    for i, h in enumerate(headers):
        if names[i] is not None:
            continue
        base = norm(h) or f"column{i}"
        name = re.sub(r"[^0-9a-z_]+", "_", base).strip("_") or f"column{i}"
        while name in used or name == "_row_number":
            name += "_"
        used.add(name)
        names[i] = name
        if matches_any(norm(h), [norm(p) for p in cols.ignore]):
            continue
        if cols.extras == "keep":
            extras.append(name)
        else:
            unknown.append((h.strip() or f"(unnamed column {i + 1})", name))
    if unknown and cols.extras == "fail":
        raise ctx.error(
            f"unexpected column(s) {shorten(', '.join(u for u, _ in unknown))}; expected exactly: "
            + ", ".join(cols.mapping.get(c, c) for c in list(cols.required) + list(cols.optional)),
            hint="remove the columns, or set extra_columns: ignore for this source in sources.yml",
        )
    for header, _ in unknown:
        ctx.file_problem(f"column {header} is not part of the source format and was not landed "
                         "(extra_columns: ignore)", column=header)
        ctx.notes.append(f"ignored extra column {header}")
    ctx.headers = {n: h.strip().lstrip("\ufeff") or n for n, h in zip(names, headers, strict=True)}
    return Staged(columns=columns, extras=extras, order=[n for n in names if n])


# -- CSV ----------------------------------------------------------------------------------------

def _effective_encoding(ctx: LoadContext, scan: FileScan) -> str:
    declared = ENCODINGS[str(ctx.opt("encoding", "utf-8")).lower()]
    mismatch = ctx.opt("encoding_mismatch", "fail")
    if scan.is_ascii:
        return "utf-8"
    if declared == "utf-8":
        if scan.utf8_valid:
            return "utf-8"
        byte = f"0x{scan.utf8_error_byte:02X}" if scan.utf8_error_byte is not None else "a byte"
        where = f"{byte} at line {scan.utf8_error_line} (byte offset {scan.utf8_error_offset})"
        if scan.has_utf8_multibyte:
            raise ctx.error(
                f"mixed encodings: the file has valid UTF-8 text and also {where}, which is not "
                "UTF-8 (probably cp1252); it cannot be read in either encoding",
                row=None, hint="re-export the whole file in one encoding (UTF-8)")
        if mismatch == "fallback" and scan.cp1252_error_offset is None:
            ctx.notes.append(f"declared UTF-8 but not valid UTF-8 ({where}); read as cp1252 "
                             "(encoding_mismatch: fallback)")
            return "cp1252"
        raise ctx.error(
            f"not valid UTF-8: {where}; the file looks like cp1252/latin-1 but the source "
            "declares utf-8 (encoding_mismatch: fail)",
            hint="re-export the file as UTF-8, or set encoding: cp1252 (or encoding_mismatch: "
                 "fallback) for this source in sources.yml")
    # declared cp1252 / latin-1
    if scan.utf8_valid and scan.has_utf8_multibyte:
        if mismatch == "fallback":
            ctx.notes.append(f"declared {declared} but the file is UTF-8; read as UTF-8 "
                             "(encoding_mismatch: fallback)")
            return "utf-8"
        raise ctx.error(
            f"the file is UTF-8 (multi-byte UTF-8 sequences), but the source declares {declared}; "
            f"reading it as {declared} would garble every accented letter (encoding_mismatch: fail)",
            hint=f"re-export the file as {declared}, or set encoding: utf-8 (or "
                 "encoding_mismatch: fallback) for this source in sources.yml")
    if declared == "cp1252" and scan.cp1252_error_offset is not None:
        raise ctx.error(
            f"byte at offset {scan.cp1252_error_offset} (line {scan.cp1252_error_line}) is not "
            "a cp1252 character: the file is not in the declared encoding",
            hint="re-export the file as cp1252 or UTF-8 and declare that encoding")
    return declared


def _transcode(ctx: LoadContext, encoding: str) -> Path:
    assert ctx.workdir is not None
    target = ctx.workdir / (ctx.path.stem + ".utf8.csv")
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(ctx.path, "rb") as src, open(target, "w", encoding="utf-8", newline="") as dst:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            dst.write(decoder.decode(chunk))
        dst.write(decoder.decode(b"", final=True))
    return target


def delivered_cells(staged: Staged, cells: Iterable[tuple[int, str]]) -> dict[tuple[int, str], str]:
    """The text of cells (row number, stg column) exactly as the CSV delivers it. A typed read
    turns ``99999999999999999999`` into 1e+20 and ``-0`` into 0; a quarantine entry shows what
    the file says. One pass of Python's csv reader over the file, made only when cells are
    asked for (a row number is the line its record starts on, minus the header line)."""
    wanted: dict[int, list[str]] = {}
    for row, column in cells:
        wanted.setdefault(int(row), []).append(column)
    if not wanted or staged.path is None or staged.delimiter is None:
        return {}
    index = {name: i for i, name in enumerate(staged.order)}
    found: dict[tuple[int, str], str] = {}
    last = max(wanted)
    with open(staged.path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=staged.delimiter, quotechar='"')
        start = 1
        for record in reader:
            row = start - 1
            start = reader.line_num + 1
            if row in wanted:
                for column in wanted[row]:
                    i = index.get(column)
                    if i is not None and i < len(record):
                        found[(row, column)] = record[i]
            if row >= last:
                break
    return found


def _header_line(path: Path) -> str:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return fh.readline().rstrip("\r\n")


def _split(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter, quotechar='"'), [])


def _choose_delimiter(ctx: LoadContext, header: str, cols: Columns) -> tuple[str, list[str]]:
    declared = ctx.opt("delimiter", ";")
    wanted = {norm(cols.mapping.get(c, c)) for c in cols.required}

    def fits(d: str) -> bool:
        fields = {norm(f) for f in _split(header, d)}
        return wanted <= fields and len(fields) > 1 or (len(wanted) == 1 and wanted <= fields)

    if declared == "auto":
        for d in CANDIDATE_DELIMITERS:
            if fits(d):
                return d, _split(header, d)
        return ";", _split(header, ";")   # the missing-column message explains
    if fits(declared) or not any(fits(d) for d in CANDIDATE_DELIMITERS if d != declared):
        return declared, _split(header, declared)
    actual = next(d for d in CANDIDATE_DELIMITERS if d != declared and fits(d))
    raise ctx.error(
        f"wrong delimiter: the source declares {DELIMITER_NAMES[declared]} but the header is "
        f"separated by {DELIMITER_NAMES[actual]} ({shorten(header, 80)!r})",
        row=None,
        hint=f"re-export with {DELIMITER_NAMES[declared]}, or set delimiter: "
             f"{'auto' if actual != chr(9) else chr(92) + 't'} for this source in sources.yml")


def _read_csv_sql(path: Path, delimiter: str, names: Sequence[str], types: Mapping[str, str],
                  rejects: str, long_lines: bool = False) -> str:
    column_types = "{" + ", ".join(f"{lit(n)}: {lit(types.get(n, 'VARCHAR'))}"
                                   for n in names) + "}"
    return (f"read_csv({lit(str(path))}, delim = {lit(delimiter)}, quote = '\"', "
            f"escape = '\"', header = true, auto_detect = false, columns = {column_types}, "
            "strict_mode = true, null_padding = false, ignore_errors = true, "
            f"store_rejects = true, rejects_table = '{rejects}', "
            f"rejects_scan = '{rejects}_scans'"
            # geometry columns can make lines of megabytes; big buffers cost time elsewhere
            + (", max_line_size = 67108864, buffer_size = 134217728" if long_lines else "")
            + ")")


def _stage_csv(ctx: LoadContext, cols: Columns, extras_type: str | None = None,
               computed: Computed | None = None) -> Staged:
    """Stage a CSV. With extras_type (e.g. DOUBLE) the unknown columns are parsed typed -- no
    strings for the answers of a national survey --; rows where such a cell does not parse are
    re-read as text from the line DuckDB rejected, so they are examined, not lost. Then
    ``stg`` is a view over both, all VARCHAR, and Staged.typed / Staged.text name the parts."""
    scan = ctx.scan
    assert scan is not None
    if scan.size == 0:
        raise ctx.error("the file is empty (0 bytes)",
                        hint="deliver the file again; the export or transfer went wrong")
    encoding = _effective_encoding(ctx, scan)
    path = ctx.path if encoding == "utf-8" else _transcode(ctx, encoding)
    header = _header_line(path)
    if not header.strip():
        raise ctx.error("the first line is empty: expected the header line",
                        hint="deliver the file with its header on line 1")
    delimiter, headers = _choose_delimiter(ctx, header, cols)
    staged = _plan(ctx, headers, cols)
    if scan.line_count <= 1 or (scan.line_count - 1 - len(scan.blank_lines)) <= 0:
        raise ctx.error("the file has a header but no data rows",
                        hint="deliver the complete export")
    _refuse_mostly_rejects_early(ctx, path, delimiter, len(headers))
    names = staged.order
    types = {n: extras_type for n in staged.extras} if extras_type else {}
    con = ctx.con
    con.execute("drop table if exists _rejects; drop table if exists _rejects_scans")
    long_lines = ctx.source.kind in ("areas", "registry_wbk")
    extra = "".join(f", {sql} as {ident(name)}"
                    for name, sql in (computed(staged, True) if computed else {}).items())
    # a projection over the scan keeps the file order (rowid below) and runs in parallel
    con.execute(f"create or replace temp table _csv as select *{extra} from "
                f"{_read_csv_sql(path, delimiter, names, types, '_rejects', long_lines)}")
    rejects = con.execute("""
        select line, list(distinct error_type), min(csv_line), min(error_message),
               list(distinct column_name)
        from _rejects group by line order by line""").fetchall()
    accepted = ctx.count("select count(*) from _csv")
    bad_lines: list[int] = []
    recover: list[tuple[int, str]] = []
    skipped: list[int] = [int(b) for b in scan.blank_lines if b > 1]
    for line, etypes, csv_line, message, columns in rejects:
        text = (csv_line or "").strip("\r\n")
        if not text.strip():
            skipped.append(int(line))          # a line of blanks: no data
            continue
        if "UNQUOTED VALUE" in etypes and "\n" in text.strip():
            raise ctx.error(
                "unterminated quote: a value opened with \" is never closed, so the rest of the "
                "file cannot be split into rows",
                row=int(line) - 1,
                hint="fix the quoting (or re-export); if the file was cut off, deliver it again")
        if types and set(etypes) == {"CAST"} and all(c in types for c in columns):
            recover.append((int(line), text))
            continue
        bad_lines.append(int(line))
        reason = _reject_reason(sorted(etypes)[0], message, len(names), int(line), scan)
        con.execute(f"insert into {PROBLEMS} values (?, NULL, NULL, ?, 'row', ?)",
                    [int(line) - 1, reason, text])
    ctx.rows_read = accepted + len(bad_lines) + len(recover)
    if ctx.rows_read == 0:
        raise ctx.error("the file has a header but no data rows",
                        hint="deliver the complete export")
    _reconcile_lines(ctx, scan, names, types, accepted, bad_lines, recover, skipped, rejects)
    if (ctx.rows_read >= REJECT_MIN_ROWS
            and len(bad_lines) > MAX_REJECT_SHARE * ctx.rows_read):
        raise ctx.error(
            f"{len(bad_lines)} of {ctx.rows_read} rows cannot be split into the header's "
            f"{len(names)} fields (more than {MAX_REJECT_SHARE:.0%}): the file is not in the "
            "source's format; nothing was landed",
            hint="check that the right file was delivered, its delimiter and its quoting")
    if bad_lines and max(bad_lines) - 1 == scan.line_count - 1 and not scan.ends_with_newline:
        ctx.notes.append("the last line is incomplete: the file looks truncated")

    # _row_number of the accepted rows: rowid follows insertion (= file) order (inside a
    # transaction it starts at a large offset); skipped lines shift the rows after them.
    skip = sorted(set(bad_lines) | set(skipped) | {line for line, _ in recover})
    base = ctx.count("select coalesce(min(rowid), 0) from _csv")
    if not skip:
        con.execute(f"create or replace temp view _csv_rows as "
                    f"select rowid - {base} + 1 as _row_number, * from _csv")
    else:
        # k-th accepted record -> its row: k + #{skipped lines before it}
        sk = np.array(skip, dtype=np.int64) - 1            # as data row numbers
        c = sk - np.arange(1, len(sk) + 1)                 # accepted rows before each skip
        k = np.arange(1, accepted + 1, dtype=np.int64)
        rows = k + np.searchsorted(c, k, side="left")
        con.register("_rowmap_arrow", pa.table({"k": k - 1, "r": rows}))
        con.execute("create or replace temp table _rowmap as select * from _rowmap_arrow")
        con.unregister("_rowmap_arrow")
        con.execute(f"""create or replace temp view _csv_rows as
            select m.r as _row_number, c.* from _csv c join _rowmap m on m.k = c.rowid - {base}""")
    staged.typed = "_csv_rows" if types else None
    staged.path, staged.delimiter = path, delimiter
    text_part = None
    if recover:
        assert ctx.workdir is not None
        again = ctx.workdir / "recovered.csv"
        again.write_text(header + "\n" + "\n".join(t for _, t in recover) + "\n",
                         encoding="utf-8")
        con.execute(f"""create or replace temp table _csv_text_raw as select * from
            {_read_csv_sql(again, delimiter, names, {}, '_rejects_again', long_lines)}""")
        numbers = pa.table({"k": np.arange(len(recover), dtype=np.int64),
                            "r": np.array([line - 1 for line, _ in recover], dtype=np.int64)})
        con.register("_textmap_arrow", numbers)
        base_t = ctx.count("select coalesce(min(rowid), 0) from _csv_text_raw")
        extra = "".join(f", {sql} as {ident(name)}"
                        for name, sql in (computed(staged, False) if computed else {}).items())
        con.execute(f"""create or replace temp table _csv_text as
            select m.r as _row_number, c.*{extra} from _csv_text_raw c
            join _textmap_arrow m on m.k = c.rowid - {base_t}""")
        con.unregister("_textmap_arrow")
        if ctx.count("select count(*) from _csv_text") != len(recover):
            raise ctx.error("rows that were rejected for a value could not be read again as text",
                            hint="report this with the file")
        text_part = "_csv_text"
    staged.text = text_part
    as_text = ", ".join(
        f"{_varchar_sql(n, types[n])} as {ident(n)}" if n in types else ident(n) for n in names)
    union = (f" union all select _row_number, {', '.join(ident(n) for n in names)} "
             f"from {text_part}") if text_part else ""
    con.execute(f"create or replace temp view {STG} as "
                f"select _row_number, {as_text} from _csv_rows{union}")
    return staged


def _refuse_mostly_rejects_early(ctx: LoadContext, path: Path, delimiter: str,
                                 expected: int) -> None:
    """Refuse before the full read when the first lines are mostly rows the reader would reject
    (a wrong field count): reading and quarantining millions of them costs minutes and gigabytes
    (issue 23: 18 min and 4.2 GB for a 5-million-line junk file)."""
    import itertools

    csv.field_size_limit(1 << 30)          # geometry columns: lines of megabytes
    rows = bad = 0
    first_bad: tuple[int, int] | None = None
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(itertools.islice(fh, REJECT_SAMPLE_LINES), delimiter=delimiter,
                            quotechar='"')
        try:
            next(reader, None)             # the header
            for record in reader:
                if not record or not any(f.strip() for f in record):
                    continue
                rows += 1
                if len(record) != expected:
                    bad += 1
                    if first_bad is None:
                        first_bad = (reader.line_num, len(record))
        except csv.Error:
            return                          # the full read reports what is wrong, per row
    if rows >= REJECT_MIN_ROWS and bad > MAX_REJECT_SHARE * rows and first_bad:
        raise ctx.error(
            f"{bad} of the first {rows} rows do not have the header's {expected} fields (more "
            f"than {MAX_REJECT_SHARE:.0%}; the first at line {first_bad[0]} has "
            f"{first_bad[1]}): the file is not in the source's format; it was not read further "
            "and nothing was landed",
            row=first_bad[0] - 1,
            hint="check that the right file was delivered, its delimiter and its quoting")


def _reconcile_lines(ctx: LoadContext, scan: FileScan, names, types, accepted: int,
                     bad_lines: list[int], recover: list, skipped: list[int], rejects) -> None:
    """Every line of the file must be accounted for: a row landed or quarantined, a blank line,
    or a line break inside a quoted value. DuckDB's read_csv with ignore_errors and
    store_rejects can stop early on a file with very many rejected lines (issue 23: 112,038 of
    5,000,000 rows reached neither table) without an error; this catches it."""
    data_lines = scan.line_count - 1
    consumed = accepted + len(bad_lines) + len(recover) + len(set(skipped))
    if consumed >= data_lines:
        return
    # line breaks inside quoted values: a record spans several lines (only counted when needed)
    text_cols = [n for n in names if n not in types]
    inner = 0
    if text_cols and accepted:
        inner = ctx.count("select coalesce(sum(" + " + ".join(
            f"coalesce(length({ident(n)}) - length(replace({ident(n)}, chr(10), '')), 0)"
            for n in text_cols) + "), 0) from _csv")
    inner += sum((csv_line or "").strip("\r\n").count("\n") for _, _, csv_line, _, _ in rejects)
    if consumed + inner >= data_lines:
        return
    raise ctx.error(
        f"the CSV reader stopped early: the file has {data_lines} lines after the header, but "
        f"only {consumed + inner} were read ({accepted} rows accepted, {len(bad_lines)} "
        f"rejected, {len(set(skipped))} blank); {data_lines - consumed - inner} lines reached "
        "neither the landing table nor the quarantine, so nothing was landed",
        hint="report this with the file (a known DuckDB read_csv limit on files with very many "
             "rejected lines); check the file's format first")


def _reject_reason(etype: str, message: str, expected: int, line: int, scan: FileScan) -> str:
    """Why DuckDB's CSV reader rejected a row, in words."""
    found = re.search(r"Found: (\d+)", message or "")
    n = found.group(1) if found else "?"
    last = line - 1 == scan.line_count - 1 or line == scan.line_count
    if etype == "MISSING COLUMNS":
        text = f"the row has {n} of {expected} fields"
        if last and not scan.ends_with_newline:
            text += ": the last line is cut off (truncated file)"
        return text
    if etype == "TOO MANY COLUMNS":
        return (f"the row has {n} fields but the header has {expected} (a delimiter inside an "
                "unquoted value?)")
    if etype == "UNQUOTED VALUE":
        return "a quote in the row is not closed or not followed by the delimiter"
    if etype == "INVALID UNICODE":
        return "the row has bytes that are not valid in the file's encoding"
    return f"the row cannot be parsed: {etype.lower()}: {message}"


# -- Excel --------------------------------------------------------------------------------------

def _cell_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value)
    return text if text.strip() else None


def _stage_excel(ctx: LoadContext, cols: Columns) -> Staged:
    import zipfile

    from openpyxl import load_workbook

    if ctx.path.stat().st_size == 0:
        raise ctx.error("the file is empty (0 bytes)", hint="deliver the workbook again")
    try:
        wb = load_workbook(ctx.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ctx.error(f"not a readable Excel workbook (.xlsx): {exc}",
                        hint="deliver a valid .xlsx (not .xls or a renamed CSV)") from exc
    try:
        sheet = ctx.opt("sheet", 0)
        if isinstance(sheet, int):
            if sheet >= len(wb.sheetnames):
                raise ctx.error(f"the workbook has no sheet number {sheet} "
                                f"(sheets: {', '.join(wb.sheetnames)})")
            ws = wb[wb.sheetnames[sheet]]
        else:
            if sheet not in wb.sheetnames:
                raise ctx.error(
                    f"sheet {sheet!r} is missing; the workbook has: {', '.join(wb.sheetnames)}",
                    hint=f"name the sheet {sheet!r}, or set sheet: for this source in "
                         "sources.yml")
            ws = wb[sheet]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None or all(v is None for v in header):
            raise ctx.error(f"sheet {ws.title!r} is empty: expected a header row",
                            hint="deliver the export with its header in row 1")
        width = len(header)
        while width and header[width - 1] is None:
            width -= 1
        headers = [_cell_text(h) or "" for h in header[:width]]
        staged = _plan(ctx, headers, cols)
        data: list[list[str | None]] = [[] for _ in range(width)]
        numbers: list[int] = []
        for i, row in enumerate(rows, start=1):
            cells = [_cell_text(v) for v in row[:width]]
            if all(c is None for c in cells):
                continue
            cells += [None] * (width - len(cells))
            for j in range(width):
                data[j].append(cells[j])
            numbers.append(i)
            extra = [v for v in row[width:] if v is not None]
            if extra:
                ctx.con.execute(f"insert into {PROBLEMS} values (?, NULL, ?, ?, 'row', NULL)",
                                [i, str(extra[0]),
                                 "the row has values beyond the last header column"])
        _note_uncalculated_formulas(ctx, wb, ws, headers, set(numbers))
    finally:
        wb.close()
    if not numbers:
        raise ctx.error(f"sheet {ws.title!r} has a header but no data rows",
                        hint="deliver the complete export")
    table = pa.table({"_row_number": pa.array(numbers, pa.int64()),
                      **{n: pa.array(data[j], pa.string()) for j, n in enumerate(staged.order)}})
    ctx.con.register("_xlsx", table)
    ctx.con.execute(f"create or replace temp table {STG} as select * from _xlsx")
    ctx.con.unregister("_xlsx")
    ctx.rows_read = len(numbers)
    return staged


def _column_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def _note_uncalculated_formulas(ctx: LoadContext, wb, ws, headers: list[str],
                                rows: set[int]) -> None:
    """A formula cell saved without its computed value (a workbook written by a program that does
    not calculate) reads as empty: each such cell gets a quarantine entry with its formula, so
    the empty value is explained. The sheet's XML is read only when it has formulas at all."""
    import re as _re
    import zipfile
    from xml.etree.ElementTree import iterparse

    path = getattr(ws, "_worksheet_path", None)
    if not path:
        return
    try:
        with zipfile.ZipFile(ctx.path) as zf:
            with zf.open(path) as fh:
                has_formula = any(b"<f" in chunk or b":f" in chunk
                                  for chunk in iter(lambda: fh.read(CHUNK), b""))
            if not has_formula:
                return
            found = []
            with zf.open(path) as fh:
                for _, elem in iterparse(fh):
                    if not elem.tag.endswith("}c"):
                        continue
                    formula = next((c for c in elem if c.tag.endswith("}f")), None)
                    value = next((c for c in elem if c.tag.endswith("}v")), None)
                    if formula is not None and (value is None or value.text in (None, "")):
                        m = _re.fullmatch(r"([A-Z]+)(\d+)", elem.get("r") or "")
                        if m:
                            found.append((int(m.group(2)) - 1, _column_index(m.group(1)),
                                          formula.text or "(shared formula)"))
                    elem.clear()
    except (KeyError, zipfile.BadZipFile, OSError):
        return
    for row, col, formula in found:
        if row in rows and col < len(headers):
            reason = (f"{headers[col]}: a formula (={shorten(formula, 80)}) without a computed "
                      "value in the workbook; landed as empty -- open and save the workbook in "
                      "Excel (or LibreOffice) so the values are calculated")
            ctx.con.execute(f"insert into {PROBLEMS} values (?, ?, ?, ?, 'cell', NULL)",
                            [row, headers[col], "=" + shorten(formula, 80), reason])
    if found:
        ctx.notes.append(f"{len(found)} formula cell(s) without a computed value landed as empty")


# -- Parquet / SPSS / JSON ----------------------------------------------------------------------

def _varchar_sql(col: str, dtype: str) -> str:
    c = ident(col)
    if dtype in ("DOUBLE", "FLOAT") or dtype.startswith("DECIMAL"):
        return (f"case when {c} is null or isnan({c}::double) then NULL "
                f"when {c} = trunc({c}) and abs({c}) < 1e15 then cast(cast({c} as bigint) as varchar) "
                f"else cast({c} as varchar) end")
    if dtype == "BOOLEAN":
        return f"case when {c} then '1' when not {c} then '0' end"
    if dtype.startswith("TIMESTAMP"):
        return (f"case when cast({c} as time) = TIME '00:00:00' "
                f"then cast(cast({c} as date) as varchar) else cast({c} as varchar) end")
    return f"nullif(cast({c} as varchar), '')"


def _stage_duckdb(ctx: LoadContext, cols: Columns, relation: str, *, row_expr: str,
                  drop: Sequence[str] = ()) -> Staged:
    if ctx.path.stat().st_size == 0:
        raise ctx.error("the file is empty (0 bytes)", hint="deliver the file again")
    try:
        described = ctx.con.execute(f"describe select * from {relation}").fetchall()
    except Exception as exc:   # duckdb.Error: not a parquet file, corrupt footer, ...
        raise ctx.error(f"the file cannot be read as {ctx.path.suffix[1:]}: "
                        f"{str(exc).splitlines()[0]}",
                        hint="deliver the file again; it is damaged or of another type") from exc
    types = {name: dtype for name, dtype, *_ in described if name not in drop}
    headers = list(types)
    staged = _plan(ctx, headers, cols)
    selects = ", ".join(f"{_varchar_sql(h, types[h])} as {ident(n)}"
                        for h, n in zip(headers, staged.order, strict=True))
    ctx.con.execute(f"create or replace temp table {STG} as "
                    f"select {row_expr} as _row_number, {selects} from {relation}")
    ctx.rows_read = ctx.count(f"select count(*) from {STG}")
    if ctx.rows_read == 0:
        raise ctx.error("the file has no data rows", hint="deliver the complete export")
    return staged


def _stage_sav(ctx: LoadContext, cols: Columns) -> Staged:
    import pyreadstat

    if ctx.path.stat().st_size == 0:
        raise ctx.error("the file is empty (0 bytes)", hint="deliver the file again")
    try:
        # user_missing=True keeps user-defined missing codes (9, 99, -1) as delivered values;
        # the codebook says what they mean.
        frame, _meta = pyreadstat.read_sav(str(ctx.path), user_missing=True,
                                           apply_value_formats=False,
                                           dates_as_pandas_datetime=False)
    except Exception as exc:   # pyreadstat.ReadstatError and friends
        raise ctx.error(f"the file cannot be read as SPSS .sav: {exc}",
                        hint="deliver the file again; it is damaged or of another type") from exc
    frame["_sav_row"] = np.arange(1, len(frame) + 1, dtype=np.int64)
    ctx.con.register("_sav", frame)
    try:
        return _stage_duckdb(ctx, cols, "_sav", row_expr="_sav_row", drop=("_sav_row",))
    finally:
        ctx.con.unregister("_sav")


def _stage_json(ctx: LoadContext, cols: Columns) -> Staged:
    size = ctx.path.stat().st_size
    if size == 0:
        raise ctx.error("the file is empty (0 bytes)", hint="fetch the data again")
    path = lit(str(ctx.path))
    try:
        keys = [r[0] for r in ctx.con.execute(
            f"describe select * from read_json({path}, maximum_object_size = {size + 16})"
        ).fetchall()]
    except Exception as exc:
        raise ctx.error(f"not valid JSON: {str(exc).splitlines()[0]}",
                        hint="fetch the data again; the response was cut off or is no JSON") from exc
    if "value" not in keys:
        raise ctx.error("the JSON has no 'value' array: not an OData response "
                        f"(top-level keys: {', '.join(keys) or 'none'})",
                        hint="check the OData URL (it must return a TypedDataSet or "
                             "Observations feed)")
    relation = (f"(select unnest(value, recursive := true), generate_subscripts(value, 1) "
                f"as _json_row from read_json({path}, maximum_object_size = {size + 16}))")
    return _stage_duckdb(ctx, cols, relation, row_expr="_json_row", drop=("_json_row",))
