"""The dbt project on a Postgres warehouse gives the same marts as on DuckDB.

A small demo is ingested into DuckDB (rightsend.ingest), the Python-owned schemas (raw, ops,
queue) are copied into a fresh Postgres database (same DDL from include/sql, rows by COPY),
then `dbt build` runs on both targets - `duckdb` and `postgres` of dbt_project/profiles.yml -
and every table of the marts schema is compared row for row (sorted, floats rounded): any
difference, or any node failing on Postgres, fails the test.
Each build writes to its own target path, so the project's dbt_project/target is untouched.
"""

from __future__ import annotations

import contextlib
import csv
import io
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

from rightsend.config import DBT_PROJECT_DIR, INCLUDE_DIR, Settings


def _load_portability():
    """include/deploy/dbt_portability.py (include/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "dbt_portability", INCLUDE_DIR / "deploy" / "dbt_portability.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


portability = _load_portability()

pytestmark = [pytest.mark.integration, pytest.mark.services, pytest.mark.timeout(900)]

RUN_DATE = "2026-11-20"
DATABASE = f"rightsend_warehouse_test_{os.getpid()}"  # several sessions may run at once
COPIED_SCHEMAS = ("raw", "ops", "queue")
DIGITS = 6


def _pg_params() -> dict[str, Any]:
    return {
        "host": os.environ.get("RIGHTSEND_PG_HOST", "127.0.0.1"),
        "port": int(os.environ.get("RIGHTSEND_PG_PORT", "5432")),
        "user": os.environ.get("RIGHTSEND_PG_USER", "postgres"),
        "password": os.environ.get("RIGHTSEND_PG_PASSWORD") or None,
    }


def _pg(dbname: str = "postgres"):
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, connect_timeout=3, **_pg_params())
    conn.autocommit = True
    return conn


@pytest.fixture
def pg_database():
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


# -- copy DuckDB -> Postgres -----------------------------------------------------------------
def _pg_array(values: list[Any]) -> str:
    def item(value: Any) -> str:
        if value is None:
            return "NULL"
        text = str(value).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'

    return "{" + ",".join(item(v) for v in values) + "}"


def _csv_value(value: Any) -> Any:
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, list):
        return _pg_array(value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return value


_SCALAR_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric",
    "UBIGINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "JSON": "json",
    "UUID": "uuid",
    "BLOB": "bytea",
}


def pg_type(duckdb_type: str) -> str:
    """The Postgres column type for a DuckDB one (lists become arrays, structs and maps json)."""
    if duckdb_type.endswith("[]"):
        return pg_type(duckdb_type[:-2]) + "[]"
    if duckdb_type.startswith(("DECIMAL", "NUMERIC")):
        return duckdb_type.replace("DECIMAL", "numeric")
    if duckdb_type.startswith(("STRUCT", "MAP")):
        return "json"
    return _SCALAR_TYPES[duckdb_type]


def copy_schemas(duckdb_path: Path, dbname: str, schemas: tuple[str, ...] = COPIED_SCHEMAS) -> dict[str, int]:
    """Create every table of the Python-owned schemas in Postgres (types mapped from DuckDB's
    catalog; include/sql's DDL is DuckDB dialect) and COPY every row over."""
    import duckdb

    copied: dict[str, int] = {}
    source = duckdb.connect(str(duckdb_path), read_only=True)
    with contextlib.closing(source), contextlib.closing(_pg(dbname)) as target, target.cursor() as cur:
        tables = source.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in (select unnest(?)) and table_type = 'BASE TABLE' order by 1, 2",
            [list(schemas)],
        ).fetchall()
        for schema, table in tables:
            columns = source.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            cur.execute(f'create schema if not exists "{schema}"')
            definition = ", ".join(f'"{name}" {pg_type(kind)}' for name, kind in columns)
            cur.execute(f'create table "{schema}"."{table}" ({definition})')
            result = source.execute(f'select * from "{schema}"."{table}"')
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            rows = result.fetchall()
            for row in rows:
                writer.writerow([_csv_value(v) for v in row])
            buffer.seek(0)
            column_list = ", ".join(f'"{name}"' for name, _ in columns)
            cur.copy_expert(
                f'copy "{schema}"."{table}" ({column_list}) from stdin with (format csv, null \'\\N\')',
                buffer,
            )
            copied[f"{schema}.{table}"] = len(rows)
    return copied


# -- dbt ---------------------------------------------------------------------------------------
def dbt_build(target: str, target_path: Path, env: dict[str, str]) -> tuple[bool, list[dict[str, Any]], str]:
    """`dbt build` on a target, in its own target path; (success, node results, output tail)."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    args = [
        dbt, "build", "--target", target,
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
        "--vars", json.dumps({"run_date": RUN_DATE}), "--no-partial-parse",
    ]  # fmt: skip
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    results_file = target_path / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    return done.returncode == 0, results, (done.stdout + done.stderr)[-4000:]


def failures(results: list[dict[str, Any]]) -> dict[str, str]:
    return {
        r["unique_id"]: " ".join(str(r.get("message") or "").split())[:300]
        for r in results
        if r["status"] in {"error", "fail"}
    }


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


def test_marts_are_equal_on_duckdb_and_postgres(tmp_path: Path, pg_database: str):
    from rightsend import demo, ingest

    settings = Settings(
        landing_dir=tmp_path / "landing",
        output_dir=tmp_path / "out",
        warehouse_path=tmp_path / "warehouse" / "rightsend.duckdb",
    )
    demo.generate(settings.landing_dir, customers=150, days=30, end_date=RUN_DATE, seed=3)
    ingest.run(settings, RUN_DATE)
    copied = copy_schemas(settings.warehouse_path, pg_database)
    assert copied["raw.customers"] > 0 and copied["raw.orders"] > 0

    params = _pg_params()
    env = {
        **os.environ,
        **settings.as_env(),
        "RIGHTSEND_PG_HOST": params["host"],
        "RIGHTSEND_PG_PORT": str(params["port"]),
        "RIGHTSEND_PG_USER": params["user"],
        "RIGHTSEND_PG_PASSWORD": params["password"] or "",
        "RIGHTSEND_PG_DBNAME": pg_database,
        "DO_NOT_TRACK": "1",
    }
    ok_duck, results_duck, log_duck = dbt_build("duckdb", tmp_path / "target-duckdb", env)
    assert ok_duck, f"dbt build on DuckDB failed: {failures(results_duck)}\n{log_duck}"
    ok_pg, results_pg, log_pg = dbt_build("postgres", tmp_path / "target-postgres", env)
    problems = [
        f"dbt build --target postgres: {node}: {message}" for node, message in failures(results_pg).items()
    ]
    if not ok_pg and not problems:
        problems.append(f"dbt build --target postgres failed:\n{log_pg}")

    marts = duckdb_tables(settings.warehouse_path, "marts")
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
    if problems:
        # Any difference fails; the scan of DuckDB-only SQL (constructs that compile the same
        # on both targets, i.e. not adapter-dispatched) only helps to explain it.
        scanned = {
            **portability.scan(
                tmp_path / "target-duckdb" / "compiled", tmp_path / "target-postgres" / "compiled"
            ),
            **portability.scan_yaml_types(DBT_PROJECT_DIR),
        }
        report = "DuckDB / Postgres parity:\n  " + "\n  ".join(problems)
        if scanned:
            report += f"\nDuckDB-only SQL to port:\n{portability.describe(scanned)}"
        pytest.fail(report)
