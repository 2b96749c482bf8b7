"""Great Expectations checks on each source's newly loaded batch (suites in include/gx/suites)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections import deque
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from rightsend.config import INCLUDE_DIR
from rightsend.ingest.sources import SOURCES
from rightsend.warehouse import sql_string

SUITES_DIR = INCLUDE_DIR / "gx" / "suites"
MIN_TS = datetime(2000, 1, 1)
_DETAIL_KEYS = ("element_count", "unexpected_count", "missing_count", "partial_unexpected_list")
log = logging.getLogger(__name__)
# pandas' nanosecond timestamps end in 2262: clamp first so far-off values are still
# reported out of bounds (GX compares datetime64[ns] vectorised, anything else row by row)
_CLAMP = ("1678-01-01", "2261-12-31")
CHUNK_ROWS = 500_000  # rows validated at once (one pandas frame)
_PARTIAL = 20  # GX's partial_unexpected_list length in SUMMARY results


@dataclass(frozen=True)
class _File:
    rel: str
    dt: str
    rows: int


def load_suite(source: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    return json.loads((suites_dir / f"{source}.json").read_text())


def _raw_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        ).fetchall()
    )


def _suite_columns(spec: dict[str, Any]) -> set[str]:
    return {e["kwargs"]["column"] for e in spec["expectations"] if "column" in e.get("kwargs", {})}


def _chunk_query(table: str, types: dict[str, str], checked: set[str]) -> str:
    """One chunk of the run's rows of ``table`` (parameters: first dt, last dt, file paths):
    the columns the suite checks, and every other column by name only (all null), so the
    table-level expectations see the table's columns without the frame holding their values."""
    select = []
    for col, kind in types.items():
        if col == "_extra":
            continue
        if col not in checked:
            select.append(f"null as {col}")
        elif kind == "TIMESTAMP":
            # greatest/least skip nulls: keep a null a null
            low, high = (f"'{bound}'::timestamp" for bound in _CLAMP)
            select.append(
                f"case when {col} is null then null else least(greatest({col}, {low}), {high}) end as {col}"
            )
        elif kind.endswith("[]"):
            select.append(f"{col}::varchar as {col}")  # lists make GX fingerprint the frame by pickling it
        else:
            select.append(col)
    return (
        f"select {', '.join(select)} from raw.{table} "
        "where _dt between ?::date and ?::date and _file in (select unnest(?::varchar[]))"
    )


def _chunks(files: list[_File], rows: int) -> list[list[_File]]:
    """Files in load order, cut into chunks of about ``rows`` loaded rows."""
    chunks: list[list[_File]] = [[]]
    size = 0
    for f in files:
        if chunks[-1] and size + f.rows > rows:
            chunks.append([])
            size = 0
        chunks[-1].append(f)
        size += f.rows
    return chunks


def _plain(value: Any) -> Any:
    """JSON-safe: NaN/NaT become null, timestamps text."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return None if str(value) in ("NaT", "nan", "<NA>") else str(value)


def _observed(result: dict[str, Any]) -> str:
    if "unexpected_count" in result:
        pct = result.get("unexpected_percent") or 0.0
        return f"{result['unexpected_count']} of {result.get('element_count')} unexpected ({pct:.2f}%)"
    if "observed_value" in result:
        return json.dumps(result["observed_value"], default=str)
    return ""


@dataclass(frozen=True)
class _Gx:
    module: Any
    context: Any
    batch_definition: Any


def _gx_context() -> _Gx:
    """An ephemeral GX context with one pandas dataframe asset (nothing written to disk)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every in-memory batch under this size by hashing the whole frame: a batch
    # marker nothing here reads, and 2/3 of the time a chunk's validation takes (web events:
    # 4.2 -> 1.4 us a row). A threshold of 0 skips it; the results are the same.
    pandas_execution_engine.HASH_THRESHOLD = 0

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("raw")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("all")
    )
    return _Gx(gx, context, batch_definition)


