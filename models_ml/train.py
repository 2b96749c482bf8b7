"""Weekly training: point-in-time features, time-based split, Platt calibration, replay, registry."""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from models_ml import evaluate, features, registry
from models_ml.config import DEFAULT_CONFIG, ModelConfig, load_rules
from models_ml.predict import LoadedModel, economics, score_pairs
from rightsend import warehouse
from rightsend.config import Settings

log = logging.getLogger(__name__)
MIN_TRAIN_SENDS = 200


def _due(settings: Settings, run_date: str, cfg: ModelConfig) -> tuple[bool, str]:
    current = registry.champion(settings)
    if current is None:
        return True, "no champion yet"
    trained_on = date.fromisoformat(current.metadata["run_date"])
    age = (date.fromisoformat(run_date) - trained_on).days
    if age >= cfg.retrain_every_days:
        return True, f"champion {current.version} is {age} days old"
    return False, f"champion {current.version} trained {age} days ago (< {cfg.retrain_every_days})"


def fingerprint(sends: pd.DataFrame) -> str:
    """sha256 of the training rows (send id, time, channel, hour, label), order-independent."""
    cols = sends[["send_id", "ts", "channel", "local_hour", "label"]].sort_values(["ts", "send_id"])
    h = pd.util.hash_pandas_object(cols.astype(str), index=False).to_numpy()
    return hashlib.sha256(h.tobytes()).hexdigest()


def _split(n: int, cfg: ModelConfig) -> tuple[slice, slice, slice]:
    """Rows are in send-time order: oldest -> fit, then calibration, newest -> validation."""
    n_valid = max(1, int(round(n * cfg.validation_fraction)))
    n_cal = max(1, int(round(n * cfg.calibration_fraction)))
    n_fit = n - n_valid - n_cal
    return slice(0, n_fit), slice(n_fit, n_fit + n_cal), slice(n_fit + n_cal, n)


def fit_booster(
    x_fit: pd.DataFrame, y_fit: np.ndarray, x_cal: pd.DataFrame, y_cal: np.ndarray, cfg: ModelConfig
) -> Any:
    import lightgbm as lgb

    cats = list(features.CAT_COLUMNS)
    train_set = lgb.Dataset(x_fit, y_fit, categorical_feature=cats, free_raw_data=False)
    valid_set = lgb.Dataset(x_cal, y_cal, categorical_feature=cats, reference=train_set)
    # prior knowledge as constraints: closer to the person's usual engagement hour, and a higher
    # own rate on the candidate channel, never lower p (all else equal) - steadier hour choices
    mono = [features.MONOTONE.get(f, 0) for f in features.FEATURES]
    return lgb.train(
        {**cfg.params(), "monotone_constraints": mono, "monotone_constraints_method": "intermediate"},
        train_set,
        num_boost_round=cfg.num_boost_round,
        valid_sets=[valid_set],
        callbacks=[lgb.early_stopping(cfg.early_stopping_rounds, verbose=False)],
    )


