#!/usr/bin/env bash
# The Airflow UI on localhost for a data engineer: `airflow standalone` with the project's DAGs,
# an embedded SQLite metadata database under var/airflow, and the admin password printed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p "$AIRFLOW_HOME"
export BASISMONITOR_WAREHOUSE="${BASISMONITOR_WAREHOUSE:-$PWD/warehouse/basismonitor.duckdb}"
export BASISMONITOR_EXPORTS="${BASISMONITOR_EXPORTS:-$PWD/exports}"
export AIRFLOW__API__PORT="${AIRFLOW__API__PORT:-8080}"
# astronomer-cosmos phones home by default; a municipal platform does not (docs/AIRFLOW.md)
export AIRFLOW__COSMOS__ENABLE_TELEMETRY="${AIRFLOW__COSMOS__ENABLE_TELEMETRY:-False}"
basismonitor demo --inbox "$BASISMONITOR_INBOX"
airflow db migrate > "$AIRFLOW_HOME/db-migrate.log" 2>&1 || { cat "$AIRFLOW_HOME/db-migrate.log"; exit 1; }
airflow pools set warehouse_writer 1 "one DuckDB writer at a time" > /dev/null
# the dbt graph the DAGs render from: `dbt parse` once per change of dbt_project/ (docs/AIRFLOW.md)
python -c "from basismonitor.orchestration.airflow_dbt import ensure_manifest; print('dbt manifest', ensure_manifest())"
echo "Airflow UI: http://localhost:$AIRFLOW__API__PORT  (user admin; the password is printed below"
echo "and kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated). Ctrl-C stops it."
exec airflow standalone
