"""The production topology for real: the daily chain on Airflow's CeleryExecutor.

Starts the same components as docker-compose.yaml as native processes (rightsend/stack.py):
a fresh Postgres database for the metadata and Celery results, a dedicated Redis DB as the
broker, api-server, scheduler, dag-processor, triggerer and a Celery worker (concurrency 2).
Then it triggers rightsend_ingest through the REST API v2 with conf {"run_date": D}, lets
the Assets start rightsend_build, rightsend_train and rightsend_daily, and checks that every
run and task instance succeeded and that the day's outputs exist. Everything it started is
stopped, and the database dropped, whatever happens.

D is stack.scheduled_day(): the interval the scheduler itself would run next for the ingest
DAG (daily at 02:00 UTC, for the day before), so the triggered run takes that slot and
unpausing adds no scheduled run.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rightsend import stack
from rightsend.config import Settings

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.timeout(900)]

REDIS_DB = 11  # the tests' broker DB; each stack has its own Celery queue in it
SMOKE_DAGS = """
import pendulum
from airflow.sdk import Asset, dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

STAGE = Asset("rightsend-smoke://stage")


@dag(dag_id="smoke_first", schedule=CronDataIntervalTimetable("0 2 * * *", timezone="UTC"), start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def smoke_first():
    @task(outlets=[STAGE], pool="warehouse")
    def emit(**context):
        run_date = context["dag_run"].conf["run_date"]
        context["outlet_events"][STAGE].extra = {"run_date": run_date}
        return run_date

    emit()


@dag(dag_id="smoke_second", schedule=[STAGE], start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def smoke_second():
    @task
    def receive(**context):
        import os
        from pathlib import Path

        extras = [e.extra for events in context["triggering_asset_events"].values() for e in events]
        run_date = extras[0]["run_date"]
        out = Path(os.environ["RIGHTSEND_OUTPUT_DIR"]) / f"smoke-{run_date}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(f"{os.getpid()} {run_date}")

    receive()


smoke_first()
smoke_second()
"""


def _config(
    tmp_path: Path, name: str, dags_folder: Path | None = None, warehouse_env: dict[str, str] | None = None
) -> stack.StackConfig:
    base = stack.StackConfig.from_env(home=tmp_path / "airflow")
    settings = Settings(
        landing_dir=tmp_path / "landing",
        output_dir=tmp_path / "out",
        warehouse_path=tmp_path / "warehouse" / "rightsend.duckdb",
        target="postgres" if warehouse_env else "duckdb",
    )
    cfg = stack.StackConfig(
        home=tmp_path / "airflow",
        # unique per session: several test sessions may run on one machine at once
        database=f"rightsend_airflow_test_{name}_{os.getpid()}",
        pg_host=base.pg_host,
        pg_port=base.pg_port,
        pg_user=base.pg_user,
        pg_password=base.pg_password,
        redis_url=base.redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}",
        port=stack.free_port(),
        concurrency=2,
        settings=settings,
        queue=f"rightsend-test-{name}-{os.getpid()}",
        extra_env={
            "RIGHTSEND_TASK_RETRIES": "0",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
            # parse once: nothing changes the DAG files during the test (saves the 2 shared cores)
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            **(warehouse_env or {}),
        },
    )
    if dags_folder:
        cfg.dags_folder = dags_folder
    return cfg


@pytest.fixture
def running_stack():
    """Yields a function that starts a stack; stops it and drops its database afterwards."""
    started: list[stack.StackConfig] = []

    def start(cfg: stack.StackConfig) -> stack.Api:
        if reason := stack.services_reachable(cfg):
            pytest.skip(reason)
        started.append(cfg)
        stack.purge_queue(cfg)
        stack.prepare(cfg, fresh=True)
        procs = stack.start(cfg)
        stack.wait_healthy(cfg, procs, timeout=180)
        return stack.api(cfg)

    yield start
    for cfg in started:
        stopped_at = time.monotonic()
        stack.stop(cfg)
        print(f"stopped the stack in {time.monotonic() - stopped_at:.1f}s")
        stack.drop_database(cfg)
        stack.purge_queue(cfg)


def _assert_chain_succeeded(client: stack.Api, cfg: stack.StackConfig, runs: dict, dag_ids) -> None:
    for dag_id in dag_ids:
        every_run = client.get(f"/dags/{dag_id}/dagRuns")
        assert every_run["total_entries"] == 1, f"{dag_id} ran more than once: {every_run['dag_runs']}"
        tis = stack.task_instances(client, dag_id, runs[dag_id]["dag_run_id"])
        assert tis, f"{dag_id} ran no task"
        bad = {t["task_id"]: t["state"] for t in tis if t["state"] != "success"}
        assert not bad, f"{dag_id}: tasks not successful {bad}\n{stack.task_log_tail(cfg, dag_id)}"
        assert all(t["hostname"] and t["queue"] == cfg.queue for t in tis), "not run by our Celery worker"


def test_asset_chain_runs_on_the_celery_stack(tmp_path: Path, running_stack):
    """The topology itself, on two tiny DAGs chained by an Asset (no pipeline code)."""
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "smoke.py").write_text(SMOKE_DAGS)
    cfg = _config(tmp_path, "smoke", dags_folder=dags)
    client = running_stack(cfg)
    health = client.health()
    assert {
        part: health[part]["status"] for part in ("metadatabase", "scheduler", "dag_processor", "triggerer")
    } == {
        "metadatabase": "healthy",
        "scheduler": "healthy",
        "dag_processor": "healthy",
        "triggerer": "healthy",
    }
    pools = {p["name"]: p["slots"] for p in client.get("/pools")["pools"]}
    assert pools["warehouse"] == 1
    run_date = stack.scheduled_day()
    since = datetime.now(UTC)
    chain = ("smoke_first", "smoke_second")
    stack.trigger_chain(client, run_date, chain)
    runs = stack.wait_chain(client, since, chain, timeout=120, poll=2)
    _assert_chain_succeeded(client, cfg, runs, chain)
    assert (cfg.settings.output_dir / f"smoke-{run_date}.txt").read_text().endswith(run_date)


@pytest.fixture
def postgres_warehouse(monkeypatch):
    """A fresh Postgres warehouse database (dropped afterwards) and the settings that select it."""
    import psycopg2

    base = stack.StackConfig.from_env()
    name = f"rightsend_warehouse_stack_{os.getpid()}"
    try:
        admin = psycopg2.connect(
            host=base.pg_host, port=base.pg_port, user=base.pg_user, password=base.pg_password or None,
            dbname="postgres", connect_timeout=3,
        )  # fmt: skip
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"Postgres unreachable: {str(error).strip()}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {name} with (force)")
        cur.execute(f"create database {name}")
    # Two slots: the mapped bucket tasks may run side by side on the worker (concurrency 2).
    monkeypatch.setenv("RIGHTSEND_WAREHOUSE_SLOTS", "2")
    yield {
        "RIGHTSEND_PG_HOST": base.pg_host,
        "RIGHTSEND_PG_PORT": str(base.pg_port),
        "RIGHTSEND_PG_USER": base.pg_user,
        "RIGHTSEND_PG_PASSWORD": base.pg_password or "",
        "RIGHTSEND_PG_DBNAME": name,
        "RIGHTSEND_WAREHOUSE_SLOTS": "2",
    }
    with admin.cursor() as cur:
        cur.execute(f"drop database if exists {name} with (force)")
    admin.close()


def test_daily_chain_runs_on_the_celery_stack(tmp_path: Path, running_stack, postgres_warehouse):
    """ingest -> build (Cosmos dbt) -> train -> daily through the scheduler, Assets and Celery,
    on the Postgres warehouse, with scoring and dispatch mapped over buckets and two pool slots."""
    import psycopg2

    from rightsend import demo
    from rightsend.buckets import bucket_count

    run_date = stack.scheduled_day()
    cfg = _config(tmp_path, "chain", warehouse_env=postgres_warehouse)
    started = time.monotonic()
    demo.generate(cfg.settings.landing_dir, customers=150, days=30, end_date=run_date, seed=3)
    client = running_stack(cfg)
    print(f"stack healthy after {time.monotonic() - started:.0f}s")
    assert {p["name"]: p["slots"] for p in client.get("/pools")["pools"]}["warehouse"] == 2

    since = datetime.now(UTC)
    run = stack.trigger_chain(client, run_date)
    assert run["logical_date"].startswith(run_date) and run["conf"] == {"run_date": run_date}
    try:
        runs = stack.wait_chain(client, since, timeout=600, poll=5)
    except stack.StackError as error:
        logs = "\n".join(stack.task_log_tail(cfg, dag_id) for dag_id in stack.CHAIN)
        pytest.fail(f"{error}\n{logs}")
    print(f"chain done after {time.monotonic() - started:.0f}s")
    _assert_chain_succeeded(client, cfg, runs, stack.CHAIN)

    daily = stack.task_instances(client, "rightsend_daily", runs["rightsend_daily"]["dag_run_id"])
    for mapped in ("score", "dispatch"):
        indexes = sorted(t["map_index"] for t in daily if t["task_id"] == mapped)
        assert indexes == list(range(bucket_count())), f"{mapped} was not mapped over the buckets"
    scored = sorted((t["start_date"], t["end_date"]) for t in daily if t["task_id"] == "score")
    overlaps = sum(later[0] < earlier[1] for earlier, later in zip(scored, scored[1:], strict=False))
    print(f"score buckets running side by side: {overlaps} of {len(scored) - 1} neighbours overlapped")

    out = cfg.settings.output_dir
    for path in (
        out / "queue" / f"dt={run_date}" / "messages.csv",
        out / "exports" / f"dt={run_date}" / "report.html",
        out / "runs" / f"dt={run_date}" / "summary.json",
    ):
        assert path.is_file() and path.stat().st_size > 0, f"missing output {path}"
    summary = json.loads((out / "runs" / f"dt={run_date}" / "summary.json").read_text())
    assert summary["run_date"] == run_date
    for stage in ("ingest", "build", "train", "score", "decide", "dispatch", "exports"):
        assert stage in summary, f"summary.json has no {stage} section"
    assert summary["build"]["models_built"] > 0

    # The warehouse is Postgres: no DuckDB file, and the day's rows are in the database.
    assert not cfg.settings.warehouse_path.exists()
    with open(out / "queue" / f"dt={run_date}" / "messages.csv") as handle:
        queued = sum(1 for _ in handle) - 1
    params = {
        k.removeprefix("RIGHTSEND_PG_").lower(): v for k, v in postgres_warehouse.items() if "_PG_" in k
    }
    conn = psycopg2.connect(**{**params, "password": params["password"] or None})
    with conn, conn.cursor() as cur:
        cur.execute(
            "select count(distinct customer_id) from ml.send_scores where score_date = %s", (run_date,)
        )
        assert cur.fetchone()[0] == summary["score"]["people_scored"]
        cur.execute("select count(*) from queue.outbox where queue_date = %s", (run_date,))
        assert cur.fetchone()[0] == queued > 0
    conn.close()
