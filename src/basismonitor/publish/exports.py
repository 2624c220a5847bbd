"""Publish a validated edition: write every mart to a staging folder, then swap it into place.

exports/<edition>/ appears whole or not at all, and a failure, crash or kill at any point leaves
the previously published edition byte-identical:

1. Publishers take turns (a lock on exports/.publish.lock) and first clear what a killed run left
   behind (hidden `.staging-*` folders; see _recover).
2. Every file is written into exports/.staging-<edition>-<id>/ (hidden: never taken for an
   edition), flushed to disk, and counted in the manifest.
3. The staging folder and exports/<edition> are swapped in one atomic rename (Linux
   renameat2(RENAME_EXCHANGE)); the previous edition, now at the staging path, is removed.
   Where the kernel cannot exchange, the old folder is renamed aside first and _recover puts it
   back if the process dies between the two renames.
4. `exports/latest` is a symlink replaced atomically; it points at the newest edition, so a
   backfill of an old edition leaves it where it is.

What is published per edition (docs/QUALITY.md, "What a published edition holds"):
  <mart>.parquet       ZSTD, row groups of ROW_GROUP_SIZE rows, sorted by the mart's grain; every
                       column carries its dbt description as Arrow field metadata
                       ("description"), the file the mart's description
  <mart>.csv           UTF-8, comma-separated, decimal point
  <mart>.nl.csv        for Dutch Excel: `;`-separated, decimal comma, UTF-8 with BOM
  basismonitor_<edition>.xlsx    one sheet per mart and an `explanation` sheet describing every
                                 column (from the dbt YAML); tables over Excel's row limit are
                                 split over sheets or, above excel_max_rows, left out with a note
  basismonitor_<edition>.duckdb  the marts with their descriptions as comments, for BI tools
                                 (file mode 0644: DuckDB and DBeaver open read-write by default)

List columns (load_ids) are published as one comma-separated string in every format: Power Query
and Tableau cannot read a nested list. The warehouse keeps the list.
  manifest.json        files, rows, checksums, versions, the source loads, the gate's summary,
                       the content key (below)
  publication.json     when it was published and the checksum of the DuckDB file
  validation/          the gate's Data Docs
  site/                the compass pages: not written here. The site is a stage of its own
                       (basismonitor.orchestration.pipeline.site, after publish), built from the published
                       files; a new publication of an edition keeps the previous site in the
                       new folder (moved over in the swap) until that stage rebuilds it, so a
                       failed site build leaves the data published and the last site in place.

The data files (Parquet, CSV, xlsx) and manifest.json are byte-identical when the same warehouse
is published again. DuckDB database files are not byte-reproducible (their block layout depends
on the writer's threads), so the DuckDB file is listed in the manifest without a checksum, and its
checksum goes to publication.json with the publication time.

A re-publication with nothing changed writes nothing: before writing, publish computes a content
key of what it would publish (_plan: every exported table's columns, types, row count and an
order-independent sum of its rows' hashes; the mart descriptions; the source loads, the gate's
summary and its report; the settings; the package versions and the publish code) and compares it
with the key in the published edition's manifest ("content_key"). Equal keys and an intact
edition (every listed file present with its size) leave exports/<edition>/ and its site as they
are (Published.unchanged); `force=True` rewrites anyway.

Only the marts are exported: aggregates with suppression applied. Respondent-level data never
leaves the warehouse: a mart with a column on the gate's denylist stops the publication.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

from basismonitor.config import DBT_PROJECT_DIR, duckdb_config
from basismonitor.files import file_sha256
from basismonitor.publish.columns_nl import estimation_method_nl_sql
from basismonitor.quality.validation import PERSONAL_COLUMNS, is_personal_column

__all__ = ["EXPORTED_TABLES", "PERSONAL_COLUMNS", "PrivacyViolation", "Published",
           "check_privacy", "publish_edition"]

# Each exported mart with the columns it is sorted by (its grain): a total order makes reruns
# byte-identical, and BI tools skip row groups on these columns.
EXPORTED_TABLES = (
    "marts.mart_compass_status",
    "marts.mart_compass_development",
    "marts.mart_area_profile",
    "marts.fct_indicator_value",
    "marts.dim_area",
    "marts.dim_indicator",
    "marts.dim_period",
)
# The key every published mart is unique on: the columns to join it on (documented in the marts'
# descriptions, tested on the published files in tests/publish/test_publish_bi.py).
JOIN_KEYS = {
    "marts.mart_compass_status": ("edition", "area_code", "node_key"),
    "marts.mart_compass_development": ("edition", "area_code", "node_key"),
    "marts.mart_area_profile": ("edition", "area_code"),
    "marts.fct_indicator_value": ("area_edition", "area_code", "period", "indicator_code"),
    "marts.dim_area": ("area_edition", "area_code"),
    "marts.dim_indicator": ("indicator_code",),
    "marts.dim_period": ("period",),
}
# dim_area's geometry as WKT; the Parquet file adds it as WKB with GeoParquet metadata
GEOMETRY_WKT = "geometry_wkt"
SORT_KEYS = {
    "marts.mart_compass_status": ("edition", "area_code", "node_level", "node_code"),
    "marts.mart_compass_development": ("edition", "area_code", "node_level", "node_code"),
    "marts.mart_area_profile": ("edition", "area_code"),
    "marts.fct_indicator_value": ("indicator_code", "period", "area_edition", "area_code"),
    "marts.dim_area": ("area_edition", "area_code"),
    "marts.dim_indicator": ("indicator_code",),
    "marts.dim_period": ("period",),
}
ROW_GROUP_SIZE = 500_000  # rows per Parquet row group (DuckDB rounds up to whole vectors)
EXCEL_SHEET_ROWS = 1_048_575  # Excel's 1,048,576 rows minus the header
# Tables with more rows are left out of the workbook (with a note) unless the caller raises this:
# then they are split over sheets (basismonitor.publish.xlsx: DuckDB writes the rows' XML; a national
# compass mart of 303,223 rows x 25 columns takes seconds, the 5.1 M-row fact table would not fit).
EXCEL_MAX_ROWS = EXCEL_SHEET_ROWS
# The marts' dbt YAML: one <model>.yml beside each <model>.sql (models: and unit_tests:), as in
# dbt Labs' jaffle-shop; mart_models() reads their `models:` entries.
MARTS_YAML = DBT_PROJECT_DIR / "models" / "marts"
VERSIONED_PACKAGES = ("basismonitor", "dbt-core", "dbt-duckdb", "duckdb", "great-expectations")
# Also keyed (not in the manifest): packages whose output lands in the published bytes (pyarrow
# writes the Parquet files and names itself in them; the spatial extension the GeoParquet column).
KEYED_PACKAGES = ("pyarrow", "duckdb-extension-spatial")
# The recipe of the content key: a new one re-publishes every edition once.
CONTENT_KEY_FORMAT = 1


class PrivacyViolation(RuntimeError):
    """An export would contain respondent-level data."""


@dataclass
class Published:
    edition: int
    path: Path
    files: list[dict]
    manifest: dict = field(default_factory=dict)
    # True when nothing was written: the edition as published had the same content key
    unchanged: bool = False


def check_privacy(con: duckdb.DuckDBPyConnection, tables=EXPORTED_TABLES) -> None:
    """Refuse a mart with a respondent-level column (the gate's denylist, quality/validation.py)."""
    for table in tables:
        columns = [row[0] for row in con.sql(f"describe {table}").fetchall()]
        personal = sorted(c for c in columns if is_personal_column(c))
        if personal:
            raise PrivacyViolation(
                f"{table} has respondent-level column(s) {personal}: exports hold only "
                "aggregates; remove the column from the mart (nothing was published)"
            )


# --- the files ----------------------------------------------------------------------------------

def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.sql(f"describe {table}").fetchall()]


