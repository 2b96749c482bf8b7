# rightsend on the official Airflow image: Airflow, Celery provider and Python 3.11 come from
# the base; requirements.txt adds dbt, Cosmos, LightGBM ... at the pinned versions. The version
# in FROM must equal the apache-airflow pin in requirements.txt (tests/deploy/test_compose.py).
FROM apache/airflow:3.3.0-python3.11

ENV RIGHTSEND_HOME=/opt/rightsend \
    RIGHTSEND_LANDING_DIR=/opt/rightsend/data/landing \
    RIGHTSEND_OUTPUT_DIR=/opt/rightsend/data/out \
    RIGHTSEND_WAREHOUSE=/opt/rightsend/data/warehouse/rightsend.duckdb \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/rightsend/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/rightsend/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    DBT_LOG_PATH=/opt/airflow/logs/dbt \
    DO_NOT_TRACK=1 \
    SCARF_ANALYTICS=false

# Folders that become named volumes (warehouse, dbt target, auth) are created here, owned by
# airflow with group 0 writable, so any AIRFLOW_UID running with group 0 can write them.
USER root
RUN mkdir -p /opt/rightsend/data/landing /opt/rightsend/data/out /opt/rightsend/data/warehouse \
        /opt/rightsend/dbt_project/target /opt/airflow/auth /opt/airflow/logs/dbt \
    && chown -R airflow:0 /opt/rightsend /opt/airflow/auth /opt/airflow/logs \
    && chmod -R g+rwX /opt/rightsend /opt/airflow/auth /opt/airflow/logs
USER airflow

# Dependencies first (cached while only the code changes). Pinning apache-airflow to the
# base image's version keeps pip from replacing the Airflow the image was built with.
COPY --chown=airflow:0 requirements.txt /opt/rightsend/requirements.txt
RUN pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /opt/rightsend/requirements.txt

COPY --chown=airflow:0 pyproject.toml README.md /opt/rightsend/
COPY --chown=airflow:0 rightsend /opt/rightsend/rightsend
COPY --chown=airflow:0 models_ml /opt/rightsend/models_ml
COPY --chown=airflow:0 dags /opt/rightsend/dags
COPY --chown=airflow:0 dbt_project /opt/rightsend/dbt_project
COPY --chown=airflow:0 include /opt/rightsend/include
COPY --chown=airflow:0 plugins /opt/rightsend/plugins
RUN pip install --no-cache-dir --no-deps -e /opt/rightsend

# Cosmos renders rightsend_build from dbt's manifest: parse once at build time (airflow-init
# parses again when the project folder is mounted over the image's copy).
WORKDIR /opt/rightsend
RUN cd dbt_project \
    && if [ -f packages.yml ]; then dbt deps --profiles-dir .; fi \
    && dbt parse --profiles-dir . --target duckdb --quiet
WORKDIR /opt/airflow
