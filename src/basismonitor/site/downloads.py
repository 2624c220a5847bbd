"""An area's data as CSV and Excel: its rows of the status and development marts and its facts.

Aggregates only, as published, with suppression respected: the rows come from the loaded edition
(data.load_edition), where every measure of a suppressed row is already blank.
Deterministic: the same edition gives the same bytes (fixed order, fixed workbook dates).

Three files per area: <code>.csv (the marts' column names, `,` and decimal points: for scripts),
<code>.nl.csv (Dutch headers, `;`, decimal commas, ja/nee, Dutch reasons, a byte order mark: what
Dutch Excel and LibreOffice open as numbers) and <code>.xlsx (Dutch headers and reasons, number
formats with shares as percentages, printed landscape one page wide).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Sequence
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from basismonitor.site.data import Edition, clean

# The columns a download keeps: the marts' own names. Columns that are the same on every row of
# an area (area_edition, gemeente_code) and the lineage/analysis columns (n_weighted, contrast_*,
# city_value_source, harmonisation_method, load_ids) stay in the edition's full tables.
KEEP = {
    "mart_compass_status": (
        "edition",
        "area_code",
        "node_level",
        "node_code",
        "label_nl",
        "parent_node_code",
        "quadrant_code",
        "is_judged",
        "value",
        "city_value",
        "index_value",
        "class",
        "significant",
        "suppressed",
        "suppression_reason",
        "n_unweighted",
        "standard_error",
        "ci_low",
        "ci_high",
        "n_children",
        "n_children_shown",
        "estimation_method",
    ),
    "mart_compass_development": (
        "edition",
        "base_period",
        "area_code",
        "node_level",
        "node_code",
        "label_nl",
        "parent_node_code",
        "quadrant_code",
        "is_judged",
        "base_value",
        "current_value",
        "change",
        "city_change",
        "index_value",
        "class",
        "significant",
        "suppressed",
        "suppression_reason",
        "n_children",
        "n_children_shown",
    ),
    "fct_indicator_value": (
        "area_code",
        "period",
        "indicator_code",
        "label_nl",
        "value",
        "numerator",
        "denominator",
        "n_unweighted",
        "standard_error",
        "ci_low",
        "ci_high",
        "significant",
        "suppressed",
        "suppression_reason",
        "is_harmonised",
        "estimation_method",
    ),
}

# the long CSV: one column per field of the three tables, `tabel` says which table a row is from
CSV_COLUMNS = (
    "tabel",
    "edition",
    "base_period",
    "area_code",
    "period",
    "node_level",
    "node_code",
    "label_nl",
    "parent_node_code",
    "quadrant_code",
    "is_judged",
    "value",
    "city_value",
    "base_value",
    "current_value",
    "change",
    "city_change",
    "index_value",
    "class",
    "significant",
    "suppressed",
    "suppression_reason",
    "numerator",
    "denominator",
    "n_unweighted",
    "standard_error",
    "ci_low",
    "ci_high",
    "n_children",
    "n_children_shown",
    "is_harmonised",
    "estimation_method",
)


LEVEL_NL = {"indicator": "indicator", "theme": "thema", "quadrant": "kwadrant",
            "centre": "centrum"}  # fmt: skip
PERCENT_UNIT = "aandeel"  # a share: its value columns are shown as percentages
UNIT_COLUMNS = {"value", "city_value", "base_value", "current_value", "change", "city_change",
                "ci_low", "ci_high", "standard_error"}  # fmt: skip
STYLE_BY_NAME = {
    "edition": "year", "base_period": "year", "period": "year", "index_value": "index",
    "n_unweighted": "count", "n_children": "count", "n_children_shown": "count",
    "numerator": "decimal", "denominator": "decimal",
}  # fmt: skip


def download_style(column: str, unit: str | None) -> int:
    """The workbook style of a cell of a download: its column's number format, percentages for
    the value columns of a share."""
    from basismonitor.publish import xlsx

    if column in UNIT_COLUMNS:
        return xlsx.PERCENT if unit == PERCENT_UNIT else xlsx.DECIMAL
    return xlsx.NUMBER_STYLES[STYLE_BY_NAME.get(column, "")]


def nl_text(column: str, value):
    """What a Dutch download shows for a text value: Dutch reasons and levels."""
    if value is None:
        return None
    if column == "suppression_reason":
        from basismonitor.site import fmt

        return fmt.reason(value) or None
    if column == "node_level":
        return LEVEL_NL.get(value, value)
    if column == "estimation_method":  # issue 21: a model figure is a "modelschatting"
        from basismonitor.publish.columns_nl import ESTIMATION_METHOD_NL

        return ESTIMATION_METHOD_NL.get(value, value)
    return value


def area_tables(ed: Edition, code: str, labels: dict) -> dict[str, pd.DataFrame]:
    """The area's rows of mart_compass_status, mart_compass_development and fct_indicator_value."""
    from basismonitor.site.data import label_of

    out: dict[str, pd.DataFrame] = {}
    order = ["node_level", "node_code"]
    for name, mart in (
        ("mart_compass_status", ed.status),
        ("mart_compass_development", ed.development),
    ):
        rows = mart[mart["area_code"] == code].sort_values(order).copy()
        rows.insert(
            rows.columns.get_loc("node_code") + 1,
            "label_nl",
            [
                label_of(labels, lv, c)
                for lv, c in zip(rows["node_level"], rows["node_code"], strict=True)
            ],
        )
        out[name] = rows.reset_index(drop=True)
    facts = ed.facts[(ed.facts["area_code"] == code) & (~ed.facts["is_city"].astype(bool))]
    facts = facts.sort_values(["indicator_code", "period"]).copy()
    facts.insert(
        facts.columns.get_loc("indicator_code") + 1,
        "label_nl",
        [label_of(labels, "indicator", c) for c in facts["indicator_code"]],
    )
    out["fct_indicator_value"] = facts.reset_index(drop=True)
    return {name: df[[c for c in KEEP[name] if c in df.columns]] for name, df in out.items()}


