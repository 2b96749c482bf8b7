"""Read-side helpers: the exports tolerate a table that a stage has not built yet."""

from __future__ import annotations

from typing import Any

import duckdb

from rightsend.warehouse import table_exists


def has_table(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    return table_exists(con, schema, table)


def columns_of(con: duckdb.DuckDBPyConnection, qualified: str) -> set[str]:
    schema, table = qualified.split(".")
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return {r[0] for r in rows}


def fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> tuple[list[str], list[tuple]]:
    if isinstance(params, dict):  # DuckDB rejects named parameters the statement does not use
        params = {k: v for k, v in params.items() if f"${k}" in sql}
    cur = con.execute(sql, params or [])
    return [d[0] for d in cur.description], cur.fetchall()


def records(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> list[dict]:
    cols, rows = fetch(con, sql, params)
    return [dict(zip(cols, r, strict=True)) for r in rows]
