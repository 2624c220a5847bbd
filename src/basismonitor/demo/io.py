"""Writing into the inbox: atomic, deterministic, recorded for the manifest."""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GeneratedFile:
    path: str  # relative to the inbox, with forward slashes
    source: str
    period: str
    rows: int  # data rows (without header)
    bytes: int
    sha256: str


class InboxWriter:
    """Writes `inbox/<source>/<period>/<file>` through a hidden temporary file in the same
    folder and an atomic rename, so a watcher never sees half a file."""

    def __init__(self, root: Path, progress: Callable[[str], None] | None = None) -> None:
        self.root = Path(root)
        self.progress = progress
        self.files: list[GeneratedFile] = []

    def target(self, source: str, period: object, name: str) -> Path:
        return self.root / source / str(period) / name

    def _record(
        self,
        source: str,
        period: object,
        path: Path,
        rows: int,
        data: bytes | None,
        note: str | None,
    ) -> GeneratedFile:
        if data is None:
            data = path.read_bytes()
        rel = path.relative_to(self.root).as_posix()
        gf = GeneratedFile(
            rel, source, str(period), int(rows), len(data), hashlib.sha256(data).hexdigest()
        )
        self.files.append(gf)
        if self.progress is not None and note is not None:
            self.progress(f"{note} -> {self.root / rel}")
        return gf

    def write_bytes(
        self,
        source: str,
        period: object,
        name: str,
        data: bytes,
        rows: int,
        note: str | None = None,
    ) -> GeneratedFile:
        path = self.target(source, period, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        return self._record(source, period, path, rows, data, note)

    def write_with(
        self,
        source: str,
        period: object,
        name: str,
        writer: Callable[[Path], None],
        rows: int,
        note: str | None = None,
    ) -> GeneratedFile:
        """For binary formats written by a library (SPSS, XLSX): writer(tmp_path)."""
        path = self.target(source, period, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{name}.tmp{path.suffix}")
        try:
            writer(tmp)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return self._record(source, period, path, rows, None, note)


def csv_text(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    delimiter: str = ";",
    quoting: int = csv.QUOTE_MINIMAL,
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, quoting=quoting, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def round5(x):
    """CBS rounding of counts to multiples of 5 (half away from zero)."""
    import numpy as np

    x = np.asarray(x)
    return (np.floor(x / 5.0 + 0.5) * 5).astype(np.int64)
