"""Smoke test of the benchmark harness (`make bench`) at a tiny scale - no timing assertions.

The harness must produce its table with every stage of the chain, and the peers' RFM (pandas,
one DuckDB query) must equal marts.mart_customer_rfm value for value: that equality is what
makes the speed comparison in benchmarks/README.md a comparison of like with like.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from benchmarks import peers, run
from benchmarks.measure import Measurement, measure

STAGES = ("ingest", "build", "train", "score", "decide", "dispatch", "exports")


def test_ntile5_is_duckdbs_ntile() -> None:
    con = duckdb.connect()
    for n in range(0, 23):
        want = [
            r[0]
            for r in con.execute(
                f"select ntile(5) over (order by i) from range({n}) t(i) order by i"
            ).fetchall()
        ]
        assert peers._ntile5(n).tolist() == want, n


@pytest.mark.parametrize("run_date", ["2026-11-20", "2028-02-29", "2026-03-31", "2027-01-01"])
def test_rfm_window_start_is_duckdbs_month_arithmetic(run_date: str) -> None:
    want = (
        duckdb.connect().execute(f"select cast(date '{run_date}' - interval 12 month as date)").fetchone()[0]
    )
    assert peers._window_start(run_date) == want


def test_disk_check_covers_the_1m_build_spill_once() -> None:
    """The 1M x 365 run (0.2, gzipped) measured ~7 GB landed, ~20 GB of warehouse and 43 GB of
    DuckDB spill in its first build; the third session's build died on a full disk when the
    check counted only the first two."""
    one = run.disk_needed(1_000_000, {365: False}, 0.2, True)
    assert 70e9 < one < 80e9
    cached = run.disk_needed(1_000_000, {365: True}, 0.2, True)
    assert 6e9 < one - cached < 8e9  # the landing zone only
    both = run.disk_needed(1_000_000, {365: False, 182: False}, 0.2, True)
    half_alone = run.disk_needed(1_000_000, {182: False}, 0.2, True)
    # the half history keeps its landing zone and warehouse, but its build spills after the
    # full one's spill is gone
    assert both - one < half_alone
    assert both - one == pytest.approx(half_alone - run.disk_per_customer_day(0.2, True)[2] * 183e6)


def test_pandas_rfm_follows_the_contract_on_hand_made_rows() -> None:
    """Latest export wins, email before phone, guests, cancelled/voided and out-of-window orders."""
    ts = pd.Timestamp
    customers = pd.DataFrame(
        {
            "customer_id": ["1", "2", "2"],
            "email": ["a@x.io", "old@x.io", " B@X.IO "],
            "phone": ["+111", None, "+222"],
            "updated_at": [pd.NaT] * 3,
            "_dt": [date(2026, 11, 1), date(2026, 11, 1), date(2026, 11, 2)],
            "_file": ["c.csv"] * 3,
            "_line": [1, 2, 1],
        }
    )
    order = dict(
        cancelled_at=pd.NaT,
        financial_status="paid",
        refunded_amount=0.0,
        _dt=date(2026, 11, 3),
        _file="o.csv",
    )
    rows = [
        dict(
            order_id="10",
            email="a@x.io",
            phone="+222",
            created_at=ts("2026-11-10 10:00"),
            total=100.0,
            _line=1,
        ),
        # re-exported after a partial refund: the later export wins
        dict(
            order_id="11", email="b@x.io", phone=None, created_at=ts("2026-11-19 23:00"), total=50.0, _line=2
        ),
        {
            **dict(
                order_id="11",
                email="b@x.io",
                phone=None,
                created_at=ts("2026-11-19 23:00"),
                total=50.0,
                _line=1,
            ),
            "refunded_amount": 20.0,
            "_dt": date(2026, 11, 20),
        },
        dict(
            order_id="12", email="new@x.io", phone="+222", created_at=ts("2026-11-01"), total=10.0, _line=3
        ),  # phone
        dict(order_id="13", email="guest@x.io", phone=None, created_at=ts("2026-11-05"), total=7.5, _line=4),
        {
            **dict(
                order_id="14", email="a@x.io", phone=None, created_at=ts("2026-11-06"), total=99.0, _line=5
            ),
            "financial_status": "voided",
        },
        dict(
            order_id="15", email="a@x.io", phone=None, created_at=ts("2025-11-20"), total=99.0, _line=6
        ),  # window
        dict(
            order_id="16", email="a@x.io", phone=None, created_at=ts("2026-11-21"), total=99.0, _line=7
        ),  # after D
    ]
    orders = pd.DataFrame([{**order, **r} for r in rows])
    out = peers.rfm_pandas_frame(orders, customers, "2026-11-20").set_index("customer_id")
    import hashlib

    pid = {
        k: "rs_" + hashlib.md5(k.encode()).hexdigest()[:16]
        for k in ("customer_id:1", "customer_id:2", "email:guest@x.io")
    }
    assert set(out.index) == set(pid.values())
    one, two, guest = (
        out.loc[pid["customer_id:1"]],
        out.loc[pid["customer_id:2"]],
        out.loc[pid["email:guest@x.io"]],
    )
    assert (one.frequency, one.monetary, one.recency_days) == (1, 100.0, 10)
    assert (two.frequency, two.monetary, two.recency_days) == (2, 40.0, 1)  # 30 after refund + 10 by phone
    assert (guest.frequency, guest.monetary, guest.recency_days) == (1, 7.5, 15)


@pytest.mark.integration
def test_tiny_benchmark_produces_every_stage_and_peers_equal_the_mart(tmp_path: Path) -> None:
    work, results = tmp_path / "work", tmp_path / "results"
    # 200 people x 10 days: the smallest world with enough labelled sends to train a model
    code = run.main(
        [
            "--preset",
            "tiny",
            "--customers",
            "200",
            "--days",
            "10",
            "--no-half",
            "--work-dir",
            str(work),
            "--results-dir",
            str(results),
        ]
    )
    assert code == 0
    text = (results / "latest.md").read_text()
    for section in ("## Full first run", "## Incremental next day", "## RFM per customer", "## Targets"):
        assert section in text
    with open(next(results.glob("*.csv")), newline="") as handle:
        rows = list(csv.DictReader(handle))
    for phase in ("full", "incremental"):
        got = {r["name"]: r for r in rows if r["phase"] == phase}
        assert set(STAGES) <= set(got), phase
        for stage in STAGES:
            assert got[stage]["status"] == "ok", (phase, stage, got[stage]["error"])
            assert float(got[stage]["peak_rss_mb"]) > 0
    details = json.loads(next(work.glob("*/bench.json")).read_text())["measurements"]
    compare = details["10|peer|rfm_compare"]
    assert compare["status"] == "ok", compare["error"]
    assert compare["result"]["mart_customers"] > 0
    for peer in ("rfm_pandas", "rfm_duckdb"):
        assert compare["result"][peer]["equal"], compare["result"][peer]
    floor = details["10|peer|scoring_floor"]
    assert floor["status"] == "ok" and floor["result"]["candidate_rows"] > 0

    # --resume after a failed build: ingest's figures are reused, the build and everything after
    # it run again (the build from empty dbt schemas), and so does the whole next day
    saved = next(work.glob("*/logs/full-build.measurement.json"))
    saved.write_text(json.dumps({**json.loads(saved.read_text()), "status": "failed"}))
    ingest = {r["name"]: r for r in rows if r["phase"] == "full"}["ingest"]
    args = ["--preset", "tiny", "--customers", "200", "--days", "10", "--no-half", "--skip-peers"]
    assert run.main([*args, "--resume", "--work-dir", str(work), "--results-dir", str(results)]) == 0
    with open(max(results.glob("*.csv")), newline="") as handle:
        again = list(csv.DictReader(handle))
    full = {r["name"]: r for r in again if r["phase"] == "full"}
    assert full["ingest"]["status"] == "ok (earlier run)"
    assert full["ingest"]["seconds"] == ingest["seconds"]
    for stage in STAGES[1:]:
        assert full[stage]["status"] == "ok", (stage, full[stage]["error"])
    assert {r["status"] for r in again if r["phase"] == "incremental"} == {"ok"}


def _gone(pid: int, within: float = 10.0) -> bool:
    """The process has exited (a zombie awaiting its new parent's reaping counts as exited)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _stage_with_a_worker(pidfile: Path) -> list[list[str]]:
    # the stage starts a worker of its own, as ingest's process pool and dbt do
    return [["sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"]]


def test_a_stage_past_its_timeout_is_killed_with_its_workers(tmp_path: Path) -> None:
    pidfile = tmp_path / "worker.pid"
    m = measure("subprocess:call", _stage_with_a_worker(pidfile), log=tmp_path / "s.log", timeout=2)
    assert m.status == "killed" and "timeout" in (m.error or "")
    assert _gone(int(pidfile.read_text()))


def test_stopping_the_benchmark_mid_stage_kills_the_stage_and_its_workers(tmp_path: Path) -> None:
    pidfile = tmp_path / "worker.pid"

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    def signal_once_the_worker_runs() -> None:
        while not pidfile.exists() or not pidfile.read_text().strip():
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGUSR1)

    before = signal.signal(signal.SIGUSR1, stop)
    threading.Thread(target=signal_once_the_worker_runs, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            measure("subprocess:call", _stage_with_a_worker(pidfile), log=tmp_path / "s.log", timeout=120)
    finally:
        signal.signal(signal.SIGUSR1, before)
    assert _gone(int(pidfile.read_text()))


@pytest.mark.integration
def test_sigterm_mid_run_writes_the_figures_so_far_and_stops(tmp_path: Path) -> None:
    # started in the background by a shell (SIGINT ignored), stopped with SIGTERM in its build
    work, results = tmp_path / "work", tmp_path / "results"
    args = [
        "--preset",
        "tiny",
        "--no-half",
        "--skip-peers",
        "--work-dir",
        str(work),
        "--results-dir",
        str(results),
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.run", *args],
        cwd=run.ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 600
    while not list(work.glob("*/logs/full-build.log")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before its build"
        time.sleep(0.2)
    # the ingest's figures are on disk while the build runs, before anything stops the run
    assert "| ingest | ok |" in (results / "latest.md").read_text()
    assert "in progress" in (results / "latest.md").read_text()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    text = (results / "latest.md").read_text()
    assert "interrupted (SIGINT/SIGTERM)" in text and "| ingest | ok |" in text
    # an unfinished chain's time is a lower bound: no target is "within" on it
    assert "**Whole chain (so far: 1 of 7 stages ok):" in text
    assert (
        "| incremental daily run | < 3 min | 0.0 min (so far: 0 of 7 stages ok) | not measured (chain "
        "unfinished) (target is for the `default` preset; this is `tiny`) |"
    ) in text
    with open(next(results.glob("*.csv")), newline="") as handle:
        got = {r["name"]: r["status"] for r in csv.DictReader(handle) if r["phase"] == "full"}
    assert got["ingest"] == "ok" and "decide" not in got
    assert len(list(results.glob("*.md"))) == 2  # one run's file, rewritten in place, and latest.md


def test_history_ratio_waits_for_the_shorter_historys_day(tmp_path: Path) -> None:
    # the run order is: D and D+1 on the whole history, then on half of it; while the half
    # history's next day runs, its total is partial and the ratio means nothing yet
    args = argparse.Namespace(
        customers=100, days=10, seed=7, activity=1.0, gzip=False, end_date=run.END_DATE, skip_peers=True,
        no_half=False, regenerate=False, profile="", work_dir=str(tmp_path), results_dir=str(tmp_path),
        repeat=1, force=False, resume=False, stage_timeout=None,
    )  # fmt: skip
    b = run.Bench(args)
    info = {**run.machine(), "finished": "now", "load_avg_end": [0.0], "duckdb_memory": "4GB"}

    def ok(seconds: float) -> Measurement:
        return Measurement("t", "ok", seconds, seconds, 100.0, seconds, {})

    for phase in ("full", "incremental"):
        for stage in STAGES:
            b.m[(10, phase, stage)] = ok(10.0)
            b.m[(5, phase, stage)] = ok(10.0)
    row = "| incremental grows with the new day, not history | ratio << 2.0 |"
    assert f"{row} 1.00 | met |" in run.report(b, info, "tiny", [])

    for stage in STAGES[1:]:
        del b.m[(5, "incremental", stage)]  # half history's next day: only ingest done so far
    text = run.report(b, info, "tiny", [])
    assert f"{row} 7.00 (so far: 1 of 7 stages ok) | not measured (chain unfinished) |" in text
