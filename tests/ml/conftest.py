"""Fixtures for models_ml: a synthetic marts warehouse (fast), and the real demo chain (integration)."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from models_ml import synthetic
from rightsend.config import DBT_PROJECT_DIR, Settings

RUN_DATE = "2026-11-20"


@dataclass
class SynthWarehouse:
    settings: Settings
    truth: synthetic.SynthTruth
    run_date: str = RUN_DATE


def make_settings(root: Path) -> Settings:
    s = Settings(root / "landing", root / "out", root / "warehouse" / "rightsend.duckdb")
    s.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return s


def synth_warehouse(root: Path, **kwargs: Any) -> SynthWarehouse:
    s = make_settings(root)
    con = duckdb.connect(str(s.warehouse_path))
    try:
        truth = synthetic.create_marts(con, end_date=RUN_DATE, **kwargs)
    finally:
        con.close()
    return SynthWarehouse(s, truth)


@pytest.fixture
def synth(tmp_path: Path) -> SynthWarehouse:
    """300 people x 60 days of marts-shaped sends with planted peak hours and channel preferences."""
    return synth_warehouse(tmp_path, customers=300, days=60)


@pytest.fixture(scope="session")
def demo_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Any, str]:
    """demo -> ingest -> dbt build into a tmp dir; skipped (with the reason) while a piece is missing."""
    try:
        demo = importlib.import_module("rightsend.demo")
        ingest = importlib.import_module("rightsend.ingest")
    except ImportError as exc:
        pytest.skip(f"demo/ingest not importable yet: {exc}")
    if not hasattr(demo, "generate") or not hasattr(ingest, "run"):
        pytest.skip("rightsend.demo.generate or rightsend.ingest.run not written yet")
    if not list((DBT_PROJECT_DIR / "models" / "marts").rglob("fct_sends.sql")):
        pytest.skip("dbt marts (fct_sends) not written yet")
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent))
    if dbt is None:
        pytest.skip("dbt executable not found in the venv")
    root = tmp_path_factory.mktemp("ml-demo")
    s = make_settings(root)
    s.landing_dir.mkdir(parents=True, exist_ok=True)
    truth = demo.generate(s.landing_dir, customers=800, days=90, end_date=RUN_DATE, seed=11)
    ingest.run(s, RUN_DATE)
    env = {**os.environ, **s.as_env()}
    done = subprocess.run(
        [
            dbt,
            "build",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--vars",
            f"{{run_date: {RUN_DATE}}}",
            "--target-path",
            str(root / "dbt_target"),
            "--log-path",
            str(root / "dbt_logs"),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    con = duckdb.connect(str(s.warehouse_path), read_only=True)
    try:
        n = con.execute("select count(*) from marts.fct_sends").fetchone()[0]
    except duckdb.Error as exc:
        pytest.skip(f"dbt build did not produce marts.fct_sends: {exc}\n{done.stdout[-2000:]}")
    finally:
        con.close()
    if n == 0:
        pytest.skip("marts.fct_sends is empty after the demo build")
    return s, truth, RUN_DATE