INTEGER_COLUMNS = {
    "edition",
    "base_period",
    "period",
    "n_unweighted",
    "n_children",
    "n_children_shown",
}


def csv_cell(column: str, value) -> str:
    """One CSV field as the edition's own CSVs write it: true/false, integers without '.0'."""
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if column in INTEGER_COLUMNS and value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def csv_records(tables: dict[str, pd.DataFrame]):
    """The rows of an area's tables as the long CSV has them: indicator_code as node_code,
    `tabel` naming the table, node_level 'indicator' on the facts."""
    for name, df in tables.items():
        renamed = df.rename(columns={"indicator_code": "node_code"})
        for row in renamed.to_dict(orient="records"):
            row = {**row, "tabel": name}
            if name == "fct_indicator_value":
                row["node_level"] = "indicator"
            yield row


def area_csv(tables: dict[str, pd.DataFrame]) -> bytes:
    """The area's rows of the three tables in one long CSV; `tabel` names the table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_records(tables):
        writer.writerow([csv_cell(c, row.get(c)) for c in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


def nl_csv_cell(column: str, value) -> str:
    """One field of the Dutch CSV: decimal comma, ja/nee, Dutch text; quoted where needed."""
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, float):
        if column in INTEGER_COLUMNS and value.is_integer():
            return str(int(value))
        return repr(value).replace(".", ",")
    if isinstance(value, int):
        return str(value)
    text = str(nl_text(column, value))
    if any(ch in text for ch in ';"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def nl_csv_header() -> str:
    from basismonitor.publish.columns_nl import column_nl

    return ";".join(column_nl(c) for c in CSV_COLUMNS)


def area_csv_nl(tables: dict[str, pd.DataFrame]) -> bytes:
    """The Dutch CSV of an area from its tables (the reference of AreaDownloads' .nl.csv)."""
    lines = [nl_csv_header()]
    for row in csv_records(tables):
        lines.append(";".join(nl_csv_cell(c, row.get(c)) for c in CSV_COLUMNS))
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


SHEETS = {
    "mart_compass_status": "status",
    "mart_compass_development": "ontwikkeling",
    "fct_indicator_value": "cijfers",
}


NOTES = (
    (
        "status",
        "Statuskompas: per onderdeel (indicator, thema, kwadrant, centrum) de waarde, de "
        "waarde van de stad, de index (stad = 100), de klasse en de onzekerheid.",
    ),
    (
        "ontwikkeling",
        "Ontwikkelingskompas: de verandering sinds het basisjaar tegen die van de stad.",
    ),
    ("cijfers", "Alle cijfers van de wijk per jaar op de huidige gebiedsindeling (trend)."),
    (
        "Niet getoond",
        "Een cijfer met te weinig respondenten of een te klein aantal wordt niet "
        "getoond: de waarde is leeg, de kolom 'Reden niet getoond' zegt waarom.",
    ),
    (
        "Getallen",
        "Aandelen staan als percentage (de cel bevat de fractie: 15,5% is 0,155); een index "
        "met één decimaal (stad = 100). Een verandering van een aandeel is in procentpunten.",
    ),
    (
        "Kolommen",
        "De kolomkoppen zijn Nederlands; de tabel hieronder geeft bij elke kop de kolomnaam "
        "in de CSV-, Parquet- en DuckDB-bestanden van de editie (en in <code>.csv).",
    ),
)


def width(column: str) -> float:
    from basismonitor.publish.columns_nl import column_nl

    if column == "label_nl":
        return 34
    return max(9, min(len(column_nl(column)) * 0.9 + 2, 24))


def write_area_workbook(
    path: Path,
    sheets: dict[str, tuple[Sequence[str], list[str]]],
    *,
    edition: int,
    area_code: str,
    area_name: str,
    gemeente_name: str,
) -> None:
    """The area's workbook: a 'toelichting' sheet, then per table {name: (columns, rows)} a
    sheet whose rows are finished SpreadsheetML cells (basismonitor.publish.xlsx)."""
    from basismonitor.publish import xlsx

    lines = [
        ("Wijk", f"{area_name} ({area_code})"),
        ("Gemeente", gemeente_name),
        ("Editie", str(edition)),
        *NOTES,
    ]
    from basismonitor.publish.columns_nl import column_nl

    listed = sorted({c for columns, _ in sheets.values() for c in columns}, key=column_nl)
    with xlsx.Workbook(
        path,
        title=f"Basismonitor {area_name} ({area_code}), editie {edition}",
        author="Basismonitor",
        created=dt.datetime(edition, 1, 1),
        comments="Gepubliceerde aggregaten; onderdrukte cijfers zijn leeg.",
    ) as workbook:
        with workbook.sheet("toelichting", widths=(30, 90), columns=2) as notes:
            for key, text in lines:
                notes.row((key, text), (xlsx.BOLD, xlsx.WRAP), lines=-(-len(text) // 95))
            notes.row(())
            notes.row(("Kolomkop", "Kolomnaam in de bestanden van de editie"), xlsx.BOLD)
            for column in listed:
                notes.row((column_nl(column), column))
        for name, (columns, rows) in sheets.items():
            with workbook.sheet(
                SHEETS.get(name, name[:31]), widths=[width(c) for c in columns], freeze_header=True
            ) as sheet:
                sheet.row([column_nl(c) for c in columns], xlsx.HEADER, lines=2)
                sheet.rows_of_cells(rows, len(columns))
                sheet.autofilter()


def area_xlsx(
    path: Path,
    tables: dict[str, pd.DataFrame],
    *,
    edition: int,
    area_code: str,
    area_name: str,
    gemeente_name: str,
    units: dict[str, str | None],
) -> None:
    """The area's workbook from its tables (area_tables), cell by cell in Python: the reference
    that AreaDownloads' workbooks are tested against. `units`: indicator code -> unit."""
    from basismonitor.publish import xlsx

    sheets = {}
    for name, df in tables.items():
        columns = list(df.columns)
        code_column = "indicator_code" if name == "fct_indicator_value" else "node_code"
        rows = []
        for row in df.to_dict(orient="records"):
            level = "indicator" if name == "fct_indicator_value" else row.get("node_level")
            unit = units.get(row[code_column]) if level == "indicator" else None
            cells = []
            for c in columns:
                v = clean(row[c])
                v = nl_text(c, v) if isinstance(v, str) else v
                if isinstance(v, bool):
                    v = "ja" if v else "nee"
                style = download_style(c, unit) if v is not None else xlsx.NORMAL
                cells.append(xlsx.cell_xml(v, style))
            rows.append("".join(cells))
        sheets[name] = (columns, rows)
    write_area_workbook(
        path,
        sheets,
        edition=edition,
        area_code=area_code,
        area_name=area_name,
        gemeente_name=gemeente_name,
    )


# --- every area's downloads at once ----------------------------------------------------------


class AreaDownloads:
    """The areas' CSV and Excel downloads with the cells formatted by DuckDB, a batch of areas
    per query, instead of cell by cell in Python (area_tables + area_csv + area_xlsx, which
    stay as the reference these are tested against: the same bytes for the CSV, the same cells
    for the workbook). A national area has ~2,000 rows of facts; formatting them in Python was
    most of a page's time.

    Formatting follows csv_cell: numbers as Python's repr (which DuckDB's DOUBLE -> VARCHAR
    equals), integers of INTEGER_COLUMNS without '.0', booleans true/false, NaN empty; the CSV
    quotes a field holding , " or a line break (csv.writer's minimal quoting).
    """

    TABLES = ("mart_compass_status", "mart_compass_development", "fct_indicator_value")
    ORDER = {
        "mart_compass_status": ("node_level", "node_code"),
        "mart_compass_development": ("node_level", "node_code"),
        "fct_indicator_value": ("indicator_code", "period"),
    }

    def __init__(self, ed: Edition, labels: dict, *, batch: int = 100):
        self.ed, self.batch = ed, batch
        self.frames = {
            "mart_compass_status": ed.status,
            "mart_compass_development": ed.development,
            "fct_indicator_value": ed.facts,
        }
        from basismonitor.site.data import label_of

        nodes = set(zip(ed.status["node_level"], ed.status["node_code"], strict=True))
        nodes |= set(zip(ed.development["node_level"], ed.development["node_code"], strict=True))
        nodes |= {("indicator", c) for c in ed.facts["indicator_code"].unique()}
        self.labels = pd.DataFrame(
            [
                (
                    level,
                    code,
                    label_of(labels, level, code),
                    ed.indicator(code).get("unit") if level == "indicator" else None,
                )
                for level, code in sorted(nodes)
            ],
            columns=["level", "code", "label", "unit"],
        )
        self.units = {
            c: u
            for lv, c, u in self.labels[["level", "code", "unit"]].itertuples(index=False)
            if lv == "indicator"
        }
        reasons = set()
        for frame in self.frames.values():
            if "suppression_reason" in frame:
                reasons |= {r for r in frame["suppression_reason"].dropna().unique() if r != ""}
        self.reasons = pd.DataFrame(
            [(r, nl_text("suppression_reason", r)) for r in sorted(reasons)],
            columns=["reason", "nl"],
        ).astype({"reason": "object", "nl": "object"})
        # each table once as Arrow (the columns the queries read), with every area's row
        # positions: a batch's query reads only the batch's rows (taken from these), and a
        # forked page builder shares them unchanged. Registering the whole pandas frames in every
        # process converted each national table to Python objects again (~25 s and gigabytes
        # per page worker).
        self.tables: dict[str, pa.Table] = {}
        self.rows_of: dict[str, dict[str, np.ndarray]] = {}
        for name, frame in self.frames.items():
            used = [c for c in frame.columns if c in KEEP[name] or c in QUERIED]
            self.tables[name] = pa.Table.from_pandas(frame[used], preserve_index=False)
            self.rows_of[name] = _positions(frame["area_code"])
        self._pid = os.getpid()  # a connection opened in another process is in a page worker
        self._con: tuple[int, duckdb.DuckDBPyConnection] | None = None
        self._cache: dict[str, dict[str, tuple[list[str], list[str], list[str]]]] = {}
        self._queries: dict[str, tuple[str, list[str]]] | None = None

    def _connection(self) -> duckdb.DuckDBPyConnection:
        """One in-memory DuckDB per process (a forked page builder opens its own)."""
        if self._con is None or self._con[0] != os.getpid():
            forked = os.getpid() != self._pid  # the workers share the cores: one thread each
            con = duckdb.connect(config={"threads": 1 if forked else os.cpu_count() or 1})
            for name, table in self.tables.items():
                con.register(name, table.slice(0, 0))  # the schema (_build_queries)
            con.register("node_labels", self.labels)
            con.register("reasons_nl", self.reasons)
            self._con = (os.getpid(), con)
            self._queries = None
        return self._con[1]

    def _build_queries(self, con) -> dict[str, tuple[str, list[str]]]:
        from basismonitor.publish import xlsx

        queries = {}
        for name in self.TABLES:
            types = dict((row[0], row[1]) for row in con.execute(f"describe {name}").fetchall())
            if name == "fct_indicator_value":
                level, code, where = "'indicator'", "t.indicator_code", "not t.is_city"
            else:
                level, code, where = "t.node_level", "t.node_code", "true"
            label = "l.label"  # label_of's, for every node of the tables (__init__)
            types["label_nl"] = "VARCHAR"
            columns = [c for c in KEEP[name] if c in types]
            # the CSV's fields: a table's own columns, the facts' indicator as node_code
            source = {c: c for c in columns}
            if name == "fct_indicator_value":
                source.update({"node_code": "indicator_code", "node_level": "node_level"})
                types["node_level"] = "VARCHAR"
            fields = []
            for c in CSV_COLUMNS:
                if c == "tabel":
                    fields.append(f"'{name}'")
                elif c in source and source[c] in types:
                    fields.append(_csv_field(source[c], types[source[c]], c in INTEGER_COLUMNS))
                else:
                    fields.append("''")
            # the Dutch CSV and the workbook: Dutch reasons and levels, ja/nee, decimal commas
            dutch = {"suppression_reason": "_reason_nl", "node_level": "_level_nl"}
            types["_reason_nl"] = types["_level_nl"] = "VARCHAR"
            method_nl = ""
            if "estimation_method" in types:  # issue 21 (older editions lack the column)
                from basismonitor.publish.columns_nl import estimation_method_nl_sql

                dutch["estimation_method"] = "_method_nl"
                types["_method_nl"] = "VARCHAR"
                method_nl = f", {estimation_method_nl_sql('t.estimation_method')} as _method_nl"
            nl_fields = []
            for c in CSV_COLUMNS:
                if c == "tabel":
                    nl_fields.append(f"'{name}'")
                elif c in source and source[c] in types:
                    column = dutch.get(c, source[c])
                    nl_fields.append(_nl_csv_field(column, types[column], c in INTEGER_COLUMNS))
                else:
                    nl_fields.append("''")
            styles = {
                dutch.get(c, c): (
                    f"case when _unit = '{PERCENT_UNIT}' then {xlsx.PERCENT} "
                    f"else {xlsx.DECIMAL} end"
                    if c in UNIT_COLUMNS
                    else download_style(c, None)
                )
                for c in columns
            }
            cells = xlsx.sql_cells(
                [(dutch.get(c, c), types[dutch.get(c, c)]) for c in columns],
                nan_empty=True,
                styles=styles,
                bool_text=("ja", "nee"),
            )
            extra = ", 'indicator' as node_level" if name == "fct_indicator_value" else ""
            level_nl = " ".join(f"when '{k}' then '{v}'" for k, v in LEVEL_NL.items())
            order = ", ".join(f'"{c}"' for c in self.ORDER[name])
            csv_expr = " || ',' || ".join(fields)
            nl_expr = " || ';' || ".join(nl_fields)
            sql = (
                f"with rows as (select t.*, {label} as label_nl{extra}, l.unit as _unit, "
                f"r.nl as _reason_nl, case {level} {level_nl} else {level} end as _level_nl"
                f"{method_nl} from {name} t "
                f"left join node_labels l on l.level = {level} and l.code = {code} "
                f"left join reasons_nl r on r.reason = t.suppression_reason "
                f"where {where} and t.area_code in (select code from batch)) "
                f"select area_code, {csv_expr} as csv, {nl_expr} as nl_csv, {cells} as cells "
                f"from rows order by area_code, {order}"
            )
            queries[name] = (sql, columns)
        return queries

    def load(self, codes: Sequence[str]) -> None:
        """Format the downloads of these areas (replacing the previous batch's)."""
        con = self._connection()
        if self._queries is None:
            self._queries = self._build_queries(con)
        con.register("batch", pd.DataFrame({"code": list(codes)}))
        cache: dict[str, dict[str, tuple[list[str], list[str], list[str]]]] = {c: {} for c in codes}
        for name, (sql, _) in self._queries.items():
            for code in codes:
                cache[code][name] = ([], [], [])
            empty = np.empty(0, dtype=np.int64)
            positions = np.concatenate([self.rows_of[name].get(c, empty) for c in codes])
            con.register(name, self.tables[name].take(pa.array(positions, type=pa.int64())))
            for area, line, nl_line, cells in con.execute(sql).fetchall():
                lines, nl_lines, rows = cache[area][name]
                lines.append(line)
                nl_lines.append(nl_line)
                rows.append(cells)
        con.unregister("batch")
        for name, table in self.tables.items():
            con.register(name, table.slice(0, 0))
        self._cache = cache

    def write(self, folder: Path, code: str, name: str) -> None:
        """area/<code>.csv and area/<code>.xlsx of an area of the loaded batch."""
        if code not in self._cache:
            self.load([code])
        tables = self._cache[code]
        csv_text = (
            ",".join(CSV_COLUMNS)
            + "\n"
            + "".join(line + "\n" for table in self.TABLES for line in tables[table][0])
        )
        (folder / f"{code}.csv").write_bytes(csv_text.encode("utf-8"))
        nl_text_ = (
            "\ufeff"
            + nl_csv_header()
            + "\n"
            + "".join(line + "\n" for table in self.TABLES for line in tables[table][1])
        )
        (folder / f"{code}.nl.csv").write_bytes(nl_text_.encode("utf-8"))
        write_area_workbook(
            folder / f"{code}.xlsx",
            {t: (self._queries[t][1], tables[t][2]) for t in self.TABLES},
            edition=self.ed.edition,
            area_code=code,
            area_name=name,
            gemeente_name=self.ed.gemeente_name,
        )


# the columns the download queries read besides KEEP's (filters, joins, the facts' node)
QUERIED = {"area_code", "is_city", "indicator_code", "node_level", "node_code",
           "suppression_reason", "estimation_method"}


def _positions(codes: pd.Series) -> dict[str, np.ndarray]:
    """{area_code: the positions of its rows, in table order}."""
    values = codes.astype(str).to_numpy()
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(ordered) else []
    ends = np.r_[starts[1:], len(ordered)] if len(ordered) else []
    return {ordered[a]: order[a:b] for a, b in zip(starts, ends, strict=True)}


def _csv_field(column: str, dtype: str, integer: bool) -> str:
    """A DuckDB expression for one CSV field as csv_cell writes it ('' for null)."""
    col = f'"{column}"'
    if dtype == "BOOLEAN":
        value = f"case when {col} then 'true' when not {col} then 'false' end"
    elif dtype in ("DOUBLE", "FLOAT", "REAL"):
        whole = (
            f"when {col} = trunc({col}) and not isinf({col}) then {col}::hugeint::varchar "
            if integer
            else ""
        )
        value = f"case when isnan({col}) then null {whole}else {col}::varchar end"
    else:
        text = f"{col}::varchar"
        value = (
            f"case when regexp_matches({text}, '[,\"\\r\\n]') then "
            f"'\"' || replace({text}, '\"', '\"\"') || '\"' else {text} end"
        )
    return f"coalesce({value}, '')"


def _nl_csv_field(column: str, dtype: str, integer: bool) -> str:
    """A DuckDB expression for one field of the Dutch CSV as nl_csv_cell writes it."""
    col = f'"{column}"'
    if dtype == "BOOLEAN":
        value = f"case when {col} then 'ja' when not {col} then 'nee' end"
    elif dtype in ("DOUBLE", "FLOAT", "REAL"):
        whole = (
            f"when {col} = trunc({col}) and not isinf({col}) then {col}::hugeint::varchar "
            if integer
            else ""
        )
        value = (
            f"case when isnan({col}) then null {whole}else replace({col}::varchar, '.', ',') end"
        )
    elif dtype in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT") or dtype.startswith(
        "DECIMAL"
    ):
        value = f"replace({col}::varchar, '.', ',')"
    else:
        text = f"{col}::varchar"
        value = (
            f"case when regexp_matches({text}, '[;\"\\r\\n]') then "
            f"'\"' || replace({text}, '\"', '\"\"') || '\"' else {text} end"
        )
    return f"coalesce({value}, '')"
