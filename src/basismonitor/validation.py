"""The quality gate: Great Expectations suites on the marts before anything is exported.

Suites live in expectations/<table>.json in Great Expectations' own suite format. Each
expectation carries a severity: a failing `critical` one stops publication, a failing `warning`
is reported and publishes. Tables are read from DuckDB into pandas and validated through GX's
pandas datasource (its SQL datasource fails on DuckDB through duckdb-engine, an upstream bug).

Checks that need more than one column or table are computed here as boolean columns named
`check__<name>` (listed in the suite's meta.derived_checks) and validated like any other column,
so they show up in the Data Docs with the rest. Placeholders in kwargs ("$edition",
"$compass_areas") are filled in per run.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from basismonitor.config import EXPECTATIONS_DIR

log = logging.getLogger(__name__)


@dataclass
class Failure:
    table: str
    expectation: str
    column: str | None
    severity: str
    unexpected_count: int | None
    detail: str

    def __str__(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        rows = f"{self.unexpected_count} rows" if self.unexpected_count is not None else "table-level"
        return f"[{self.severity}] {self.expectation} on {where}: {rows} fail ({self.detail})"


@dataclass
class GateResult:
    edition: int
    tables: dict[str, int] = field(default_factory=dict)  # table -> rows validated
    expectations_run: int = 0
    failures: list[Failure] = field(default_factory=list)
    docs_dir: Path | None = None

    @property
    def critical(self) -> list[Failure]:
        return [f for f in self.failures if f.severity == "critical"]

    @property
    def warnings(self) -> list[Failure]:
        return [f for f in self.failures if f.severity != "critical"]

    @property
    def passed(self) -> bool:
        return not self.critical


class GateFailed(RuntimeError):
    """A critical expectation failed: nothing is published. The message names each failure."""

    def __init__(self, result: GateResult):
        self.result = result
        lines = [f"quality gate failed for edition {result.edition}; nothing was published:"]
        lines += [f"  {f}" for f in result.critical]
        if result.docs_dir:
            lines.append(f"  report: {result.docs_dir / 'index.html'}")
        lines.append("  fix the source or the model, then rerun `basismonitor refresh`.")
        super().__init__("\n".join(lines))


# --- derived checks -------------------------------------------------------------------------

def _ci_holds_value(df: pd.DataFrame, value: str = "value") -> pd.Series:
    has = df["ci_low"].notna() & df["ci_high"].notna() & df[value].notna()
    eps = 1e-9
    ok = (df["ci_low"] <= df[value] + eps) & (df[value] <= df["ci_high"] + eps)
    return ~has | ok


def _class_matches_index(df: pd.DataFrame, bands: dict) -> pd.Series:
    idx = df["index_value"]
    judged = df["is_judged"].fillna(True).astype(bool)
    expected_judged = pd.Series("gemiddeld", index=df.index, dtype="object")
    expected_judged[idx < bands["worse_below"]] = "slechter"
    expected_judged[idx < bands["much_worse_below"]] = "veel slechter"
    expected_judged[idx > bands["better_above"]] = "beter"
    expected_judged[idx > bands["much_better_above"]] = "veel beter"
    expected_plain = pd.Series("gemiddeld", index=df.index, dtype="object")
    expected_plain[idx < bands["worse_below"]] = "minder"
    expected_plain[idx > bands["better_above"]] = "meer"
    expected = expected_judged.where(judged, expected_plain)
    cls = df["class"]
    # a judged survey indicator that is not significant is "gemiddeld" whatever its index
    not_significant = (df.get("node_level") == "indicator") & judged & (df["significant"] == False)  # noqa: E712
    ok = (cls == expected) | (not_significant & (cls == "gemiddeld"))
    return idx.isna() & cls.isna() | ok.fillna(False)


def _shown_survey_meets_min_n(df: pd.DataFrame, indicators: pd.DataFrame) -> pd.Series:
    merged = df[["indicator_code", "suppressed", "n_unweighted"]].merge(
        indicators[["indicator_code", "source_kind", "min_n"]], on="indicator_code", how="left"
    )
    survey_shown = (merged["source_kind"] == "survey") & ~merged["suppressed"].astype(bool)
    ok = merged["n_unweighted"] >= merged["min_n"]
    return pd.Series((~survey_shown | ok.fillna(False)).to_numpy(), index=df.index)


def _no_small_counts(df: pd.DataFrame, indicators: pd.DataFrame) -> pd.Series:
    merged = df[["indicator_code", "suppressed", "numerator"]].merge(
        indicators[["indicator_code", "kind"]], on="indicator_code", how="left"
    )
    counted = merged["kind"].isin(["registry_share", "registry_rate", "activity_rate"])
    shown = ~merged["suppressed"].astype(bool) & merged["numerator"].notna()
    ok = merged["numerator"] >= 5
    return pd.Series((~(counted & shown) | ok).to_numpy(), index=df.index)


DERIVED: dict[str, Callable[..., pd.Series]] = {
    "ci_holds_value": lambda df, ctx: _ci_holds_value(df),
    "class_matches_index": lambda df, ctx: _class_matches_index(df, ctx["bands"]),
    "shown_survey_meets_min_n": lambda df, ctx: _shown_survey_meets_min_n(df, ctx["indicators"]),
    "no_small_counts": lambda df, ctx: _no_small_counts(df, ctx["indicators"]),
}


# --- suites -----------------------------------------------------------------------------------

def load_suites(directory: Path = EXPECTATIONS_DIR) -> dict[str, dict]:
    suites = {}
    for path in sorted(directory.glob("*.json")):
        suite = json.loads(path.read_text(encoding="utf-8"))
        suites[suite["meta"]["table"]] = suite
    return suites


def _fill(value, params: dict):
    if isinstance(value, str) and value.startswith("$"):
        return params[value[1:]]
    if isinstance(value, list):
        return [_fill(v, params) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, params) for k, v in value.items()}
    return value


def _read(con: duckdb.DuckDBPyConnection, table: str) -> pd.DataFrame:
    return con.sql(f"select * from {table}").df()


def bands_from_dbt_project() -> dict:
    import yaml

    from basismonitor.config import DBT_PROJECT_DIR

    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    v = project["vars"]
    return {k: v[k] for k in ("much_worse_below", "worse_below", "better_above", "much_better_above")}


def validate_warehouse(
    warehouse: Path,
    edition: int,
    *,
    docs_root: Path | None = None,
    suites: dict[str, dict] | None = None,
    frames: dict[str, pd.DataFrame] | None = None,
    progress: Callable[[str], None] = print,
) -> GateResult:
    """Validate every table that has a suite; write Data Docs; return the result (never raises).

    `frames` may hand in DataFrames instead of reading them from the warehouse (tests plant
    violations that way); tables not given are read from the warehouse read-only.
    """
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    suites = suites if suites is not None else load_suites()
    frames = dict(frames or {})
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for table in suites:
            if table not in frames:
                frames[table] = _read(con, table)
        indicators = frames.get("marts.dim_indicator")
        if indicators is None:
            indicators = _read(con, "marts.dim_indicator")
        areas = _read(
            con,
            "select area_code from marts.dim_area where is_current_edition and is_compass_area",
        ) if "marts.dim_area" not in frames else frames["marts.dim_area"].query(
            "is_current_edition and is_compass_area"
        )[["area_code"]]
    params = {"edition": edition, "compass_areas": sorted(areas["area_code"].tolist())}
    ctx = {"bands": bands_from_dbt_project(), "indicators": indicators}

    result = GateResult(edition=edition)
    project_dir = Path(tempfile.mkdtemp(prefix="basismonitor-gx-"))
    try:
        context = gx.get_context(mode="file", project_root_dir=str(project_dir))
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        source = context.data_sources.add_pandas("warehouse")
        for table, suite_def in suites.items():
            df = frames[table].copy()
            for check in suite_def["meta"].get("derived_checks", []):
                df[f"check__{check}"] = DERIVED[check](df, ctx)
            name = table.replace(".", "__")
            suite = context.suites.add(
                gx.ExpectationSuite(
                    name=suite_def["name"],
                    expectations=[_fill(e, params) for e in suite_def["expectations"]],
                    meta={"table": table, "edition": edition},
                )
            )
            batch = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("all")
            definition = context.validation_definitions.add(
                gx.ValidationDefinition(name=f"{name}__{edition}", data=batch, suite=suite)
            )
            checkpoint = context.checkpoints.add(
                gx.Checkpoint(
                    name=f"gate__{name}",
                    validation_definitions=[definition],
                    actions=[UpdateDataDocsAction(name="data_docs")],
                    result_format={"result_format": "SUMMARY"},
                )
            )
            run = checkpoint.run(batch_parameters={"dataframe": df})
            result.tables[table] = len(df)
            for validation in run.run_results.values():
                for res in validation.results:
                    result.expectations_run += 1
                    if res.success:
                        continue
                    config = res.expectation_config
                    raw = getattr(config, "severity", "critical")
                    severity = str(getattr(raw, "value", raw)).lower()
                    details = res.result or {}
                    detail = {
                        k: details[k]
                        for k in ("observed_value", "partial_unexpected_list", "unexpected_percent")
                        if k in details
                    }
                    if res.exception_info and res.exception_info.get("raised_exception"):
                        detail = {"exception": res.exception_info.get("exception_message")}
                    result.failures.append(
                        Failure(
                            table=table,
                            expectation=config.type,
                            column=config.kwargs.get("column"),
                            severity=severity,
                            unexpected_count=details.get("unexpected_count"),
                            detail=json.dumps(detail, default=str)[:300],
                        )
                    )
            progress(
                f"  validated {table}: {len(df):,} rows, "
                f"{sum(1 for f in result.failures if f.table == table)} failing expectation(s)"
            )
        docs = project_dir / "gx" / "uncommitted" / "data_docs" / "local_site"
        if docs_root is not None and docs.exists():
            target = Path(docs_root) / str(edition)
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(docs, target)
            result.docs_dir = target
    finally:
        shutil.rmtree(project_dir, ignore_errors=True)
    return result
