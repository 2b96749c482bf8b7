"""Everything the report shows, gathered from the warehouse, the registry and summary.json.

Each section tolerates a missing table (a stage that has not run) with an empty result,
so a partial pipeline still gets a report that says what is missing.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import duckdb

from rightsend.config import Settings
from rightsend.exports import customers
from rightsend.exports._db import has_table, records

CHANNELS = ("email", "sms", "push")
TREND_DAYS = 30


def _counts(con: duckdb.DuckDBPyConnection, table: str, sql: str, params: Any = None) -> list[dict]:
    if not has_table(con, table):
        return []
    if table == "marts.dim_customers":  # count exactly the people the exports hold: never the erased
        people = f"(select c.* from marts.dim_customers c where {customers.not_erased_sql(con)})"
        sql = sql.replace("from marts.dim_customers", f"from {people}")
    return records(con, sql, params)


def queue_section(con: duckdb.DuckDBPyConnection, run_date: str) -> dict[str, Any]:
    rows = _counts(
        con,
        "queue.outbox",
        """select campaign_id, use_case, channel, is_holdout,
                  try_cast(substr(send_at_local, 12, 2) as integer) as local_hour, count(*) as n
           from queue.outbox where queue_date = ?::date group by all""",
        [run_date],
    )
    campaigns = sorted({r["campaign_id"] for r in rows})
    by_campaign = {c: {ch: 0 for ch in CHANNELS} for c in campaigns}
    table: dict[str, dict[str, Any]] = {}
    hours = {ch: [0] * 24 for ch in CHANNELS}
    for r in rows:
        t = table.setdefault(
            r["campaign_id"],
            {
                "campaign_id": r["campaign_id"],
                "use_case": r["use_case"],
                "queued": 0,
                "holdout": 0,
                **dict.fromkeys(CHANNELS, 0),
            },
        )
        t["queued"] += r["n"]
        if r["is_holdout"]:
            t["holdout"] += r["n"]
            continue  # holdouts are never sent: they do not belong in the send plan
        if r["channel"] in CHANNELS:
            t[r["channel"]] += r["n"]
            by_campaign[r["campaign_id"]][r["channel"]] += r["n"]
            if r["local_hour"] is not None and 0 <= r["local_hour"] < 24:
                hours[r["channel"]][r["local_hour"]] += r["n"]
    total = sum(t["queued"] for t in table.values())
    holdout = sum(t["holdout"] for t in table.values())
    return {
        "total": total,
        "holdout": holdout,
        "to_send": total - holdout,
        "campaigns": campaigns,
        "by_campaign": by_campaign,
        "hours": hours,
        "table": sorted(table.values(), key=lambda t: (-t["queued"], t["campaign_id"])),
    }


def segments_section(con: duckdb.DuckDBPyConnection, run_date: str) -> dict[str, Any]:
    sizes = _counts(
        con,
        "marts.dim_customers",
        "select coalesce(rfm_segment, '(no orders)') as segment, count(*) as n from marts.dim_customers group by 1 order by 2 desc, 1",
    )
    lifecycle = _counts(
        con,
        "marts.dim_customers",
        "select coalesce(lifecycle_state, '(unknown)') as state, count(*) as n from marts.dim_customers group by 1 order by 2 desc, 1",
    )
    grid = [[0] * 5 for _ in range(5)]  # grid[5 - r][f - 1]: R=5 on the top row
    for r in _counts(
        con,
        "marts.dim_customers",
        "select r_score, f_score, count(*) as n from marts.dim_customers where r_score between 1 and 5 and f_score between 1 and 5 group by all",
    ):
        grid[5 - int(r["r_score"])][int(r["f_score"]) - 1] = r["n"]
    start = (date.fromisoformat(run_date) - timedelta(days=TREND_DAYS - 1)).isoformat()
    trend_rows = _counts(
        con,
        "marts.mart_customer_segments_daily",
        """select snapshot_date, coalesce(rfm_segment, '(no orders)') as segment, count(*) as n
           from marts.mart_customer_segments_daily where snapshot_date between ?::date and ?::date
           group by all order by 1, 2""",
        [start, run_date],
    )
    dates = sorted({str(r["snapshot_date"]) for r in trend_rows})
    top = (
        [
            s
            for s, _ in Counter(
                {r["segment"]: r["n"] for r in trend_rows if str(r["snapshot_date"]) == dates[-1]}
            ).most_common(8)
        ]
        if dates
        else []
    )
    trend = {s: [0] * len(dates) for s in top}
    for r in trend_rows:
        if r["segment"] in trend:
            trend[r["segment"]][dates.index(str(r["snapshot_date"]))] = r["n"]
    return {
        "sizes": sizes,
        "lifecycle": lifecycle,
        "grid": grid,
        "trend_dates": dates,
        "trend": trend,
        "total": sum(s["n"] for s in sizes),
    }


def movement_section(movements: list[tuple]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for comparison, base, _today, dim, src, dst, n in movements:
        section = out.setdefault(comparison, {"base_date": base, "rfm_segment": [], "lifecycle_state": []})
        section[dim].append({"from": src, "to": dst, "n": n})
    for section in out.values():
        rfm = section["rfm_segment"]
        labels = sorted({m["from"] for m in rfm} | {m["to"] for m in rfm})
        matrix = [[0] * len(labels) for _ in labels]
        for m in rfm:
            matrix[labels.index(m["from"])][labels.index(m["to"])] = m["n"]
        section["labels"], section["matrix"] = labels, matrix
        section["moved"] = sum(m["n"] for m in rfm if m["from"] != m["to"])
        section["stayed"] = sum(m["n"] for m in rfm if m["from"] == m["to"])
        section["top_moves"] = sorted(
            (m for m in rfm if m["from"] != m["to"]), key=lambda m: (-m["n"], m["from"], m["to"])
        )[:10]
    return out


def channel_section(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    reach = _counts(
        con,
        "marts.dim_customers",
        """select count(*) filter (where is_email_reachable) as email, count(*) filter (where is_sms_reachable) as sms,
                  count(*) filter (where is_push_reachable) as push from marts.dim_customers""",
    )
    preferred = {
        r["ch"]: r["n"]
        for r in _counts(
            con,
            "marts.dim_customers",
            "select coalesce(preferred_channel, 'none') as ch, count(*) as n from marts.dim_customers group by 1",
        )
    }
    engagement = _counts(
        con,
        "marts.mart_customer_channel_engagement",
        """select channel, sum(sends_30d) as sends_30d, sum(engagements_30d) as engagements_30d,
                  sum(sends_90d) as sends_90d, sum(engagements_90d) as engagements_90d,
                  count(*) filter (where is_reachable) as reachable
           from marts.mart_customer_channel_engagement group by 1""",
    )
    by_ch = {r["channel"]: r for r in engagement}
    rows = []
    for ch in CHANNELS:
        e = by_ch.get(ch, {})
        s30, s90 = int(e.get("sends_30d") or 0), int(e.get("sends_90d") or 0)
        rows.append(
            {
                "channel": ch,
                "reachable": (reach[0][ch] if reach else 0) or 0,
                "preferred": preferred.get(ch, 0),
                "sends_30d": s30,
                "engagements_30d": int(e.get("engagements_30d") or 0),
                "rate_30d": (int(e.get("engagements_30d") or 0) / s30) if s30 else None,
                "sends_90d": s90,
                "engagements_90d": int(e.get("engagements_90d") or 0),
                "rate_90d": (int(e.get("engagements_90d") or 0) / s90) if s90 else None,
            }
        )
    return {"rows": rows, "no_preference": preferred.get("none", 0)}


def hours_section(con: duckdb.DuckDBPyConnection, run_date: str) -> dict[str, Any]:
    def dist(table: str, sql: str, params: Any = None) -> list[int]:
        out = [0] * 24
        for r in _counts(con, table, sql, params):
            if r["h"] is not None and 0 <= int(r["h"]) < 24:
                out[int(r["h"])] += int(r["n"])
        return out

    model = dist(
        "ml.send_scores",
        "select best_local_hour as h, count(*) as n from ml.send_scores where score_date = ?::date and channel_rank = 1 group by 1",
        [run_date],
    )
    queued = dist(
        "queue.outbox",
        """select try_cast(substr(send_at_local, 12, 2) as integer) as h, count(*) as n from queue.outbox
           where queue_date = ?::date and not is_holdout group by 1""",
        [run_date],
    )
    legacy = dist(
        "marts.fct_sends",
        "select sent_local_hour as h, count(*) as n from marts.fct_sends where sent_at < ?::date + interval 1 day group by 1",
        [run_date],
    )
    personal = _counts(
        con,
        "ml.send_scores",
        """select channel, count(*) filter (where is_personal) as personal, count(*) filter (where not coalesce(is_personal, false)) as fallback
           from ml.send_scores where score_date = ?::date and channel_rank = 1 group by 1 order by 1""",
        [run_date],
    )
    tot_p = sum(r["personal"] for r in personal)
    tot = tot_p + sum(r["fallback"] for r in personal)
    return {
        "model": model,
        "queued": queued,
        "legacy": legacy,
        "personal": personal,
        "personal_share": (tot_p / tot) if tot else None,
        "scored": tot,
    }


def suppression_section(
    con: duckdb.DuckDBPyConnection, run_date: str, summary: dict[str, Any]
) -> dict[str, Any]:
    rows = _counts(
        con,
        "queue.suppression_log",
        """select rule, count(*) as n, count(distinct customer_id) as people, count(distinct campaign_id) as campaigns
           from queue.suppression_log where queue_date = ?::date group by 1 order by 2 desc, 1""",
        [run_date],
    )
    decide = summary.get("decide") if isinstance(summary.get("decide"), dict) else {}
    return {"rules": rows, "total": sum(r["n"] for r in rows), "decide": decide}


def data_quality_section(
    con: duckdb.DuckDBPyConnection, run_date: str, summary: dict[str, Any]
) -> dict[str, Any]:
    files = _counts(
        con,
        "ops.manifest",
        """select source, status, count(*) as files, sum(rows_loaded) as rows_loaded,
                  sum(rows_quarantined) as rows_quarantined, sum(rows_erased) as rows_erased
           from ops.manifest where run_date = ?::date group by all order by 1, 2""",
        [run_date],
    )
    failed = _counts(
        con,
        "ops.manifest",
        "select path, status, error from ops.manifest where run_date = ?::date and status <> 'loaded' order by path",
        [run_date],
    )
    quarantine = _counts(
        con,
        "ops.quarantine",
        "select source, reason, count(*) as n from ops.quarantine where run_date = ?::date group by all order by 3 desc, 1, 2",
        [run_date],
    )
    timings = summary.get("timings_seconds") if isinstance(summary.get("timings_seconds"), dict) else {}
    stages = [
        {"stage": k, "result": _headline(summary.get(k)), "seconds": timings.get(k)}
        for k in ("ingest", "build", "train", "score", "decide", "dispatch", "exports")
        if k in summary or k in timings
    ]
    return {"files": files, "failed": failed, "quarantine": quarantine, "stages": stages}


def _headline(result: Any) -> str:
    """The scalar facts of a stage's summary entry, in one line."""
    if not isinstance(result, dict):
        return "" if result is None else str(result)
    parts = [
        f"{k.replace('_', ' ')}: {v:,}"
        if isinstance(v, int) and not isinstance(v, bool)
        else f"{k.replace('_', ' ')}: {v}"
        for k, v in result.items()
        if isinstance(v, int | float | str | bool) and len(str(v)) < 60
    ]
    return "; ".join(parts[:8])


