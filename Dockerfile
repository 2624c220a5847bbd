# Basismonitor: one image for every Airflow component (api-server, scheduler, dag-processor,
# triggerer, Celery worker) plus dbt-duckdb and Great Expectations.
# Build: docker compose build      (see docs/DEPLOYMENT.md)
# Validated as configuration by tests/deployment/test_compose.py; no image was built there.

# Pinned patch release of the Python the project supports (requires-python >=3.11,<3.12).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_INPUT=1 \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/basismonitor/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DBT_PROFILES_DIR=/opt/basismonitor/dbt_project \
    BASISMONITOR_WAREHOUSE=/data/warehouse/basismonitor.duckdb \
    BASISMONITOR_EXPORTS=/data/exports \
    BASISMONITOR_INBOX=/data/inbox \
    DO_NOT_TRACK=1
# DO_NOT_TRACK: astronomer-cosmos sends no telemetry (its own [cosmos] enable_telemetry option is
# not in Airflow's config description, which tests/deployment checks every AIRFLOW__ setting against)

# tini reaps zombies and forwards signals (Celery warm shutdown, scheduler subprocesses);
# fonts-dejavu-core is the font the PNG compasses are drawn with (basismonitor.site.raster).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Non-root runtime user, uid 50000 / gid 0 like the official Airflow image.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --create-home --shell /bin/bash airflow

WORKDIR /opt/basismonitor

# 1. Pinned third-party dependencies (the layer only changes when the lock changes).
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock

# 2. Deployment-only extras (PostgreSQL drivers, Celery executor), pinned, constrained by the lock.
COPY deploy/requirements-deploy.txt deploy/
RUN pip install --no-cache-dir -c requirements.lock -r deploy/requirements-deploy.txt

# 3. The project itself, without touching the locked dependencies. Editable (-e) on purpose:
#    basismonitor.config derives PROJECT_ROOT (dbt_project/, expectations/, var/) from the
#    package's own location, which must therefore stay /opt/basismonitor/src/basismonitor.
#    A plain `pip install --no-deps .` would put it in site-packages and break those paths.
COPY pyproject.toml README.md ./
COPY src/ src/
COPY ingestion/ ingestion/
RUN pip install --no-cache-dir --no-deps -e .

# 4. Runtime assets, in the repository layout (dags/ next to dbt_project/ and expectations/).
#    dbt writes target/ and logs/ into its project, GX may write into expectations/: owned by airflow.
COPY dags/ dags/
COPY --chown=50000:0 dbt_project/ dbt_project/
COPY --chown=50000:0 expectations/ expectations/
COPY deploy/ deploy/

# Data and Airflow state directories. Named volumes mounted here start as a copy of these
# (empty, owned by airflow), so the non-root user can write to them.
# /opt/basismonitor/var: failure summaries (var/failures) and validation docs (var/validation).
RUN mkdir -p /data/warehouse /data/exports /data/inbox \
        /opt/airflow/logs /opt/airflow/auth /opt/basismonitor/var \
    && chown -R 50000:0 /data /opt/airflow /opt/basismonitor/var \
    && chmod -R g+rwX /data /opt/airflow /opt/basismonitor/var

USER airflow

# The dbt graph the DAG shows (Cosmos LoadMode.DBT_MANIFEST): parsed once into the image, so the
# first DAG parse in a container only reads dbt_project/target/cosmos/manifest.json
# (basismonitor.orchestration.airflow_dbt.ensure_manifest parses again only when dbt_project/ changed).
RUN python -c "from basismonitor.orchestration.airflow_dbt import ensure_manifest; ensure_manifest()"

EXPOSE 8080

ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["airflow", "version"]
