"""Run the daily chain through Airflow on the embedded defaults.

`rightsend run` needs no services: Airflow's metadata lives in SQLite under .airflow/ in
the project, and each DAG of the chain is run in order with ``dag.test`` - the same task
code, task states and XComs a scheduler would produce, for one logical date. In a
deployment the scheduler runs the same DAGs, chained by their Assets.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rightsend.config import PROJECT_ROOT, Settings

CHAIN = ("rightsend_ingest", "rightsend_build", "rightsend_train", "rightsend_daily")
AIRFLOW_HOME = Path(os.environ.get("RIGHTSEND_AIRFLOW_HOME", PROJECT_ROOT / ".airflow"))


class ChainFailed(RuntimeError):
    """A DAG of the chain did not succeed."""


def airflow_env(settings: Settings) -> dict[str, str]:
    """Environment for an embedded Airflow: SQLite metadata, project DAGs, no telemetry."""
    return {
        **settings.as_env(),
        "AIRFLOW_HOME": str(AIRFLOW_HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{AIRFLOW_HOME / 'airflow.db'}",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("RIGHTSEND_LOG_LEVEL", "WARNING"),
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "SCARF_ANALYTICS": "false",
        # A failing task fails the run at once here; deployments keep their retries.
        "RIGHTSEND_TASK_RETRIES": os.environ.get("RIGHTSEND_TASK_RETRIES", "0"),
    }


def prepare_airflow(settings: Settings) -> None:
    """Point this process at the embedded Airflow home; create its DB and pool once."""
    os.environ.update(airflow_env(settings))
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    if (AIRFLOW_HOME / "airflow.db").exists():
        return
    airflow = str(Path(sys.executable).with_name("airflow"))
    for args in (["db", "migrate"], ["pools", "set", "warehouse", "1", "the one DuckDB writer"]):
        done = subprocess.run([airflow, *args], env=os.environ.copy(), capture_output=True, text=True)
        if done.returncode:
            raise ChainFailed(f"airflow {' '.join(args)} failed:\n{done.stderr[-2000:]}")


def run_chain(settings: Settings, run_date: str, dag_ids: tuple[str, ...] = CHAIN) -> dict[str, str]:
    """Run each DAG of the chain for ``run_date``; return each DAG's final state."""
    import pendulum

    from rightsend.transform import ensure_manifest

    prepare_airflow(settings)
    ensure_manifest(settings)  # before parsing DAGs: Cosmos renders from it
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise ChainFailed(f"DAG import errors: {bag.import_errors}")
    logical_date = pendulum.parse(run_date, tz="UTC")
    states: dict[str, str] = {}
    for dag_id in dag_ids:
        dag_run = bag.get_dag(dag_id).test(logical_date=logical_date, run_conf={"run_date": run_date})
        states[dag_id] = str(dag_run.state)
        if states[dag_id] != "success":
            failed = [ti.task_id for ti in dag_run.get_task_instances() if ti.state != "success"]
            raise ChainFailed(f"{dag_id} ended {dag_run.state}; tasks not successful: {failed}")
    return states
