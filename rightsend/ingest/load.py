"""Write staged files to the warehouse: raw rows, quarantine rows and manifest rows together.

Files are parsed and staged first (rightsend.ingest.stage: no warehouse work), then written
in groups: each file's rows and its manifest row always commit in the same transaction, so
a crash never leaves a file half-loaded or loaded without its manifest row (a rerun loads
it again in full). Grouping files into commits of about a million rows (pipeline.GROUP_ROWS)
saves an fsync per file and writes the tables in large appends. If a group cannot be
written, it is retried one file per transaction so one bad file cannot hold back the others.

Every statement is plain DuckDB SQL over the connection ``rightsend.warehouse.connect``
returns - a DuckDB file, or an in-memory DuckDB with the Postgres warehouse attached: raw
rows come from the staged Parquet parts (``insert ... select from read_parquet``), the few
quarantine rows from a registered pandas frame, manifest and tombstones as parameters.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from rightsend.ingest.stage import STAGED_LINEAGE, FileResult, StagedFile
from rightsend.warehouse import sql_string

log = logging.getLogger(__name__)
QUARANTINE_COLUMNS = ("source", "file", "line", "raw_text", "reason", "detail", "run_date", "quarantined_at")


def _append(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
    # One bulk statement through a registered frame of plain object columns (built column
    # by column: a frame from records is one 2-D object block, many times slower to scan);
    # the insert casts the values to the column types.
    if not rows:
        return
    n = len(rows)
    data = {
        name: np.fromiter(values, dtype=object, count=n)
        for name, values in zip(columns, zip(*rows, strict=True), strict=True)
    }
    con.register("_rows", pd.DataFrame(data, copy=False))
    try:
        con.execute(f"insert into {table} ({', '.join(columns)}) select {', '.join(columns)} from _rows")
    finally:
        con.unregister("_rows")


def _insert_parts(con: duckdb.DuckDBPyConnection, table: str, columns: tuple[str, ...], parts: list[str],
                  loaded_at: datetime) -> None:  # fmt: skip
    listed = ", ".join(sql_string(p) for p in parts)
    staged = (*columns, *STAGED_LINEAGE)
    con.execute(
        f"insert into {table} ({', '.join(staged)}, _loaded_at) "
        f"select {', '.join(staged)}, ?::timestamp from read_parquet([{listed}])",
        [loaded_at],
    )


def _write(
    con: duckdb.DuckDBPyConnection, files: list[StagedFile], run_date: str, loaded_at: datetime
) -> None:
    parts: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    bad: list[tuple[Any, ...]] = []
    tombstones: list[tuple[Any, ...]] = []
    manifest: list[tuple[Any, ...]] = []
    for staged in files:
        r, f = staged.result, staged.result.file
        if staged.parts:
            parts.setdefault((f"raw.{f.source.table}", f.source.columns), []).extend(staged.parts)
        bad.extend(
            (f.source.name, f.rel, b.line, b.raw_text, b.reason, b.detail, run_date, loaded_at)
            for b in staged.bad
        )
        tombstones.extend((*t, loaded_at) for t in staged.tombstones)
        manifest.append(
            (f.rel, f.source.name, f.dt, r.size, r.sha256, r.status, r.loaded, r.quarantined, r.erased, r.error,
             run_date, loaded_at)
        )  # fmt: skip
    for (table, columns), paths in parts.items():
        _insert_parts(con, table, columns, paths, loaded_at)
    _append(con, "ops.quarantine", QUARANTINE_COLUMNS, bad)
    if tombstones:
        con.executemany(
            "insert into ops.erasure_tombstones values (?, ?, ?, ?) on conflict do nothing", tombstones
        )
    con.executemany(
        "insert into ops.manifest (path, source, dt, size_bytes, sha256, status, rows_loaded, "
        "rows_quarantined, rows_erased, error, run_date, loaded_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        manifest,
    )


def write_files(
    con: duckdb.DuckDBPyConnection, files: list[StagedFile], run_date: str, loaded_at: datetime
) -> None:
    """Commit ``files`` (rows + quarantine + manifest) together; fall back to one per transaction."""
    if not files:
        return
    con.begin()
    try:
        _write(con, files, run_date, loaded_at)
        con.commit()
        return
    except Exception as exc:
        con.rollback()
        if len(files) == 1:
            staged = files[0]
            f = staged.result.file
            log.warning("ingest: %s could not be written: %s", f.rel, exc)
            failed = FileResult(f, "failed", staged.result.size, staged.result.sha256)
            failed.error = f"{f.rel}: load failed: {exc}"
            staged.discard()
            staged.result, staged.bad, staged.tombstones = failed, [], []
            con.begin()
            _write(con, [staged], run_date, loaded_at)
            con.commit()
            return
    for staged in files:
        write_files(con, [staged], run_date, loaded_at)
