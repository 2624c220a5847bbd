# The environment both Airflow scripts (airflow_refresh.sh, airflow_standalone.sh) run in: sourced
# from the repository root after `set -euo pipefail`, with AIRFLOW_HOME set (the Makefile sets it).
mkdir -p "$AIRFLOW_HOME"
export BASISMONITOR_WAREHOUSE="${BASISMONITOR_WAREHOUSE:-$PWD/warehouse/basismonitor.duckdb}"
export BASISMONITOR_EXPORTS="${BASISMONITOR_EXPORTS:-$PWD/exports}"
# astronomer-cosmos phones home by default; a municipal platform does not (docs/AIRFLOW.md)
export AIRFLOW__COSMOS__ENABLE_TELEMETRY="${AIRFLOW__COSMOS__ENABLE_TELEMETRY:-False}"
