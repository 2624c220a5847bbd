"""The refresh DAG's wiring, shared by the DAG files in dags/ (which stay one call each).

ingest (one discover + one mapped load task per source, in dependency order) -> transform (dbt
through astronomer-cosmos: one `dbt build` as the only writer, one task per model and its tests;
see basismonitor.orchestration.airflow_dbt) -> validate (Great Expectations) -> publish -> site (the compass
pages, from the published files). Imported by the DAG processor: nothing heavy at import time;
every task imports what it needs when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from airflow.sdk import Asset, Param, dag, task, task_group

from basismonitor.orchestration.airflow_dbt import transform_group
from basismonitor.orchestration.airflow_support import (
    WAREHOUSE_POOL,
    dbt_vars_for,
    on_failure,
    settings_for,
)

TRANSFORM_DOC = """
**transform**: the dbt project through astronomer-cosmos (`ExecutionMode.WATCHER`).

- `dbt_producer_watcher` runs the one `dbt build` (staging -> intermediate -> catalogue seeds ->
  marts, with every data and unit test) with the run's edition and base period as dbt vars. It is
  the only task that writes the warehouse (pool `warehouse_writer`). Its log has dbt's output.
- `<model>.run` / `<model>.test` (and `<seed>.seed`) report, per dbt node, what that build did:
  status, timing, compiled SQL (Rendered Template). They do not run dbt; their arrows are dbt's
  lineage. They start when the build is done, and are not in the pool (they write nothing).
- On failure the producer fails with the failing models/tests named and the node tasks are
  `upstream_failed`. Fix the model or source, check with `basismonitor build`, then trigger the
  refresh again (landed files are skipped). Do not clear the producer: a retried producer skips
  and each node task then runs its own model (one at a time, through the warehouse lock) - slow.
