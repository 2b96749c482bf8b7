"""dbt around the edges: the parsed manifest Cosmos renders from, and the build's tally.

The models themselves live in dbt_project/; Airflow runs them through Cosmos (one task
per model, seed and snapshot, each `dbt build` so its tests and unit tests run with it).
Each task's run_results.json is kept under runs/dt=D/dbt/ so the run summary can say how
many models were built and tests passed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from unittest.mock import patch

from rightsend.config import DBT_PROJECT_DIR, Settings

MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"
DBT_ARGS = ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]


def target_dir(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """Where dbt writes its artefacts: DBT_TARGET_PATH when set (relative to the project, or
    absolute), else the project's target/."""
    return project_dir / os.environ.get("DBT_TARGET_PATH", "target")


def dbt(args: list[str], settings: Settings, run_date: str | None = None) -> Any:
    """Invoke dbt in-process (dbtRunner) against the configured warehouse."""
    from dbt.cli.main import dbtRunner

    extra = ["--vars", json.dumps({"run_date": run_date})] if run_date else []
    # profiles.yml reads the settings from the environment; set them for this call only, so
    # a caller's process (a test session, `make stack`) keeps its own.
    with patch.dict(os.environ, settings.as_env()):
        result = dbtRunner().invoke([*args, *DBT_ARGS, *extra])
    if not result.success:
        raise RuntimeError(f"dbt {' '.join(args)} failed: {result.exception or 'see the dbt log above'}")
    return result


def ensure_manifest(settings: Settings, run_date: str | None = None) -> Path:
    """`dbt parse` so Cosmos renders the current models (cheap with partial parsing).

    Parsed with the run's vars, so the tasks that follow reuse the partial parse
    instead of each re-parsing the whole project.
    """
    dbt(["parse", "--quiet"], settings, run_date)
    return MANIFEST


def keep_run_results(project_dir: str, context: dict[str, Any] | None = None, **_: Any) -> None:
    """Cosmos callback: copy this task's dbt run_results.json into runs/dt=D/dbt/."""
    from rightsend.dag_defaults import resolve_run_date

    source = target_dir(Path(project_dir)) / "run_results.json"
    if not source.exists() or context is None:
        return
    run_date = resolve_run_date(context)
    target = Settings.from_env().runs_dir(run_date) / "dbt" / f"{context['ti'].task_id}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(source.read_text())


def tally(settings: Settings, run_date: str) -> dict[str, Any]:
    """Count what dbt built and tested for this run, from the kept run_results files."""
    latest: dict[str, dict[str, Any]] = {}  # a node tested twice counts once, as last seen
    for path in sorted((settings.runs_dir(run_date) / "dbt").glob("*.json"), key=lambda p: p.stat().st_mtime):
        for result in json.loads(path.read_text()).get("results", []):
            latest[result["unique_id"]] = result
    counts: dict[str, dict[str, int]] = {}
    failures: list[dict[str, str]] = []
    for unique_id, result in sorted(latest.items()):
        kind = unique_id.split(".")[0]
        status = str(result["status"])
        counts.setdefault(kind, {}).setdefault(status, 0)
        counts[kind][status] += 1
        if status in {"error", "fail"}:
            failures.append({"node": unique_id, "message": str(result.get("message"))})
    ok = {"model": "success", "seed": "success", "snapshot": "success", "test": "pass", "unit_test": "pass"}
    return {
        "models_built": counts.get("model", {}).get("success", 0),
        "seeds_loaded": counts.get("seed", {}).get("success", 0),
        "snapshots_taken": counts.get("snapshot", {}).get("success", 0),
        "tests_passed": counts.get("test", {}).get("pass", 0),
        "unit_tests_passed": counts.get("unit_test", {}).get("pass", 0),
        "not_ok": {
            kind: {s: n for s, n in statuses.items() if s != ok.get(kind)}
            for kind, statuses in counts.items()
            if any(s != ok.get(kind) for s in statuses)
        },
        "failures": failures,
    }


def build(settings: Settings, run_date: str) -> dict[str, Any]:
    """The whole project in one `dbt build`, outside Airflow (tests, benchmarks)."""
    import shutil

    runs = settings.runs_dir(run_date) / "dbt"
    shutil.rmtree(runs, ignore_errors=True)
    dbt(["build"], settings, run_date)
    runs.mkdir(parents=True, exist_ok=True)
    (runs / "build.json").write_text((target_dir() / "run_results.json").read_text())
    return tally(settings, run_date)
