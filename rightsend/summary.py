"""runs/dt=D/summary.json: what a run did, for people and machines.

Each stage returns a plain dict that the orchestration records under its own key
(``ingest``, ``build``, ``train``, ``score``, ``decide``, ``dispatch``, ``exports``)
together with the seconds it took. Re-running a stage replaces its section.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

from rightsend.config import Settings

STAGES = ("ingest", "build", "train", "score", "decide", "dispatch", "exports")


def summary_path(settings: Settings, run_date: str) -> Path:
    return settings.runs_dir(run_date) / "summary.json"


def load(settings: Settings, run_date: str) -> dict[str, Any]:
    path = summary_path(settings, run_date)
    return json.loads(path.read_text()) if path.exists() else {"run_date": run_date}


def record(settings: Settings, run_date: str, stage: str, result: dict[str, Any], seconds: float) -> None:
    """Merge one stage's result into the summary (atomic replace, under a lock)."""
    path = summary_path(settings, run_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(settings, run_date)
        data[stage] = result
        data.setdefault("timings_seconds", {})[stage] = round(seconds, 3)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
        tmp.replace(path)


def run_stage(stage: str, fn: Any, run_date: str, settings: Settings | None = None) -> dict[str, Any]:
    """Run ``fn(settings, run_date)``, time it and record its result. Used by every DAG task."""
    import time

    settings = settings or Settings.from_env()
    started = time.perf_counter()
    result = fn(settings, run_date)
    record(settings, run_date, stage, result, time.perf_counter() - started)
    return result