@dataclass
class _Outcome:
    """One expectation's result over a source's chunks so far."""

    type: str
    column: str | None
    mostly: float
    success: bool
    result: dict[str, Any]
    error: str | None

    def add(self, success: bool, result: dict[str, Any], error: str | None) -> None:
        """Merge the next chunk's result: counts add up, the unexpected examples are the first
        ones in load order, percentage and success are GX's own formulas over the sums."""
        self.error = self.error or error
        mine = self.result
        if "unexpected_count" not in mine or "unexpected_count" not in result:
            self.success = self.success and success
            return
        for key in ("element_count", "unexpected_count", "missing_count"):
            if key in mine or key in result:
                mine[key] = (mine.get(key) or 0) + (result.get(key) or 0)
        if "partial_unexpected_list" in mine or "partial_unexpected_list" in result:
            examples = (mine.get("partial_unexpected_list") or []) + (
                result.get("partial_unexpected_list") or []
            )
            mine["partial_unexpected_list"] = examples[:_PARTIAL]
        considered = mine["element_count"] - mine.get("missing_count", 0)
        unexpected = mine["unexpected_count"]
        mine["unexpected_percent"] = unexpected / considered * 100 if considered > 0 else None
        self.success = considered == 0 or (considered - unexpected) / considered >= self.mostly


