"""One test per kind of violation that makes the gate fail, planted in the session's refreshed
warehouse by handing DataFrames (`frames=`) or by altering a copy of it."""

from __future__ import annotations

import pandas as pd
import pytest

from basismonitor.orchestration import pipeline
from basismonitor.quality.validation import GateFailed

STATUS = "marts.mart_compass_status"
FACTS = "marts.fct_indicator_value"
PROFILE = "marts.mart_area_profile"
INDICATORS = "marts.dim_indicator"


@pytest.fixture
def status(table) -> pd.DataFrame:
    return table(STATUS)


@pytest.fixture
def facts(table) -> pd.DataFrame:
    return table(FACTS)


@pytest.fixture
def indicators(table) -> pd.DataFrame:
    return table(INDICATORS)


def test_the_refreshed_warehouse_passes_every_suite(gate, suites):
    result = gate()
    assert result.passed, "\n".join(map(str, result.critical))
    assert set(result.tables) == set(suites)
    assert result.expectations_run > 300


# --- schema, keys, nulls -------------------------------------------------------------------------

def test_a_missing_column_fails_the_schema(gate, status, failing):
    result = gate(STATUS, frames={STATUS: status.drop(columns=["ci_high"])})
    missing = [f for f in failing(result, STATUS, "column_spec")
               if f.expectation == "expect_column_distinct_values_to_contain_set"]
    assert missing and "ci_high DOUBLE" in missing[0].detail


def test_a_changed_column_type_fails_the_schema(gate, status, failing):
    frame = status.assign(index_value=status["index_value"].astype("string"))
    result = gate(STATUS, frames={STATUS: frame})
    changed = [f for f in failing(result, STATUS, "column_spec")
               if f.expectation == "expect_column_values_to_be_in_set"]
    assert changed and changed[0].unexpected_count == 1
    assert "index_value VARCHAR" in changed[0].detail


def test_a_duplicate_key_fails(gate, status, failing):
    frame = pd.concat([status, status.iloc[[0]]], ignore_index=True)
    result = gate(STATUS, frames={STATUS: frame})
    duplicates = [f for f in failing(result, STATUS)
                  if f.expectation == "expect_compound_columns_to_be_unique"]
    assert duplicates and duplicates[0].unexpected_count == 2


def test_a_duplicate_key_in_the_aggregated_fact_table_fails(gate, facts, failing):
    frame = pd.concat([facts, facts.iloc[[5]]], ignore_index=True)
    result = gate(FACTS, frames={FACTS: frame})
    [failure] = failing(result, FACTS, "duplicate_key")
    assert failure.unexpected_count == 1
    assert "1 row fails" in str(failure)


def test_a_null_key_fails(gate, status, failing):
    frame = status.copy()
    frame.loc[3, "node_code"] = None
    result = gate(STATUS, frames={STATUS: frame})
    [failure] = failing(result, STATUS, "node_code")
    assert failure.expectation == "expect_column_values_to_not_be_null"
    assert failure.unexpected_count == 1


def test_a_null_lineage_column_in_a_landing_table_fails(gate, warehouse_copy, failing):
    copy = warehouse_copy("update raw.population set _file = null "
                          "where rowid in (select rowid from raw.population limit 3)")
    result = gate("raw.population", warehouse=copy)
    [failure] = failing(result, "raw.population", "null___file")
    assert failure.unexpected_count == 3


# --- ranges, intervals, classes ------------------------------------------------------------------

def test_an_index_out_of_range_fails(gate, status, failing):
    frame = status.copy()
    row = frame.index[frame["index_value"].notna()][0]
    frame.loc[row, "index_value"] = 170.0
    result = gate(STATUS, frames={STATUS: frame})
    [failure] = failing(result, STATUS, "index_value")
    assert failure.expectation == "expect_column_values_to_be_between"
    assert failure.unexpected_count == 1


def test_a_proportion_out_of_range_fails(gate, facts, indicators, failing, shown_row):
    frame = facts.copy()
    row = shown_row(frame, indicators, kind="survey_share", need=("ci_low",))
    frame.loc[row, ["value", "ci_low", "ci_high"]] = [1.3, 1.2, 1.4]  # the CI still holds it
    result = gate(FACTS, frames={FACTS: frame})
    [failure] = failing(result, FACTS, "bad__value_in_unit_range")
    assert failure.unexpected_count == 1
    assert not failing(result, FACTS, "bad__ci_holds_value")


def test_a_ci_that_does_not_hold_its_estimate_fails(gate, status, indicators, failing, shown_row):
    frame = status.copy()
    row = shown_row(frame, indicators, source_kind="survey", column="node_code", need=("ci_low",))
    frame.loc[row, "ci_low"] = frame.loc[row, "value"] + 0.05
    result = gate(STATUS, frames={STATUS: frame})
    [failure] = failing(result, STATUS, "check__ci_holds_value")
    assert failure.unexpected_count == 1
    assert frame.loc[row, "area_code"] in failure.detail  # the message names the row


