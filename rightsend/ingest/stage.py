"""Parse landed files into staged Parquet parts - in worker processes, off the warehouse.

Parsing and normalising is pure Python and needs no database, so it runs in a pool of
worker processes (one per core): each reads, checksums and parses one file at a time, in
chunks of ``CHUNK_ROWS`` rows, and writes every chunk's good rows - already typed - to a
Parquet part in a private staging folder (with its own in-memory DuckDB, never the
warehouse). The loader then copies parts into raw.* with one ``insert ... select from
read_parquet(...)`` per table: plain DuckDB SQL that works on the DuckDB file and on an
attached Postgres warehouse alike, and no row of the run is held in the loader's memory.
Quarantined records travel back to the loader as objects (few); so do each file's
identifiers when erasures exist, for the loader's tombstone check (``TombstoneFilter``
depends on the files before, so it stays in the loader, in load order).

Results come back in load order, at most ``LOOKAHEAD_BYTES`` of landed files ahead of the loader.
Small runs (under ``POOL_MIN_BYTES`` landed) and ``RIGHTSEND_INGEST_WORKERS=0`` parse in the
loader's own process, with the same code; so does the rest of a run whose pool broke.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import shutil
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from rightsend.config import usable_cores
from rightsend.ingest.erasure import TombstoneFilter, identifiers_in
from rightsend.ingest.landing import LandedFile
from rightsend.ingest.parse import Bad, Batch, parse_chunks
from rightsend.ingest.reading import FileProblem, decode
from rightsend.warehouse import sql_string

log = logging.getLogger(__name__)
WORKERS_ENV = "RIGHTSEND_INGEST_WORKERS"
CHUNK_ROWS = 100_000  # rows a worker holds at once (one Parquet part each)
# Workers parse ahead of the loader (whose commits take seconds) up to this many landed
# bytes: what they hold meanwhile is on disk, staged, and a few quarantined records.
LOOKAHEAD_BYTES = 256 * 1024 * 1024
POOL_MIN_BYTES = 8 * 1024 * 1024  # below this, starting workers costs more than it saves
STAGED_LINEAGE = ("_file", "_line", "_dt", "_extra")  # _loaded_at is added by the loader
# Parsing allocates millions of small objects (rows and their values, no reference cycles),
# and CPython's default collects the young ones every 700 allocations: ~12% of a worker's CPU
# (measured at 200k customers x 31 days; email 11.2 -> 8.8 us a row). Every 50,000 keeps
# almost all of it; rows are still freed as ever, by reference counting.
GC_YOUNG_THRESHOLD = 50_000


@dataclass
class FileResult:
    file: LandedFile
    status: str  # loaded | failed
    size: int = 0
    sha256: str | None = None
    loaded: int = 0
    quarantined: int = 0
    erased: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    error: str | None = None


@dataclass
class StagedFile:
    """One parsed file: its good rows in Parquet parts, its quarantined records in memory."""

    result: FileResult
    parts: list[str] = field(default_factory=list)
    bad: list[Bad] = field(default_factory=list)
    tombstones: list[tuple[str, str, str]] = field(default_factory=list)  # (hash, type, request)
    identifiers: set[tuple[str, str]] | None = None  # when asked for: see erasure.identifiers_in

    @property
    def rows(self) -> int:
        return self.result.loaded + self.result.quarantined

    def discard(self) -> None:
        for part in self.parts:
            Path(part).unlink(missing_ok=True)
        self.parts = []


def staging_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column -> the type its values are staged as: the raw table's own type, except that
    decimals stay text (validated, cast exactly by the insert) and JSON is text."""
    types = {}
    for column, kind in con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall():
        kind = kind.upper()
        if kind.endswith("[]") or kind.startswith(("LIST", "_")):
            types[column] = "VARCHAR[]"
        elif kind.startswith(("TIMESTAMP", "DATE", "INTEGER", "BIGINT", "BOOLEAN", "SMALLINT")):
            types[column] = kind.split(" ")[0]
        else:
            types[column] = "VARCHAR"
    return types


