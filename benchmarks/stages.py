"""What each benchmark child process runs: one stage of the daily chain, or one peer.

Each function takes plain strings (it is called through ``benchmarks.measure`` in a fresh
interpreter), calls the project's own stage function the way the Airflow tasks do
(``rightsend.summary.run_stage``: times it and records it in runs/dt=D/summary.json) and
returns a compact dict: the stage's counts, and ``rows``/``unit`` for the throughput column.
Stage modules are imported inside the functions, so a stage still being written shows up as
"not available" instead of breaking the harness.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rightsend.config import Settings


def settings_for(workdir: str | Path) -> Settings:
    w = Path(workdir)
    return Settings(w / "landing", w / "run" / "out", w / "run" / "warehouse" / "rightsend.duckdb")


# ---------------------------------------------------------------------------- data
def generate(
    landing: str,
    customers: int,
    days: int,
    end_date: str,
    seed: int,
    activity: float = 1.0,
    gzip: bool = False,
) -> dict[str, Any]:
    from rightsend.demo import generate as demo_generate

    truth = demo_generate(
        Path(landing), customers=customers, days=days, end_date=end_date, seed=seed, activity=activity,
        gzip_all=gzip,
    )  # fmt: skip
    stats = dict(getattr(truth, "stats", {}) or {})
    by_source = stats.get("rows", {})
    return {
        "rows": sum(by_source.values()),
        "unit": "landed rows",
        "landed_by_source": by_source,
        "files_by_source": stats.get("files", {}),
    }


def raw_counts(workdir: str) -> dict[str, Any]:
    """Rows per raw table (the build's input)."""
    from rightsend import warehouse

    with warehouse.connect(settings_for(workdir), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw' order by 1"
            ).fetchall()
        ]
        counts = {t: con.execute(f'select count(*) from raw."{t}"').fetchone()[0] for t in tables}
        size = settings_for(workdir).warehouse_path.stat().st_size
    return {"tables": counts, "rows": sum(counts.values()), "warehouse_bytes": size}


# ---------------------------------------------------------------------------- the chain
def _run(stage: str, fn: Any, workdir: str, run_date: str) -> dict[str, Any]:
    from rightsend.summary import run_stage

    return run_stage(stage, fn, run_date, settings_for(workdir))


def ingest(workdir: str, run_date: str) -> dict[str, Any]:
    from rightsend import ingest as stage

    out = _run("ingest", stage.run, workdir, run_date)
    rows = {
        k: {"loaded": v.get("loaded", 0), "quarantined": v.get("quarantined", 0), "files": v.get("files", 0)}
        for k, v in out.get("rows", {}).items()
    }
    files = out.get("files", {})
    return {
        "rows": sum(v["loaded"] for v in rows.values()),
        "unit": "rows loaded",
        "by_source": rows,
        "files_loaded": len(files.get("loaded", [])),
        "files_skipped": files.get("skipped_already_loaded", 0),
        "files_failed": len(files.get("failed", [])),
    }


def build(workdir: str, run_date: str) -> dict[str, Any]:
    from rightsend import transform as stage

    out = _run("build", stage.build, workdir, run_date)
    s = settings_for(workdir)
    nodes: list[tuple[str, float]] = []
    results = s.runs_dir(run_date) / "dbt" / "build.json"
    if results.exists():
        for r in json.loads(results.read_text()).get("results", []):
            nodes.append((r["unique_id"].split(".", 2)[-1], float(r.get("execution_time") or 0)))
    nodes.sort(key=lambda kv: -kv[1])
    raw = raw_counts(workdir)
    return {
        "rows": raw["rows"],
        "unit": "raw rows in",
        "models_built": out.get("models_built"),
        "tests_passed": out.get("tests_passed"),
        "not_ok": out.get("not_ok"),
        "node_seconds_total": round(sum(v for _, v in nodes), 2),
        "slowest_nodes": [[k, round(v, 2)] for k, v in nodes[:8]],
        "warehouse_bytes": raw["warehouse_bytes"],
    }


