"""Great Expectations checks on each source's newly loaded batch (suites in include/gx/suites)."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from rightsend.config import INCLUDE_DIR
from rightsend.ingest.sources import SOURCES

SUITES_DIR = INCLUDE_DIR / "gx" / "suites"
MIN_TS = datetime(2000, 1, 1)
_DETAIL_KEYS = ("element_count", "unexpected_count", "missing_count", "partial_unexpected_list")
log = logging.getLogger(__name__)
# pandas' nanosecond timestamps end in 2262: clamp first so far-off values are still
# reported out of bounds (GX compares datetime64[ns] vectorised, anything else row by row)
_CLAMP = ("1678-01-01", "2261-12-31")


def load_suite(source: str, suites_dir: Path = SUITES_DIR) -> dict[str, Any]:
    return json.loads((suites_dir / f"{source}.json").read_text())


def _batch_frame(con: duckdb.DuckDBPyConnection, table: str, files: list[str]) -> Any:
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'raw' and table_name = ?",
            [table],
        ).fetchall()
    )
    select = []
    for col, kind in types.items():
        if col == "_extra":
            continue
        if kind == "TIMESTAMP":
            # greatest/least skip nulls: keep a null a null
            low, high = (f"'{bound}'::timestamp" for bound in _CLAMP)
            select.append(
                f"case when {col} is null then null else least(greatest({col}, {low}), {high}) end as {col}"
            )
        elif kind.endswith("[]"):
            select.append(f"{col}::varchar as {col}")  # lists make GX fingerprint the frame by pickling it
        else:
            select.append(col)
    frame = con.execute(
        f"select {', '.join(select)} from raw.{table} where _file in (select unnest(?::varchar[]))", [files]
    ).df()
    for col, kind in types.items():
        if kind == "TIMESTAMP":
            frame[col] = frame[col].astype("datetime64[ns]")
    return frame


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

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    batch_definition = (
        context.data_sources.add_pandas("raw")
        .add_dataframe_asset("batch")
        .add_batch_definition_whole_dataframe("all")
    )
    return _Gx(gx, context, batch_definition)


def _validate_one(
    gx: _Gx,
    name: str,
    frame: Any,
    parameters: dict[str, Any],
    run_date: str,
    validated_at: datetime,
    rows: list[tuple[Any, ...]],
) -> dict[str, Any]:
    spec = load_suite(name)
    suite = gx.context.suites.add(
        gx.module.ExpectationSuite(name=spec["name"], expectations=spec["expectations"])
    )
    batch = gx.batch_definition.get_batch(batch_parameters={"dataframe": frame})
    outcome = batch.validate(suite, expectation_parameters=parameters, result_format="SUMMARY")
    failed = []
    for r in outcome.results:
        config = r.expectation_config
        column = config.kwargs.get("column")
        result = dict(r.result or {})
        error = _exception(r.exception_info)
        observed = _observed(result) or (f"error: {error}" if error else "")
        details = {k: _plain(result[k]) for k in _DETAIL_KEYS if k in result}
        if error:
            details["error"] = error
        rows.append(
            (
                run_date,
                name,
                config.type,
                column,
                bool(r.success),
                observed,
                json.dumps(details),
                validated_at,
            )
        )
        if not r.success:
            failed.append({"expectation": config.type, "column": column, "observed": observed, **details})
    return {"success": bool(outcome.success), "rows": len(frame), "expectations": len(outcome.results),
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
    files_by_source: dict[str, list[str]],
    validated_at: datetime,
) -> dict[str, Any]:
    """Validate each source's rows from ``files_by_source``; write ops.validation_results.

    Returns {source: {"success", "rows", "expectations", "failed": [...]}}. A failing
    expectation (or one GX could not evaluate) is reported, never raised."""
    todo = {s: f for s, f in files_by_source.items() if f}
    if not todo:
        return {}
    parameters = {
        "min_ts": MIN_TS,
        "max_ts": datetime.combine(date.fromisoformat(run_date), datetime.min.time()) + timedelta(days=2),
    }
    gx: _Gx | None = None
    summary: dict[str, Any] = {}
    rows: list[tuple[Any, ...]] = []
    for name, files in todo.items():
        frame = _batch_frame(con, SOURCES[name].table, files)
        if frame.empty:
            continue
        if gx is None:  # GX takes seconds to import: only when there is a batch to check
            gx = _gx_context()
        try:
            summary[name] = _validate_one(gx, name, frame, parameters, run_date, validated_at, rows)
        except Exception as exc:  # GX itself failed: report it, the loaded data stays loaded
            log.warning("ingest: validation of %s could not run: %s", name, exc)
            summary[name] = {
                "success": False,
                "rows": len(frame),
                "expectations": 0,
                "failed": [],
                "error": str(exc),
            }
            rows.append(
                (run_date, name, "suite", None, False, "error", json.dumps({"error": str(exc)}), validated_at)
            )
    if rows:
        con.executemany("insert into ops.validation_results values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return summary