# ---------------------------------------------------------------------------- one file
_CON: duckdb.DuckDBPyConnection | None = None


def _private_duckdb() -> duckdb.DuckDBPyConnection:
    """This process's own in-memory DuckDB, used only to write Parquet parts."""
    global _CON
    if _CON is None:
        _CON = duckdb.connect(config={"threads": 1})
    return _CON


def _object_column(values: Any, n: int) -> np.ndarray:
    # fromiter keeps lists (SendGrid categories) as elements instead of a second dimension
    return np.fromiter(values, dtype=object, count=n)


def _write_part(batch: Batch, landed: LandedFile, path: str, types: dict[str, str]) -> None:
    """One chunk's good rows -> a Parquet part with the raw table's columns (staged types)."""
    source, n = batch.source, len(batch.rows)
    columns = zip(*batch.rows, strict=True) if n else [()] * len(source.columns)
    data = {name: _object_column(values, n) for name, values in zip(source.columns, columns, strict=True)}
    data["_line"] = np.fromiter(batch.lines, dtype=np.int64, count=n)
    data["_extra"] = _object_column(batch.extras, n)
    _part = pd.DataFrame(data, copy=False)  # noqa: F841 - scanned by name below
    select = [f'"{c}"::{types.get(c, "VARCHAR")} as "{c}"' for c in source.columns]
    select += [
        f"{sql_string(landed.rel)}::varchar as _file",
        "_line::integer as _line",
        f"{sql_string(landed.dt)}::date as _dt",
        "_extra::varchar as _extra",
    ]
    # DuckDB finds the frame by its local name (a replacement scan): a few ms less per part
    # than register/unregister, which is most of a small file's cost.
    _private_duckdb().execute(
        f"copy (select {', '.join(select)} from _part) to {sql_string(path)} (format parquet, compression snappy)"
    )


@contextmanager
def _fewer_collections() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@_fewer_collections()
def stage_file(
    landed: LandedFile,
    stage_dir: str,
    key: str,
    types: dict[str, str],
    want_identifiers: bool = False,
    tombstones: TombstoneFilter | None = None,
) -> StagedFile:
    """Read, checksum, parse and normalise one file; stage its good rows as Parquet.

    With ``tombstones`` (the loader's own process only: the filter follows load order),
    rows of erased people are dropped on the way; ``want_identifiers`` instead returns the
    identifiers the file carries, for the loader to check."""
    source = landed.source
    result = FileResult(landed, "failed")
    staged = StagedFile(result)
    found: set[tuple[str, str]] = set()
    try:
        data = landed.path.read_bytes()
        result.size = len(data)
        result.sha256 = hashlib.sha256(data).hexdigest()
        if landed.extension not in source.extensions:
            raise FileProblem(f"unexpected file type {landed.extension or '(none)'} for {source.name}")
        text = decode(data, landed.gzipped)
        del data
        kept = Batch(source)  # quarantined records of every chunk, filtered after the rows
        for number, batch in enumerate(parse_chunks(source, text, CHUNK_ROWS)):
            if tombstones is not None:
                erased, new = tombstones.filter_rows(batch)
                result.erased += erased
                staged.tombstones += new
            if want_identifiers:
                found |= identifiers_in(batch)
            kept.bad += batch.bad
            if batch.rows:
                part = os.path.join(stage_dir, f"{key}-{number}.parquet")
                _write_part(batch, landed, part, types)
                staged.parts.append(part)
                result.loaded += len(batch.rows)
    except FileProblem as exc:
        staged.discard()
        result.error = f"{landed.rel}: {exc}"
        return StagedFile(result)
    except duckdb.Error as exc:  # a value the raw table cannot hold: as a failed insert
        staged.discard()
        result.error = f"{landed.rel}: load failed: {exc}"
        return StagedFile(result)
    if tombstones is not None:
        result.erased += tombstones.filter_bad(kept)
    result.status = "loaded"
    result.quarantined = len(kept.bad)
    result.reasons = Counter(b.reason for b in kept.bad)
    staged.bad = kept.bad
    staged.identifiers = found if want_identifiers else None
    return staged