def _validate_chunk(gx: _Gx, suite: Any, frame: Any, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    """GX on one frame: (type, column, mostly, success, result, error) per expectation."""
    batch = gx.batch_definition.get_batch(batch_parameters={"dataframe": frame})
    outcome = batch.validate(suite, expectation_parameters=parameters, result_format="SUMMARY")
    out = []
    for r in outcome.results:
        config = r.expectation_config
        mostly = config.kwargs.get("mostly")
        out.append(
            (config.type, config.kwargs.get("column"), 1.0 if mostly is None else float(mostly), bool(r.success),
             dict(r.result or {}), _exception(r.exception_info))
        )  # fmt: skip
    return out


def _merge(outcomes: list[_Outcome], chunk: list[tuple[Any, ...]]) -> None:
    if not outcomes:
        outcomes.extend(_Outcome(*r) for r in chunk)
        return
    for mine, (_, _, _, success, result, error) in zip(outcomes, chunk, strict=True):
        mine.add(success, result, error)


_GX: _Gx | None = None
_SUITES: dict[str, Any] = {}


def _suite(name: str) -> tuple[_Gx, Any]:
    """This process's GX context and the source's suite, loaded once."""
    global _GX
    if _GX is None:  # GX takes seconds to import: only when there is a batch to check
        _GX = _gx_context()
    if name not in _SUITES:
        spec = load_suite(name)
        _SUITES[name] = _GX.context.suites.add(
            _GX.module.ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
        )
    return _GX, _SUITES[name]


def warm_up() -> None:
    """What a process's first validation costs (seconds: importing GX, its first run), paid
    ahead - by the parsers' workers, once they have no file left to parse."""
    import pandas as pd

    spec = load_suite("email")
    columns = sorted(
        _suite_columns(spec) | {c for e in spec["expectations"] for c in e["kwargs"].get("column_set", [])}
    )
    frame = pd.DataFrame({c: [None] for c in columns})
    gx, suite = _suite("email")
    _validate_chunk(gx, suite, frame, {"min_ts": MIN_TS, "max_ts": MIN_TS})


def validate_part(
    path: str, name: str, parameters: dict[str, Any]
) -> tuple[int, list[tuple[Any, ...]] | None]:
    """Validate one exported chunk (a Parquet file) against the source's suite: (rows, results);
    runs in a worker process or in the loader's. GX and the suites load once per process."""
    con = duckdb.connect(config={"threads": 1})
    try:
        frame = con.execute("select * from read_parquet(?)", [path]).df()
        kinds = dict(con.execute("select column_name, column_type from (describe select * from read_parquet(?))",
                                 [path]).fetchall())  # fmt: skip
    finally:
        con.close()
    if frame.empty:
        return 0, None
    for col, kind in kinds.items():
        if kind == "TIMESTAMP":
            frame[col] = frame[col].astype("datetime64[ns]")
    gx, suite = _suite(name)
    return len(frame), _validate_chunk(gx, suite, frame, parameters)


def _record(
    name: str,
    rows: int,
    outcomes: list[_Outcome],
    run_date: str,
    validated_at: datetime,
    out: list[tuple[Any, ...]],
) -> dict[str, Any]:
    failed = []
    for o in outcomes:
        observed = _observed(o.result) or (f"error: {o.error}" if o.error else "")
        details = {k: _plain(o.result[k]) for k in _DETAIL_KEYS if k in o.result}
        if o.error:
            details["error"] = o.error
        out.append((run_date, name, o.type, o.column, o.success, observed, json.dumps(details), validated_at))
        if not o.success:
            failed.append({"expectation": o.type, "column": o.column, "observed": observed, **details})
    return {"success": all(o.success for o in outcomes), "rows": rows, "expectations": len(outcomes),
            "failed": failed}  # fmt: skip


def _exception(info: dict[str, Any] | None) -> str | None:
    """GX reports an expectation it could not evaluate in exception_info (flat or per metric)."""
    if not info or info.get("raised_exception") is False:
        return None
    infos = [info] if "exception_message" in info else list(info.values())
    return "; ".join(str(i.get("exception_message")) for i in infos if i.get("exception_message")) or None


def validate_batches(
    con: duckdb.DuckDBPyConnection,
    run_date: str,
    files_by_source: dict[str, list[tuple[str, str, int]]],
    validated_at: datetime,
    pool: Executor | None = None,
    workers: int = 1,
) -> dict[str, Any]:
    """Validate each source's rows from ``files_by_source`` ((path, dt, rows loaded) per
    file); write ops.validation_results.

    A source's rows are checked in chunks of about ``CHUNK_ROWS`` rows (files in load order),
    so memory stays bounded however large the run: each chunk is exported to a Parquet file
    and validated - by ``pool``'s ``workers`` processes when given, else here -
    and the chunks' results are merged into one result per expectation (counts summed, GX's
    own percentage and ``mostly`` formulas over the sums), exactly what one batch of all the
    rows gives. Returns {source: {"success", "rows", "expectations", "failed": [...]}}. A
    failing expectation (or one GX could not evaluate) is reported, never raised."""
    todo = {s: [_File(*f) for f in files] for s, files in files_by_source.items() if files}
    if not todo:
        return {}
    parameters = {
        "min_ts": MIN_TS,
        "max_ts": datetime.combine(date.fromisoformat(run_date), datetime.min.time()) + timedelta(days=2),
    }
    workdir = tempfile.mkdtemp(prefix="rightsend-validate-")
    done: dict[str, list[Any]] = {name: [0, []] for name in todo}  # rows validated, merged outcomes
    errors: dict[str, str] = {}
    pending: deque[tuple[str, str, Future[Any]]] = deque()

    def collect(name: str, path: str, job: Future[Any] | None) -> None:
        try:
            rows, chunk = job.result() if job is not None else validate_part(path, name, parameters)
            if chunk is not None and name not in errors:
                done[name][0] += rows
                _merge(done[name][1], chunk)
        except Exception as exc:  # GX itself failed: report it, the loaded data stays loaded
            errors.setdefault(name, str(exc))
        finally:
            os.unlink(path)

    try:
        for name, files in todo.items():
            table = SOURCES[name].table
            query = _chunk_query(table, _raw_types(con, table), _suite_columns(load_suite(name)))
            for number, chunk in enumerate(_chunks(files, CHUNK_ROWS)):
                path = os.path.join(workdir, f"{name}-{number}.parquet")
                try:
                    con.execute(
                        f"copy ({query}) to {sql_string(path)} (format parquet)",
                        [min(f.dt for f in chunk), max(f.dt for f in chunk), [f.rel for f in chunk]],
                    )
                except duckdb.Error as exc:
                    errors.setdefault(name, str(exc))
                    continue
                if pool is None:
                    collect(name, path, None)
                    continue
                try:
                    pending.append((name, path, pool.submit(validate_part, path, name, parameters)))
                except RuntimeError as exc:  # a broken pool (BrokenProcessPool): go on here
                    log.warning("ingest: validating in one process (%s)", exc)
                    pool = None
                    collect(name, path, None)
                    continue
                while len(pending) > 2 * workers:  # exported chunks wait on disk, a few at most
                    collect(*pending.popleft())
        while pending:
            collect(*pending.popleft())
    finally:
        for _, _, job in pending:
            job.cancel()
        shutil.rmtree(workdir, ignore_errors=True)

    summary: dict[str, Any] = {}
    rows: list[tuple[Any, ...]] = []
    for name in todo:
        if name in errors:
            log.warning("ingest: validation of %s could not run: %s", name, errors[name])
            summary[name] = {"success": False, "rows": done[name][0], "expectations": 0, "failed": [],
                             "error": errors[name]}  # fmt: skip
            rows.append(
                (
                    run_date,
                    name,
                    "suite",
                    None,
                    False,
                    "error",
                    json.dumps({"error": errors[name]}),
                    validated_at,
                )
            )
        elif done[name][1]:
            summary[name] = _record(name, done[name][0], done[name][1], run_date, validated_at, rows)
    if rows:
        con.executemany("insert into ops.validation_results values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return summary
