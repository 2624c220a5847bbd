"""Publish a validated edition: write every mart to a staging folder, then move it into place.

exports/<edition>/ appears whole or not at all: the files are written to
exports/.staging-<edition>-<id>/, checked, and renamed into place (a rename within one file
system is atomic); an existing edition is first renamed aside and removed only after the new one
is in place. `exports/latest` is a symlink replaced atomically. A failure at any point leaves the
previously published edition as it was.

Only the marts are exported: aggregates with suppression applied. Respondent-level data never
leaves the warehouse, and a column that looks respondent-level stops the publication.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import duckdb

EXPORTED_TABLES = (
    "marts.mart_compass_status",
    "marts.mart_compass_development",
    "marts.mart_area_profile",
    "marts.fct_indicator_value",
    "marts.dim_area",
    "marts.dim_indicator",
    "marts.dim_period",
)

# Column names that would mean respondent-level (personal) data in an export.
PERSONAL_COLUMNS = {
    "respondent_key",
    "respondent_id",
    "geboortejaar",
    "birth_year",
    "birth_date",
    "age",
    "postcode",
    "y",
    "weight",
    "base_weight",
}


class PrivacyViolation(RuntimeError):
    """An export would contain respondent-level data."""


@dataclass
class Published:
    edition: int
    path: Path
    files: list[dict]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _order_by(con: duckdb.DuckDBPyConnection, table: str) -> str:
    columns = [row[0] for row in con.sql(f"describe {table}").fetchall()]
    # a total order over all columns makes the files byte-identical for identical inputs
    return ", ".join(f'"{c}"' for c in columns)


def check_privacy(con: duckdb.DuckDBPyConnection, tables=EXPORTED_TABLES) -> None:
    for table in tables:
        columns = {row[0].lower() for row in con.sql(f"describe {table}").fetchall()}
        personal = sorted(columns & PERSONAL_COLUMNS)
        if personal:
            raise PrivacyViolation(
                f"{table} has respondent-level column(s) {personal}: exports hold only "
                "aggregates; remove the column from the mart (nothing was published)"
            )


def publish_edition(
    warehouse: Path,
    exports: Path,
    edition: int,
    *,
    validation_docs: Path | None = None,
    source_loads: list[dict] | None = None,
    progress: Callable[[str], None] = print,
    _fail_after_files: int | None = None,
) -> Published:
    """Export the marts of `edition` atomically; return where they are."""
    exports = Path(exports)
    exports.mkdir(parents=True, exist_ok=True)
    staging = exports / f".staging-{edition}-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    files: list[dict] = []
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            check_privacy(con)
            if source_loads is None:
                source_loads = [
                    dict(zip(("load_id", "source", "period", "file", "sha256", "rows_landed"), row, strict=True))
                    for row in con.sql(
                        "select load_id, source, period, file_path, sha256, rows_landed from raw.loads "
                        "where status = 'landed' order by source, period, file_path"
                    ).fetchall()
                ]
            for table in EXPORTED_TABLES:
                name = table.split(".")[-1]
                order = _order_by(con, table)
                rows = con.sql(f"select count(*) from {table}").fetchone()[0]
                relation = f"(select * from {table} order by {order})"
                parquet = staging / f"{name}.parquet"
                con.sql(
                    f"copy {relation} to '{parquet}' (format parquet, compression zstd, row_group_size 100000)"
                )
                csv_path = staging / f"{name}.csv"
                con.sql(f"copy {relation} to '{csv_path}' (format csv, header true, delimiter ',')")
                _write_excel_csv(csv_path, staging / f"{name}.nl.csv")
                for path in (parquet, csv_path, staging / f"{name}.nl.csv"):
                    files.append(
                        {"file": path.name, "table": table, "rows": rows, "bytes": path.stat().st_size,
                         "sha256": _sha256(path)}
                    )
                progress(f"  exported {table}: {rows:,} rows")
                if _fail_after_files is not None and len(files) >= _fail_after_files:
                    raise RuntimeError("injected failure during publishing (test)")
        if validation_docs and Path(validation_docs).exists():
            shutil.copytree(validation_docs, staging / "validation")
        manifest = {
            "edition": edition,
            "files": files,
            "source_loads": source_loads,
            "versions": {
                "basismonitor": version("basismonitor"),
                "dbt-core": version("dbt-core"),
                "dbt-duckdb": version("dbt-duckdb"),
                "duckdb": version("duckdb"),
                "great-expectations": version("great-expectations"),
            },
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        # published_at lives outside the manifest so reruns give byte-identical data files
        (staging / "PUBLISHED_AT").write_text(datetime.now(UTC).isoformat() + "\n", encoding="utf-8")
        target = exports / str(edition)
        aside = None
        if target.exists():
            aside = exports / f".previous-{edition}-{uuid.uuid4().hex[:8]}"
            os.replace(target, aside)
        try:
            os.replace(staging, target)
        except BaseException:
            if aside is not None:
                os.replace(aside, target)
            raise
        _point_latest(exports, str(edition))
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
        return Published(edition=edition, path=target, files=files)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _write_excel_csv(source: Path, target: Path) -> None:
    """The same table as `;`-separated CSV with decimal commas, which Dutch Excel opens directly."""
    with source.open(newline="", encoding="utf-8") as src, target.open(
        "w", newline="", encoding="utf-8-sig"
    ) as dst:
        writer = csv.writer(dst, delimiter=";")
        for i, row in enumerate(csv.reader(src)):
            if i:
                row = [_decimal_comma(v) for v in row]
            writer.writerow(row)


def _decimal_comma(value: str) -> str:
    try:
        float(value)
    except ValueError:
        return value
    return value.replace(".", ",") if "." in value and "e" not in value.lower() else value


def _point_latest(exports: Path, edition: str) -> None:
    tmp = exports / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(edition, tmp)
    os.replace(tmp, exports / "latest")
