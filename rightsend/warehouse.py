"""The DuckDB warehouse: one writer at a time, tables bootstrapped from include/sql.

DuckDB lets one process open a database file for writing, and no process read it
meanwhile. Every connection goes through ``connect``, which holds an OS file lock
beside the database (exclusive for writers, shared for readers) for as long as the
connection is open, so concurrent Airflow tasks queue instead of failing. The
``warehouse`` Airflow pool (one slot) keeps the scheduler from even trying.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rightsend.config import INCLUDE_DIR, Settings

DDL_FILES = ("raw_tables.sql", "ops_tables.sql", "queue_tables.sql")
POOL = "warehouse"  # Airflow pool with a single slot: the one warehouse writer


@contextmanager
def _locked(path: Path, exclusive: bool) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(path.suffix + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def connect(settings: Settings, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse; writers are exclusive, readers share."""
    with _locked(settings.warehouse_path, exclusive=not read_only):
        if read_only and not settings.warehouse_path.exists():
            raise FileNotFoundError(f"no warehouse at {settings.warehouse_path}: run ingestion first")
        con = _open(settings.warehouse_path, read_only)
        try:
            yield con
        finally:
            con.close()


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.ConnectionException as error:
        # This process already holds the database open (dbt runs in-process under
        # `dag.test`): DuckDB then refuses a second instance with another configuration,
        # and the open instance is the one to share.
        if "different configuration" not in str(error):
            raise
        return duckdb.connect(str(path))


def bootstrap(con: duckdb.DuckDBPyConnection) -> None:
    """Create every Python-owned schema and table (idempotent)."""
    for name in DDL_FILES:
        con.execute((INCLUDE_DIR / "sql" / name).read_text())


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )
