"""Fingerprints of what an exports folder shows (shared by the publisher's tests)."""

from __future__ import annotations

import hashlib
from pathlib import Path

# Byte-reproducible files (DuckDB database files are not: see publish/exports.py)
DATA_SUFFIXES = (".parquet", ".csv", ".xlsx")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(edition_dir: Path) -> dict[str, str]:
    """Every file an edition folder shows (validation report included), by checksum."""
    return {str(p.relative_to(edition_dir)): _sha256(p)
            for p in sorted(edition_dir.rglob("*")) if p.is_file()}


def data_files(edition_dir: Path) -> dict[str, str]:
    return {k: v for k, v in fingerprint(edition_dir).items()
            if k.endswith(DATA_SUFFIXES) or k == "manifest.json"}


def visible(exports: Path) -> set[str]:
    """What a reader of the exports folder sees (hidden staging folders excluded)."""
    return {p.name for p in exports.iterdir() if not p.name.startswith(".")}
