"""The warehouse connection every Python stage uses, on either target.

Every stage speaks DuckDB SQL to a DuckDB connection; ``Settings.target`` decides what
that connection holds:

- ``duckdb`` (default): the database file. DuckDB lets one process open it for writing,
  and no process read it meanwhile, so ``connect`` holds an OS file lock beside it
  (exclusive for writers, shared for readers) while the connection is open: concurrent
  Airflow tasks queue instead of failing. The ``warehouse`` Airflow pool (one slot) keeps
  the scheduler from even trying.
- ``postgres``: an in-memory DuckDB with the Postgres database ATTACHed (DuckDB's
  postgres extension, from the pinned ``duckdb-extension-postgres-scanner`` wheel, so
  nothing is downloaded at run time) and made the default catalog: the same SQL reads
  and writes Postgres tables, in Postgres transactions, and Postgres does the locking, so
  several workers may write at once (the pool's slots can grow).
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from rightsend.config import INCLUDE_DIR, Settings, duckdb_memory_limit

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
    """Open the warehouse; on DuckDB writers are exclusive and readers share."""
    if settings.target == "postgres":
        con = _attach_postgres(settings.postgres_dsn, read_only)
        try:
            yield con
        finally:
            con.close()
        return
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
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.ConnectionException as error:
        # This process already holds the database open (dbt runs in-process under
        # `dag.test`): DuckDB then refuses a second instance with another configuration,
        # and the open instance is the one to share.
        if "different configuration" not in str(error):
            raise
        con = duckdb.connect(str(path))
    con.execute(f"set memory_limit = '{duckdb_memory_limit()}'")
    return con


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal, for the few places a value cannot be a parameter
    (file paths in ``read_parquet([...])`` and ``copy ... to``)."""
    return "'" + text.replace("'", "''") + "'"


def _postgres_extension() -> Path:
    import duckdb_extension_postgres_scanner as wheel

    path = (
        Path(wheel.__path__[0])
        / "extensions"
        / f"v{duckdb.__version__}"
        / "postgres_scanner.duckdb_extension"
    )
    if not path.exists():
        raise RuntimeError(
            f"no postgres extension for DuckDB {duckdb.__version__} at {path}: pin matching versions"
        )
    return path


def _attach_postgres(dsn: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    try:
        con.execute(f"set memory_limit = '{duckdb_memory_limit()}'")
        con.execute(f"load '{_postgres_extension()}'")
        mode = ", read_only" if read_only else ""
        con.execute(f"attach '{dsn}' as warehouse (type postgres{mode})")
        con.execute("use warehouse")
    except Exception:
        con.close()
        raise
    return con


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
