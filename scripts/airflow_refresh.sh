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
airflow dags test basismonitor_refresh --conf "{\"edition\": $edition}" 2>&1 | tee "$log" | grep -E "Task finished|TaskInstance Finished|state=|ERROR|refresh|published|quality gate|dbt build|Finished running|Done\." || true
set -e
state=$(python - <<'PY'
import re, sys, pathlib
text = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "") .read_text() if False else open(__import__("os").environ["AIRFLOW_HOME"] + "/dags-test.log").read()
m = re.findall(r"DagRun Finished: .*?state=(\w+)", text) or re.findall(r"dag_run.*?state[=:]\s*'?(\w+)", text)
print(m[-1] if m else "unknown")
PY
)
echo "DAG run state: $state ($(( $(date +%s) - start ))s; full log: $log)"
if [ "$state" != "success" ]; then
  [ -f var/failures/latest.json ] && cat var/failures/latest.json; echo
  exit 1
fi
cat <<MSG

Warehouse: $BASISMONITOR_WAREHOUSE
  open it:  .venv/bin/python -c "import duckdb; print(duckdb.connect('$BASISMONITOR_WAREHOUSE', read_only=True).sql('select * from marts.mart_area_profile'))"
Exports:   $BASISMONITOR_EXPORTS/$edition  (latest -> $edition): Parquet, CSV, ;-CSV for Excel, manifest.json
  validation report: $BASISMONITOR_EXPORTS/$edition/validation/index.html
MSG