def _flat(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The published columns: a list column becomes a comma-separated VARCHAR."""
    return [(c, "VARCHAR" if t.endswith("[]") else t) for c, t in columns]


def _ordered(table: str, columns: list[tuple[str, str]], source: str | None = None) -> str:
    """The table (read from `source`, default the table) as published: list columns flattened to
    comma-separated strings (_flat), in a total order: its grain first, then every other column."""
    names = [c for c, _ in columns]
    keys = [c for c in SORT_KEYS.get(table, ()) if c in names]
    order = ", ".join(_q(c) for c in keys + [c for c in names if c not in keys])
    select = ", ".join(
        f"array_to_string({_q(c)}, ',') as {_q(c)}" if t.endswith("[]") else _q(c)
        for c, t in columns
    )
    return f"(select {select} from {source or table} order by {order})"


def _load_spatial(con) -> None:
    """Load DuckDB's spatial extension from the duckdb-extension-spatial package (no download)."""
    import duckdb_extension_spatial

    folder = Path(duckdb_extension_spatial.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    con.execute(f"load '{folder / 'spatial.duckdb_extension'}'")


def _geometry(con, relation: str, column: str = GEOMETRY_WKT) -> tuple[str, dict] | None:
    """For a relation with WKT geometries in one CRS: the select list that adds them as a WKB
    `geometry` column (typed with the CRS, so DuckDB exports its PROJJSON) and the GeoParquet 1.1
    column metadata (encoding, geometry types, bbox; the CRS is added from the Arrow field).
    None when the relation has no such column or its rows mix CRSs."""
    names = [r[0] for r in con.execute(f"describe select * from {relation}").fetchall()]
    if column not in names or "crs" not in names:
        return None
    crs = [r[0] for r in con.execute(
        f"select distinct crs from {relation} where {_q(column)} is not null").fetchall()]
    if len(crs) != 1 or crs[0] is None:
        return None
    _load_spatial(con)
    geom = f"ST_GeomFromText({_q(column)})"
    types, xmin, ymin, xmax, ymax = con.execute(
        f"select list(distinct ST_GeometryType({geom})::varchar), min(ST_XMin({geom})), "
        f"min(ST_YMin({geom})), max(ST_XMax({geom})), max(ST_YMax({geom})) from {relation}"
    ).fetchone()
    names_ = {"POINT": "Point", "LINESTRING": "LineString", "POLYGON": "Polygon",
              "MULTIPOINT": "MultiPoint", "MULTILINESTRING": "MultiLineString",
              "MULTIPOLYGON": "MultiPolygon", "GEOMETRYCOLLECTION": "GeometryCollection"}
    meta = {"encoding": "WKB", "geometry_types": sorted(names_.get(t, t) for t in types or []),
            "bbox": [xmin, ymin, xmax, ymax] if xmin is not None else None}
    crs_literal = crs[0].replace("'", "''")
    select = f"*, {geom}::GEOMETRY('{crs_literal}') as geometry"
    return select, meta


def _canonical(dtype):
    """string/binary/list views and large variants as the plain Arrow types."""
    import pyarrow as pa

    if pa.types.is_string_view(dtype) or pa.types.is_large_string(dtype):
        return pa.string()
    if pa.types.is_binary_view(dtype) or pa.types.is_large_binary(dtype):
        return pa.binary()
    if pa.types.is_list_view(dtype) or pa.types.is_large_list(dtype) \
            or pa.types.is_large_list_view(dtype):
        return pa.list_(_canonical(dtype.value_type))
    if pa.types.is_list(dtype):
        return pa.list_(_canonical(dtype.value_type))
    return dtype


def _write_parquet(con, relation: str, path: Path, doc: dict | None = None) -> None:
    """The relation as Parquet (ZSTD, row groups of ROW_GROUP_SIZE rows), written by pyarrow from
    DuckDB's Arrow stream so that every column carries its description as field metadata (a
    DuckDB COPY drops column comments) and the file the table's description. A table with WKT
    geometries (dim_area) also gets them as a WKB column `geometry` with GeoParquet metadata
    (CRS as PROJJSON), which QGIS and GDAL read as a layer."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    doc = doc or {}
    described = dict(doc.get("columns", {}))
    geometry = _geometry(con, relation)
    select = "*"
    if geometry is not None:
        select = geometry[0]
        described["geometry"] = (f"The geometry of {GEOMETRY_WKT} as WKB, with GeoParquet "
                                 "metadata (encoding, CRS as PROJJSON, bbox) for GIS tools.")
    reader = con.execute(f"select {select} from {relation}").to_arrow_reader(ROW_GROUP_SIZE)
    # one Arrow type per DuckDB type whatever the connection's Arrow settings (string views,
    # large buffers): the schema is stored in the file, which must be byte-identical on a rerun
    source = pa.schema([f.with_type(_canonical(f.type)) for f in reader.schema])
    fields = [
        f.with_metadata({**(f.metadata or {}), b"description": described[f.name].encode()})
        if described.get(f.name) else f
        for f in source
    ]
    metadata = {"description": doc["description"]} if doc.get("description") else {}
    if geometry is not None:
        meta = dict(geometry[1])
        ext = json.loads(reader.schema.field("geometry").metadata.get(
            b"ARROW:extension:metadata", b"{}"))
        if ext.get("crs") is not None:
            meta["crs"] = ext["crs"]
        metadata["geo"] = json.dumps({"version": "1.1.0", "primary_column": "geometry",
                                      "columns": {"geometry": meta}}, sort_keys=True)
    schema = pa.schema(fields, metadata=metadata or None)
    pending: list[pa.RecordBatch] = []
    buffered = 0
    # zstd level 3, DuckDB's default for COPY TO (pyarrow's default level is 1)
    with pq.ParquetWriter(str(path), schema, compression="zstd", compression_level=3) as writer:
        for batch in reader:
            pending.append(batch)
            buffered += batch.num_rows
            if buffered >= ROW_GROUP_SIZE:  # whole row groups now, the rest with the next batch
                # one chunk per column: the bytes must not depend on where DuckDB's batches end
                table = pa.Table.from_batches(pending, reader.schema).cast(source).combine_chunks()
                full = buffered - buffered % ROW_GROUP_SIZE
                writer.write_table(table.slice(0, full), row_group_size=ROW_GROUP_SIZE)
                rest = table.slice(full)
                pending, buffered = rest.to_batches(), rest.num_rows
        if buffered:
            writer.write_table(pa.Table.from_batches(pending, reader.schema).cast(source)
                               .combine_chunks(),
                               row_group_size=ROW_GROUP_SIZE)


# A text cell starting with one of these is read as a formula by Excel and LibreOffice (an area
# name `=HYPERLINK(...)` becomes a live link, `@SUM(...)|cmd` worse): the CSV exports prefix it
# with an apostrophe, which the spreadsheet shows as text (OWASP's CSV-injection advice). The
# Parquet, DuckDB and workbook exports keep the value as it is (they are typed, not parsed).
FORMULA_START = r"^[=+\-@\t\r]"


def _csv_text(name: str, dtype: str) -> str:
    """The select item of a column for a CSV export: text columns neutralised (FORMULA_START)."""
    if dtype != "VARCHAR":
        return _q(name)
    col = _q(name)
    return (f"case when regexp_matches({col}, '{FORMULA_START}') then chr(39) || {col} "
            f"else {col} end as {col}")


def _write_csv(con, relation: str, path: Path) -> None:
    columns = [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]
    select = ", ".join(_csv_text(c, t) for c, t in columns)
    con.execute(f"copy (select {select} from {relation}) to '{path}' "
                "(format csv, header true, delimiter ',')")


def _dutch_values(relation: str, columns: list[tuple[str, str]]) -> str:
    """The relation with coded values in Dutch words (columns_nl.ESTIMATION_METHOD_NL)."""
    if "estimation_method" not in {c for c, _ in columns}:
        return relation
    return (f"(select * replace ({estimation_method_nl_sql('estimation_method')} "
            f"as estimation_method) from {relation})")


def _write_dutch_csv(con, relation: str, columns: list[tuple[str, str]], path: Path) -> None:
    """`;`-separated with decimal commas and a UTF-8 byte order mark: what Dutch Excel opens."""
    relation = _dutch_values(relation, columns)

    def cell(name: str, dtype: str) -> str:
        if dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith("DECIMAL"):
            return f"replace(cast({_q(name)} as varchar), '.', ',') as {_q(name)}"
        return _csv_text(name, dtype)

    body = path.with_name(path.name + ".body")
    select = ", ".join(cell(c, t) for c, t in columns)
    con.execute(f"copy (select {select} from {relation}) to '{body}' "
                f"(format csv, header true, delimiter ';')")
    with path.open("wb") as out, body.open("rb") as src:
        out.write(b"\xef\xbb\xbf")
        shutil.copyfileobj(src, out, 1 << 20)
    body.unlink()


def mart_models(path: Path | None = MARTS_YAML) -> list[dict]:
    """The `models:` entries of the marts' dbt YAML: every *.yml of a folder (one per model), or
    one file; [] when there is none."""
    import yaml

    if path is None or not path.exists():
        return []
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    models: list[dict] = []
    for file in files:
        spec = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        models.extend(spec.get("models") or [])
    return models


def _mart_docs() -> dict[str, dict]:
    """Descriptions of the marts and their columns from the dbt YAML: {model: {...}}."""
    docs = {}
    for model in mart_models():
        docs[model["name"]] = {
            "description": " ".join(str(model.get("description") or "").split()),
            "columns": {c["name"]: " ".join(str(c.get("description") or "").split())
                        for c in model.get("columns", [])},
        }
    return docs


# Left out of the edition workbook, which a policy officer opens and prints: the facts per year
# (37,789 rows for the demo, 5.1 M nationally: LibreOffice did not convert the workbook to PDF in
# 10 minutes). Each area's workbook on the site has its own facts; analysts use the CSV/Parquet.
WORKBOOK_LEFT_OUT = ("fct_indicator_value",)


def _nl(n: int) -> str:
    """12345 -> '12.345' (Dutch thousands separator)."""
    return f"{n:,}".replace(",", ".")


def _write_workbook(con, path: Path, edition: int, tables: dict[str, list[tuple[str, str]]],
                    rows: dict[str, int], docs: dict[str, dict], created: datetime,
                    max_rows: int) -> dict:
    """A Dutch `toelichting` sheet first, then one sheet per mart (split over sheets past Excel's
    row limit, left out above max_rows or in WORKBOOK_LEFT_OUT): Dutch column headers, number
    formats, printed landscape one page wide. Fixed document properties keep the file
    byte-identical. The rows' SpreadsheetML is written by DuckDB (basismonitor.publish.xlsx.sql_cells)."""
    from basismonitor.publish import xlsx
    from basismonitor.publish.columns_nl import column_nl, style_of

    sheets: dict[str, list[str]] = {}
    omitted: dict[str, int] = {}
    for table in tables:
        name = table.split(".")[-1]
        n = rows[table]
        if n > max_rows or name in WORKBOOK_LEFT_OUT:
            omitted[name] = n
            continue
        parts = max(1, -(-n // EXCEL_SHEET_ROWS))
        sheets[name] = [name if parts == 1 else f"{name} ({i + 1})" for i in range(parts)]

    def lines(text: str | None, width: int) -> int:
        return max(1, -(-len(text or "") // width))

    bold, wrap, plain = xlsx.BOLD, xlsx.WRAP, xlsx.NORMAL
    with xlsx.Workbook(path, title=f"Basismonitor editie {edition}", author="Basismonitor",
                       created=created) as workbook:
        # the explanation sheet: what the workbook holds, then every column of every mart
        with workbook.sheet("toelichting", widths=(26, 34, 26, 12, 90),
                            columns=5) as explanation:
            explanation.row((f"Basismonitor, editie {edition}",), bold)
            intro = ("Elke gepubliceerde tabel met de betekenis van elke kolom. De bladen hebben "
                     "Nederlandse kolomkoppen; de CSV-, Parquet- en DuckDB-bestanden van de "
                     "editie gebruiken de technische kolomnaam (derde kolom hieronder). Niet "
                     "getoonde cijfers (te weinig waarnemingen) zijn leeg; 'Niet getoond' en "
                     "'Reden niet getoond' zeggen waarom. Aandelen zijn fracties (0,155 = "
                     "15,5%). De omschrijvingen komen uit de documentatie van de datamodellen.")
            explanation.row((None, intro), (plain, wrap), lines=lines(intro, 120) + 1)
            explanation.row(())
            for name, n in omitted.items():
                why = ("een tabel per jaar voor analyse, te groot om af te drukken"
                       if name in WORKBOOK_LEFT_OUT else f"meer dan {_nl(max_rows)} rijen")
                note = (f"Niet in deze werkmap ({_nl(n)} rijen; {why}). Gebruik {name}.parquet, "
                        f"{name}.csv of {name}.nl.csv, of de tabel in "
                        f"basismonitor_{edition}.duckdb; de werkmap per wijk op de website "
                        "bevat de cijfers per jaar van die wijk.")
                explanation.row((name, note), (bold, wrap), lines=lines(note, 120))
            for name, parts in sheets.items():
                if len(parts) > 1:
                    note = (f"{_nl(rows['marts.' + name])} rijen, meer dan een Excel-blad bevat: "
                            f"verdeeld over de bladen {', '.join(parts)} (in de sorteervolgorde "
                            "van de tabel).")
                    explanation.row((name, note), (bold, wrap), lines=lines(note, 120))
            if omitted or any(len(p) > 1 for p in sheets.values()):
                explanation.row(())
            explanation.row(("tabel / blad", "kolomkop", "kolomnaam (CSV, Parquet, DuckDB)",
                             "type", "omschrijving"), bold)
            for table, columns in tables.items():
                name = table.split(".")[-1]
                doc = docs.get(name, {})
                about = doc.get("description") or "(niet beschreven)"
                explanation.row((name, None, None, None, about), (bold, plain, plain, plain, wrap),
                                lines=lines(about, 100))
                for column, dtype in _flat(columns):
                    about = doc.get("columns", {}).get(column) or "(niet beschreven)"
                    explanation.row((name, column_nl(column), column, dtype, about),
                                    (plain, plain, plain, plain, wrap), lines=lines(about, 100))

        for table, columns in tables.items():
            name = table.split(".")[-1]
            if name not in sheets:
                continue
            styles = {c: xlsx.NUMBER_STYLES[style_of(c, t)] for c, t in _flat(columns)}
            cells = xlsx.sql_cells(_flat(columns), styles=styles, bool_text=("ja", "nee"))
            cursor = con.execute(f"select {cells} "
                                 f"from {_dutch_values(_ordered(table, columns), columns)}")
            heads = [column_nl(column) for column, _ in columns]
            widths = [min(max(len(h) * 0.9 + 2, 9), 40) for h in heads]
            for sheet_name in sheets[name]:
                # ~150 bytes of XML a cell at most: past 2 GiB the zip entry needs ZIP64
                large = min(rows[table], EXCEL_SHEET_ROWS) * len(columns) * 150 > 2**31
                with workbook.sheet(sheet_name, widths=widths, freeze_header=True,
                                    large=large) as sheet:
                    sheet.row(heads, xlsx.HEADER, lines=2)
                    written = 0
                    while written < EXCEL_SHEET_ROWS:
                        chunk = cursor.fetchmany(min(50_000, EXCEL_SHEET_ROWS - written))
                        if not chunk:
                            break
                        written += len(chunk)
                        sheet.rows_of_cells((r[0] for r in chunk), len(columns))
                    sheet.autofilter()
    return {"sheets": sheets, "omitted": omitted}


def _write_duckdb(warehouse: Path, path: Path, tables: dict[str, list[tuple[str, str]]],
                  docs: dict[str, dict]) -> None:
    """The marts in a DuckDB file of their own, described (COMMENT ON) for BI tools."""
    def text(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    with duckdb.connect(str(path), config=duckdb_config()) as out:
        out.execute("set enable_progress_bar = false")
        out.execute(f"attach {text(str(warehouse))} as wh (read_only)")
        out.execute("create schema marts")
        for table, columns in tables.items():
            name = table.split(".")[-1]
            out.execute(f"create table marts.{_q(name)} as "
                        f"select * from {_ordered(table, columns, source='wh.' + table)}")
            doc = docs.get(name, {})
            if doc.get("description"):
                out.execute(f"comment on table marts.{_q(name)} is {text(doc['description'])}")
            for column, _ in columns:
                if doc.get("columns", {}).get(column):
                    out.execute(f"comment on column marts.{_q(name)}.{_q(column)} is "
                                f"{text(doc['columns'][column])}")
        out.execute("detach wh")
        out.execute("checkpoint")
    # 0644, not read-only: DuckDB and DBeaver open a database read-write by default and fail on
    # a 0444 file ("Permission denied"). The published copy stays safe: only the publishing
    # account can write it, nothing reads it back, publication.json holds its checksum, and the
    # next publication replaces the whole edition folder.
    os.chmod(path, 0o644)


def _versions(packages: tuple[str, ...] = VERSIONED_PACKAGES) -> dict[str, str]:
    found = {}
    for package in packages:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "not installed"
    return found


def _gate_summary(gate, validation_docs: Path | None) -> dict | None:
    """What the gate found (the GateResult, or else the gate_result.json of its report), without
    timings or examples: the manifest stays reproducible."""
    keep = ("severity", "table", "expectation", "column", "unexpected_count")
    if gate is not None:
        found = gate.as_dict()
    elif validation_docs and (Path(validation_docs) / "gate_result.json").exists():
        found = json.loads((Path(validation_docs) / "gate_result.json").read_text(encoding="utf-8"))
    else:
        return None
    return {
        "edition": found["edition"],
        "passed": found["passed"],
        "expectations_run": found["expectations_run"],
        "tables": dict(sorted(found["tables"].items())),
        "failures": sorted(({k: f.get(k) for k in keep} for f in found["failures"]),
                           key=lambda f: json.dumps(f, sort_keys=True, default=str)),
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    for folder, _, names in os.walk(root):
        for name in names:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


# --- moving into place --------------------------------------------------------------------------

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename (Linux); False where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


@contextlib.contextmanager
def _locked(exports: Path) -> Iterator[None]:
    """Publishers (and the site stage) take turns on exports/ (a flock on .publish.lock)."""
    exports.mkdir(parents=True, exist_ok=True)
    with (exports / ".publish.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


exports_lock = _locked


def _recover(exports: Path, progress: Callable[[str], None]) -> None:
    """Clear what a killed publisher left: staging folders (a partial new edition, or the old one
    after a swap) are removed; an edition renamed aside (no atomic exchange) is put back."""
    for aside in sorted(exports.glob(".previous-*")):
        edition = aside.name.split("-")[1]
        target = exports / edition
        if not target.exists() and not target.is_symlink():
            os.replace(aside, target)
            progress(f"  restored edition {edition}, which an interrupted publish had set aside")
        else:
            shutil.rmtree(aside, ignore_errors=True)
    for leftover in sorted(exports.glob(".staging-*")):
        shutil.rmtree(leftover, ignore_errors=True)
    for link in exports.glob(".latest-*"):
        link.unlink(missing_ok=True)


def _move_into_place(staging: Path, target: Path, on_step: Callable[[str], None]) -> None:
    if not target.exists() and not target.is_symlink():
        os.replace(staging, target)
        return
    if _exchange(staging, target):
        on_step("swapped")
        _keep_site(staging, target)
        shutil.rmtree(staging, ignore_errors=True)  # now the previous edition
        return
    aside = target.parent / f".previous-{target.name}-{uuid.uuid4().hex[:8]}"
    os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        os.replace(aside, target)
        raise
    on_step("swapped")
    _keep_site(aside, target)
    shutil.rmtree(aside, ignore_errors=True)


def _keep_site(previous: Path, target: Path) -> None:
    """Move the previous publication's site into the new edition folder (one rename): it stays
    online until the site stage rebuilds it, and that stage reuses its unchanged pages."""
    site = previous / "site"
    if site.is_dir() and not (target / "site").exists():
        os.replace(site, target / "site")


def _point_latest(exports: Path, edition: int) -> bool:
    """Point exports/latest at `edition` if it is the newest published edition (folders named by
    a year); a backfill of an old edition leaves `latest` where it is. Returns whether it moved."""
    newest = max((int(p.name) for p in exports.iterdir() if p.is_dir() and p.name.isdigit()),
                 default=edition)
    if edition < newest:
        return False
    tmp = exports / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(str(edition), tmp)
    os.replace(tmp, exports / "latest")
    return True


# --- the content key ----------------------------------------------------------------------------

def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _files_digest(paths: list[Path], root: Path | None = None) -> str:
    """SHA-256 over the files' names (relative to root) and bytes, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root) if root else path.name).encode() + b"\0")
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def _tree_files(folder: Path) -> list[Path]:
    return [p for p in Path(folder).rglob("*") if p.is_file()]


def _code_digest() -> str:
    """The publish package's source: a change to how the files are written re-publishes."""
    return _files_digest(sorted(Path(__file__).parent.glob("*.py")))


def _report_digest(validation_docs: Path | None) -> dict | None:
    """What the copy of the gate's report (validation/) would show.

    A report of the gate (it has gate_result.json) is keyed by what it reports, not by its bytes:
    every run of the gate writes its run time into the pages' names and text, random element ids,
    and a fingerprint of a table it reads in no fixed order, so two runs on the same warehouse
    never give the same bytes, and `basismonitor publish` (which runs the gate first) would
    rewrite an unchanged edition every time. What a run reports is gate_result.json (the gate
    writes no timings there), under the suites (expectations/) and the code and GX version that
    render it; an unchanged edition keeps the report of its publication. Any other folder is
    keyed by its bytes."""
    if not validation_docs or not Path(validation_docs).exists():
        return None
    folder = Path(validation_docs)
    result = folder / "gate_result.json"
    if not result.is_file():
        return {"files": _files_digest(_tree_files(folder), folder)}
    from basismonitor.config import EXPECTATIONS_DIR
    from basismonitor.quality import data_docs_offline, validation

    return {
        "gate_result": file_sha256(result),
        "suites": _files_digest(_tree_files(EXPECTATIONS_DIR), EXPECTATIONS_DIR)
        if EXPECTATIONS_DIR.is_dir() else None,
        "gate_code": _files_digest([Path(validation.__file__), Path(data_docs_offline.__file__)]),
    }


def _table_digest(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    """Rows and an order-independent digest of a table's content: the sum of every row's DuckDB
    hash (a 64-bit hash of all its values; summed, not XORed, so duplicate rows count). Reads the
    table once: ~3 s for the national marts (5.3 M fact rows)."""
    rows, total = con.sql(f"select count(*), coalesce(sum(hash(*columns(*))::hugeint), 0) "
                          f"from {table}").fetchone()
    return int(rows), f"{int(total):x}"


@dataclass
class _Plan:
    """What publish would write, read from the warehouse before writing anything."""
    source_loads: list[dict]
    created: datetime
    tables: dict[str, list[tuple[str, str]]]
    rows: dict[str, int]
    docs: dict[str, dict]
    gate: dict | None
    key: str


def _plan(con: duckdb.DuckDBPyConnection, edition: int, validation_docs: Path | None,
          source_loads: list[dict] | None, gate, excel_max_rows: int) -> _Plan:
    """The edition's inputs and its content key: it changes whenever a published byte could
    change for a reason other than the time of publication."""
    if source_loads is None:
        source_loads = [
            dict(zip(("load_id", "source", "period", "file", "sha256", "rows_landed"), row,
                     strict=True))
            for row in con.sql(
                "select load_id, source, period, file_path, sha256, rows_landed from raw.loads "
                "where status = 'landed' order by source, period, file_path, load_id"
            ).fetchall()
        ]
    created = con.sql("select max(loaded_at) from raw.loads where status = 'landed'"
                      ).fetchone()[0] or datetime(2000, 1, 1)
    tables = {table: _columns(con, table) for table in EXPORTED_TABLES}
    rows, content = {}, {}
    for table in EXPORTED_TABLES:
        rows[table], content[table] = _table_digest(con, table)
    docs = _mart_docs()
    summary = _gate_summary(gate, validation_docs)
    key = _digest({
        "format": CONTENT_KEY_FORMAT,
        "edition": edition,
        "tables": {t: {"columns": tables[t], "rows": rows[t], "content": content[t]}
                   for t in EXPORTED_TABLES},
        "docs": docs,  # descriptions: Parquet metadata, workbook, DuckDB comments
        "created": created,  # the workbook's document properties
        "source_loads": source_loads,
        "gate": summary,
        "validation": _report_digest(validation_docs),
        "settings": {"excel_max_rows": excel_max_rows, "excel_sheet_rows": EXCEL_SHEET_ROWS,
                     "row_group_size": ROW_GROUP_SIZE, "workbook_left_out": WORKBOOK_LEFT_OUT},
        "versions": {**_versions(), **_versions(KEYED_PACKAGES)},
        "code": _code_digest(),
    })
    return _Plan(source_loads, created, tables, rows, docs, summary, key)


def _unchanged(target: Path, key: str) -> tuple[dict, dict] | str | None:
    """(manifest, publication) of the edition published at `target` when it has content key `key`
    and is intact: every listed file there with its size, the DuckDB file with the size in
    publication.json, manifest.json with its checksum there, the report folder if it had one.
    A string says why an edition with that key is published again; None: no such edition."""
    try:
        manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
        publication = json.loads((target / "publication.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("content_key") != key:
        return None
    try:
        if publication["manifest_sha256"] != file_sha256(target / "manifest.json"):
            return "its manifest.json differs from the one publication.json lists"
        listed = [(f["file"], f["bytes"]) for f in manifest["files"]]
        listed.append((publication["duckdb"]["file"], publication["duckdb"]["bytes"]))
        for name, size in listed:
            path = target / name
            if not path.is_file():
                return f"{name} is missing"
            if path.stat().st_size != size:
                return f"{name} has {path.stat().st_size:,} bytes, not the {size:,} listed"
        folder = (manifest.get("validation") or {}).get("folder")
        if folder and not (target / folder / "index.html").is_file():
            return f"its {folder}/ folder is incomplete"
    except (KeyError, TypeError) as error:
        return f"its manifest or publication.json lacks {error}"
    return manifest, publication


# --- the stage ----------------------------------------------------------------------------------

def publish_edition(
    warehouse: Path,
    exports: Path,
    edition: int,
    *,
    validation_docs: Path | None = None,
    source_loads: list[dict] | None = None,
    progress: Callable[[str], None] = print,
    gate=None,
    excel_max_rows: int = EXCEL_MAX_ROWS,
    force: bool = False,
    _fail_after_files: int | None = None,
    _on_step: Callable[[str], None] | None = None,
) -> Published:
    """Export the marts of `edition` atomically to exports/<edition>/; return where they are.

    `gate` (the GateResult that let this edition through; by default read from the report's
    gate_result.json in `validation_docs`) is summarised in the manifest.
    When the edition as published has the content key of what would be written now and is
    intact, nothing is written and the Published says `unchanged`; `force` rewrites anyway.
    `_fail_after_files` and `_on_step` are for tests: fail, or pause to be killed, mid-way.
    """
    warehouse = Path(warehouse).resolve()
    exports = Path(exports)
    exports.mkdir(parents=True, exist_ok=True)
    on_step = _on_step or (lambda _step: None)
    with _locked(exports):
        _recover(exports, progress)
        target = exports / str(edition)
        with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
            con.execute("set enable_progress_bar = false")
            check_privacy(con)
            plan = _plan(con, edition, validation_docs, source_loads, gate, excel_max_rows)
        found = _unchanged(target, plan.key)
        if isinstance(found, tuple) and not force:
            manifest, publication = found
            if not (exports / "latest").exists():
                _point_latest(exports, edition)
            progress(f"  edition {edition} unchanged since its publication at "
                     f"{publication.get('published_at', '?')}: nothing rewritten "
                     f"(key {plan.key[:16]})")
            return Published(edition=edition, path=target, files=manifest["files"],
                             manifest=manifest, unchanged=True)
        if isinstance(found, tuple):
            progress(f"  edition {edition} unchanged (key {plan.key[:16]}), rewritten as forced")
        elif isinstance(found, str):
            progress(f"  edition {edition} has the content to publish, but {found}: "
                     "publishing it again")
        staging = exports / f".staging-{edition}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            manifest, files = _write_edition(warehouse, staging, edition, validation_docs, plan,
                                             excel_max_rows, progress, on_step, _fail_after_files)
            _fsync_tree(staging)
            on_step("staged")
            _move_into_place(staging, target, on_step)
            _point_latest(exports, edition)
            _fsync(exports)
            on_step("published")
            return Published(edition=edition, path=target, files=files, manifest=manifest)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)


def _write_edition(warehouse: Path, staging: Path, edition: int, validation_docs: Path | None,
                   plan: _Plan, excel_max_rows: int, progress: Callable[[str], None],
                   on_step: Callable[[str], None],
                   fail_after_files: int | None) -> tuple[dict, list[dict]]:
    files: list[dict] = []

    def listed(path: Path, table: str | None, rows: int | None, kind: str) -> None:
        files.append({"file": path.name, "table": table, "format": kind, "rows": rows,
                      "bytes": path.stat().st_size, "sha256": file_sha256(path)})
        on_step(f"file:{path.name}")
        if fail_after_files is not None and len(files) >= fail_after_files:
            raise RuntimeError("injected failure during publishing (test)")

    docs, tables, rows = plan.docs, plan.tables, plan.rows
    with duckdb.connect(str(warehouse), read_only=True, config=duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        for table, columns in tables.items():
            name = table.split(".")[-1]
            relation = _ordered(table, columns)
            _write_parquet(con, relation, staging / f"{name}.parquet", docs.get(name))
            listed(staging / f"{name}.parquet", table, rows[table], "parquet")
            _write_csv(con, relation, staging / f"{name}.csv")
            listed(staging / f"{name}.csv", table, rows[table], "csv")
            _write_dutch_csv(con, relation, _flat(columns), staging / f"{name}.nl.csv")
            listed(staging / f"{name}.nl.csv", table, rows[table], "csv (nl: ; and decimal comma)")
            progress(f"  exported {table}: {rows[table]:,} rows")
        workbook_path = staging / f"basismonitor_{edition}.xlsx"
        workbook = _write_workbook(con, workbook_path, edition, tables, rows, docs, plan.created,
                                   excel_max_rows)
        listed(workbook_path, None, None, "xlsx")
        files[-1]["sheets"] = workbook["sheets"]
        files[-1]["omitted"] = workbook["omitted"]
        progress(f"  wrote {workbook_path.name}"
                 + (f" (left out: {', '.join(workbook['omitted'])})" if workbook["omitted"] else ""))
    database = staging / f"basismonitor_{edition}.duckdb"
    _write_duckdb(warehouse, database, tables, docs)
    on_step(f"file:{database.name}")
    progress(f"  wrote {database.name}")
    if validation_docs and Path(validation_docs).exists():
        shutil.copytree(validation_docs, staging / "validation", symlinks=False)
    manifest = {
        "edition": edition,
        "files": files,
        "duckdb": {
            "file": database.name,
            "tables": {t: rows[t] for t in EXPORTED_TABLES},
            "reproducible": False,
            "note": "DuckDB files are not byte-reproducible; the checksum of this one is in "
                    "publication.json",
        },
        "validation": {"folder": "validation" if (staging / "validation").exists() else None,
                       "gate": plan.gate},
        "source_loads": plan.source_loads,
        "versions": _versions(),
        # what was published, as publish_edition compares it before publishing again
        "content_key": plan.key,
    }
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n",
                                           encoding="utf-8")
    # what differs between two publications of the same data lives outside the manifest
    publication = {
        "edition": edition,
        "published_at": datetime.now(UTC).isoformat(),
        "manifest_sha256": file_sha256(staging / "manifest.json"),
        "duckdb": {"file": database.name, "bytes": database.stat().st_size,
                   "sha256": file_sha256(database)},
    }
    (staging / "publication.json").write_text(json.dumps(publication, indent=2) + "\n",
                                              encoding="utf-8")
    return manifest, files
