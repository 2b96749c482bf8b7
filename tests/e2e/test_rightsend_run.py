"""`rightsend run` end to end through Airflow, on a small demo landing zone.

The same command a user runs: a subprocess with its own embedded Airflow home. Run twice
for the same date to prove a re-run loads nothing twice and queues nothing twice; then a
late file lands in an old partition and the next day's run picks it up.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rightsend.config import PROJECT_ROOT

pytestmark = pytest.mark.integration

DAY = "2026-11-20"
CONTRACT_COLUMNS = [
    "message_id", "customer_id", "source_customer_id", "campaign_id", "use_case", "channel",
    "destination", "send_at_utc", "timezone", "send_at_local", "priority", "variant",
    "is_holdout", "model_version", "p_engage", "reason",
]  # fmt: skip


def _rightsend(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rightsend.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("e2e")
    env = {
        **os.environ,
        "RIGHTSEND_AIRFLOW_HOME": str(root / "airflow"),
        "RIGHTSEND_WAREHOUSE": str(root / "warehouse" / "rightsend.duckdb"),
        "RIGHTSEND_BROKER_URL": "",
    }
    env.pop("AIRFLOW_HOME", None)
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    landing, out = root / "landing", root / "out"
    demo = _rightsend(
        "demo", "--customers", "250", "--days", "45", "--end-date", DAY, "--seed", "11", "--landing", str(landing),
        env=env,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr
    first = _rightsend("run", "--date", DAY, "--landing", str(landing), "--out", str(out), env=env)
    return {"root": root, "env": env, "landing": landing, "out": out, "first": first}


def _summary(out: Path, day: str) -> dict:
    return json.loads((out / "runs" / f"dt={day}" / "summary.json").read_text())


def _queue(out: Path, day: str) -> list[dict[str, str]]:
    with open(out / "queue" / f"dt={day}" / "messages.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_first_run_completes_and_says_what_it_did(workspace) -> None:
    first = workspace["first"]
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "rows loaded" in first.stdout and "messages queued" in first.stdout
    summary = _summary(workspace["out"], DAY)
    for stage in ("ingest", "build", "train", "score", "decide", "dispatch", "exports"):
        assert stage in summary, stage
        assert summary["timings_seconds"][stage] >= 0
    assert len(summary["ingest"]["files"]["loaded"]) > 50
    assert summary["build"]["models_built"] >= 15
    assert summary["build"]["not_ok"] == {}
    assert summary["decide"]["queued"] > 0


def test_queue_file_has_exactly_the_contract_columns(workspace) -> None:
    out = workspace["out"]
    with open(out / "queue" / f"dt={DAY}" / "messages.csv", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == CONTRACT_COLUMNS
    rows = _queue(out, DAY)
    assert len({r["message_id"] for r in rows}) == len(rows)
    assert {r["is_holdout"] for r in rows} <= {"true", "false"}
    assert all(r["send_at_utc"].endswith("Z") for r in rows)
    assert (out / "queue" / f"dt={DAY}" / "messages.parquet").stat().st_size > 0
    assert (out / "exports" / f"dt={DAY}" / "customers.csv").exists()
    assert (out / "exports" / f"dt={DAY}" / "report.html").exists()


def test_rerun_loads_nothing_twice_and_queues_the_identical_messages(workspace) -> None:
    out, env = workspace["out"], workspace["env"]
    before = _queue(out, DAY)
    again = _rightsend("run", "--date", DAY, "--landing", str(workspace["landing"]), "--out", str(out), env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    summary = _summary(out, DAY)
    assert summary["ingest"]["files"]["loaded"] == []
    assert summary["ingest"]["files"]["skipped_already_loaded"] > 50
    assert _queue(out, DAY) == before


def test_a_late_file_in_an_old_partition_is_picked_up_next_day(workspace) -> None:
    landing, out, env = workspace["landing"], workspace["out"], workspace["env"]
    late = landing / "consent" / "dt=2026-11-10" / "late-arrival.ndjson"
    late.parent.mkdir(parents=True, exist_ok=True)
    late.write_text(
        json.dumps(
            {
                "request_id": "late-1",
                "occurred_at": "2026-11-10T09:00:00Z",
                "email": "late.person@example.com",
                "type": "opt_out",
                "channel": "sms",
            }
        )
        + "\n"
    )
    nxt = _rightsend("run", "--date", "2026-11-21", "--landing", str(landing), "--out", str(out), env=env)
    assert nxt.returncode == 0, nxt.stderr[-3000:]
    loaded = _summary(out, "2026-11-21")["ingest"]["files"]["loaded"]
    assert "consent/dt=2026-11-10/late-arrival.ndjson" in loaded
