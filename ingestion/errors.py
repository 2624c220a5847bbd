"""The one exception ingestion raises for bad input or a failed load."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class IngestionError(Exception):
    """A file could not be loaded, or a source is misconfigured.

    ``str()`` names the file, the row and column where known, what is wrong and what to do. A
    load that failed is recorded in raw.loads (status ``failed``) before this is raised;
    ``result`` holds its LoadResult and, from ``ingest_inbox``, ``results`` the results so far.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.hint = hint
        self.result: Any = None
        self.results: list[Any] = []
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        text = (", ".join(where) + ": " if where else "") + self.message
        if self.hint:
            text += f" -- {self.hint}"
        return text
