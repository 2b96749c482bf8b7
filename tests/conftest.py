"""Shared fixtures: throw-away settings, and one small demo warehouse built end to end."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from rightsend.config import PROJECT_ROOT, Settings

# Tests never touch the project's own data/ folder or Airflow home: set before any
# test imports airflow, which reads its configuration once.
_AIRFLOW_HOME = tempfile.mkdtemp(prefix="rightsend-test-airflow-")
os.environ.update(
    {
        "AIRFLOW_HOME": _AIRFLOW_HOME,
        "RIGHTSEND_AIRFLOW_HOME": _AIRFLOW_HOME,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_AIRFLOW_HOME}/airflow.db",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "DO_NOT_TRACK": "1",
        "RIGHTSEND_TASK_RETRIES": "0",
    }
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Empty landing zone, output folder and warehouse under tmp_path."""
    s = Settings(
        landing_dir=tmp_path / "landing",
        output_dir=tmp_path / "out",
        warehouse_path=tmp_path / "warehouse" / "rightsend.duckdb",
    )
    s.landing_dir.mkdir(parents=True)
    return s
