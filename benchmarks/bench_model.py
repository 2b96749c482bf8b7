"""Model benchmark: training on ~1M historical sends, scoring 100k people x 3 channels x the window.

Prints figures (not a timed test). Each phase runs in its own process so its peak RSS
(resource.getrusage ru_maxrss: Python, numpy, LightGBM and DuckDB native memory) is its own.
Targets on 2 cores: training < 2 min, scoring < 1 min, peak memory < 4 GB.

    .venv/bin/python benchmarks/bench_model.py [--people 100000] [--sends 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RUN_DATE = "2026-11-20"
DAYS = 120


def _settings(workdir: Path):  # noqa: ANN202 - keeps heavy imports inside the phases
    from rightsend.config import Settings

    return Settings(workdir / "landing", workdir / "out", workdir / "warehouse" / "rightsend.duckdb")


def phase_data(workdir: Path, people: int, sends: int) -> dict:
    import duckdb

    from models_ml import synthetic

    s = _settings(workdir)
    s.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(s.warehouse_path))
    synthetic.create_marts(
        con, customers=people, days=DAYS, sends_per_day=sends / people / DAYS, end_date=RUN_DATE
    )
    # scoring benchmark: everybody reachable on all three channels
    con.execute(
        "update marts.dim_customers set is_email_reachable = true, is_sms_reachable = true, "
        "is_push_reachable = true"
    )
    n = con.execute("select count(*) from marts.fct_sends").fetchone()[0]
    con.close()
    return {"people": people, "historical_sends": n}


def phase_train(workdir: Path) -> dict:
    from models_ml import train

    out = train.run(_settings(workdir), RUN_DATE, force=True)
    return {
        "seconds_by_step": out["seconds_by_step"],
        "rows": out["rows"],
        "validation": out["metrics"],
        "lift": out["lift"],
        "feature_seconds": json.loads(
            (_settings(workdir).models_dir / out["version"] / "metadata.json").read_text()
        )["feature_seconds"],
    }


def phase_score(workdir: Path) -> dict:
    from models_ml import predict

    out = predict.run(_settings(workdir), RUN_DATE)
    keys = ("people_scored", "rows", "personal", "fallback", "best_channel_mix", "seconds_by_step")
    return {k: out[k] for k in keys}


PHASES = {"data": phase_data, "train": phase_train, "score": phase_score}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=100_000)
    ap.add_argument("--sends", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path)
    ap.add_argument("--phase", choices=PHASES)
    args = ap.parse_args()
    if args.phase:  # child process: run one phase, print its figures as JSON
        started = time.perf_counter()
        kwargs = {"people": args.people, "sends": args.sends} if args.phase == "data" else {}
        result = PHASES[args.phase](args.workdir, **kwargs)
        result["seconds"] = round(time.perf_counter() - started, 2)
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(json.dumps(result, default=str))
        return
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="rightsend-bench-model-"))
    from models_ml.config import load_rules

    hours = len(load_rules().allowed_hours)
    print(
        f"workdir {workdir}; {args.people} people, ~{args.sends} sends over {DAYS} days; "
        f"scoring window {hours} hours (rules.yaml)"
    )
    for phase in ("data", "train", "score"):
        cmd = [
            sys.executable,
            __file__,
            "--phase",
            phase,
            "--workdir",
            str(workdir),
            "--people",
            str(args.people),
            "--sends",
            str(args.sends),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        result = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{phase:>5}: {json.dumps(result)}")


if __name__ == "__main__":
    main()