def train(workdir: str, run_date: str) -> dict[str, Any]:
    from models_ml import train as stage

    out = _run("train", lambda s, d: stage.run(s, d, force=False), workdir, run_date)
    rows = out.get("rows")
    n = sum(rows.values()) if isinstance(rows, dict) else rows
    return {
        "rows": n if out.get("trained") else 0,
        "unit": "training sends",
        "trained": out.get("trained"),
        "reason": out.get("reason"),
        "version": out.get("version"),
        "validation": out.get("metrics"),
        "seconds_by_step": out.get("seconds_by_step"),
    }


def score(workdir: str, run_date: str) -> dict[str, Any]:
    from models_ml import predict as stage

    out = _run("score", stage.run, workdir, run_date)
    return {
        "rows": out.get("rows"),
        "unit": "scores (person x channel)",
        "people_scored": out.get("people_scored"),
        "personal": out.get("personal"),
        "fallback": out.get("fallback"),
        "model_version": out.get("model_version"),
        "trained_first": bool(out.get("trained_first")),
    }


def decide(workdir: str, run_date: str) -> dict[str, Any]:
    from rightsend import decide as stage

    out = _run("decide", stage.run, workdir, run_date)
    suppressed = sum(int(v) for v in (out.get("suppressed") or {}).values())
    return {
        "rows": int(out.get("queued", 0)) + suppressed,
        "unit": "decisions (queued + suppressed)",
        "queued": out.get("queued"),
        "held_out": out.get("held_out"),
        "suppressed": suppressed,
    }


def dispatch(workdir: str, run_date: str) -> dict[str, Any]:
    from rightsend import dispatch as stage

    out = _run("dispatch", stage.run, workdir, run_date)
    return {
        "rows": out.get("published", 0),
        "unit": "messages published",
        "transport": out.get("transport"),
        "already_published": out.get("already_published"),
    }


def exports(workdir: str, run_date: str) -> dict[str, Any]:
    from rightsend import exports as stage

    out = _run("exports", stage.run, workdir, run_date)
    files = out.get("files") or {}
    return {
        "rows": sum(int(v) for v in files.values() if isinstance(v, int)),
        "unit": "rows exported",
        "files": len(files),
    }


CHAIN = ("ingest", "build", "train", "score", "decide", "dispatch", "exports")


# ---------------------------------------------------------------------------- peers
def rfm_pandas(workdir: str, run_date: str, out: str) -> dict[str, Any]:
    from benchmarks import peers

    r = peers.rfm_pandas(settings_for(workdir), run_date, out)
    return {**r, "rows": r["raw_order_rows"], "unit": "raw order rows"}


def rfm_duckdb(workdir: str, run_date: str, out: str) -> dict[str, Any]:
    from benchmarks import peers

    return peers.rfm_duckdb(settings_for(workdir), run_date, out)


def rfm_dbt(workdir: str, run_date: str, command: str, target_path: str) -> dict[str, Any]:
    """dbt on its own target dir, so the benchmark never clobbers another dbt run's artefacts.

    ``command`` "parse" warms the partial-parse cache there (untimed); "run" / "build" are timed.
    """
    import os

    from benchmarks import peers

    os.environ["DBT_TARGET_PATH"] = target_path
    if command == "parse":
        from rightsend.transform import dbt

        dbt(["parse"], settings_for(workdir), run_date)
        return {"parsed": True}
    return peers.rfm_dbt(settings_for(workdir), run_date, command)


def rfm_compare(workdir: str, run_date: str, frames: dict[str, str]) -> dict[str, Any]:
    from benchmarks import peers

    return peers.compare_rfm(settings_for(workdir), run_date, frames)


def scoring_floor(workdir: str, run_date: str) -> dict[str, Any]:
    from benchmarks import peers

    return peers.scoring_floor(settings_for(workdir), run_date)
