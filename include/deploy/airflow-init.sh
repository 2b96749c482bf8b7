#!/usr/bin/env bash
# One-shot initialisation of the compose deployment (the airflow-init service), run through the
# image's entrypoint after it has waited for the metadata database:
#   schema migrations, the `warehouse` pool (RIGHTSEND_WAREHOUSE_SLOTS slots), the admin's
#   password for the simple auth manager, a fresh dbt manifest for Cosmos, and the data folders.
# Idempotent: `docker compose up` runs it on every start.
set -euo pipefail

: "${AIRFLOW_ADMIN_USERNAME:=admin}"
: "${AIRFLOW_ADMIN_PASSWORD:?set AIRFLOW_ADMIN_PASSWORD in .env}"
PASSWORDS_FILE="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:-/opt/airflow/auth/passwords.json}"

echo "rightsend init: Airflow $(airflow version)"
airflow db migrate
# Slots: 1 on DuckDB (one writer); more on Postgres, so mapped buckets run in parallel.
airflow pools set warehouse "${RIGHTSEND_WAREHOUSE_SLOTS:-1}" "warehouse tasks: 1 slot on DuckDB (one writer); more on Postgres for parallel buckets"

# The simple auth manager keeps users' passwords in a JSON file it only adds to: write ours.
mkdir -p "$(dirname "$PASSWORDS_FILE")"
python - "$PASSWORDS_FILE" <<'PY'
import json, os, sys
path = sys.argv[1]
with open(path, "w") as handle:
    json.dump({os.environ["AIRFLOW_ADMIN_USERNAME"]: os.environ["AIRFLOW_ADMIN_PASSWORD"]}, handle)
os.chmod(path, 0o660)
PY

mkdir -p "$RIGHTSEND_LANDING_DIR" "$RIGHTSEND_OUTPUT_DIR" "$(dirname "$RIGHTSEND_WAREHOUSE")" "${DBT_LOG_PATH:-/opt/airflow/logs/dbt}"

# The project folder is mounted over the image's copy: parse it so Cosmos renders the
# models that are deployed now (manifest lands in the dbt-target volume).
cd /opt/rightsend/dbt_project
if [ -f packages.yml ]; then dbt deps --profiles-dir .; fi
dbt parse --profiles-dir . --target duckdb --quiet
echo "rightsend init: done"
