"""Helpers for the gate's tests: run the gate on the session's refreshed warehouse, with violations
planted by handing DataFrames (`frames=`) or by altering a copy of the warehouse."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from basismonitor.quality.validation import (
    Failure,
    GateResult,
    load_suites,
    read_table,
    validate_warehouse,
)


@pytest.fixture(scope="session")
def suites() -> dict[str, dict]:
    return load_suites()


@pytest.fixture
def gate(refreshed, suites) -> Callable[..., GateResult]:
    """Run the gate (no Data Docs) on the refreshed warehouse or `warehouse`, on the suites of
    `tables` only (all by default), with `frames` standing in for tables."""

    def run(*tables: str, frames: dict[str, pd.DataFrame] | None = None,
            warehouse: Path | None = None, edition: int | None = None) -> GateResult:
        chosen = {t: suites[t] for t in tables} if tables else suites
        return validate_warehouse(warehouse or refreshed.warehouse, edition or refreshed.edition,
                                  suites=chosen, frames=frames, progress=lambda _: None)

    return run


@pytest.fixture
def table(refreshed) -> Callable[[str], pd.DataFrame]:
    """A mart or raw table as a DataFrame that keeps its DuckDB types (to plant violations in)."""
    return lambda name: read_table(refreshed.warehouse, name)


@pytest.fixture
def warehouse_copy(refreshed, tmp_path) -> Callable[[str], Path]:
    """A copy of the refreshed warehouse with `sql` run on it."""

    def copy(sql: str) -> Path:
        target = tmp_path / "warehouse.duckdb"
        shutil.copy(refreshed.warehouse, target)
        with duckdb.connect(str(target)) as con:
            con.execute(sql)
        return target

    return copy


def _failing(result: GateResult, table: str, column: str | None = None, *,
             severity: str = "critical") -> list[Failure]:
    return [f for f in result.failures
            if f.table == table and f.severity == severity and (column is None or f.column == column)]


@pytest.fixture
def failing() -> Callable[..., list[Failure]]:
    """failing(result, table, column=None, severity="critical"): the matching failures."""
    return _failing


@pytest.fixture
def shown_row() -> Callable[..., int]:
    """shown_row(frame, indicators, source_kind=, kind=, judged=, column=, need=): the index of a
    shown row of such an indicator."""
    return _shown_indicator_row


def _shown_indicator_row(frame: pd.DataFrame, indicators: pd.DataFrame, *, source_kind: str | None = None,
                        kind: str | None = None, judged: bool | None = None,
                        column: str = "indicator_code", need: tuple[str, ...] = ()) -> int:
    """The index of a shown (not suppressed) row of an indicator of that kind."""
    info = indicators.set_index("indicator_code")
    codes = info.index
    if source_kind:
        codes = codes[info.loc[codes, "source_kind"] == source_kind]
    if kind:
        codes = codes[info.loc[codes, "kind"] == kind]
    mask = frame[column].isin(list(codes)) & ~frame["suppressed"].astype(bool)
    if judged is not None:
        mask &= frame["is_judged"].astype(bool) == judged
    for c in need:
        mask &= frame[c].notna()
    rows = frame.index[mask.fillna(False).astype(bool)]
    assert len(rows), "the refreshed warehouse has no such row to plant a violation in"
    return rows[0]
