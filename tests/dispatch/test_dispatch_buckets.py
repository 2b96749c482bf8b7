"""Dispatch in buckets of people: every message once over all buckets, also when bucket tasks
publish to the same file broker at the same time (parallel tasks on the Postgres target)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from rightsend import dispatch
from rightsend.buckets import bucket_of
from rightsend.config import PROJECT_ROOT
from rightsend.dispatch.transports import FileTransport

from .conftest import D, logged_ids, queued_ids


def broker_lines(directory: Path) -> list[dict]:
    path = directory / f"dt={D}" / "messages.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]  # every line whole JSON


def _customers(settings) -> dict[str, str]:
    from rightsend.warehouse import connect

    with connect(settings, read_only=True) as con:
        return dict(
            con.execute(
                "select message_id, customer_id from queue.outbox where queue_date = ?", [D]
            ).fetchall()
        )


def test_all_buckets_publish_each_message_once_and_a_rerun_nothing(decided, monkeypatch):
    monkeypatch.delenv("RIGHTSEND_BROKER_URL", raising=False)
    ids = queued_ids(decided)
    owner = _customers(decided)
    results = [dispatch.run(decided, D, bucket=b, buckets=3, batch_size=4) for b in range(3)]
    published = [m["message_id"] for m in broker_lines(decided.output_dir / "broker")]
    assert sorted(published) == sorted(ids)  # exactly once each, holdout never
    assert sorted(logged_ids(decided)) == sorted(ids)
    assert sum(r["published"] for r in results) == len(ids)
    for b, result in enumerate(results):  # each bucket published only its own people's messages
        assert result["messages"] == sum(bucket_of(owner[m], 3) == b for m in ids) > 0
    again = [dispatch.run(decided, D, bucket=b, buckets=3) for b in range(3)]
    assert sum(r["published"] for r in again) == 0
    assert sum(r["already_published"] for r in again) == len(ids)
    assert dispatch.run(decided, D)["published"] == 0  # nor does a run over everybody
    assert len(broker_lines(decided.output_dir / "broker")) == len(ids)


def _start_together(code: str, args: list[list[str]], go: Path) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    env.pop("RIGHTSEND_BROKER_URL", None)
    wait = f"import time, pathlib\nwhile not pathlib.Path({str(go)!r}).exists(): time.sleep(0.005)\n"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", wait + code, *a],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for a in args
    ]
    time.sleep(1.5)  # both imported and waiting
    go.touch()
    return procs


def _finish(procs: list[subprocess.Popen]) -> list[str]:
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err[-3000:]
        outs.append(out)
    return outs


def test_two_processes_dispatching_different_buckets_at_once(decided, tmp_path):
    code = (
        "import json, sys\nfrom pathlib import Path\nfrom rightsend import dispatch\n"
        "from rightsend.config import Settings\n"
        "s = Settings(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))\n"
        f"print(json.dumps(dispatch.run(s, {D!r}, bucket=int(sys.argv[4]), buckets=2, batch_size=2)))\n"
    )
    paths = [str(decided.landing_dir), str(decided.output_dir), str(decided.warehouse_path)]
    procs = _start_together(code, [[*paths, "0"], [*paths, "1"]], tmp_path / "go")
    results = [json.loads(out) for out in _finish(procs)]
    ids = queued_ids(decided)
    published = [m["message_id"] for m in broker_lines(decided.output_dir / "broker")]
    assert sorted(published) == sorted(ids)
    assert sum(r["published"] for r in results) == len(ids)
    assert sorted(logged_ids(decided)) == sorted(ids)


def test_concurrent_writers_to_one_file_never_duplicate_or_tear_lines(tmp_path):
    """Two processes publish overlapping sets of messages in small batches at the same time:
    under the file lock each sees what the other appended, so every id is written once."""
    broker = tmp_path / "broker"
    code = (
        "import json, sys\nfrom pathlib import Path\n"
        "from rightsend.dispatch.transports import FileTransport\n"
        "first, last = int(sys.argv[2]), int(sys.argv[3])\n"
        f"msgs = [{{'message_id': f'm{{i:05d}}', 'queue_date': {D!r}, 'body': 'x' * 300}}"
        " for i in range(first, last)]\n"
        "t = FileTransport(Path(sys.argv[1]))\n"
        "new = sum(o.new for k in range(0, len(msgs), 3) for o in t.publish(msgs[k:k + 3]))\n"
        "print(new)\n"
    )
    procs = _start_together(code, [[str(broker), "0", "1500"], [str(broker), "500", "2000"]], tmp_path / "go")
    new = [int(out) for out in _finish(procs)]
    published = [m["message_id"] for m in broker_lines(broker)]
    assert len(published) == len(set(published)) == 2000
    assert sum(new) == 2000  # the overlap counted as already there by whoever came second
    assert FileTransport(broker).publish([{"message_id": "m00042", "queue_date": D}])[0].new is False
