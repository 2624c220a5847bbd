"""Helpers for the Airflow DAGs: settings from params, and a plain failure summary.

Kept out of dags/ so the DAG files stay thin and this logic is importable and tested.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

from basismonitor.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)

WAREHOUSE_POOL = "warehouse_writer"


def refresh_dates(first_wave: int = 2024, waves: int = 10, month: int = 3, day: int = 1) -> list[datetime]:
    """When the biannual refresh runs: 1 March after each survey wave (waves in even years).

    Cron cannot say "every other year", so the DAG uses an events timetable over these dates.
    Override with BASISMONITOR_REFRESH_DATES="2025-03-01,2027-03-01,...".
    """
    import os

    configured = os.environ.get("BASISMONITOR_REFRESH_DATES")
    if configured:
        return [datetime.fromisoformat(d.strip()).replace(tzinfo=UTC) for d in configured.split(",") if d.strip()]
    return [datetime(first_wave + 1 + 2 * i, month, day, 6, tzinfo=UTC) for i in range(waves)]


def edition_for(params: dict | None, logical_date: datetime | None) -> int:
    """The edition a run builds: the `edition` param when given, else the wave before the run."""
    params = params or {}
    if params.get("edition"):
        return int(params["edition"])
    if logical_date is not None:
        year = logical_date.year - 1
        return year - (year % 2)  # the last even (survey) year before the run
    return Settings.from_env().edition


class InvalidRunParams(ValueError):
    """The run's params cannot give a valid edition (e.g. a base period not before the edition)."""


def dbt_vars_for(params: dict | None, logical_date: datetime | None = None) -> dict:
    """The dbt vars of a run: the edition (dbt var `edition`), and base_period when given.

    A base period must lie before the edition (the development compass compares the two); a
    backfill of an edition at or before dbt_project.yml's base_period must name an earlier one.
    """
    params = params or {}
    edition = edition_for(params, logical_date)
    settings = Settings.from_env()
    dbt_vars: dict = {**settings.dbt_vars, "edition": edition}
    if params.get("base_period"):
        dbt_vars["base_period"] = int(params["base_period"])
    elif settings.base_period:
        dbt_vars["base_period"] = settings.base_period
    base = dbt_vars.get("base_period", default_base_period())
    if base is not None and int(base) >= edition:
        raise InvalidRunParams(
            f"base_period {base} is not before edition {edition}: the development compass needs "
            f"an earlier base; trigger with e.g. {{\"edition\": {edition}, \"base_period\": "
            f"{edition - 4}}}")
    return dbt_vars


def default_base_period() -> int | None:
    """dbt_project.yml's base_period var."""
    import yaml

    from basismonitor.config import DBT_PROJECT_DIR

    spec = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8")) or {}
    value = (spec.get("vars") or {}).get("base_period")
    return int(value) if value is not None else None


def settings_for(params: dict | None, logical_date: datetime | None = None) -> Settings:
    base = Settings.from_env()
    return Settings(
        warehouse=base.warehouse, exports=base.exports, inbox=base.inbox,
        edition=edition_for(params, logical_date), base_period=base.base_period,
        dbt_vars=base.dbt_vars,
    )


def source_names(exclude_kinds: tuple[str, ...] = ()) -> list[str]:
    """The configured sources in dependency order (areas first), for one ingest task each."""
    from basismonitor.ingestion import load_config

    return [s.name for s in load_config().ordered() if s.kind not in exclude_kinds]


def _advice(error: BaseException | None) -> str:
    name = type(error).__name__ if error else ""
    text = str(error or "")
    if name == "IngestionError":
        return ("a source file could not be loaded: correct or replace the file named above in the inbox "
                "(rows it could use are not landed; nothing was published), then clear this task")
    if name == "GateFailed":
        return ("the quality gate stopped publication: open the validation report, fix the source or the "
                "model, then rerun the refresh; the previous edition is still published")
    if name in ("DbtFailed", "CosmosDbtRunError"):
        return ("a dbt model or test failed (named above; the producer task's log has dbt's output): "
                "reproduce it with `basismonitor build --edition <edition>`, fix the model or the source, "
                "then trigger the refresh again (landed files are skipped). Do not clear the "
                "producer task: a retried producer skips and each model task runs dbt on its own. "
                "Nothing was published; the previous edition is untouched")
    if name == "SiteFailed":
        return ("the compass pages were not rebuilt (cause above); the edition's data is published "
                "and intact, and the previous site stays in place. Fix the cause, then clear the "
                "`site` task alone (or run `basismonitor site --edition <edition>`)")
    if name == "InvalidRunParams":
        return "trigger the refresh again with corrected params (nothing was built or published)"
    if "lock" in text.lower():
        return "another process holds the DuckDB warehouse: wait for it (one writer at a time) and retry"
    return "see the task log; the previous published edition is untouched"


def failure_summary(context: dict) -> str:
    ti = context.get("task_instance") or context.get("ti")
    error = context.get("exception")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    run_id = context.get("run_id") or getattr(ti, "run_id", "?")
    where = f"{dag_id}.{task_id}" + (f"[{map_index}]" if map_index not in (None, -1) else "")
    params = context.get("params") or {}
    edition = params.get("edition") if hasattr(params, "get") else None
    lines = [
        f"Basismonitor refresh failed at {where} (run {run_id}"
        + (f", edition {edition}" if edition else "") + ")",
        f"what: {type(error).__name__ if error else 'unknown error'}: {error}",
        f"what to do: {_advice(error)}",
    ]
    return "\n".join(lines)


def on_failure(context: dict) -> None:
    """Failure callback: write the plain summary to var/airflow/failures/ and the log."""
    summary = failure_summary(context)
    log.error(summary)
    folder = failure_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    (folder / f"{stamp}.txt").write_text(summary + "\n", encoding="utf-8")
    (folder / "latest.json").write_text(json.dumps({"at": stamp, "summary": summary}) + "\n", encoding="utf-8")


def failure_dir() -> Path:
    """Where failure summaries go: $BASISMONITOR_FAILURES or var/failures in the project."""
    import os

    return Path(os.environ.get("BASISMONITOR_FAILURES", PROJECT_ROOT / "var" / "failures"))


def local_airflow_env(root: Path, *, inbox: Path, warehouse: Path | None = None,
                      exports: Path | None = None, base: dict | None = None) -> dict[str, str]:
    """The environment of a local `airflow dags test` run kept under `root`: Airflow's home and
    SQLite metadata DB in root/airflow, this repository's DAGs, no examples, no Cosmos telemetry,
    and the run's warehouse (default root/warehouse.duckdb), exports, inbox and failure summaries.
    Used by the Airflow tests and bench_refresh (`make run` sets the same in the Makefile)."""
    import os

    home = root / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    return dict(
        os.environ if base is None else base,
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(PROJECT_ROOT / "dags"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
        AIRFLOW__COSMOS__ENABLE_TELEMETRY="False",
        BASISMONITOR_WAREHOUSE=str(warehouse or root / "warehouse.duckdb"),
        BASISMONITOR_EXPORTS=str(exports or root / "exports"),
        BASISMONITOR_INBOX=str(inbox),
        BASISMONITOR_FAILURES=str(root / "failures"),
    )

