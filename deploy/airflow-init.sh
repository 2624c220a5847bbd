#!/usr/bin/env bash
# One-shot initialisation, run by the `airflow-init` compose service before any other Airflow
# component starts (they wait for it with condition: service_completed_successfully).
# Idempotent: it runs on every `docker compose up` and only brings things up to date.
set -euo pipefail

echo "[airflow-init] Airflow $(airflow version)"

# 1. Metadata database schema (creates it on first start, upgrades it after an image upgrade).
airflow db migrate

# 2. One DuckDB writer at a time: the DAG's writing tasks use this pool (1 slot).
airflow pools set warehouse_writer 1 "one DuckDB writer"

# 3. Data folders inside the volumes (the volumes are created from the image, owned by airflow).
mkdir -p "$(dirname "${BASISMONITOR_WAREHOUSE}")" "${BASISMONITOR_EXPORTS}" "${BASISMONITOR_INBOX}"

# 4. UI login for Airflow's SimpleAuthManager (the Airflow 3 default auth manager).
#    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS names the user (admin role); its password comes from
#    AIRFLOW_ADMIN_PASSWORD (.env) and is written to the passwords file on the airflow-auth volume,
#    where the api-server reads it. Re-running with a new password rotates it.
python - <<'PY'
import json
import os
import pathlib

path = pathlib.Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
user = os.environ.get("AIRFLOW_ADMIN_USER") or "admin"
password = os.environ.get("AIRFLOW_ADMIN_PASSWORD") or ""
if not password:
    raise SystemExit("[airflow-init] AIRFLOW_ADMIN_PASSWORD is empty: set it in .env")
path.parent.mkdir(parents=True, exist_ok=True)
passwords = {}
if path.exists() and path.read_text().strip():
    passwords = json.loads(path.read_text())
passwords[user] = password
path.write_text(json.dumps(passwords) + "\n")
path.chmod(0o600)
print(f"[airflow-init] UI user {user!r} (admin) configured in {path}")
PY

echo "[airflow-init] done"