def test_a_class_inconsistent_with_its_index_fails(gate, status, indicators, failing, shown_row):
    frame = status.copy()
    row = shown_row(frame, indicators, source_kind="registry", judged=True, column="node_code")
    frame.loc[row, ["index_value", "class"]] = [150.0, "veel slechter"]
    result = gate(STATUS, frames={STATUS: frame})
    [failure] = failing(result, STATUS, "check__class_matches_index")
    assert failure.unexpected_count == 1


# --- completeness and freshness ------------------------------------------------------------------

def test_a_compass_area_missing_from_a_mart_fails(gate, status, failing):
    area = sorted(status["area_code"].unique())[0]
    result = gate(STATUS, frames={STATUS: status[status["area_code"] != area]})
    [failure] = failing(result, STATUS, "area_code")
    assert failure.expectation == "expect_column_unique_value_count_to_be_between"
    assert area in failure.detail and '"n_missing": 1' in failure.detail


def test_a_compass_area_missing_from_the_fact_table_fails(gate, facts, failing):
    area = sorted(facts.loc[~facts["is_city"].astype(bool), "area_code"].unique())[-1]
    frame = facts[facts["area_code"] != area]
    result = gate(FACTS, frames={FACTS: frame})
    [failure] = failing(result, FACTS, "missing_compass_areas")
    current = facts[facts["area_edition"] == facts["area_edition"].max()]
    groups = current.groupby(["period", "indicator_code"]).ngroups
    assert failure.unexpected_count == groups  # one row missing per indicator and period


def test_a_run_for_another_edition_fails_freshness(gate, failing):
    result = gate(STATUS, FACTS, "marts.dim_period", edition=2022)
    assert failing(result, STATUS, "edition")
    assert failing(result, FACTS, "period")
    assert failing(result, "marts.dim_period", "check__current_period_is_edition")


# --- reconciliation ------------------------------------------------------------------------------

def test_rows_missing_from_a_landing_table_fail_the_reconciliation(gate, warehouse_copy, failing):
    copy = warehouse_copy("""
        delete from raw.population where rowid in (
            select rowid from raw.population
            where _load_id = (select min(_load_id) from raw.population) limit 4)""")
    result = gate("raw.loads", warehouse=copy)
    [failure] = failing(result, "raw.loads", "check__landed_rows_match_landing_tables")
    assert failure.unexpected_count == 1 and failure.unit == "loads"
    assert "1 load fails" in str(failure)


def test_counts_that_do_not_add_up_fail_the_reconciliation(gate, table, failing):
    loads = table("raw.loads")
    row = loads.index[loads["status"] == "landed"][0]
    loads.loc[row, "rows_read"] = loads.loc[row, "rows_read"] + 1
    result = gate("raw.loads", frames={"raw.loads": loads})
    [failure] = failing(result, "raw.loads", "check__rows_read_reconcile")
    assert loads.loc[row, "load_id"] in failure.detail


# --- privacy -------------------------------------------------------------------------------------

def test_a_planted_respondent_level_column_fails(gate, table, failing):
    profile = table(PROFILE).assign(respondent_key="x")
    result = gate(PROFILE, frames={PROFILE: profile})
    [failure] = failing(result, PROFILE, "column_name")
    assert failure.expectation == "expect_column_values_to_not_match_regex"
    assert "respondent_key" in failure.detail


def test_respondent_keys_under_another_name_fail(gate, table, refreshed, failing):
    profile = table(PROFILE)
    keys = table("raw.survey_respondents")["respondent_key"].head(len(profile)).tolist()
    frame = profile.assign(area_name=pd.array(keys, dtype=profile["area_name"].dtype))
    result = gate(PROFILE, frames={PROFILE: frame})
    [failure] = failing(result, PROFILE, "holds_respondent_keys")
    assert failure.unexpected_count == 1 and failure.unit == "columns"


def test_a_table_at_respondent_grain_fails(gate, table, failing):
    """One row per respondent (each area's row repeated for its respondents, no names that give it
    away) cannot be unique on the mart's aggregate grain."""
    profile = table(PROFILE)
    frame = profile.loc[profile.index.repeat(3)].reset_index(drop=True)
    result = gate(PROFILE, frames={PROFILE: frame})
    [failure] = [f for f in failing(result, PROFILE)
                 if f.expectation == "expect_compound_columns_to_be_unique"]
    assert failure.unexpected_count == len(frame)


@pytest.mark.parametrize(
    ("mart", "where", "column", "value", "check"),
    [
        # a shown survey figure below its minimum n, in the facts (per group) and the compass (rows)
        (FACTS, {"source_kind": "survey"}, "n_unweighted", 10, "bad__shown_survey_meets_min_n"),
        (STATUS, {"source_kind": "survey", "column": "node_code"}, "n_unweighted", 12,
         "check__shown_survey_meets_min_n"),
        # a shown count below 5
        (FACTS, {"kind": "registry_rate", "need": ("numerator",)}, "numerator", 3.0,
         "bad__no_shown_count_below_5"),
    ],
)
def test_a_small_shown_figure_fails(gate, table, indicators, failing, shown_row,
                                    mart, where, column, value, check):
    frame = table(mart)
    frame.loc[shown_row(frame, indicators, **where), column] = value
    result = gate(mart, frames={mart: frame})
    [failure] = failing(result, mart, check)
    assert failure.unexpected_count == 1


