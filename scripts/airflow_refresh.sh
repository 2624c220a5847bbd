#!/usr/bin/env bash
# One refresh of the demo municipality through Airflow: `airflow dags test` on an embedded SQLite
# metadata database under var/airflow (git-ignored). Generates the demo inbox when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/airflow_env.sh
# the edition: $BASISMONITOR_EDITION, else a municipality's settings file ($BASISMONITOR_SETTINGS), else 2024
edition="$(python -c 'from basismonitor.config import Settings; print(Settings.from_env().edition)')"

# the demo municipality's files, unless a municipality's own inbox and settings are given
if [ -z "${BASISMONITOR_SETTINGS:-}" ]; then
  basismonitor demo --inbox "$BASISMONITOR_INBOX"
fi

echo "== airflow metadata database ($AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)"
airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
airflow pools set warehouse_writer 1 "one DuckDB writer at a time" > /dev/null
# the dbt graph the DAG renders from (Cosmos, LoadMode.DBT_MANIFEST): `dbt parse` once per change of
# dbt_project/, here rather than inside the DAG parse (which has a time limit)
python -c "from basismonitor.orchestration.airflow_dbt import ensure_manifest; print('== dbt manifest', ensure_manifest())"

echo "== airflow dags test basismonitor_refresh (edition $edition)"
start=$(date +%s)
log="$AIRFLOW_HOME/dags-test.log"
set +e
airflow dags test basismonitor_refresh --conf "{\"edition\": $edition}" > "$log" 2>&1 &
pid=$!
# progress on the terminal: one line per finished ingest/validate/publish task and for the dbt build
# (the per-model node tasks after it are summed up by dbt's own "Done." line), the gate, the edition
tail -n +1 -f "$log" --pid "$pid" 2>/dev/null \
  | grep --line-buffered -oE "\[DAG TEST\] end task task_id=[^ ]+( map_index=[0-9-]+)?|[0-9:]+  Done\. PASS=[^\[]*|quality gate [a-z]+[^\[]*|published edition [^\[]*|edition [0-9]+ unchanged: [^\[]*|DagRun Finished: .*state=[a-z]+" \
  | grep --line-buffered -vE "task_id=transform\.[^ ]*(\.(run|test|seed)|_run|_seed|_done) " \
  | sed -u -e 's/\[DAG TEST\] end task task_id=/  done: /' -e 's/^[0-9:]*  Done\./  dbt build done:/' -e 's/DagRun Finished: .*state=/DAG run state: /'
wait "$pid"
status=$?
set -e
echo "airflow dags test exit code $status ($(( $(date +%s) - start ))s; full log: $log)"
if [ "$status" -ne 0 ]; then
  failures="${BASISMONITOR_FAILURES:-var/failures}"
  [ -f "$failures/latest.json" ] && cat "$failures/latest.json"; echo
  exit 1
fi
cat <<MSG

Warehouse: $BASISMONITOR_WAREHOUSE (the pipeline's own: readers open the published copy below,
  so that they never hold the lock the next refresh needs)
  open it:  .venv/bin/python -c "import duckdb; print(duckdb.connect('$BASISMONITOR_EXPORTS/$edition/basismonitor_$edition.duckdb', read_only=True).sql('select * from marts.mart_area_profile'))"
Exports:   $BASISMONITOR_EXPORTS/$edition  (latest -> $edition): Parquet, CSV, ;-CSV for Excel, manifest.json
  compass pages:     $BASISMONITOR_EXPORTS/$edition/site/index.html (open in a browser from disk)
  validation report: $BASISMONITOR_EXPORTS/$edition/validation/index.html
MSG
