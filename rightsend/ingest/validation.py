"""Great Expectations checks on each source's newly loaded batch (suites in include/gx/suites)."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from rightsend.config import INCLUDE_DIR
from rightsend.ingest.sources import SOURCES

SUITES_DIR = INCLUDE_DIR / "gx" / "suites"
MIN_TS = datetime(2000, 1, 1)
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
    parameters = {"min_ts": MIN_TS, "max_ts": datetime.combine(date.fromisoformat(run_date), datetime.min.time())
                  + timedelta(days=2)}  # fmt: skip
    summary: dict[str, Any] = {}
    rows: list[tuple[Any, ...]] = []
    for name, files in todo.items():
        frame = _batch_frame(con, SOURCES[name].table, files)
        if frame.empty:
            continue
        spec = load_suite(name)
        suite = context.suites.add(gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"]))
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        outcome = batch.validate(suite, expectation_parameters=parameters, result_format="SUMMARY")
        failed = []
        for r in outcome.results:
            config = r.expectation_config
            column = config.kwargs.get("column")
            result = dict(r.result or {})
            error = None
            if r.exception_info and r.exception_info.get("raised_exception") is not False:
                infos = (
                    [r.exception_info]
                    if "exception_message" in r.exception_info
                    else r.exception_info.values()
                )
                error = "; ".join(
                    str(i.get("exception_message")) for i in infos if i.get("exception_message")
                )
            observed = _observed(result) or (f"error: {error}" if error else "")
            details = {
                k: _plain(result[k]) for k in ("element_count", "unexpected_count", "missing_count", "partial_unexpected_list")
                if k in result
            }  # fmt: skip
            if error:
                details["error"] = error
            rows.append(
                (run_date, name, config.type, column, bool(r.success), observed,
                 json.dumps(details, default=str), validated_at)
            )  # fmt: skip
            if not r.success:
                failed.append({"expectation": config.type, "column": column, "observed": observed, **details})
        summary[name] = {
            "success": bool(outcome.success),
            "rows": len(frame),
            "expectations": len(outcome.results),
            "failed": failed,
        }
    if rows:
        con.executemany("insert into ops.validation_results values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return summary