def test_a_shown_model_figure_without_mse_fails(gate, facts, indicators, failing, shown_row):
    """Issue 21: a shown modelschatting (fay_herriot) carries its MSE; the same figure marked as
    a model figure with an MSE passes the min-n check that a direct figure fails."""
    frame = facts.copy()
    row = shown_row(frame, indicators, source_kind="survey")
    frame.loc[row, ["estimation_method", "n_unweighted", "mse"]] = ["fay_herriot", 10, None]
    result = gate(FACTS, frames={FACTS: frame})
    [failure] = failing(result, FACTS, "bad__shown_model_figure_has_mse")
    assert failure.unexpected_count == 1
    assert not failing(result, FACTS, "bad__shown_survey_meets_min_n")
    frame.loc[row, "mse"] = 0.0004
    assert not failing(gate(FACTS, frames={FACTS: frame}), FACTS)


def test_a_suppressed_figure_that_still_shows_its_count_fails(gate, facts, failing):
    frame = facts.copy()
    row = frame.index[frame["suppressed"].astype(bool)][0]
    frame.loc[row, "numerator"] = 2.0
    result = gate(FACTS, frames={FACTS: frame})
    assert failing(result, FACTS, "bad__suppressed_fact_shows_nothing")


# --- how a failure reads -------------------------------------------------------------------------

def test_the_failure_message_names_expectation_table_and_rows(warehouse_copy, tmp_path):
    copy = warehouse_copy(f"""
        update {STATUS} set index_value = 170, class = 'veel beter'
        where rowid = (select min(rowid) from {STATUS} where node_level = 'centre')""")
    with pytest.raises(GateFailed) as raised:
        pipeline.validate(copy, 2024, docs_root=tmp_path / "docs", progress=lambda _: None)
    message = str(raised.value)
    assert ("expect_column_values_to_be_between on marts.mart_compass_status.index_value: "
            "1 row fails") in message
    assert "nothing was published" in message
    assert str(tmp_path / "docs") in message  # where the report is


# --- classes read from the compass marts ---------------------------------------------------------

def test_a_profile_centre_class_other_than_the_compass_marts_fails(gate, table, failing):
    """The profile's centre classes are the compass marts' (read from them, not reclassed)."""
    profile = table(PROFILE)
    row = profile.index[profile["status_centre_class"].notna()][0]
    other = "veel beter" if profile.loc[row, "status_centre_class"] != "veel beter" else "beter"
    profile.loc[row, "status_centre_class"] = other
    result = gate(PROFILE, frames={PROFILE: profile})
    [failure] = failing(result, PROFILE, "check__centre_class_matches_index")
    assert failure.unexpected_count == 1
    assert profile.loc[row, "area_code"] in failure.detail


def test_a_development_class_inconsistent_with_its_index_fails(gate, table, failing):
    development = table("marts.mart_compass_development")
    row = development.index[(development["node_level"] == "centre")
                            & development["index_value"].notna()][0]
    development.loc[row, ["index_value", "class"]] = [60.0, "veel beter"]
    result = gate("marts.mart_compass_development",
                  frames={"marts.mart_compass_development": development})
    [failure] = failing(result, "marts.mart_compass_development", "check__class_matches_index")
    assert failure.unexpected_count == 1


HARMONISED = "intermediate.int_indicator_values_harmonised"


def test_a_harmonised_interval_past_the_scale_fails_when_shown_not_when_suppressed(
        gate, table, indicators, failing):
    """The national demo's case: a rapportcijfer mean from n = 15 respondents, 8.0 +- 2.0, is
    suppressed (n below its minimum) and its interval reaches past 10; the facts publish no interval
    for it, so the gate lets it through. The same interval on a shown figure blocks publication."""
    frame = table(HARMONISED)
    grades = indicators.loc[indicators["unit"] == "rapportcijfer", "indicator_code"]
    row = frame.index[frame["indicator_code"].isin(grades) & frame["ci_high"].notna()][0]
    frame.loc[row, ["value", "ci_low", "ci_high", "n"]] = [8.0, 6.0, 10.04, 15]
    frame.loc[row, "suppression_reason"] = "n below 50"
    assert not failing(gate(HARMONISED, frames={HARMONISED: frame}), HARMONISED, "bad__ci_in_unit_range")
    frame.loc[row, "suppression_reason"] = None
    [failure] = failing(gate(HARMONISED, frames={HARMONISED: frame}), HARMONISED,
                        "bad__ci_in_unit_range")
    assert failure.unexpected_count == 1
