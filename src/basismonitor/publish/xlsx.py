"""A small streaming XLSX writer for the published workbooks (the edition's and each area's).

Why not xlsxwriter: it stores and writes every cell through several Python calls (~100,000
cells a second here), which made the edition workbook 75 s and each area's workbook 0.18 s of a
national publication. This writer takes rows as finished SpreadsheetML text: the edition's rows
are written by DuckDB itself (`sql_cells`: one string per row, computed in the database's
threads), an area's rows by `row_xml`. What it writes is the part of the format the workbooks
use: sheets of numbers, booleans and inline strings, a bold header frozen with an autofilter,
column widths, a wrapped-text style and fixed document properties. The same input gives the same
bytes (fixed zip dates, fixed properties, no shared-string table order to vary).

Cells carry no `r` reference: in SpreadsheetML a cell without one takes the next column, so every
column of a row is written (`<c/>` for an empty one); rows carry their number.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zipfile
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from html import escape as _html_escape
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# cell styles (indices into styles.xml's cellXfs): text, then number formats (the cell keeps its
# exact value; the format only decides what a reader sees, in their locale's separators)
NORMAL, BOLD, WRAP, HEADER = 0, 1, 2, 3
YEAR, COUNT, INDEX, DECIMAL, PERCENT = 4, 5, 6, 7, 8
NUMBER_STYLES = {"year": YEAR, "count": COUNT, "index": INDEX, "decimal": DECIMAL,
                 "percent": PERCENT, "": NORMAL}
_STYLE_ATTR = {NORMAL: ""} | {k: f' s="{k}"' for k in range(1, 9)}

# characters XML 1.0 does not allow (a stray control character in a name would break the file)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
ILLEGAL_SQL_PATTERN = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]"
EMPTY = "<c/>"


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def text(value: str) -> str:
    """XML-escaped text without the characters XML cannot hold."""
    return _html_escape(_ILLEGAL.sub("", value), quote=False)


def cell_xml(value, style: int = NORMAL) -> str:
    """One cell from a Python value: None -> empty, bool, number (NaN/inf -> #NUM!), else text."""
    s = _STYLE_ATTR[style]
    if value is None:
        return f"<c{s}/>" if s else EMPTY
    if isinstance(value, bool):
        return f'<c{s} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int):
        return f"<c{s}><v>{value}</v></c>"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return f'<c{s} t="e"><v>#NUM!</v></c>'
        return f"<c{s}><v>{value!r}</v></c>"
    return f'<c{s} t="inlineStr"><is><t xml:space="preserve">{text(str(value))}</t></is></c>'


def row_xml(number: int, values: Sequence, style: int | Sequence[int] = NORMAL) -> str:
    """Row `number` (1-based) of cells from Python values; one style, or one per cell."""
    if isinstance(style, int):
        cells = "".join(cell_xml(v, style) for v in values)
    else:
        cells = "".join(cell_xml(v, s) for v, s in zip(values, style, strict=True))
    return f'<row r="{number}">{cells}</row>'


def sql_cells(columns: Sequence[tuple[str, str]], *, nan_empty: bool = False,
              styles: dict[str, int | str] | None = None,
              bool_text: tuple[str, str] | None = None) -> str:
    """A DuckDB expression giving one row's cells (no <row>) for columns [(name, duckdb type)].

    Numbers as DuckDB prints them (shortest round-trip, as Python's repr), NaN/inf as #NUM!
    (NaN as an empty cell with nan_empty), booleans as 0/1, lists joined with '; ', everything
    else as escaped inline text. `styles` gives a number column its style: a style index, or a
    SQL expression of one (e.g. percent on the rows of a share, decimal on the others).
    `bool_text` writes booleans as text, e.g. ("ja", "nee") for a Dutch reader (Excel and
    LibreOffice show a boolean cell as TRUE/FALSE or 1/0 depending on the column's format).
    """
    parts = []
    styles = styles or {}
    for name, dtype in columns:
        col = '"' + name.replace('"', '""') + '"'
        style = styles.get(name, NORMAL)
        if isinstance(style, str):
            num = f"""'<c s="' || ({style})::varchar || '"><v>'"""
        else:
            num = f"'<c{_STYLE_ATTR[style]}><v>'"
        if dtype == "BOOLEAN" and bool_text:
            yes, no = (text(t).replace("'", "''") for t in bool_text)
            cell = (f"""'<c t="inlineStr"><is><t xml:space="preserve">' || """
                    f"""case when {col} then '{yes}' when not {col} then '{no}' end || '</t></is></c>'""")
        elif dtype == "BOOLEAN":
            cell = f"""'<c t="b"><v>' || {col}::int || '</v></c>'"""
        elif dtype in ("DOUBLE", "FLOAT", "REAL"):
            nan = f"when isnan({col}) then '{EMPTY}' " if nan_empty else ""
            cell = (f"""case {nan}when isnan({col}) or isinf({col}) then '<c t="e"><v>#NUM!</v></c>' """
                    f"""else {num} || {col}::varchar || '</v></c>' end""")
        elif dtype in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
                       "USMALLINT", "UINTEGER", "UBIGINT") or dtype.startswith("DECIMAL"):
            cell = f"""{num} || {col}::varchar || '</v></c>'"""
        else:
            value = col
            if dtype.endswith("[]"):
                value = f"array_to_string(list_transform({col}, v -> coalesce(v::varchar, '')), '; ')"
            escaped = (f"replace(replace(replace(regexp_replace({value}::varchar, "
                       f"'{ILLEGAL_SQL_PATTERN}', '', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;')")
            cell = f"""'<c t="inlineStr"><is><t xml:space="preserve">' || {escaped} || '</t></is></c>'"""
        parts.append(f"coalesce({cell}, '{EMPTY}')")
    return " || ".join(parts) if parts else "''"


