"""What every rightsend DAG shares: default args, start date, the Assets that chain them.

Imported by the thin DAG files in dags/, so it must stay light: no pandas, duckdb or
dbt here (the scheduler parses DAG files every few seconds).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset

START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")

# The chain: ingest -> RAW -> build -> MARTS -> train -> CHAMPION -> daily (score, decide,
# dispatch, exports) -> QUEUE.
RAW = Asset("rightsend://warehouse/raw")
MARTS = Asset("rightsend://warehouse/marts")
CHAMPION = Asset("rightsend://models/champion")
QUEUE = Asset("rightsend://queue/messages")

# One writer at a time on DuckDB: every task that writes the warehouse takes this
# single-slot pool (rightsend.warehouse also holds a file lock, for runs outside Airflow).
WAREHOUSE_POOL = "warehouse"

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-eng",
    "retries": int(os.environ.get("RIGHTSEND_TASK_RETRIES", "2")),
    "retry_delay": timedelta(seconds=int(os.environ.get("RIGHTSEND_RETRY_DELAY_SECONDS", "120"))),
}


def resolve_run_date(context: dict[str, Any]) -> str:
    """The logical date D of this run, however it was started.

    `rightsend run` passes it in the run's conf; a scheduled run has a logical date; an
    Asset-triggered run (which has none) takes it from the upstream event's extra.
    """
    dag_run = context["dag_run"]
    conf = dag_run.conf or {}
    if conf.get("run_date"):
        return str(conf["run_date"])
    logical_date = context.get("logical_date") or getattr(dag_run, "logical_date", None)
    if logical_date is not None:
        return logical_date.strftime("%Y-%m-%d")
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            if event.extra and event.extra.get("run_date"):
                return str(event.extra["run_date"])
    raise ValueError("no run date: pass conf {'run_date': 'YYYY-MM-DD'} when triggering by hand")


def run_date_macro(dag_run: Any, triggering_asset_events: Any = None) -> str:
    """Jinja macro form of resolve_run_date, for templated operator arguments (Cosmos vars)."""
    return resolve_run_date({"dag_run": dag_run, "triggering_asset_events": triggering_asset_events or {}})
