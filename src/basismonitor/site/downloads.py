"""An area's data as CSV and Excel: its rows of the status and development marts and its facts.

Aggregates only, as published, with suppression respected: the rows come from the loaded edition
(data.load_edition), where every measure of a suppressed row is already blank.
Deterministic: the same edition gives the same bytes (fixed order, fixed workbook dates).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd

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
)


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


def area_csv(tables: dict[str, pd.DataFrame]) -> bytes:
    """The area's rows of the three tables in one long CSV; `tabel` names the table."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for name, df in tables.items():
        renamed = df.rename(columns={"indicator_code": "node_code"})
        for row in renamed.to_dict(orient="records"):
            row = {**row, "tabel": name}
            if name == "fct_indicator_value":
                row["node_level"] = "indicator"
            writer.writerow([csv_cell(c, row.get(c)) for c in CSV_COLUMNS])
    return buffer.getvalue().encode("utf-8")


SHEETS = {
    "mart_compass_status": "status",
    "mart_compass_development": "ontwikkeling",
    "fct_indicator_value": "cijfers",
}


def area_xlsx(
    path: Path,
    tables: dict[str, pd.DataFrame],
    *,
    edition: int,
    area_code: str,
    area_name: str,
    gemeente_name: str,
) -> None:
    """One sheet per table plus a 'toelichting' sheet; fixed document dates (deterministic)."""
    from basismonitor import xlsx

    lines = [
        ("Wijk", f"{area_name} ({area_code})"),
        ("Gemeente", gemeente_name),
        ("Editie", str(edition)),
        (
            "status",
            "Statuskompas: per knoop (indicator, thema, kwadrant, centrum) de waarde, de "
            "waarde van de stad, de index (stad = 100), de klasse en de onzekerheid.",
        ),
        (
            "ontwikkeling",
            "Ontwikkelingskompas: de verandering sinds het basisjaar tegen die van de stad.",
        ),
        ("cijfers", "Alle cijfers van de wijk per jaar op de huidige gebiedsindeling (trend)."),
        (
            "Onderdrukking",
            "Een cijfer met te weinig respondenten of een te klein aantal wordt niet "
            "getoond: de waarde is leeg, de reden staat in suppression_reason.",
        ),
        (
            "Kolommen",
            "De kolomnamen zijn die van de gepubliceerde marts (zie de documentatie van de "
            "editie); label_nl is de Nederlandse naam van de knoop.",
        ),
    ]
    with xlsx.Workbook(
        path,
        title=f"Basismonitor {area_name} ({area_code}), editie {edition}",
        author="Basismonitor",
        created=dt.datetime(edition, 1, 1),
        comments="Gepubliceerde aggregaten; onderdrukte cijfers zijn leeg.",
    ) as workbook:
        with workbook.sheet("toelichting", widths=(28, 90), columns=2) as notes:
            for key, text in lines:
                notes.row((key, text), (xlsx.BOLD, xlsx.WRAP))
        for name, df in tables.items():
            columns = list(df.columns)
            widths = [34 if c == "label_nl" else max(10, min(len(c) + 2, 24)) for c in columns]
            with workbook.sheet(
                SHEETS.get(name, name[:31]), widths=widths, freeze_header=True
            ) as sheet:
                sheet.row(columns, xlsx.BOLD)
                sheet.rows_of_cells(
                    ("".join(xlsx.cell_xml(clean(v)) for v in row) for row in df.itertuples(
                        index=False, name=None)),
                    len(columns),
                )
                sheet.autofilter()