def _find(node: Any, want: Any, path: str = "") -> list[tuple[str, Any]]:
    """Depth-first (path, value) pairs where want(key, value) holds."""
    out: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            p = f"{path}.{k}" if path else str(k)
            if want(str(k), v):
                out.append((p, v))
            else:
                out.extend(_find(v, want, p))
    return out


def _calibration_points(value: Any) -> list[tuple[float, float, float]]:
    """Accept a list of bin dicts or a dict of parallel lists, with common key spellings."""
    pred_keys = ("mean_p", "mean_predicted", "predicted", "p_mean", "pred", "avg_p", "mean_pred")
    obs_keys = ("observed", "mean_y", "actual", "fraction_positive", "rate", "obs", "y_mean", "observed_rate")
    n_keys = ("n", "count", "size", "weight")

    def pick(d: dict, keys: tuple[str, ...]) -> Any:
        return next((d[k] for k in keys if k in d), None)

    if isinstance(value, dict):
        p, o, n = pick(value, pred_keys), pick(value, obs_keys), pick(value, n_keys)
        if isinstance(p, list) and isinstance(o, list):
            n = n if isinstance(n, list) else [1] * len(p)
            value = [{"mean_p": a, "observed": b, "n": c} for a, b, c in zip(p, o, n, strict=False)]
        else:
            value = value.get("bins")
    points = []
    for b in value if isinstance(value, list) else []:
        if isinstance(b, dict):
            p, o, n = pick(b, pred_keys), pick(b, obs_keys), pick(b, n_keys)
            if isinstance(p, int | float) and isinstance(o, int | float) and (n is None or n):
                points.append((float(p), float(o), float(n or 1)))
    return points


