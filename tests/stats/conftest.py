"""Fixtures for the survey-statistics tests: the R ``survey`` api reference data in ../shared."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SURVEY_API = REPO.parent / "shared" / "reference" / "survey-api"


def _reference_csv(name: str) -> Path:
    path = SURVEY_API / name
    if not path.is_file():
        pytest.skip(f"reference data {path} absent (needs the shared folder next to the repo)")
    return path


@pytest.fixture(scope="session")
def apistrat_path() -> Path:
    return _reference_csv("apistrat.csv")


@pytest.fixture(scope="session")
def apiclus1_path() -> Path:
    return _reference_csv("apiclus1.csv")


@pytest.fixture(scope="session")
def apistrat(apistrat_path: Path) -> pd.DataFrame:
    return pd.read_csv(apistrat_path)


@pytest.fixture(scope="session")
def apiclus1(apiclus1_path: Path) -> pd.DataFrame:
    return pd.read_csv(apiclus1_path)


@pytest.fixture()
def con(apistrat_path: Path) -> duckdb.DuckDBPyConnection:
    """A connection with the view ``apistrat`` (read by DuckDB, full-precision weights)."""
    connection = duckdb.connect()
    connection.execute(
        f"CREATE VIEW apistrat AS SELECT * FROM read_csv('{apistrat_path}', header=true)"
    )
    yield connection
    connection.close()
