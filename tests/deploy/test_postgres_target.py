"""One setting, RIGHTSEND_TARGET=postgres, moves the whole warehouse to Postgres.

The same small demo goes through the daily chain twice:
- on Postgres, with `rightsend run` (Airflow, Cosmos's dbt tasks, every Python stage) and
  RIGHTSEND_TARGET=postgres, into a fresh database of its own;
- on DuckDB (the default), stage by stage in a subprocess, as the reference.
Then every marts table must be equal row for row (sorted, floats rounded), the queue file
identical, erased people in no Postgres table, and a re-run on Postgres must load no file
twice and publish no message twice. Any difference fails the test.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import json
import math
import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from rightsend.config import PROJECT_ROOT, Settings, postgres_params

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.timeout(900)]

RUN_DATE = "2026-11-20"
DATABASE = f"rightsend_warehouse_test_{os.getpid()}"  # several sessions may run at once
DIGITS = 6


# The local services' Postgres (as rightsend.stack), unless RIGHTSEND_PG_* says otherwise; the
# port and password keep config's defaults (5432, none).
LOCAL_POSTGRES = {"RIGHTSEND_PG_HOST": "127.0.0.1", "RIGHTSEND_PG_USER": "postgres"}


def _pg(dbname: str = "postgres"):
    import psycopg2

    conn = psycopg2.connect(connect_timeout=3, **postgres_params(dbname=dbname))
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_database(monkeypatch: pytest.MonkeyPatch):
    # In the environment, not a second defaults table: this test's connections and the chain's
    # subprocesses then read the same settings through rightsend.config.
    for name, value in LOCAL_POSTGRES.items():
        monkeypatch.setenv(name, os.environ.get(name, value))
    try:
        admin = _pg()
    except Exception as error:  # noqa: BLE001
        pytest.skip(f"Postgres unreachable: {str(error).strip()}")
    with contextlib.closing(admin), admin.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE} with (force)")
        cur.execute(f"create database {DATABASE}")
    yield DATABASE
    with contextlib.closing(_pg()) as admin, admin.cursor() as cur:
        cur.execute(f"drop database if exists {DATABASE} with (force)")


# -- comparing ---------------------------------------------------------------------------------
def normalise(value: Any) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, Decimal)):
        number = float(value)
        return None if math.isnan(number) else round(number, DIGITS) + 0.0
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return tuple(normalise(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def sort_key(row: tuple) -> tuple:
    return tuple((v is None, str(type(v).__name__), v if v is not None else 0) for v in row)


def duckdb_tables(path: Path, schema: str) -> dict[str, tuple[list[str], list[tuple]]]:
    import duckdb

    out = {}
    with contextlib.closing(duckdb.connect(str(path), read_only=True)) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
        ).fetchall()]  # fmt: skip
        for name in names:
            result = con.execute(f'select * from "{schema}"."{name}"')
            columns = [d[0] for d in result.description]
            out[name] = (columns, [tuple(normalise(v) for v in row) for row in result.fetchall()])
    return out


def postgres_table(dbname: str, schema: str, name: str, columns: list[str]) -> list[tuple] | None:
    with contextlib.closing(_pg(dbname)) as conn, conn.cursor() as cur:
        cur.execute(
            "select 1 from information_schema.tables where table_schema = %s and table_name = %s",
            (schema, name),
        )
        if not cur.fetchone():
            return None
        cur.execute(f'select {", ".join(chr(34) + c + chr(34) for c in columns)} from "{schema}"."{name}"')
        return [tuple(normalise(v) for v in row) for row in cur.fetchall()]


# -- running the chain -------------------------------------------------------------------------
REFERENCE_CHAIN = """
import sys
from models_ml import predict, train
from rightsend import decide, dispatch, exports, ingest, transform
from rightsend.config import Settings
settings, day = Settings.from_env(), sys.argv[1]
for stage in (ingest.run, transform.build, train.run, predict.run, decide.run, dispatch.run, exports.run):
    stage(settings, day)
