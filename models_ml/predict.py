"""Daily scoring: every reachable person x reachable channel x allowed local hour of day D+1.

Writes ml.send_scores (contract in docs/architecture.md, "Scores"); idempotent per score_date,
or per (score_date, bucket) when asked for one bucket of people (rightsend.buckets): the
daily DAG maps scoring over the buckets, and their union is the unbucketed run, row for row.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from models_ml import features
from models_ml.config import CHANNELS, DEFAULT_CONFIG, ModelConfig, Rules, load_rules
from models_ml.evaluate import Platt
from models_ml.registry import ModelInfo, champion, load, load_booster
from rightsend import warehouse
from rightsend.buckets import in_bucket_sql, resolve
from rightsend.config import Settings

log = logging.getLogger(__name__)

DDL = """
create schema if not exists ml;
create table if not exists ml.send_scores (
    score_date date not null,          -- D; the sends happen on the person's local day D+1
    customer_id varchar not null,
    channel varchar not null,
    best_local_hour integer not null,
    best_hour_of_week integer not null,
    p_engage double not null,          -- calibrated probability at best_local_hour
    expected_value double not null,    -- p_engage * engagement_value - cost_per_message
    p_by_hour double[],                -- 24 values by local hour; null outside the send window
    channel_rank integer not null,     -- 1 = the person's best channel by expected value
    is_personal boolean not null,      -- false: too little history, population/segment fallback
    reason varchar,
    model_version varchar not null,
    primary key (score_date, customer_id, channel)
);
"""


@dataclass
class LoadedModel:
    info: ModelInfo
    booster: Any
    platt: Platt
    priors: features.Priors
    vocab: dict[str, list[str]]

    @classmethod
    def from_info(cls, info: ModelInfo) -> LoadedModel:
        meta = info.metadata
        if meta["features"] != features.FEATURES:
            raise RuntimeError(f"model {info.version} was trained on another feature list: retrain (force)")
        return cls(
            info,
            load_booster(info),
            Platt(**meta["calibration"]),
            features.Priors.from_dict(meta["priors"]),
            {k: list(v) for k, v in meta["vocab"].items()},
        )

    def margin(self, x: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.booster.predict(x, raw_score=True, num_threads=DEFAULT_CONFIG.num_threads)

    def proba(self, x: pd.DataFrame | np.ndarray) -> np.ndarray:
        return self.platt(self.margin(x))


def economics(rules: Rules, channels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    value = np.array([rules.channels[c].engagement_value for c in CHANNELS])
    cost = np.array([rules.channels[c].cost_per_message for c in CHANNELS])
    idx = np.select([channels == c for c in CHANNELS], list(range(len(CHANNELS))), 0)
    return value[idx], cost[idx]


def score_pairs(
    model: LoadedModel,
    state: pd.DataFrame,
    prof_h: dict[str, np.ndarray],
    prof_d: dict[str, np.ndarray],
    person_rows: np.ndarray,
    channels: np.ndarray,
    weekday: np.ndarray,
    rules: Rules,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p[pair, hour] and ev[pair, hour] over the allowed hours, plus the candidate matrix."""
    hours = rules.allowed_hours
    x, _, _ = features.candidates(
        state, prof_h, prof_d, person_rows, channels, hours, weekday, model.priors, model.vocab
    )
    p = model.proba(x).reshape(len(person_rows), len(hours))
    value, cost = economics(rules, channels)
    ev = p * value[:, None] - cost[:, None]
    return p, ev, x


# Feature -> how to say it. {v} = the feature value at the chosen candidate.
_PHRASES: dict[str, str] = {
    "ch_rate_all": "{ch} engagement rate {pct}",
    "ch_rate_decay": "recent {ch} engagement rate {pct}",
    "ch_rate_90d": "{ch} engagement rate {pct} in 90 days",
    "ch_eng_share": "engages mostly on {ch}",
    "ch_days_since_eng": "engaged on {ch} recently",
    "ch_sends_all": "long {ch} history",
    "ch_sends_decay": "recent {ch} history",
    "ch_sends_90d": "recent {ch} history",
    "tot_rate_all": "engaged person",
    "tot_rate_decay": "recently engaged",
    "tot_rate_90d": "recently engaged",
    "days_since_eng": "engaged recently",
    "days_since_send": "not messaged lately",
    "peak_dist_eng": "engages mostly {daypart}",
    "peak_dist_send": "engaged with past sends around {hh}",
    "peak_concentration": "regular engagement hours",
    "hour_eng_share": "engages mostly {daypart}",
    "hour_eng_share_decay": "engages mostly {daypart} lately",
    "hour_rate": "responds to sends around {hh}",
    "hour_sends": "responds to sends around {hh}",
    "wd_eng_share": "engages on {wdname}s",
    "wd_rate": "responds on {wdname}s",
    "local_hour": "{daypart} works for most people",
    "hour_of_week": "{wdname} {daypart} works for most people",
    "weekday": "{wdname}s work for most people",
    "channel": "{ch} works for most people",
    "orders_before": "customer with orders",
    "revenue_before": "customer with orders",
    "days_since_order": "ordered recently",
    "tenure_days": "long-time subscriber",
    "lifecycle_state": "lifecycle stage",
    "rfm_segment": "RFM segment",
    "country": "country pattern",
    "push_platform": "push platform",
    "timezone_source": "reliable time zone",
}
_WD = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _daypart(h: int) -> str:
    return "in mornings" if h < 12 else "in afternoons" if h < 17 else "in evenings"


