"""The biannual refresh: ingest -> transform (dbt) -> validate (Great Expectations) -> publish
-> site.

Thin wiring only: the DAG is built by basismonitor.orchestration.airflow_dags, and the work lives in the
basismonitor package, tested on its own. Nothing heavy runs at import time.
"""

from __future__ import annotations

from airflow.timetables.events import EventsTimetable

from basismonitor.orchestration.airflow_dags import build_refresh_dag
from basismonitor.orchestration.airflow_support import refresh_dates, source_names

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
   An edition already published with the same content is left as it is (the log says
   `edition <N> unchanged`).
5. **site**: the compass pages of the published edition (`exports/<edition>/site/`), from the
   published files; only the areas whose figures changed are rebuilt. A failure leaves the
   published data and the previous site in place: clear the `site` task alone to retry.

Only one task writes the DuckDB file at a time (pool `warehouse_writer`, 1 slot;
`max_active_runs=1`). On failure a plain summary is written to `var/failures/latest.json`;
the previous published edition is untouched.
"""

build_refresh_dag(
    "basismonitor_refresh",
    # 1 March after each (biennial) survey wave; cron cannot express "every other year"
    schedule=EventsTimetable(event_dates=refresh_dates(), description="1 March after each survey wave"),
    doc=DOC,
    sources=source_names(),  # every configured source, areas first
)
