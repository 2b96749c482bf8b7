"""runs/dt=D/summary.json: what a run did, for people and machines.

Each stage returns a plain dict that the orchestration records under its own key
(``ingest``, ``build``, ``train``, ``score``, ``decide``, ``dispatch``, ``exports``)
together with the seconds it took. Re-running a stage replaces its section.

A stage mapped over buckets of people (``score``, ``dispatch``; rightsend.buckets) records
each bucket under ``buckets.<stage>.done.<bucket>`` and keeps the stage's own section the
sum of its buckets: counts add up, facts shared by every bucket (model version, metrics,
transport) are kept once, and its time is the buckets' total task time. A re-run of a
bucket replaces that bucket only.
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any

from rightsend.config import Settings

STAGES = ("ingest", "build", "train", "score", "decide", "dispatch", "exports")


def summary_path(settings: Settings, run_date: str) -> Path:
    return settings.runs_dir(run_date) / "summary.json"


def load(settings: Settings, run_date: str) -> dict[str, Any]:
    path = summary_path(settings, run_date)
    return json.loads(path.read_text()) if path.exists() else {"run_date": run_date}


def _update(settings: Settings, run_date: str, change: Any) -> None:
    """Apply ``change(data)`` to the summary file: under a lock, replaced atomically."""
    path = summary_path(settings, run_date)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = load(settings, run_date)
        change(data)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
        tmp.replace(path)


def record(settings: Settings, run_date: str, stage: str, result: dict[str, Any], seconds: float) -> None:
    """Merge one stage's result into the summary; a re-run replaces its section."""

    def change(data: dict[str, Any]) -> None:
        data[stage] = result
        data.setdefault("timings_seconds", {})[stage] = round(seconds, 3)
        (data.get("buckets") or {}).pop(stage, None)  # a run over everybody replaces the buckets

    _update(settings, run_date, change)


# Facts every bucket of a stage reports alike: kept once (the first bucket's), never added up.
SHARED_KEYS = frozenset(
    {"model_version", "score_date", "validation", "lift", "trained_first", "transport", "metrics"}
)