def contributions(model: LoadedModel, x: np.ndarray, exact: np.ndarray, cfg: ModelConfig) -> np.ndarray:
    """LightGBM TreeSHAP contributions (pred_contrib=True), margin space, without the bias column.

    TreeSHAP is by far the most expensive step of scoring (cost ~ trees x leaves x depth^2 per
    row), so only the rows marked ``exact`` (each person's rank-1 channel, the message decide
    sends first) use every tree; the other rows use the first ``cfg.reason_trees`` trees, which
    carry most of the margin at this learning rate.
    """
    contrib = np.zeros((len(x), len(features.FEATURES)), dtype=np.float64)
    for rows, n_iter in ((np.flatnonzero(exact), None), (np.flatnonzero(~exact), cfg.reason_trees)):
        if len(rows):
            contrib[rows] = model.booster.predict(
                x[rows], pred_contrib=True, num_iteration=n_iter, num_threads=cfg.num_threads
            )[:, :-1]
    return contrib


def reasons(
    model: LoadedModel, x: np.ndarray, channels: np.ndarray, hours: np.ndarray, contrib: np.ndarray
) -> list[str]:
    """Short words from the model's feature contributions: the two strongest positive ones."""
    if len(x) == 0:
        return []
    names = features.FEATURES
    order = np.argsort(-contrib, axis=1, kind="stable")[:, :4]
    vals = x
    out = []
    for i in range(len(x)):
        ch, h = str(channels[i]), int(hours[i])
        wd = int(vals[i, names.index("weekday")])
        said: list[str] = []
        for j in order[i]:
            if contrib[i, j] <= 0 or len(said) == 2:
                break
            v = vals[i, j]
            pct = f"{v:.0%}" if np.isfinite(v) else "n/a"
            phrase = _PHRASES.get(names[j], names[j]).format(
                ch=ch, pct=pct, daypart=_daypart(h), hh=f"{h:02d}:00", wdname=_WD[wd % 7]
            )
            if phrase not in said:
                said.append(phrase)
        out.append(f"{ch} at {h:02d}:00: " + ("; ".join(said) if said else "best of a flat day"))
    return out


def _reachable_people(con: Any, in_bucket: str = "true") -> pd.DataFrame:
    return con.execute(
        f"""
        select customer_id, coalesce(is_email_reachable, false) as email,
               coalesce(is_sms_reachable, false) as sms, coalesce(is_push_reachable, false) as push
        from marts.dim_customers
        where (coalesce(is_email_reachable, false) or coalesce(is_sms_reachable, false)
               or coalesce(is_push_reachable, false))
          and {in_bucket}
        order by customer_id
        """
    ).df()


def _write(con: Any, run_date: str, out: pd.DataFrame, p_by_hour: np.ndarray) -> None:
    frame = out.copy()
    for h in range(24):
        frame[f"h{h}"] = p_by_hour[:, h]
    con.register("_scores", frame)
    arr = ", ".join(f"h{h}" for h in range(24))
    con.execute(
        f"""
        insert into ml.send_scores
        select '{run_date}'::date, customer_id, channel, best_local_hour, best_hour_of_week, p_engage,
               expected_value, [{arr}]::double[], channel_rank, is_personal, reason, model_version
        from _scores
        """
    )
    con.unregister("_scores")


