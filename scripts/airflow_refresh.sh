#!/usr/bin/env bash
# One refresh of the demo municipality through Airflow: `airflow dags test` on an embedded SQLite
# metadata database under var/airflow (git-ignored). Generates the demo inbox when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "$AIRFLOW_HOME"
export BASISMONITOR_WAREHOUSE="${BASISMONITOR_WAREHOUSE:-$PWD/warehouse/basismonitor.duckdb}"
export BASISMONITOR_EXPORTS="${BASISMONITOR_EXPORTS:-$PWD/exports}"
edition="${BASISMONITOR_EDITION:-2024}"

basismonitor demo --inbox "$BASISMONITOR_INBOX"

echo "== airflow metadata database ($AIRFLOW__DATABASE__SQL_ALCHEMY_CONN)"
airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
airflow pools set warehouse_writer 1 "one DuckDB writer at a time" > /dev/null

echo "== airflow dags test basismonitor_refresh (edition $edition)"
start=$(date +%s)
log="$AIRFLOW_HOME/dags-test.log"
set +e
airflow dags test basismonitor_refresh --conf "{\"edition\": $edition}" > "$log" 2>&1 &
pid=$!
# progress on the terminal: one line per finished task, the gate and the publication
tail -n +1 -f "$log" --pid "$pid" 2>/dev/null \
  | grep --line-buffered -oE "\[DAG TEST\] end task task_id=[^ ]+( map_index=[0-9-]+)?|quality gate [a-z]+[^\[]*|published edition [^\[]*|DagRun Finished: .*state=[a-z]+" \
  | sed -u -e 's/\[DAG TEST\] end task task_id=/  done: /' -e 's/DagRun Finished: .*state=/DAG run state: /'
wait "$pid"
status=$?
set -e
echo "airflow dags test exit code $status ($(( $(date +%s) - start ))s; full log: $log)"
if [ "$status" -ne 0 ]; then
  [ -f var/failures/latest.json ] && cat var/failures/latest.json; echo
  exit 1
fi
cat <<MSG

Warehouse: $BASISMONITOR_WAREHOUSE
  open it:  .venv/bin/python -c "import duckdb; print(duckdb.connect('$BASISMONITOR_WAREHOUSE', read_only=True).sql('select * from marts.mart_area_profile'))"
Exports:   $BASISMONITOR_EXPORTS/$edition  (latest -> $edition): Parquet, CSV, ;-CSV for Excel, manifest.json
  compass pages:     $BASISMONITOR_EXPORTS/$edition/site/index.html (open in a browser from disk)
  validation report: $BASISMONITOR_EXPORTS/$edition/validation/index.html
MSG
