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


def test_rerun_loads_only_a_late_file_and_queues_the_identical_messages(workspace) -> None:
    """Re-running the same date: every known file is skipped, a file that landed late in an
    old partition is picked up, and the queue is the identical set of messages."""
    landing, out, env = workspace["landing"], workspace["out"], workspace["env"]
    before = _queue(out, DAY)
    skipped_before = len(_summary(out, DAY)["ingest"]["files"]["loaded"])
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
    again = _rightsend("run", "--date", DAY, "--landing", str(landing), "--out", str(out), env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    files = _summary(out, DAY)["ingest"]["files"]
    assert files["loaded"] == ["consent/dt=2026-11-10/late-arrival.ndjson"]
    assert files["skipped_already_loaded"] == skipped_before
    assert _queue(out, DAY) == before


def _erased_identifiers(landing: Path) -> set[str]:
    """Every email, phone and Shopify id of the people the demo asked to erase."""
    import gzip

    def lines(path: Path) -> list[str]:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            return handle.read().splitlines()

    requests = []
    for path in sorted((landing / "consent").rglob("*.*json*")):
        text = "\n".join(lines(path)).strip()
        values = json.loads(text) if text.startswith("[") else [json.loads(x) for x in text.splitlines() if x]
        requests += [r for r in values if r.get("type") == "erasure"]
    wanted = {
        str(r.get(k)).strip().lower() for r in requests for k in ("email", "phone", "customer_id") if r.get(k)
    }
    identifiers = set(wanted)
    for path in sorted((landing / "customers").rglob("*.csv*")):
        for row in csv.DictReader(lines(path)):
            row = {k.lstrip("\ufeff"): v for k, v in row.items()}
            ids = {row.get("Customer ID", ""), row.get("Email", "").strip().lower(), row.get("Phone", "")}
            if ids & wanted:
                identifiers |= {i for i in ids if i}
    return {i for i in identifiers if len(i) > 5}


def test_erased_people_are_in_no_table_and_no_output(workspace) -> None:
    import duckdb

    erased = _erased_identifiers(workspace["landing"])
    assert erased, "the demo should contain erasure requests"
    con = duckdb.connect(workspace["env"]["RIGHTSEND_WAREHOUSE"], read_only=True)
    columns = con.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')"
    ).fetchall()
    found = []
    for schema, table, column in columns:
        hits = con.execute(
            f'select count(*) from "{schema}"."{table}" where lower("{column}") in (select unnest(?))',
            [sorted(erased)],
        ).fetchone()[0]
        if hits:
            found.append(f"{schema}.{table}.{column}: {hits}")
    con.close()
    assert found == []
    for path in workspace["out"].rglob("*.csv"):
        text = path.read_text().lower()
        assert not [i for i in erased if i in text], path


def test_a_chain_that_cannot_complete_exits_non_zero_and_names_the_task(tmp_path) -> None:
    landing = tmp_path / "landing" / "consent" / "dt=2026-11-20"
    landing.mkdir(parents=True)
    (landing / "requests.ndjson").write_text(
        '{"request_id": "r1", "occurred_at": "2026-11-20T09:00:00Z", "email": "a@example.com",'
        ' "type": "opt_out", "channel": "sms"}\n'
    )
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the warehouse folder should be")
    env = {
        **os.environ,
        "RIGHTSEND_AIRFLOW_HOME": str(tmp_path / "airflow"),
        "RIGHTSEND_WAREHOUSE": str(blocker / "rightsend.duckdb"),
    }
    env.pop("AIRFLOW_HOME", None)
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    done = _rightsend(
        "run", "--date", DAY, "--landing", str(tmp_path / "landing"), "--out", str(tmp_path / "out"), env=env
    )
    assert done.returncode == 1
    assert "the chain did not complete" in done.stderr
    assert "rightsend_ingest ended failed; failed tasks: ['load_landed_files']" in done.stderr