def merge_buckets(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One stage's result from its buckets' results: numbers add up, mappings merge key by
    key, lists concatenate; keys in SHARED_KEYS and text keep the first value that is set."""

    def merge(key: str | None, values: list[Any]) -> Any:
        present = [v for v in values if v is not None]
        if not present:
            return None
        first = present[0]
        if key in SHARED_KEYS:
            return first
        if all(isinstance(v, dict) for v in present):
            keys = list(dict.fromkeys(k for v in present for k in v))
            return {k: merge(k, [v.get(k) for v in present]) for k in keys}
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
            total = sum(present)
            return round(total, 6) if isinstance(total, float) else total
        if all(isinstance(v, list) for v in present):
            return [x for v in present for x in v]
        return first

    return merge(None, results) or {}


def record_bucket(
    settings: Settings,
    run_date: str,
    stage: str,
    bucket: int,
    buckets: int,
    result: dict[str, Any],
    seconds: float,
) -> None:
    """Record one bucket of a mapped stage and recompute the stage's section from its buckets.

    Buckets recorded with another number of buckets (a re-run after RIGHTSEND_BUCKETS
    changed) are dropped first: the new split covers everybody again.
    """

    def change(data: dict[str, Any]) -> None:
        by_stage = data.setdefault("buckets", {})
        parts = by_stage.get(stage)
        if not isinstance(parts, dict) or parts.get("of") != buckets:
            parts = {"of": buckets, "done": {}}
        parts["done"][str(bucket)] = {"result": result, "seconds": round(seconds, 3)}
        by_stage[stage] = parts
        done = [parts["done"][key] for key in sorted(parts["done"], key=int)]
        data[stage] = merge_buckets([part["result"] for part in done])
        data.setdefault("timings_seconds", {})[stage] = round(sum(part["seconds"] for part in done), 3)

    _update(settings, run_date, change)


def record_dag(settings: Settings, run_date: str, dag_id: str, outcome: dict[str, Any]) -> None:
    """How each Airflow DAG of the chain ended, and how long it took."""
    _update(settings, run_date, lambda data: data.setdefault("airflow", {}).__setitem__(dag_id, outcome))


def run_stage(
    stage: str,
    fn: Any,
    run_date: str,
    settings: Settings | None = None,
    *,
    bucket: int | None = None,
    buckets: int | None = None,
) -> dict[str, Any]:
    """Run ``fn(settings, run_date)``, time it and record its result. Used by every DAG task.

    With ``bucket`` (a task mapped over buckets): ``fn(settings, run_date, bucket=, buckets=)``,
    recorded as that bucket of the stage.
    """
    import time

    settings = settings or Settings.from_env()
    started = time.perf_counter()
    if bucket is None:
        result = fn(settings, run_date)
        record(settings, run_date, stage, result, time.perf_counter() - started)
        return result
    if buckets is None:
        from rightsend.buckets import bucket_count

        buckets = bucket_count()
    result = fn(settings, run_date, bucket=bucket, buckets=buckets)
    record_bucket(settings, run_date, stage, bucket, buckets, result, time.perf_counter() - started)
    return result


def _in_buckets(data: dict[str, Any], stage: str) -> str:
    """' in 4 buckets' (or ' in 3 of 4 buckets' while some are missing) for a mapped stage."""
    parts = (data.get("buckets") or {}).get(stage)
    if not isinstance(parts, dict) or not parts.get("of"):
        return ""
    of, done = int(parts["of"]), len(parts.get("done") or {})
    return f" in {of} buckets" if done == of else f" in {done} of {of} buckets"


def _n(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _total(value: Any) -> int:
    """A count, or the sum of a {reason: count} mapping."""
    return sum(int(v) for v in value.values()) if isinstance(value, dict) else int(value or 0)


def _counts(mapping: dict[str, Any] | None, limit: int = 6) -> str:
    items = sorted((mapping or {}).items(), key=lambda kv: -int(kv[1] or 0))
    text = ", ".join(f"{k} {_n(v)}" for k, v in items[:limit])
    return text + (f", +{len(items) - limit} more" if len(items) > limit else "")


_BASELINES = {
    "global_best_hour": "one global best hour",
    "modal_past_hour": "each person's usual hour",
    "random": "a random hour",
}


def _lift_words(lift: dict[str, Any]) -> str:
    """{'replay_vs_random': 0.88, 'estimate_vs_random': 0.74} -> 'a random hour +88% (replay), +74% (model)'"""
    parts = []
    for key, words in _BASELINES.items():
        found = [
            f"{lift[f'{method}_vs_{key}']:+.0%} ({label})"
            for method, label in (("replay", "replay"), ("estimate", "model estimate"))
            if isinstance(lift.get(f"{method}_vs_{key}"), int | float)
        ]
        if found:
            parts.append(f"{words} {', '.join(found)}")
    return "; ".join(parts) or _counts(lift)


def describe(data: dict[str, Any], settings: Settings | None = None) -> str:
    """The summary in words, for the person who ran `make run`."""
    lines = [f"rightsend daily chain for {data.get('run_date')}"]
    ingest = data.get("ingest") or {}
    if ingest:
        files = ingest.get("files", {})
        rows = ingest.get("rows", {})
        loaded = sum(int(r.get("loaded", 0)) for r in rows.values())
        quarantined = sum(int(r.get("quarantined", 0)) for r in rows.values())
        lines.append(
            f"  ingest    {_n(len(files.get('loaded', [])))} files loaded, "
            f"{_n(files.get('skipped_already_loaded', 0))} already loaded, "
            f"{_n(len(files.get('failed', [])))} failed; {_n(loaded)} rows loaded, {_n(quarantined)} quarantined"
        )
        for failed in files.get("failed", [])[:5]:
            lines.append(f"            failed file {failed.get('path')}: {failed.get('error')}")
        for changed in files.get("changed", [])[:5]:
            lines.append(f"            changed after loading (not reloaded): {changed.get('path')}")
        reasons: dict[str, int] = {}
        for source_rows in rows.values():
            for reason, count in (source_rows.get("quarantine_reasons") or {}).items():
                reasons[reason] = reasons.get(reason, 0) + int(count)
        if reasons:
            lines.append(f"            quarantined because: {_counts(reasons)}")
        validation = ingest.get("validation") or {}
        if validation:
            checks = sum(int(v.get("expectations", 0)) for v in validation.values())
            failed = [f"{source}: {f}" for source, v in validation.items() for f in v.get("failed", [])]
            lines.append(
                f"            Great Expectations: {len(validation)} batches, {_n(checks)} expectations, "
                + (f"{len(failed)} FAILED: {'; '.join(map(str, failed[:3]))}" if failed else "all met")
            )
        erasure = ingest.get("erasure") or {}
        if erasure.get("requests"):
            deleted = _total(erasure.get("rows_deleted") or {})
            lines.append(
                f"            erasure: {_n(erasure['requests'])} requests, "
                f"{_n(erasure.get('identifiers_tombstoned', 0))} identifiers tombstoned, {_n(deleted)} raw rows removed"
            )
    build = data.get("build") or {}
    if build:
        lines.append(
            f"  build     {_n(build.get('models_built', 0))} dbt models built, "
            f"{_n(build.get('tests_passed', 0))} data tests and "
            f"{_n(build.get('unit_tests_passed', 0))} unit tests passed"
            + (f"; NOT OK: {build['not_ok']}" if build.get("not_ok") else "")
        )
    train = data.get("train") or {}
    score = data.get("score") or {}
    if train or score:
        version = score.get("model_version") or train.get("version")
        metrics = train.get("metrics") or score.get("metrics") or {}
        trained = "trained this run" if train.get("trained") else "current champion"
        shown = ", ".join(f"{k} {_n(v)}" for k, v in metrics.items() if isinstance(v, int | float))
        lines.append(f"  model     {version} ({trained}){'; ' + shown if shown else ''}")
        lift = train.get("lift") or score.get("lift")
        if isinstance(lift, dict) and lift:
            lines.append("            engagement of the model's choice against " + _lift_words(lift))
        if score:
            lines.append(
                f"            scored {_n(score.get('people_scored', 0))} people{_in_buckets(data, 'score')}: "
                f"{_n(score.get('personal', 0))} personal, {_n(score.get('fallback', 0))} fallback"
            )
    decide = data.get("decide") or {}
    if decide:
        lines.append(
            f"  decide    {_n(decide.get('queued', 0))} messages queued to send, {_n(decide.get('held_out', 0))} "
            f"more held out as control; suppressed: {_counts(decide.get('suppressed')) or 'none'}"
        )
        for campaign, c in sorted((decide.get("by_campaign") or {}).items()):
            channels = c.get("channel") or c.get("channels") or {}
            suppressed = c.get("suppressed")
            why = f" ({_counts(suppressed, limit=2)})" if isinstance(suppressed, dict) and suppressed else ""
            lines.append(
                f"            {campaign:<24} queued {_n(c.get('queued', 0)):>6}"
                + (f" [{_counts(channels)}]" if isinstance(channels, dict) and channels else "")
                + f", held out {_n(c.get('held_out', 0))}, suppressed {_n(_total(suppressed))}{why}"
            )
    dispatch = data.get("dispatch") or {}
    if dispatch:
        lines.append(
            f"  dispatch  {_n(dispatch.get('published', 0))} published via {dispatch.get('transport')}, "
            f"{_n(dispatch.get('already_published', 0))} already published{_in_buckets(data, 'dispatch')}"
        )
    exports = data.get("exports") or {}
    if exports:
        lines.append(f"  exports   {_n(len(exports.get('files', {})))} files; report {exports.get('report')}")
    timings = dict(data.get("timings_seconds") or {})
    if "rightsend_build" in (data.get("airflow") or {}):  # dbt ran in Cosmos tasks, not in the tally
        timings["build"] = data["airflow"]["rightsend_build"].get("seconds", timings.get("build", 0))
    if timings:
        lines.append("  took      " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    dags = data.get("airflow") or {}
    if dags:
        lines.append(
            "  airflow   "
            + ", ".join(
                f"{dag_id} {d.get('state')} in {d.get('seconds', 0):.0f}s" for dag_id, d in dags.items()
            )
        )
    if settings is not None:
        run_date = str(data.get("run_date"))
        lines.append(f"  outputs   queue   {settings.queue_dir(run_date)}/messages.csv")
        lines.append(f"            exports {settings.exports_dir(run_date)}/")
        lines.append(f"            summary {summary_path(settings, run_date)}")
    return "\n".join(lines)