class Sheet:
    """An open sheet: write rows (finished <row> text), then it is closed by the workbook."""

    def __init__(self, stream, name: str, columns: int = 0):
        self._stream, self.name = stream, name
        self.rows = 0  # rows written, the header included
        self.columns = columns  # shorter rows are padded with empty cells to this width
        self.autofilter_ref: str | None = None
        self.header = False  # row 1 repeats on every printed page

    def write(self, xml: str) -> None:
        self._stream.write(xml.encode("utf-8"))

    def row(self, values: Sequence, style: int | Sequence[int] = NORMAL, *,
            lines: int = 1) -> None:
        """One row; `lines` > 1 gives it the height of that many lines of text (wrapped text
        does not overlap the next row in readers that do not measure it, e.g. LibreOffice)."""
        self.rows += 1
        if len(values) < self.columns:
            pad = self.columns - len(values)
            values = (*values, *(None,) * pad)
            if not isinstance(style, int):
                style = (*style, *(NORMAL,) * pad)
        self.columns = max(self.columns, len(values))
        xml = row_xml(self.rows, values, style)
        if lines > 1:
            xml = xml.replace(f'<row r="{self.rows}">',
                              f'<row r="{self.rows}" ht="{15 * lines}" customHeight="1">', 1)
        self.write(xml)

    def rows_of_cells(self, cells: Iterable[str], columns: int) -> None:
        """Rows whose cells are already SpreadsheetML (e.g. from `sql_cells`)."""
        self.columns = max(self.columns, columns)
        parts, n = [], self.rows
        for c in cells:
            n += 1
            parts.append(f'<row r="{n}">{c}</row>')
        self.rows = n
        self.write("".join(parts))

    def autofilter(self) -> None:
        """Filter buttons on the header over every row written (at least one)."""
        last = column_letter(max(self.columns, 1) - 1)
        self.autofilter_ref = f"A1:{last}{max(self.rows, 2)}"


