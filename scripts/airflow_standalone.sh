#!/usr/bin/env bash
# The Airflow UI on localhost for a data engineer: `airflow standalone` with the project's DAGs,
# an embedded SQLite metadata database under var/airflow, and the admin password printed.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/airflow_env.sh
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
basismonitor demo --inbox "$BASISMONITOR_INBOX"
airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
airflow pools set warehouse_writer 1 "one DuckDB writer at a time" > /dev/null
# the dbt graph the DAGs render from: `dbt parse` once per change of dbt_project/ (docs/AIRFLOW.md)
python -c "from basismonitor.orchestration.airflow_dbt import ensure_manifest; print('dbt manifest', ensure_manifest())"
echo "Airflow UI: http://localhost:$AIRFLOW__API__PORT  (user admin; the password is printed below"
echo "and kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated). Ctrl-C stops it."
exec airflow standalone