def _policy_evaluation(
    con: Any,
    model: LoadedModel,
    sends: pd.DataFrame,
    valid: slice,
    cfg: ModelConfig,
) -> dict[str, Any]:
    """Replay on the held-out sends of policies fixed at the validation cutoff (see REPLAY_METHOD)."""
    rules = load_rules()
    hours = np.array(rules.allowed_hours)
    held = sends.iloc[valid]
    cutoff = pd.Timestamp(held["ts"].iloc[0])
    people = np.sort(held["customer_id"].unique())
    if len(people) > cfg.policy_eval_max_people:
        people = np.sort(
            np.random.default_rng(cfg.seed).choice(people, cfg.policy_eval_max_people, replace=False)
        )
    held = held[held["customer_id"].isin(people)]
    con.register("_pe_people", pd.DataFrame({"customer_id": people}))
    state, ph, pdw = features.scoring_state(con, str(cutoff), "select customer_id from _pe_people", cfg)
    con.unregister("_pe_people")
    row_of = pd.Series(np.arange(len(state)), index=state["customer_id"].to_numpy())
    # channels a person can receive: the ones they were ever sent on (reachability proxy)
    used = sends[sends["customer_id"].isin(people)].groupby("customer_id")["channel"].unique()
    pair_p = np.concatenate([np.full(len(used[c]), row_of[c]) for c in used.index])
    pair_c = np.concatenate([np.asarray(used[c], dtype=object) for c in used.index]).astype(str)
    n_people = len(state)
    # model choice and the model's p for every (person, weekday, channel, hour)
    p_all = np.zeros((7, len(pair_p), len(hours)))
    for wd in range(7):
        p, _, _ = score_pairs(model, state, ph, pdw, pair_p, pair_c, np.full(len(pair_p), wd), rules)
        p_all[wd] = p
    value, cost = economics(rules, pair_c)
    ev_all = p_all * value[None, :, None] - cost[None, :, None]

    def best_per_person(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """score [7, pairs, hours] -> (channel idx into pair, hour idx) per (wd, person)."""
        best_h = np.argmax(score, axis=2)
        best_v = np.take_along_axis(score, best_h[..., None], axis=2)[..., 0]
        pair_idx = np.full((7, n_people), -1)
        for wd in range(7):
            order = np.lexsort((-best_v[wd], pair_p))  # per person, best pair first
            first = np.unique(pair_p[order], return_index=True)[1]
            pair_idx[wd, pair_p[order][first]] = order[first]
        hour_idx = np.take_along_axis(best_h, np.maximum(pair_idx, 0), axis=1)
        return pair_idx, hour_idx

    model_pair, model_hour = best_per_person(ev_all)
    # baselines from history before the cutoff
    before = sends[sends["ts"] < cutoff]
    in_win = before[before["local_hour"].isin(hours)]
    glob = in_win.groupby(["channel", "local_hour"])["label"].agg(["sum", "count"])
    glob = glob[glob["count"] >= 30] if (glob["count"] >= 30).any() else glob
    glob_rate = (glob["sum"] / glob["count"]).sort_values(ascending=False, kind="stable")
    eng_hist = con.execute(
        f"""select customer_id, channel, least(greatest(hr, {hours[0]}), {hours[-1]}) as h, count(*) n,
                   max(ts) as last_ts from _hist where kind = 'eng' group by all"""
    ).df()
    eng_hist = eng_hist.sort_values(
        ["customer_id", "n", "last_ts"], ascending=[True, False, False], kind="stable"
    )
    modal = eng_hist.drop_duplicates("customer_id").set_index("customer_id")
    rng = np.random.default_rng(cfg.seed)

    hc = held["customer_id"].to_numpy()
    hrow = row_of.loc[hc].to_numpy()
    hwd = held["weekday"].to_numpy(np.int64)
    hch = held["channel"].to_numpy().astype(str)
    hhr = held["local_hour"].to_numpy(np.int64)
    hy = held["label"].to_numpy(np.float64)
    mp = model_pair[hwd, hrow]
    choice_model = (pair_c[mp], hours[model_hour[hwd, hrow]])
    # global: best (channel, hour) among the person's channels
    avail = {c: set(used[c]) for c in used.index}
    ranked = list(glob_rate.index)
    g_by_person = {}
    for c in people:
        pick = next(
            ((ch, h) for ch, h in ranked if ch in avail.get(c, set())),
            (ranked[0] if ranked else ("email", hours[0])),
        )
        g_by_person[c] = pick
    choice_global = (np.array([g_by_person[c][0] for c in hc]), np.array([g_by_person[c][1] for c in hc]))
    choice_modal = (
        np.array([modal.at[c, "channel"] if c in modal.index else g_by_person[c][0] for c in hc]),
        np.array([modal.at[c, "h"] if c in modal.index else g_by_person[c][1] for c in hc]),
    )
    rand_ch = {c: sorted(avail[c])[rng.integers(len(avail[c]))] for c in people}
    rand_h = {c: int(rng.choice(hours)) for c in people}
    choice_random = (np.array([rand_ch[c] for c in hc]), np.array([rand_h[c] for c in hc]))
    choices = {
        "model": choice_model,
        "global_best_hour": choice_global,
        "modal_past_hour": choice_modal,
        "random": choice_random,
    }
    tol = 1
    result = evaluate.replay(hch, hhr, hy, choices, tol=tol)
    # direct-method estimate: the model's calibrated p of each policy's pick, averaged over held-out sends
    pair_lookup = {(r, ch): i for i, (r, ch) in enumerate(zip(pair_p, pair_c, strict=True))}
    hour_pos = {int(h): i for i, h in enumerate(hours)}
    estimate = {}
    for name, (ch, hr) in choices.items():
        idx = np.array([pair_lookup.get((r, c), -1) for r, c in zip(hrow, ch, strict=True)])
        hi = np.array([hour_pos.get(int(h), 0) for h in hr])
        ok = idx >= 0
        estimate[name] = round(float(p_all[hwd[ok], idx[ok], hi[ok]].mean()), 5) if ok.any() else None
    result["model_estimate"] = estimate
    lift: dict[str, Any] = {}
    for base in ("global_best_hour", "modal_past_hour", "random"):
        m, b = result["model"]["rate"], result[base]["rate"]
        lift[f"replay_vs_{base}"] = round(m / b - 1, 4) if m is not None and b else None
        em, eb = estimate["model"], estimate[base]
        lift[f"estimate_vs_{base}"] = round(em / eb - 1, 4) if em is not None and eb else None
    result["lift"] = lift
    result["people"] = int(len(people))
    result["cutoff"] = str(cutoff)
    result["hour_tolerance"] = tol
    result["method"] = evaluate.REPLAY_METHOD.format(tol=tol)
    return result


def run(
    settings: Settings, run_date: str, force: bool = False, cfg: ModelConfig = DEFAULT_CONFIG
) -> dict[str, Any]:
    """Train a challenger when due and promote it unless it is worse than the champion."""
    due, why = _due(settings, run_date, cfg)
    if not (due or force):
        return {"trained": False, "reason": why}
    started = time.perf_counter()
    cutoff = (date.fromisoformat(run_date) + timedelta(days=1)).isoformat()  # end of D, UTC
    with warehouse.connect(settings, read_only=True) as con:
        con.execute(f"set threads = {cfg.num_threads}")
        sends, state, ph, pdw = features.training_frame(con, cutoff, cfg)
        y = sends["label"].to_numpy(np.float64)
        if len(sends) < MIN_TRAIN_SENDS or y.min() == y.max():
            return {"trained": False, "reason": f"too little data: {len(sends)} labelled sends"}
        fit, cal, valid = _split(len(sends), cfg)
        priors = features.Priors.fit(sends["channel"].to_numpy()[fit].astype(str), y[fit])
        vocab = features.fit_vocab(state.iloc[fit])
        x = features.training_matrix(sends, state, ph, pdw, priors, vocab)
        feature_seconds = time.perf_counter() - started
        booster = fit_booster(x.iloc[fit], y[fit], x.iloc[cal], y[cal], cfg)
        fit_seconds = time.perf_counter() - started - feature_seconds
        margin = booster.predict(x, raw_score=True, num_threads=cfg.num_threads)
        platt = evaluate.Platt.fit(margin[cal], y[cal])
        p = platt(margin)
        metrics = {
            "train": evaluate.metrics(y[fit], p[fit]),
            "calibration": evaluate.metrics(y[cal], p[cal]),
            "validation": evaluate.metrics(y[valid], p[valid]),
            "validation_uncalibrated": evaluate.metrics(y[valid], 1 / (1 + np.exp(-margin[valid]))),
        }
        model_text = booster.model_to_string()
        fp = fingerprint(sends)
        version = f"{run_date}-{hashlib.sha256(model_text.encode()).hexdigest()[:8]}"
        ts = sends["ts"]
        meta: dict[str, Any] = {
            "version": version,
            "run_date": run_date,
            "training_window": {
                "first_send": str(ts.iloc[0]),
                "last_send": str(ts.iloc[-1]),
                "cutoff": cutoff,
                "fit": [str(ts.iloc[fit.start]), str(ts.iloc[fit.stop - 1])],
                "calibration": [str(ts.iloc[cal.start]), str(ts.iloc[cal.stop - 1])],
                "validation": [str(ts.iloc[valid.start]), str(ts.iloc[valid.stop - 1])],
            },
            "rows": {
                "fit": fit.stop,
                "calibration": cal.stop - cal.start,
                "validation": valid.stop - valid.start,
            },
            "label": f"human engagement within {cfg.engagement_window_hours} h of sent_at",
            "features": features.FEATURES,
            "categorical": list(features.CAT_COLUMNS),
            "vocab": vocab,
            "priors": priors.as_dict(),
            "calibration": platt.as_dict(),
            "calibration_method": "Platt scaling on the raw margin, fit on the calibration slice",
            "calibration_bins": evaluate.reliability(y[valid], p[valid]),  # validation, equal-count
            "data_fingerprint": fp,
            "params": cfg.params(),
            "best_iteration": int(booster.best_iteration or booster.current_iteration()),
            "feature_importance_gain": dict(
                sorted(
                    zip(features.FEATURES, booster.feature_importance("gain").round(2).tolist(), strict=True),
                    key=lambda kv: -kv[1],
                )
            ),
            "metrics": metrics,
        }
        info = registry.ModelInfo(version, settings.models_dir / version, meta)
        challenger = LoadedModel(info, booster, platt, priors, vocab)
        t_policy = time.perf_counter()
        meta["policy_evaluation"] = _policy_evaluation(con, challenger, sends, valid, cfg)
        policy_seconds = time.perf_counter() - t_policy
        # champion on the challenger's validation rows: a like-for-like comparison
        current = registry.champion(settings)
        champ_auc = None
        if current is not None and current.version != version:
            try:
                old = LoadedModel.from_info(current)
                x_old = features.training_matrix(
                    sends.iloc[valid].reset_index(drop=True),
                    state.iloc[valid].reset_index(drop=True),
                    {k: v[valid] for k, v in ph.items()},
                    {k: v[valid] for k, v in pdw.items()},
                    old.priors,
                    old.vocab,
                )
                champ_auc = evaluate.auc(y[valid], old.proba(x_old))
            except (RuntimeError, KeyError) as exc:  # other feature set: fall back to its stored AUC
                log.warning("champion %s not re-scorable (%s): using its stored AUC", current.version, exc)
                champ_auc = current.metadata["metrics"]["validation"]["auc"]
    new_auc = metrics["validation"]["auc"]
    if current is None:
        promoted, verdict = True, "first model"
    elif current.version == version:
        promoted, verdict = True, "same model as the champion (same data, deterministic)"
    elif champ_auc is None or not np.isfinite(champ_auc) or new_auc >= champ_auc - cfg.auc_tolerance:
        promoted, verdict = (
            True,
            f"AUC {new_auc:.4f} vs champion {champ_auc:.4f} (tolerance {cfg.auc_tolerance})",
        )
    else:
        promoted, verdict = (
            False,
            f"AUC {new_auc:.4f} worse than champion {champ_auc:.4f} - {cfg.auc_tolerance}",
        )
    meta["promotion"] = {"promoted": promoted, "reason": verdict, "champion_auc_on_same_rows": champ_auc}
    meta["train_seconds"] = round(time.perf_counter() - started, 2)
    meta["feature_seconds"] = round(feature_seconds, 2)
    meta["seconds_by_step"] = {
        "features": round(feature_seconds, 2),
        "fit": round(fit_seconds, 2),
        "policy_evaluation": round(policy_seconds, 2),
        "total": meta["train_seconds"],
    }
    info = registry.save(settings, version, model_text, meta)
    if promoted:
        registry.promote(settings, info, verdict)
    return {
        "trained": True,
        "reason": why if due else "forced",
        "version": version,
        "promoted": promoted,
        "promotion_reason": verdict,
        "rows": meta["rows"],
        "metrics": metrics["validation"],
        "lift": meta["policy_evaluation"]["lift"],
        "policy_evaluation": {k: v for k, v in meta["policy_evaluation"].items() if k not in ("method",)},
        "data_fingerprint": fp,
        "seconds": meta["train_seconds"],
        "seconds_by_step": meta["seconds_by_step"],
    }