# ---------------------------------------------------------------------------- many files
def default_workers() -> int:
    configured = os.environ.get(WORKERS_ENV, "").strip()
    if configured:
        return max(0, int(configured))
    cores = usable_cores()
    return min(cores, 8) if cores > 1 else 0


class Stager:
    """Stages files in load order: in a process pool when it pays, else in this process."""

    def __init__(
        self,
        types: dict[str, dict[str, str]],
        want_identifiers: bool,
        workers: int,
        when_idle: Callable[[], Any] | None = None,
    ) -> None:
        self.types = types  # raw table -> staging_types
        self.want_identifiers = want_identifiers
        self.workers = workers
        self.when_idle = when_idle  # given to each worker once every file is handed out
        self._idle: list[Future[Any]] = []
        self.dir = tempfile.mkdtemp(prefix="rightsend-ingest-")
        self._pool: ProcessPoolExecutor | None = None
        self.broken = False
        self.sizes: list[int] = []

    def __enter__(self) -> Stager:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.dir, ignore_errors=True)

    def _args(self, landed: LandedFile, number: int) -> tuple[Any, ...]:
        return (landed, self.dir, f"{number:06d}", self.types[landed.source.table], self.want_identifiers)

    def stage_here(self, landed: LandedFile, number: int, tombstones: TombstoneFilter | None) -> StagedFile:
        """Stage one file in this process (with the tombstone filter applied, if given)."""
        args = self._args(landed, number)
        return stage_file(*args[:4], want_identifiers=False, tombstones=tombstones)

    def staged(self, files: list[LandedFile]) -> Iterator[tuple[int, StagedFile]]:
        """(number, staged file) for every file, in order."""
        pool = self._start(files)
        pending: deque[tuple[int, Future[StagedFile] | None]] = deque()
        pending_bytes = 0  # landed bytes submitted and not yet handed to the loader
        todo = iter(enumerate(files))
        while True:
            while pool is not None and (len(pending) < 2 * self.workers or pending_bytes < LOOKAHEAD_BYTES):
                item = next(todo, None)
                if item is None:
                    if self.when_idle is not None and not self._idle:  # queued after the last file
                        self._idle = [pool.submit(self.when_idle) for _ in range(self.workers)]
                    break
                pending_bytes += self.sizes[item[0]]
                try:
                    pending.append((item[0], pool.submit(stage_file, *self._args(item[1], item[0]))))
                except (BrokenProcessPool, RuntimeError, AssertionError) as exc:  # cannot start workers
                    pending.append((item[0], None))
                    pool = self._broken(exc)
            if pending:
                number, future = pending.popleft()
                pending_bytes -= self.sizes[number]
            else:
                item = next(todo, None)
                if item is None:
                    return
                number, future = item[0], None
            if future is not None:
                try:
                    yield number, future.result()
                    continue
                except BrokenProcessPool as exc:  # a worker died (e.g. killed): go on here
                    if pool is not None:
                        pool = self._broken(exc)
            yield number, stage_file(*self._args(files[number], number))

    def _start(self, files: list[LandedFile]) -> ProcessPoolExecutor | None:
        self.sizes = [f.path.stat().st_size for f in files]
        if not self.workers or sum(self.sizes) < POOL_MIN_BYTES:
            return None
        try:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("ingest: parsing in one process (no worker pool: %s)", exc)
        return self._pool

    def _broken(self, exc: BaseException) -> None:
        log.warning("ingest: worker pool failed (%s); parsing the rest in one process", exc)
        self.broken = True
        return None

    @property
    def pool(self) -> ProcessPoolExecutor | None:
        """The worker pool, for more work once files are staged (None: work in this process)."""
        return None if self.broken else self._pool