- Param `full_rebuild` adds `--full-refresh` (seeds and any incremental model rebuilt from scratch).
"""

RAW_TABLES = Asset(name="basismonitor_raw", uri="file:///basismonitor/warehouse/raw")
MARTS = Asset(name="basismonitor_marts", uri="file:///basismonitor/warehouse/marts")
PUBLISHED = Asset(name="basismonitor_published_edition", uri="file:///basismonitor/exports/latest")
SITE = Asset(name="basismonitor_site", uri="file:///basismonitor/exports/latest/site")


def _owner(dag_run) -> str:
    """This run as the owner of the warehouse lease (basismonitor.orchestration.locks), also set in the task's
    environment so the warehouse lock lets this run's own writes through."""
    import os

    from basismonitor.orchestration.locks import ENV_OWNER

    owner = f"{dag_run.dag_id}/{dag_run.run_id}" if dag_run is not None else "airflow"
    os.environ[ENV_OWNER] = owner
    return owner


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
            "edition": Param(None, type=["null", "integer"], minimum=2008,
                             description="the survey wave the compass shows (default: the last wave "
                                         "before the run); an older wave rebuilds and republishes "
                                         "that edition (backfill)"),
            "base_period": Param(None, type=["null", "integer"], minimum=2008,
                                 description="development base period (default: dbt_project.yml)"),
            "reload_sources": Param([], type="array", items={"type": "string", "enum": list(sources)},
                                    description="sources whose inbox files are landed again even "
                                                "when the same bytes were loaded before (e.g. "
                                                "after a connector fix); default none"),
            "full_rebuild": Param(False, type="boolean",
                                  description="dbt build --full-refresh: seeds and incremental "
                                              "models rebuilt from scratch"),
        },
        default_args={"on_failure_callback": on_failure, "retries": 0},
    )
    def refresh():
        @task(retries=3, retry_delay=timedelta(minutes=1))
        def claim(params=None, logical_date=None, dag_run=None) -> str:
            """Claim the warehouse for this run until `release` (basismonitor.orchestration.locks): the other
            refresh DAG, a second run and command-line writers wait for it, so no run validates
            or publishes marts another run's build has just rebuilt. Waits at most
            BASISMONITOR_LOCK_WAIT seconds, then fails (and retries) naming the holder."""
            from basismonitor.orchestration.locks import claim_lease

            owner = _owner(dag_run)
            claim_lease(settings_for(params, logical_date).warehouse, owner, progress=print)
            return owner

        @task
        def release(params=None, logical_date=None, dag_run=None) -> None:
            """Release this run's claim on the warehouse, after publish or after a failure (a
            teardown task: it runs whatever happened, and does not decide the run's state)."""
            from basismonitor.orchestration.locks import release_lease

            if not release_lease(settings_for(params, logical_date).warehouse, _owner(dag_run)):
                print("the lease was not this run's (already released or taken over)")

        @task_group(group_id="ingest")
        def ingest_group():
            """Find the inbox's files per configured source and land each file (one mapped task per
            source, in dependency order: areas before everything that checks area codes)."""

            @task(trigger_rule="none_failed", retries=2, retry_delay=timedelta(seconds=30),
                  retry_exponential_backoff=True)
            def discover(source: str, params=None, logical_date=None) -> list[list[dict]]:
                """The source's deliveries in the inbox: per period its files in load order (a
                survey wave's codebook before its data). Already-landed files are skipped by load."""
                from basismonitor.ingestion import discover_all

                settings = settings_for(params, logical_date)
                deliveries: dict[str, list[dict]] = {}
                found, ignored = discover_all(settings.inbox, sources=[source])
                for item in ignored:   # links, files outside a period folder, unknown names
                    print(f"ignored: {item.line()}")
                for f in found:
                    deliveries.setdefault(f.period, []).append(
                        {"source": f.source, "period": f.period, "path": str(f.path)}
                    )
                return list(deliveries.values())

            @task(pool=WAREHOUSE_POOL, outlets=[RAW_TABLES], max_active_tis_per_dag=1,
                  trigger_rule="none_failed", retries=2, retry_delay=timedelta(seconds=30),
                  retry_exponential_backoff=True)
            def load(delivery: list[dict], params=None, logical_date=None,
                     dag_run=None) -> list[dict]:
                """Land one delivery's files in order, each all-or-nothing; rows a file cannot use go
                to raw.quarantine with their reason."""
                from pathlib import Path

                from basismonitor.ingestion import load_file

                _owner(dag_run)

                settings = settings_for(params, logical_date)
                reload = set((params or {}).get("reload_sources") or [])
                results = []
                for pending in delivery:
                    result = load_file(settings.warehouse, pending["source"], pending["period"],
                                       Path(pending["path"]), force=pending["source"] in reload)
                    print(f"{result.source} {result.period} {result.path}: {result.status} "
                          f"read {result.rows_read} landed {result.rows_landed} "
                          f"quarantined {result.rows_quarantined}")
                    results.append({"file": result.path, "status": result.status,
                                    "rows_read": result.rows_read, "rows_landed": result.rows_landed,
                                    "rows_quarantined": result.rows_quarantined})
                return results

            previous = claimed
            for name in sources:
                # the first follows the setup task `claim`, which Airflow requires to be all_success
                rule = "all_success" if previous is claimed else "none_failed"
                found = discover.override(task_id=f"discover_{name}", trigger_rule=rule)(name)
                loaded = load.override(task_id=f"load_{name}").expand(delivery=found)
                previous >> found
                previous = loaded
            return previous

        @task(pool=WAREHOUSE_POOL)
        def preflight(params=None, logical_date=None) -> list[str]:
            """Refuse inputs that cannot make the edition, with the reason (no division landed for
            the compass's area_source, one division delivered by two sources): before dbt, whose
            tests would only say that a uniqueness or relationship test failed."""
            from basismonitor.transform.preflight import check_inputs

            settings = settings_for(params, logical_date)
            notes = check_inputs(settings.warehouse, dbt_vars_for(params, logical_date))
            for note in notes:
                print(f"note: {note}")
            return notes

        @task
        def validate(params=None, logical_date=None, dag_run=None) -> str | None:
            """Great Expectations gate on every mart: a failing critical expectation stops publication."""
            from basismonitor.orchestration.airflow_dbt import release_warehouse
            from basismonitor.orchestration.pipeline import validate as gate

            _owner(dag_run)

            release_warehouse()  # dbt-duckdb's handle, when the build ran in this process
            settings = settings_for(params, logical_date)
            result = gate(settings.warehouse, settings.edition)
            return str(result.docs_dir) if result.docs_dir else None

        @task(outlets=[PUBLISHED])
        def publish(docs_dir: str | None, params=None, logical_date=None, dag_run=None) -> str:
            """Write the edition's exports aside and move them into place atomically."""
            from pathlib import Path

            from basismonitor.orchestration.pipeline import publish as export

            _owner(dag_run)

            settings = settings_for(params, logical_date)
            published = export(settings.warehouse, settings.exports, settings.edition,
                               docs_dir=Path(docs_dir) if docs_dir else None)
            return str(published.path)

        @task(inlets=[PUBLISHED], outlets=[SITE])
        def site(published: str, params=None, logical_date=None) -> str:
            """The compass pages of the edition just published, built from its published files
            (not the warehouse: no pool, no lease): only the areas whose figures changed since
            the edition's last site build. A failure leaves the published data as it is and
            the previous site in place; clear this task alone to retry."""
            from basismonitor.orchestration.pipeline import site as build_site

            settings = settings_for(params, logical_date)
            return str(build_site(settings.exports, settings.edition))

        claimed = claim()
        loaded = ingest_group()
        built = transform_group(group_id="transform", doc_md=TRANSFORM_DOC, pool=WAREHOUSE_POOL,
                                outlets=[MARTS])
        checked = preflight()
        loaded >> checked >> built
        docs = validate()
        built >> docs
        published = publish(docs)
        published >> release().as_teardown(setups=claimed)
        site(published)

    return refresh()
