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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rightsend import summary
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
    from rightsend.buckets import POOL_DESCRIPTION, warehouse_slots

    airflow = str(Path(sys.executable).with_name("airflow"))
    slots = str(warehouse_slots())  # RIGHTSEND_WAREHOUSE_SLOTS; dag.test runs one task at a time anyway
    pool = ["pools", "set", "warehouse", slots, POOL_DESCRIPTION]
    for args in (["db", "migrate"], pool):
        done = subprocess.run([airflow, *args], env=os.environ.copy(), capture_output=True, text=True)
        if done.returncode:
            raise ChainFailed(f"airflow {' '.join(args)} failed:\n{done.stderr[-2000:]}")


@contextmanager
def _output_to(log_path: Path | None) -> Iterator[None]:
    """Send everything this process prints (Airflow, dbt, task logs) to a file.

    At the file-descriptor level, since dbt and Airflow bind their handlers to the
    streams they found at start-up. ``None`` leaves the output on the terminal.
    """
    if log_path is None:
        yield
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(log_path, "a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_chain(
    settings: Settings,
    run_date: str,
    dag_ids: tuple[str, ...] = CHAIN,
    log_path: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
) -> dict[str, str]:
    """Run each DAG of the chain for ``run_date``; return each DAG's final state.

    With ``log_path``, Airflow's and dbt's logs go there and ``progress`` gets one line
    per DAG instead.
    """
    import time

    import pendulum

    from rightsend.transform import ensure_manifest

    with _output_to(log_path):
        prepare_airflow(settings)
        try:
            ensure_manifest(settings, run_date)  # before parsing DAGs: Cosmos renders from it
        except RuntimeError as error:  # a model that does not parse: say so, not a traceback
            raise ChainFailed(str(error)) from error
        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise ChainFailed(f"DAG import errors: {bag.import_errors}")
    logical_date = pendulum.parse(run_date, tz="UTC")
    states: dict[str, str] = {}
    for dag_id in dag_ids:
        started = time.perf_counter()
        with _output_to(log_path):
            dag_run = bag.get_dag(dag_id).test(logical_date=logical_date, run_conf={"run_date": run_date})
        states[dag_id] = str(dag_run.state)
        tis = dag_run.get_task_instances()
        ok = sum(1 for ti in tis if ti.state == "success")
        seconds = time.perf_counter() - started
        progress(f"  {dag_id:<18} {states[dag_id]:<8} {ok}/{len(tis)} tasks  {seconds:6.1f}s")
        summary.record_dag(
            settings,
            run_date,
            dag_id,
            {"state": states[dag_id], "seconds": round(seconds, 1), "tasks": len(tis), "tasks_succeeded": ok},
        )
        if states[dag_id] != "success":
            failed = sorted(ti.task_id for ti in tis if ti.state not in ("success", "upstream_failed"))
            where = f"; logs in {log_path}" if log_path else ""
            raise ChainFailed(f"{dag_id} ended {dag_run.state}; failed tasks: {failed}{where}")
    return states
