"""The yearly registry refresh between survey waves: new CBS, police, population and area
files are landed and the current edition's compass is rebuilt and republished with them.

Thin wiring: the same DAG builder as basismonitor_refresh, over the non-survey sources only.
"""

from __future__ import annotations

from basismonitor.orchestration.airflow_dags import build_refresh_dag
from basismonitor.orchestration.airflow_support import source_names

DOC = """
### Basismonitor yearly registry refresh

Runs every year on 1 July (after CBS publishes its Kerncijfers wijken en buurten and the police
their yearly figures) and by hand. Lands the new files of the registry, population, police, area
and activity sources (the survey waits for the biannual `basismonitor_refresh`), then rebuilds,
validates and republishes the current edition (param `edition`, default the last survey wave), so
the compass's registry figures stay current between waves; the `site` task then rebuilds the
pages of the areas whose figures changed. Same single-writer rules: pool
`warehouse_writer` (1 slot), `max_active_runs=1`; the published edition changes only when the
gate passes.
"""

build_refresh_dag(
    "basismonitor_registry_yearly",
    schedule="0 6 1 7 *",  # 1 July, yearly
    doc=DOC,
    sources=source_names(exclude_kinds=("survey",)),
)
