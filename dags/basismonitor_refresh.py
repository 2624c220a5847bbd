"""The biannual refresh: ingest -> transform (dbt) -> validate (Great Expectations) -> publish.

Thin wiring only: the work lives in the basismonitor package (basismonitor.pipeline and
basismonitor.ingestion), which is tested on its own. Nothing heavy runs at import time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task, task_group

from airflow.timetables.events import EventsTimetable

from basismonitor.airflow_support import (
    WAREHOUSE_POOL,
    on_failure,
    refresh_dates,
    settings_for,
    source_names,
)

RAW_TABLES = Asset(name="basismonitor_raw", uri="file:///basismonitor/warehouse/raw")
MARTS = Asset(name="basismonitor_marts", uri="file:///basismonitor/warehouse/marts")
# Sources in dependency order, read from ingestion/sources.yml (a small YAML file: cheap to parse).
SOURCES = source_names()

PUBLISHED = Asset(name="basismonitor_published_edition", uri="file:///basismonitor/exports/latest")

DOC = """
### Basismonitor refresh

Runs on 1 March after each survey wave (every two years; events timetable) or by hand with
params: `edition` (the survey wave the compass shows; default the last wave before the run) and
`base_period` (development compass base; default in dbt_project.yml).

1. **ingest**: per configured source (in dependency order, areas first) a `discover_<source>`
   task lists its deliveries and `load_<source>` is mapped over them (one delivery = one period's
   files, a survey wave's codebook before its data). New files land in the `raw` schema; rejected
   rows go to `raw.quarantine` with their reason; a file that cannot be parsed fails its task with
   the file, row and column, and the refresh stops before anything is published.
2. **transform**: one `dbt build` (models and dbt's tests) on the DuckDB warehouse.
3. **validate**: the Great Expectations gate on the marts; a critical failure stops here.
4. **publish**: exports/<edition>/ written aside and moved into place; `exports/latest` follows.

Only one task writes the DuckDB file at a time (pool `warehouse_writer`, 1 slot;
`max_active_runs=1`). On failure a plain summary is written to `var/failures/latest.json`;
the previous published edition is untouched.
"""


@dag(
    dag_id="basismonitor_refresh",
    # 1 March after each (biennial) survey wave; cron cannot express "every other year"
    schedule=EventsTimetable(event_dates=refresh_dates(), description="1 March after each survey wave"),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=DOC,
    tags=["basismonitor"],
    params={
        "edition": Param(None, type=["null", "integer"], description="the survey wave the compass shows (default: the last wave before the run)"),
        "base_period": Param(None, type=["null", "integer"], description="development base period (default: dbt_project.yml)"),
    },
    default_args={"on_failure_callback": on_failure, "retries": 0},
)
def basismonitor_refresh():
    @task_group(group_id="ingest")
    def ingest_group():
        """Find the inbox's files per configured source and land each file (one mapped task per
        source, in dependency order: areas before everything that checks area codes)."""

        @task(trigger_rule="none_failed", retries=2, retry_delay=timedelta(seconds=30),
              retry_exponential_backoff=True)
        def discover(source: str, params=None, logical_date=None) -> list[list[dict]]:
            """The source's deliveries in the inbox: per period its files in load order (a
            survey wave's codebook before its data). Already-landed files are skipped by load."""
            from basismonitor.ingestion import discover as find

            settings = settings_for(params, logical_date)
            deliveries: dict[str, list[dict]] = {}
            for f in find(settings.inbox, sources=[source]):
                deliveries.setdefault(f.period, []).append(
                    {"source": f.source, "period": f.period, "path": str(f.path)}
                )
            return list(deliveries.values())

        @task(pool=WAREHOUSE_POOL, outlets=[RAW_TABLES], max_active_tis_per_dag=1,
              trigger_rule="none_failed", retries=2, retry_delay=timedelta(seconds=30),
              retry_exponential_backoff=True)
        def load(delivery: list[dict], params=None, logical_date=None) -> list[dict]:
            """Land one delivery's files in order, each all-or-nothing; rows a file cannot use go
            to raw.quarantine with their reason."""
            from pathlib import Path

            from basismonitor.ingestion import load_file

            settings = settings_for(params, logical_date)
            results = []
            for pending in delivery:
                result = load_file(settings.warehouse, pending["source"], pending["period"],
                                   Path(pending["path"]))
                print(f"{result.source} {result.period} {result.path}: {result.status} "
                      f"read {result.rows_read} landed {result.rows_landed} "
                      f"quarantined {result.rows_quarantined}")
                results.append({"file": result.path, "status": result.status,
                                "rows_read": result.rows_read, "rows_landed": result.rows_landed,
                                "rows_quarantined": result.rows_quarantined})
            return results

        previous = None
        for name in SOURCES:
            found = discover.override(task_id=f"discover_{name}")(name)
            loaded = load.override(task_id=f"load_{name}").expand(delivery=found)
            if previous is not None:
                previous >> found
            previous = loaded
        return previous

    @task(pool=WAREHOUSE_POOL, outlets=[MARTS], trigger_rule="none_failed")
    def transform(params=None, logical_date=None) -> None:
        """dbt build: staging -> intermediate -> facts and compass marts, with dbt's data and unit tests."""
        from basismonitor.pipeline import build

        settings = settings_for(params, logical_date)
        build(settings.warehouse, settings.edition, base_period=(params or {}).get("base_period"))

    @task
    def validate(params=None, logical_date=None) -> str | None:
        """Great Expectations gate on every mart: a failing critical expectation stops publication."""
        from basismonitor.pipeline import validate as gate

        settings = settings_for(params, logical_date)
        result = gate(settings.warehouse, settings.edition)
        return str(result.docs_dir) if result.docs_dir else None

    @task(outlets=[PUBLISHED])
    def publish(docs_dir: str | None, params=None, logical_date=None) -> str:
        """Write the edition's exports aside and move them into place atomically."""
        from pathlib import Path

        from basismonitor.pipeline import publish as export

        settings = settings_for(params, logical_date)
        published = export(settings.warehouse, settings.exports, settings.edition,
                           docs_dir=Path(docs_dir) if docs_dir else None)
        return str(published.path)

    loaded = ingest_group()
    built = transform()
    loaded >> built
    docs = validate()
    built >> docs
    publish(docs)


basismonitor_refresh()