"""


RERUN = REFERENCE_CHAIN.replace("train.run, ", "")


def _env(root: Path, target: str, dbname: str) -> dict[str, str]:
    settings = Settings(
        root / "landing", root / target / "out", root / target / "warehouse" / "rightsend.duckdb"
    )
    env = {
        **os.environ,
        **settings.as_env(),
        "RIGHTSEND_TARGET": target,
        "RIGHTSEND_PG_DBNAME": dbname,  # the other RIGHTSEND_PG_* come with os.environ
        "RIGHTSEND_AIRFLOW_HOME": str(root / target / "airflow"),
        "RIGHTSEND_BROKER_URL": "",
        "DO_NOT_TRACK": "1",
    }
    env.pop("AIRFLOW_HOME", None)
    env.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    return env


def _python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, f"{' '.join(args[:3])} failed:\n{(done.stdout + done.stderr)[-4000:]}"
    return done


def _queue(out: Path) -> list[dict[str, str]]:
    with open(out / "queue" / f"dt={RUN_DATE}" / "messages.csv", newline="") as handle:
        return sorted(csv.DictReader(handle), key=lambda row: row["message_id"])


def _erased_emails(root: Path) -> set[str]:
    requests = []
    for path in sorted((root / "landing" / "consent").rglob("*.*json*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            text = handle.read().strip()
        values = json.loads(text) if text.startswith("[") else [json.loads(x) for x in text.splitlines() if x]
        requests += [r for r in values if r.get("type") == "erasure"]
    return {str(r["email"]).strip().lower() for r in requests if r.get("email")}


def test_the_daily_chain_on_postgres_equals_duckdb(tmp_path: Path, pg_database: str):
    pg_env = _env(tmp_path, "postgres", pg_database)
    duck_env = _env(tmp_path, "duckdb", pg_database)
    _python(["-m", "rightsend.cli", "demo", "--customers", "150", "--days", "30", "--end-date", RUN_DATE,
             "--seed", "3", "--landing", str(tmp_path / "landing")], duck_env)  # fmt: skip
    _python(["-c", REFERENCE_CHAIN, RUN_DATE], {**duck_env, "DBT_TARGET_PATH": str(tmp_path / "dbt-target")})
    _python(["-m", "rightsend.cli", "run", "--date", RUN_DATE], pg_env)  # exits non-zero on any failed task

    problems: list[str] = []
    marts = duckdb_tables(Path(duck_env["RIGHTSEND_WAREHOUSE"]), "marts")
    assert {"dim_customers", "fct_orders", "mart_customer_rfm"} <= set(marts)
    for name, (columns, duck_rows) in sorted(marts.items()):
        pg_rows = postgres_table(pg_database, "marts", name, columns)
        if pg_rows is None:
            problems.append(f"marts.{name}: not built on Postgres")
            continue
        if len(pg_rows) != len(duck_rows):
            problems.append(f"marts.{name}: {len(duck_rows)} rows on DuckDB, {len(pg_rows)} on Postgres")
            continue
        duck_sorted, pg_sorted = sorted(duck_rows, key=sort_key), sorted(pg_rows, key=sort_key)
        for duck_row, pg_row in zip(duck_sorted, pg_sorted, strict=True):
            if duck_row != pg_row:
                differing = {c: (d, p) for c, d, p in zip(columns, duck_row, pg_row, strict=True) if d != p}
                problems.append(f"marts.{name}: first differing row, columns (duckdb, postgres): {differing}")
                break
    assert problems == [], "DuckDB / Postgres parity:\n  " + "\n  ".join(problems)

    # Every Python stage wrote Postgres, not a DuckDB file beside it.
    assert not Path(pg_env["RIGHTSEND_WAREHOUSE"]).exists()
    with contextlib.closing(_pg(pg_database)) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from ops.manifest where status = 'loaded'")
        loaded_files = cur.fetchone()[0]
        cur.execute("select count(*) from ml.send_scores")
        scores = cur.fetchone()[0]
        cur.execute("select count(*) from queue.outbox where queue_date = %s", (RUN_DATE,))
        outbox = cur.fetchone()[0]
    assert loaded_files > 100 and scores > 0 and outbox > 0

    pg_queue, duck_queue = (
        _queue(Path(pg_env["RIGHTSEND_OUTPUT_DIR"])),
        _queue(Path(duck_env["RIGHTSEND_OUTPUT_DIR"])),
    )
    assert len(pg_queue) == outbox
    assert pg_queue == duck_queue

    # Erased people are in no text column of any Postgres table.
    erased = _erased_emails(tmp_path)
    assert erased, "the demo should contain erasure requests"
    found = []
    with contextlib.closing(_pg(pg_database)) as conn, conn.cursor() as cur:
        cur.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type in ('character varying', 'text') "
            "and table_schema not in ('information_schema', 'pg_catalog')"
        )
        for schema, table, column in cur.fetchall():
            cur.execute(
                f'select count(*) from "{schema}"."{table}" where lower("{column}") = any(%s)',
                (sorted(erased),),
            )
            if hits := cur.fetchone()[0]:
                found.append(f"{schema}.{table}.{column}: {hits}")
    assert found == []

    # Re-running the stages on Postgres (directly: Airflow's part was proven above) loads
    # nothing twice, scores and queues nothing twice and publishes nothing twice.
    _python(["-c", RERUN, RUN_DATE], {**pg_env, "DBT_TARGET_PATH": str(tmp_path / "dbt-target-pg")})
    with contextlib.closing(_pg(pg_database)) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from ops.manifest where status = 'loaded'")
        assert cur.fetchone()[0] == loaded_files
        cur.execute(
            "select count(*), count(distinct message_id) from queue.outbox where queue_date = %s", (RUN_DATE,)
        )
        assert cur.fetchone() == (outbox, outbox)
        cur.execute("select count(*), count(distinct (customer_id, channel)) from ml.send_scores")
        assert cur.fetchone() == (scores, scores)
        cur.execute("select count(*), count(distinct message_id) from queue.dispatch_log")
        published, distinct = cur.fetchone()
    assert published == distinct == sum(row["is_holdout"] == "false" for row in pg_queue)
    assert _queue(Path(pg_env["RIGHTSEND_OUTPUT_DIR"])) == pg_queue