def run(
    settings: Settings,
    run_date: str,
    cfg: ModelConfig = DEFAULT_CONFIG,
    bucket: int | None = None,
    buckets: int | None = None,
    model_version: str | None = None,
) -> dict[str, Any]:
    """Score every reachable person for local day run_date+1 with the champion.

    With ``bucket`` (of ``buckets``, default RIGHTSEND_BUCKETS): only the people of that
    bucket, replacing only their rows of the day - each person's scores depend on nobody
    else, so the buckets together write exactly what one unbucketed run writes.

    With ``model_version``: that version from the registry, champion or not (the daily DAG
    pins the champion once for all its buckets, so a promotion mid-run cannot split the day
    between two models); an error if the registry does not have it.
    """
    part = resolve(bucket, buckets)
    in_bucket = in_bucket_sql("customer_id", *part) if part else "true"
    trained: dict[str, Any] | None = None
    if model_version is not None:
        info = load(settings, model_version)
        if info is None:
            raise RuntimeError(f"model {model_version} is not in the registry at {settings.models_dir}")
    else:
        info = champion(settings)
    if info is None:
        from models_ml import train

        trained = train.run(settings, run_date, force=True, cfg=cfg)
        info = champion(settings)
        if info is None:
            raise RuntimeError(f"no champion model and training was not possible: {trained.get('reason')}")
    model = LoadedModel.from_info(info)
    rules = load_rules()
    hours = np.array(rules.allowed_hours)
    as_of = (date.fromisoformat(run_date) + timedelta(days=1)).isoformat()  # end of D
    weekday_next = date.fromisoformat(as_of).weekday()  # local day D+1 for everybody

    results: list[tuple[pd.DataFrame, np.ndarray]] = []
    # read under the shared lock; the exclusive (writer) lock is held only for the short write
    with warehouse.connect(settings, read_only=True) as con:
        con.execute(f"set threads = {cfg.num_threads}")
        people = _reachable_people(con, in_bucket)
        counts = {"people": 0, "personal": 0, "fallback": 0, "rows": 0}
        timing = dict.fromkeys(("features", "predict", "reasons", "write"), 0.0)
        mix = dict.fromkeys(CHANNELS, 0)
        for start in range(0, len(people), cfg.batch_size):
            batch = people.iloc[start : start + cfg.batch_size].reset_index(drop=True)
            con.register("_batch", batch[["customer_id"]])
            t0 = time.perf_counter()
            state, ph, pdw = features.scoring_state(con, as_of, "select customer_id from _batch", cfg)
            con.unregister("_batch")
            row_of = pd.Series(np.arange(len(state)), index=state["customer_id"].to_numpy())
            rows_people = row_of.loc[batch["customer_id"].to_numpy()].to_numpy()
            reach = batch[list(CHANNELS)].to_numpy(bool)
            pi, ci = np.nonzero(reach)  # (person, channel) pairs, person-major
            person_rows = rows_people[pi]
            channels = np.array(CHANNELS)[ci]
            wd = np.full(len(pi), weekday_next)
            t1 = time.perf_counter()
            p, ev, x = score_pairs(model, state, ph, pdw, person_rows, channels, wd, rules)
            t2 = time.perf_counter()
            best = np.argmax(ev, axis=1)  # first max: earliest hour on ties (deterministic)
            ar = np.arange(len(pi))
            best_p, best_ev = p[ar, best], ev[ar, best]
            best_h = hours[best]
            # channel rank within person by EV (ties: contract channel order)
            frame = pd.DataFrame({"pi": pi, "ci": ci, "ev": best_ev})
            frame = frame.sort_values(["pi", "ev", "ci"], ascending=[True, False, True], kind="stable")
            frame["rank"] = frame.groupby("pi").cumcount() + 1
            rank = frame.sort_index()["rank"].to_numpy()
            n_sends = sum(state[f"n_send_{c}"].to_numpy() for c in CHANNELS)[person_rows]
            is_personal = n_sends >= cfg.min_sends_personal
            xb = x[ar * len(hours) + best]
            contrib = contributions(model, xb, rank == 1, cfg)
            why = reasons(model, xb, channels, best_h, contrib)
            t3 = time.perf_counter()
            why = [
                r if ok else r + " (population estimate: little history)"
                for r, ok in zip(why, is_personal, strict=True)
            ]
            p_by_hour = np.full((len(pi), 24), np.nan)
            p_by_hour[:, hours] = p
            out = pd.DataFrame(
                {
                    "customer_id": batch["customer_id"].to_numpy()[pi],
                    "channel": channels,
                    "best_local_hour": best_h.astype(np.int32),
                    "best_hour_of_week": (weekday_next * 24 + best_h).astype(np.int32),
                    "p_engage": best_p,
                    "expected_value": best_ev,
                    "channel_rank": rank.astype(np.int32),
                    "is_personal": is_personal,
                    "reason": why,
                    "model_version": info.version,
                }
            )
            results.append((out, p_by_hour))
            for key, seconds in zip(timing, (t1 - t0, t2 - t1, t3 - t2), strict=False):
                timing[key] += seconds
            personal_people = pd.Series(is_personal).groupby(pi).first().to_numpy()
            counts["people"] += len(batch)
            counts["personal"] += int(personal_people.sum())
            counts["fallback"] += int((~personal_people).sum())
            counts["rows"] += len(out)
            for c, n in out.loc[out["channel_rank"] == 1, "channel"].value_counts().items():
                mix[str(c)] += int(n)
    t_write = time.perf_counter()
    with warehouse.connect(settings, read_only=False) as con:
        con.execute(DDL)
        con.execute("begin transaction")
        con.execute(f"delete from ml.send_scores where score_date = ? and {in_bucket}", [run_date])
        for out, p_by_hour in results:
            _write(con, run_date, out, p_by_hour)
        con.execute("commit")
    timing["write"] = time.perf_counter() - t_write
    meta = info.metadata
    return {
        "model_version": info.version,
        "score_date": run_date,
        "people_scored": counts["people"],
        "rows": counts["rows"],
        "personal": counts["personal"],
        "fallback": counts["fallback"],
        "best_channel_mix": mix,
        "validation": meta.get("metrics", {}).get("validation"),
        "lift": meta.get("policy_evaluation", {}).get("lift"),
        "trained_first": trained,
        "seconds_by_step": {k: round(v, 2) for k, v in timing.items()},
    }
