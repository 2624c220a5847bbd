"""The refresh DAG's wiring, shared by the DAG files in dags/ (which stay one call each).

ingest (one discover + one mapped load task per source, in dependency order) -> transform (one
dbt build) -> validate (Great Expectations) -> publish. Imported by the DAG processor: nothing
heavy at import time; every task imports what it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task, task_group

from basismonitor.airflow_support import WAREHOUSE_POOL, on_failure, settings_for

RAW_TABLES = Asset(name="basismonitor_raw", uri="file:///basismonitor/warehouse/raw")
MARTS = Asset(name="basismonitor_marts", uri="file:///basismonitor/warehouse/marts")
PUBLISHED = Asset(name="basismonitor_published_edition", uri="file:///basismonitor/exports/latest")


def build_refresh_dag(dag_id: str, *, schedule, doc: str, sources: Sequence[str]):
    """A refresh DAG over `sources` (names from ingestion/sources.yml, in dependency order)."""

    @dag(
        dag_id=dag_id,
        schedule=schedule,
        start_date=datetime(2008, 1, 1),
        catchup=False,
        max_active_runs=1,
        doc_md=doc,
        tags=["basismonitor"],
        params={
            "edition": Param(None, type=["null", "integer"], description="the survey wave the compass shows (default: the last wave before the run)"),
            "base_period": Param(None, type=["null", "integer"], description="development base period (default: dbt_project.yml)"),
        },
        default_args={"on_failure_callback": on_failure, "retries": 0},
    )
    def refresh():
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
            for name in sources:
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



    return refresh()