def model_section(settings: Settings) -> dict[str, Any]:
    try:
        from models_ml import registry

        info = registry.champion(settings)
    except Exception as exc:  # the registry is another stage's: its absence must not sink the report
        return {"available": False, "why": f"model registry unavailable ({type(exc).__name__})"}
    if info is None:
        return {"available": False, "why": "no champion model has been promoted yet"}
    meta = info.metadata or {}
    metric_sets = [
        {
            "name": p or "metrics",
            **{k: v for k, v in d.items() if isinstance(v, int | float) and not isinstance(v, bool)},
        }
        for p, d in _find(meta, lambda k, v: isinstance(v, dict) and "auc" in v)
    ]
    if isinstance(meta.get("auc"), int | float):
        metric_sets.insert(
            0, {"name": "metrics", **{k: v for k, v in meta.items() if isinstance(v, int | float)}}
        )
    calib = next(
        (
            pts
            for _, v in _find(meta, lambda k, v: "calibration" in k.lower() and isinstance(v, list | dict))
            if (pts := _calibration_points(v))
        ),
        [],
    )
    policies = []
    for path, block in _find(
        meta, lambda k, v: ("replay" in k.lower() or "policy" in k.lower()) and isinstance(v, dict)
    ):
        for name, v in block.items():
            if isinstance(v, dict) and isinstance(v.get("rate"), int | float):
                policies.append(
                    {
                        "source": path,
                        "policy": name,
                        "rate": v["rate"],
                        "matched": v.get("matched_sends"),
                        "engaged": v.get("engaged"),
                    }
                )
    return {
        "available": True,
        "version": info.version,
        "trained": meta.get("run_date") or meta.get("trained_at") or "",
        "metric_sets": metric_sets,
        "metric_names": [
            k
            for k in ("auc", "log_loss", "ece", "base_rate", "mean_p", "n")
            if any(k in m for m in metric_sets)
        ],
        "calibration": calib,
        "policies": policies,
    }