class Workbook:
    """A workbook written straight into its zip file; sheets one after the other."""

    def __init__(self, path: Path, *, title: str, author: str, created: dt.datetime,
                 comments: str | None = None):
        self.path = Path(path)
        self._zip = zipfile.ZipFile(self.path, "w", compression=zipfile.ZIP_DEFLATED,
                                    compresslevel=6)
        self._sheets: list[tuple[str, str | None, bool]] = []  # (name, filter ref, header)
        self._props = (title, author, created, comments)

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def _put(self, name: str, xml: str) -> None:
        self._zip.writestr(self._entry(name), xml.encode("utf-8"), compresslevel=6)

    @contextmanager
    def sheet(self, name: str, *, widths: Sequence[float] = (), freeze_header: bool = False,
              columns: int = 0, large: bool = False):
        """Open sheet `name`; rows written inside the block, padded to `columns` cells (readers
        such as openpyxl's read-only mode give each row as many cells as it holds); `large`
        allows more than 2 GiB of XML. Every sheet prints landscape on A4, one page wide (as
        many pages down as it needs), the frozen header repeated on every page."""
        index = len(self._sheets) + 1
        with self._zip.open(self._entry(f"xl/worksheets/sheet{index}.xml"), "w",
                            force_zip64=large) as stream:
            sheet = Sheet(stream, name, columns)
            view = '<sheetView workbookViewId="0"' + (' tabSelected="1"' if index == 1 else "")
            if freeze_header:
                view += ('><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
                         'state="frozen"/><selection pane="bottomLeft" activeCell="A2" '
                         'sqref="A2"/></sheetView>')
            else:
                view += "/>"
            cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>'
                           for i, w in enumerate(widths))
            sheet.header = freeze_header
            sheet.write(f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
                        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
                        f"<sheetViews>{view}</sheetViews>"
                        '<sheetFormatPr defaultRowHeight="15"/>'
                        + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>")
            yield sheet
            sheet.write("</sheetData>" + (f'<autoFilter ref="{sheet.autofilter_ref}"/>'
                                          if sheet.autofilter_ref else "") + PAGE_SETUP
                        + "</worksheet>")
        self._sheets.append((name, sheet.autofilter_ref, sheet.header))

    def close(self) -> None:
        title, author, created, comments = self._props
        n = len(self._sheets)
        sheets = "".join(f'<sheet name="{text(name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, (name, _, _) in enumerate(self._sheets, start=1))
        names = []
        for i, (name, ref, header) in enumerate(self._sheets):
            if ref:
                names.append(f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" '
                             f'hidden="1">{text(_absolute(name, ref))}</definedName>')
            if header:
                quoted = "'" + name.replace("'", "''") + "'"
                names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">'
                             f"{text(quoted)}!$1:$1</definedName>")
        filters = "".join(names)
        self._put("xl/workbook.xml",
                  f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}">'
                  '<bookViews><workbookView activeTab="0"/></bookViews>'
                  f"<sheets>{sheets}</sheets>"
                  + (f"<definedNames>{filters}</definedNames>" if filters else "")
                  + "</workbook>")
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, n + 1))
        rels += f'<Relationship Id="rId{n + 1}" Type="{REL}/styles" Target="styles.xml"/>'
        self._put("xl/_rels/workbook.xml.rels",
                  f'{HEAD}<Relationships xmlns="{PKG_REL}">{rels}</Relationships>')
        self._put("xl/styles.xml", STYLES)
        when = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        self._put("docProps/core.xml",
                  f'{HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
                  '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
                  'xmlns:dcterms="http://purl.org/dc/terms/" '
                  'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
                  f"<dc:title>{text(title)}</dc:title><dc:creator>{text(author)}</dc:creator>"
                  + (f"<dc:description>{text(comments)}</dc:description>" if comments else "")
                  + f'<dcterms:created xsi:type="dcterms:W3CDTF">{when}</dcterms:created>'
                  f'<dcterms:modified xsi:type="dcterms:W3CDTF">{when}</dcterms:modified>'
                  "</cp:coreProperties>")
        self._put("docProps/app.xml",
                  f'{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/'
                  '2006/extended-properties"><Application>Basismonitor</Application></Properties>')
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for i in range(1, n + 1))
        self._put("[Content_Types].xml",
                  f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                  'content-types"><Default Extension="rels" ContentType="application/'
                  'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
                  'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
                  'sheet.main+xml"/>' + overrides
                  + '<Override PartName="/xl/styles.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                  '<Override PartName="/docProps/core.xml" ContentType="application/'
                  'vnd.openxmlformats-package.core-properties+xml"/>'
                  '<Override PartName="/docProps/app.xml" ContentType="application/'
                  'vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>')
        self._put("_rels/.rels",
                  f'{HEAD}<Relationships xmlns="{PKG_REL}">'
                  f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
                  '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
                  'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
                  f'<Relationship Id="rId3" Type="{REL}/extended-properties" '
                  'Target="docProps/app.xml"/></Relationships>')
        self._zip.close()

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is None:
            self.close()
        else:
            self._zip.close()


def _absolute(sheet: str, ref: str) -> str:
    """'A1:C9' on sheet x -> 'x'!$A$1:$C$9 (a defined name's reference)."""
    cells = ":".join("$" + re.sub(r"(\d+)$", r"$\1", part) for part in ref.split(":"))
    return "'" + sheet.replace("'", "''") + "'!" + cells


# landscape A4, fitted to one page wide and as many pages down as needed
PAGE_SETUP = ('<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" '
              'footer="0.3"/><pageSetup paperSize="9" orientation="landscape" fitToWidth="1" '
              'fitToHeight="0"/>')
STYLES = (
    f'{HEAD}<styleSheet xmlns="{MAIN}">'
    '<numFmts count="3"><numFmt numFmtId="164" formatCode="0.0"/>'
    '<numFmt numFmtId="165" formatCode="#,##0.0###"/>'
    '<numFmt numFmtId="166" formatCode="0.0%"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="9"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" '
    'applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>'
    '<xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="3" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
