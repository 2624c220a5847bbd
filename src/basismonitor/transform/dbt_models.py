"""What the incremental survey Python models (dbt_project/models/intermediate/survey/*.py) share:
which waves a run computes, and a typed DuckDB relation of a model's result."""

from __future__ import annotations

import pandas as pd


def waves_to_build(dbt, session) -> pd.DataFrame:
    """[wave, input_fingerprint] of the waves this run computes: all of them on a first or full
    build, else those whose current fingerprint is not stored in the table (new or changed)."""
    inputs = dbt.ref("int_survey_wave_inputs").df()[["wave", "input_fingerprint"]]
    if not dbt.is_incremental:
        return inputs
    columns = [c[0].lower() for c in session.sql(f"select * from {dbt.this} limit 0").description]
    if "input_fingerprint" not in columns:  # built before the fingerprint existed
        return inputs
    built = session.sql(f"select distinct wave, input_fingerprint from {dbt.this}").df()
    kept = inputs.merge(built, on=["wave", "input_fingerprint"], how="left", indicator=True)
    return inputs[(kept["_merge"] == "left_only").to_numpy()]


def typed(session, frame: pd.DataFrame, columns: dict[str, str]):
    """The frame as a DuckDB relation with the given column types (and order), so an incremental
    run types its columns as a full build does (an all-null column included)."""
    frame = frame.reindex(columns=list(columns))
    relation = session.from_df(frame)
    return relation.project(", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in columns.items()))
