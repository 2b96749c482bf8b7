"""Point-in-time features for the send-time model, from marts.* only.

Every feature of a query (a person at an instant ``ts``: a historical send, or "end of D"
when scoring) is computed by DuckDB window functions over one event stream per person,
with the frame ``RANGE ... EXCLUDE GROUP``: only events strictly before ``ts`` count, so a
send never sees its own outcome or anything later (the leakage test checks this).

Training and scoring run the very same SQL; they differ only in the query rows:
- training: one query per historical send, looking up the send's own hour and weekday;
- scoring: one query per person at the cutoff, looking up all 24 hours and 7 weekdays,
  then ``candidates`` broadcasts them over channel x hour with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from models_ml.config import CHANNELS, DEFAULT_CONFIG, ModelConfig
from rightsend.warehouse import table_exists

EPOCH = "2020-01-01"  # fixed origin of the exp-decay weights: features never depend on run_date
PRIOR_STRENGTH = 5.0  # pseudo-sends pulling a sparse person's rate toward the population rate
CAT_COLUMNS = ("channel", "country", "push_platform", "timezone_source", "lifecycle_state", "rfm_segment")

# Model inputs in a fixed order (the registry stores this list; scoring asserts it).
FEATURES: list[str] = [
    "channel",
    "local_hour",
    "weekday",
    "hour_of_week",
    # the candidate channel's history
    "ch_sends_all",
    "ch_rate_all",
    "ch_rate_decay",
    "ch_sends_decay",
    "ch_rate_90d",
    "ch_sends_90d",
    "ch_eng_share",
    "ch_days_since_eng",
    # all channels
    "tot_sends_all",
    "tot_rate_all",
    "tot_rate_decay",
    "tot_rate_90d",
    "days_since_eng",
    "days_since_send",
    # hour-of-week profile at the candidate hour / weekday (engagement local time, +-1 h)
    "peak_dist_eng",
    "peak_dist_send",
    "peak_concentration",
    "hour_eng_share",
    "hour_eng_share_decay",
    "hour_rate",
    "hour_sends",
    "wd_eng_share",
    "wd_rate",
    # orders and slowly changing attributes
    "orders_before",
    "revenue_before",
    "days_since_order",
    "tenure_days",
    "country",
    "push_platform",
    "timezone_source",
    "lifecycle_state",
    "rfm_segment",
]

MONOTONE: dict[str, int] = {
    "peak_dist_eng": -1,
    "peak_dist_send": -1,
    "hour_eng_share": 1,
    "hour_eng_share_decay": 1,
    "ch_rate_all": 1,
    "ch_rate_decay": 1,
    "ch_rate_90d": 1,
}


def _local(ts: str, tz: str) -> str:
    """UTC naive timestamp -> local wall time in ``tz`` (naive)."""
    return f"timezone(coalesce({tz}, 'UTC'), timezone('UTC', {ts}))"


def build_history(con: duckdb.DuckDBPyConnection, cutoff: str, customers: str | None = None) -> None:
    """Temp table ``_hist``: every send, engagement and order strictly before ``cutoff``.

    An engagement is the send's first human engagement (fct_sends.first_engaged_at, derived from
    fct_message_events), stamped at the moment it happened, not at the send.
    ``customers``: optional SQL relation with a customer_id column restricting the people.
    """
    only = f"and customer_id in (select customer_id from {customers})" if customers else ""
    con.execute(
        f"""
        create or replace temp table _hist as
        select customer_id, sent_at as ts, channel, 'send' as kind,
               sent_local_hour as hr, sent_local_weekday as wd, sent_local_hour as send_hr,
               sent_local_weekday as send_wd, null::double as amount
        from marts.fct_sends where sent_at < '{cutoff}'::timestamp {only}
        union all
        select customer_id, first_engaged_at, channel, 'eng',
               hour({_local("first_engaged_at", "timezone")}),
               isodow({_local("first_engaged_at", "timezone")}) - 1,
               sent_local_hour, sent_local_weekday, null
        from marts.fct_sends
        where first_engaged_at is not null and first_engaged_at < '{cutoff}'::timestamp {only}
        union all
        select customer_id, ordered_at, null, 'order', null, null, null, null, net_total
        from marts.fct_orders
        where not coalesce(is_cancelled, false) and ordered_at < '{cutoff}'::timestamp {only}
        """
    )


def _state_columns(cfg: ModelConfig) -> list[tuple[str, str, str, bool]]:
    """The person-state columns: (name, aggregate, event filter, 90-day window only).

    Each is an aggregate over the person's events strictly before the query's ts: as a window
    (``_state_sql``, one query per send or per person) or, when every query is at a cutoff
    after all of the history, as a plain grouped aggregate (``_cutoff_state_sql``).
    """
    d, d3 = _decay(cfg.decay_days), _decay(cfg.decay_days * 3)
    cols: list[tuple[str, str, str, bool]] = []
    for c in CHANNELS:
        for kind in ("send", "eng"):
            hit = f"(kind = '{kind}' and channel = '{c}')"
            cols += [
                (f"n_{kind}_{c}", "count(*)", hit, False),
                (f"dw_{kind}_{c}", f"sum({d})", hit, False),
                (f"r_{kind}_{c}", "count(*)", hit, True),
            ]
        cols.append((f"last_eng_{c}", "max(ts)", f"kind = 'eng' and channel = '{c}'", False))
    cols += [
        ("dw3_eng", f"sum({d3})", "kind = 'eng'", False),
        ("last_eng", "max(ts)", "kind = 'eng'", False),
        # circular mean of engagement hours / of engaged sends' hours: the person's peak so far
        ("eng_sin", "sum(sin(2 * pi() * hr / 24))", "kind = 'eng'", False),
        ("eng_cos", "sum(cos(2 * pi() * hr / 24))", "kind = 'eng'", False),
        ("es_sin", "sum(sin(2 * pi() * send_hr / 24))", "kind = 'eng'", False),
        ("es_cos", "sum(cos(2 * pi() * send_hr / 24))", "kind = 'eng'", False),
        ("last_send", "max(ts)", "kind = 'send'", False),
        ("last_order", "max(ts)", "kind = 'order'", False),
        ("orders_before", "count(*)", "kind = 'order'", False),
        ("revenue_before", "sum(amount)", "kind = 'order'", False),
    ]
    return cols


def _decay(days: float, ts: str = "ts") -> str:
    """SQL: the weight of an event at ``ts`` decaying with a time constant of ``days`` (relative
    to EPOCH, so sums of it can be rescaled to any later moment)."""
    return f"exp((epoch({ts}) - epoch(timestamp '{EPOCH}')) / 86400.0 / {days})"


def _state_sql(cfg: ModelConfig, only: tuple[str, ...] | None = None) -> str:
    """Per query row (kind 'q' in _stream): person state from strictly earlier events.

    ``only``: just these columns (and qid)."""
    every = (
        "partition by customer_id order by ts range between unbounded preceding and current row exclude group"
    )
    recent = (
        f"partition by customer_id order by ts range between interval {cfg.window_days} days preceding "
        "and current row exclude group"
    )
    cols = []
    for name, agg, hit, in_window in _state_columns(cfg):
        if only is not None and name not in only:
            continue
        expr = f"{agg} filter (where {hit}) over ({recent if in_window else every})"
        cols.append(f"{'coalesce(' + expr + ', 0)' if agg.startswith('sum') else expr} as {name}")
    head = "qid" if only is not None else f"qid, ts, {_decay(cfg.decay_days)} as dq"
    return f"select {head}, {', '.join(cols)} from _stream qualify kind = 'q'"


# The sums of sin/cos of the engagement hours keep the window's own order of additions: when
# a person's hours cancel out (e.g. one engagement at 06:00 and one at 18:00) the sums are
# rounding residues, and their signs pick the peak hour (atan2); the other sums feed smooth
# float32 features, where the order of the additions does not show.
_WINDOWED_STATE = ("eng_sin", "eng_cos", "es_sin", "es_cos")


def _cutoff_state_sql(cfg: ModelConfig, cutoff: str) -> str:
    """``_state_sql`` when every query (``_queries``) is at ``cutoff`` and ``_hist`` holds only
    events before it (scoring): each window is then all of the person's history (the recent
    one: its last ``window_days`` days), so one grouped pass over ``_hist`` gives the same
    state without evaluating every window; ``_WINDOWED_STATE`` from ``_circ`` (windows).
    Same columns, same missing values."""
    since = f"'{cutoff}'::timestamp - interval {cfg.window_days} days"
    aggs, cols = [], []
    for name, agg, hit, in_window in _state_columns(cfg):
        if name in _WINDOWED_STATE:
            cols.append(f"w.{name}")
            continue
        aggs.append(f"{agg} filter (where {hit}{f' and ts >= {since}' if in_window else ''}) as {name}")
        cols.append(f"coalesce(h.{name}, 0) as {name}" if agg != "max(ts)" else f"h.{name}")
    return f"""
    with h as (select customer_id, {", ".join(aggs)} from _hist group by customer_id)
    select q.qid, q.ts, {_decay(cfg.decay_days, "q.ts")} as dq, {", ".join(cols)}
    from _queries q left join h using (customer_id) join _circ w using (qid)
    """


def _profile_sql(cfg: ModelConfig) -> str:
    """Per (query, key) row: hour/weekday profile from strictly earlier events.

    Keys 'h0'..'h23' (local hour, smoothed: an event at hour k also counts half at k-1 and k+1)
    and 'd0'..'d6' (local weekday). eng = when the person engaged; send/engsend = sends at that
    send hour and those of them that were engaged (engagement-rate-by-send-hour).
    """
    d = _decay(cfg.decay_days * 3)  # the profile needs more history than the rates: slower decay
    return f"""
    with emit as (
        select customer_id, ts, kind, null::bigint as qid, 'h' || ((hr + o + 24) % 24) as key,
               case when o = 0 then 1.0 else 0.5 end as w, 'eng' as what
        from _hist, (values (-1), (0), (1)) t(o) where kind = 'eng'
        union all
        select customer_id, ts, kind, null, 'h' || ((send_hr + o + 24) % 24),
               case when o = 0 then 1.0 else 0.5 end, case when kind = 'eng' then 'engsend' else 'send' end
        from _hist, (values (-1), (0), (1)) t(o) where kind in ('send', 'eng')
        union all
        select customer_id, ts, kind, null, 'd' || wd, 1.0, 'eng' from _hist where kind = 'eng'
        union all
        select customer_id, ts, kind, null, 'd' || send_wd, 1.0,
               case when kind = 'eng' then 'engsend' else 'send' end
        from _hist where kind in ('send', 'eng')
        union all
        select customer_id, ts, 'q', qid, key, 0.0, 'q' from _qkeys
    )
    select qid, left(key, 1) as kt, cast(substr(key, 2) as integer) as k,
        coalesce(sum(w) filter (where what = 'eng') over w, 0) as p_eng,
        coalesce(sum(w * {d}) filter (where what = 'eng') over w, 0) as p_eng_d,
        coalesce(sum(w) filter (where what = 'send') over w, 0) as p_send,
        coalesce(sum(w) filter (where what = 'engsend') over w, 0) as p_engsend
    from emit
    window w as (partition by customer_id, key order by ts
                 range between unbounded preceding and current row exclude group)
    qualify kind = 'q'
    """


def _cutoff_profile(
    con: duckdb.DuckDBPyConnection, cfg: ModelConfig, n_queries: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``_profile_sql``'s cells for queries after all of ``_hist`` (see ``_cutoff_state_sql``),
    as ``profile_arrays`` gives them: [n, 24] by hour, [n, 7] by weekday.

    Counted per (person, hour) and (person, weekday) in one grouped pass; the +-1 h smoothing
    (an event at hour k counts 1 at k and 0.5 at k-1 and k+1) is then two shifted adds, exact
    for the counts (sums of halves). Cells without events are 0, as the windows give them.
    """
    d = _decay(cfg.decay_days * 3)  # as _profile_sql
    cells = con.execute(
        f"""
        with cell as (
            select customer_id, 0 as kt, hr as k, count(*) as eng, sum({d}) as eng_d, 0 as send, 0 as engsend
            from _hist where kind = 'eng' and hr between 0 and 23 group by all
            union all
            select customer_id, 1, send_hr, 0, 0.0, count(*) filter (where kind = 'send'),
                   count(*) filter (where kind = 'eng')
            from _hist where kind in ('send', 'eng') and send_hr between 0 and 23 group by all
            union all
            select customer_id, 2, wd, count(*), sum({d}), 0, 0
            from _hist where kind = 'eng' and wd between 0 and 6 group by all
            union all
            select customer_id, 3, send_wd, 0, 0.0, count(*) filter (where kind = 'send'),
                   count(*) filter (where kind = 'eng')
            from _hist where kind in ('send', 'eng') and send_wd between 0 and 6 group by all
        )
        select q.qid, kt, k, eng, eng_d, send, engsend from cell join _queries q using (customer_id)
        """
    ).fetchnumpy()
    kt, q, k = (np.asarray(cells[c], dtype=np.int64) for c in ("kt", "qid", "k"))
    dense: list[dict[str, np.ndarray]] = [{}, {}]
    for side, size in ((0, 24), (1, 7)):
        for col, kind in (
            ("p_eng", "eng"),
            ("p_eng_d", "eng_d"),
            ("p_send", "send"),
            ("p_engsend", "engsend"),
        ):
            m = kt == 2 * side + (col in ("p_send", "p_engsend"))
            mat = np.zeros((n_queries, size), dtype=np.float64)
            mat[q[m], k[m]] = np.asarray(cells[kind], dtype=np.float64)[m]
            if size == 24:  # smoothing over the circular hour
                mat = mat + 0.5 * np.roll(mat, 1, axis=1) + 0.5 * np.roll(mat, -1, axis=1)
            dense[side][col] = mat
    return dense[0], dense[1]


def _static_sql(con: duckdb.DuckDBPyConnection) -> str:
    """Slowly changing attributes; lifecycle/RFM as known the day before the query."""
    seg = table_exists(con, "marts", "mart_customer_segments_daily")
    seg_join = (
        """
        asof left join (select customer_id as sc, snapshot_date, lifecycle_state, rfm_segment
                        from marts.mart_customer_segments_daily) s
          on s.sc = q.customer_id and s.snapshot_date < cast(q.ts as date)
        """
        if seg
        else ""
    )
    seg_cols = "s.lifecycle_state, s.rfm_segment" if seg else "null as lifecycle_state, null as rfm_segment"
    return f"""
    select q.qid, c.country_code as country, c.push_platform, c.timezone_source,
           case when c.created_at <= q.ts then date_diff('second', c.created_at, q.ts) / 86400.0 end
               as tenure_days,
           {seg_cols}
    from _queries q
    left join marts.dim_customers c using (customer_id)
    {seg_join}
    """


# history events and query rows in one stream per person (the windows' input)
_STREAM_SQL = """
create or replace temp table _stream as
select customer_id, ts, channel, kind, amount, hr, send_hr, null::bigint as qid from _hist
union all select customer_id, ts, null, 'q', null, null, null, qid from _queries
"""


def person_state(
    con: duckdb.DuckDBPyConnection, keys_per_query: str, cfg: ModelConfig
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """State and profile for the queries in temp table ``_queries`` (qid, customer_id, ts).

    ``keys_per_query``: SQL producing (qid, customer_id, ts, key) - which profile cells to look up.
    Needs ``_hist`` (see build_history). Returns (state by qid, profile long by qid x key).
    """
    con.execute(_STREAM_SQL)
    state = con.execute(_state_sql(cfg)).df()
    static = con.execute(_static_sql(con)).df()
    state = state.merge(static, on="qid", how="left")
    con.execute(f"create or replace temp table _qkeys as {keys_per_query}")
    profile = con.execute(_profile_sql(cfg)).df()
    con.execute("drop table if exists _stream; drop table if exists _qkeys")
    return state.sort_values("qid", kind="stable").reset_index(drop=True), profile


def cutoff_state(
    con: duckdb.DuckDBPyConnection, cutoff: str, cfg: ModelConfig
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``person_state`` for queries all at ``cutoff`` with ``_hist`` before it (scoring), and
    every profile cell: the same values from grouped aggregates instead of windows, which
    sort every event of the history into frames although each query's frame is all of it.

    Counts and last times are exactly the windows'; the other sums of doubles differ only in
    the order of the additions (last bits), and the features made from them are float32:
    equal (the windows' own sums already change in the last bits with the batch a person is
    scored in). The sin/cos sums are still windows (``_WINDOWED_STATE``).
    Returns (state by qid, hour profile [n, 24], weekday profile [n, 7]).
    """
    con.execute(_STREAM_SQL)
    con.execute(f"create or replace temp table _circ as {_state_sql(cfg, only=_WINDOWED_STATE)}")
    state = con.execute(_cutoff_state_sql(cfg, cutoff)).df()
    con.execute("drop table if exists _stream; drop table if exists _circ")
    static = con.execute(_static_sql(con)).df()
    state = state.merge(static, on="qid", how="left")
    prof_h, prof_d = _cutoff_profile(con, cfg, len(state))
    return state.sort_values("qid", kind="stable").reset_index(drop=True), prof_h, prof_d


def training_queries(con: duckdb.DuckDBPyConnection, cutoff: str, cfg: ModelConfig) -> pd.DataFrame:
    """Temp table ``_queries`` = the labelled historical sends, the newest
    ``cfg.max_training_sends`` of them; returns them (sorted by time)."""
    window_end = f"'{cutoff}'::timestamp - interval {cfg.engagement_window_hours} hours"
    con.execute(
        f"""
        create or replace temp table _queries as
        with labelled as (
            select send_id, customer_id,
                   sent_at as ts, channel, sent_local_hour as local_hour, sent_local_weekday as weekday,
                   sent_hour_of_week as hour_of_week,
                   (first_engaged_at is not null and first_engaged_at >= sent_at
                    and first_engaged_at <= sent_at + interval {cfg.engagement_window_hours} hours)::int
                       as label
            from marts.fct_sends
            -- labels still censored at the cutoff (window not over) are left out
            where sent_at <= {window_end}
        ),
        newest as (
            select * from labelled order by ts desc, send_id desc limit {int(cfg.max_training_sends)}
        )
        select row_number() over (order by ts, send_id) - 1 as qid, * from newest
        """
    )
    return con.execute("select * from _queries order by qid").df()


@dataclass
class Priors:
    """Population engagement rates, from the training rows only (stored with the model)."""

    channel_rate: dict[str, float]
    overall_rate: float

    def as_dict(self) -> dict[str, Any]:
        return {"channel_rate": self.channel_rate, "overall_rate": self.overall_rate}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Priors:
        return cls(dict(d["channel_rate"]), float(d["overall_rate"]))

    @classmethod
    def fit(cls, channel: np.ndarray, label: np.ndarray) -> Priors:
        overall = float(label.mean()) if len(label) else 0.1
        rates = {}
        for c in CHANNELS:
            m = channel == c
            rates[c] = float((label[m].sum() + PRIOR_STRENGTH * overall) / (m.sum() + PRIOR_STRENGTH))
        return cls(rates, overall)


def _rate(eng: np.ndarray, sends: np.ndarray, prior: np.ndarray | float) -> np.ndarray:
    return (eng + PRIOR_STRENGTH * prior) / (sends + PRIOR_STRENGTH)


def _days(later: pd.Series | np.ndarray, earlier: pd.Series) -> np.ndarray:
    delta = (pd.to_datetime(later) - pd.to_datetime(earlier)) / pd.Timedelta(days=1)
    return np.asarray(delta, dtype=np.float64)


def encode_categories(frame: pd.DataFrame, vocab: dict[str, list[str]]) -> None:
    """Strings -> stable integer codes; unknown or missing -> NaN (LightGBM: missing)."""
    for col in CAT_COLUMNS:
        if col == "channel":
            continue
        values = frame[col].astype(object).where(frame[col].notna(), None).to_numpy()
        lookup = {v: i for i, v in enumerate(vocab.get(col, []))}
        frame[col] = np.fromiter((lookup.get(v, np.nan) for v in values), dtype=np.float64, count=len(values))


def fit_vocab(state: pd.DataFrame) -> dict[str, list[str]]:
    vocab = {}
    for col in CAT_COLUMNS:
        if col == "channel":
            vocab[col] = list(CHANNELS)
            continue
        counts = state[col].dropna().astype(str).value_counts()
        # rare levels pooled as missing: keeps categorical splits from memorising tiny groups
        vocab[col] = sorted(counts[counts >= 20].index.tolist())[:60]
    return vocab


HOUR_FEATURES = (
    "local_hour",
    "hour_of_week",
    "peak_dist_eng",
    "peak_dist_send",
    "hour_eng_share",
    "hour_eng_share_decay",
    "hour_rate",
    "hour_sends",
)


def _totals(s: pd.DataFrame, prefix: str, rows: np.ndarray) -> np.ndarray:
    return sum(s[f"{prefix}_{c}"].to_numpy(np.float64)[rows] for c in CHANNELS)


def _hour_columns(
    s: pd.DataFrame,
    rows: np.ndarray,
    prof_h: dict[str, np.ndarray],
    local_hour: np.ndarray,
    weekday: np.ndarray,
    priors: Priors,
) -> dict[str, np.ndarray]:
    """The features that change with the candidate hour (everything else is per person x channel)."""
    out: dict[str, np.ndarray] = {
        "local_hour": local_hour.astype(np.float64),
        "hour_of_week": (weekday * 24 + local_hour).astype(np.float64),
    }
    tot_eng = _totals(s, "n_eng", rows)
    person_rate = _rate(tot_eng, _totals(s, "n_send", rows), priors.overall_rate)
    # profile: share of the person's engagements near this hour (+-1 h smoothing weights sum to 2)
    out["hour_eng_share"] = np.where(tot_eng > 0, prof_h["p_eng"] / (2.0 * np.maximum(tot_eng, 1)), np.nan)
    dw3 = s["dw3_eng"].to_numpy(np.float64)[rows]  # same tau*3 decay as the profile: ratio is time-free
    out["hour_eng_share_decay"] = np.where(
        dw3 > 0, prof_h["p_eng_d"] / (2.0 * np.maximum(dw3, 1e-300)), np.nan
    )
    # distance (hours, circular) from the candidate hour to the person's mean engagement hour
    # and to the mean send hour of their engaged sends
    for name, (sn, cs) in {
        "peak_dist_eng": ("eng_sin", "eng_cos"),
        "peak_dist_send": ("es_sin", "es_cos"),
    }.items():
        # rounded: window sums differ in the last bits by summation order; keep atan2 stable
        sv, cv = (np.round(s[k].to_numpy(np.float64)[rows], 9) for k in (sn, cs))
        peak = np.mod(np.arctan2(sv, cv) * 24 / (2 * np.pi), 24)
        dist = np.abs(local_hour - peak)
        out[name] = np.where(tot_eng > 0, np.minimum(dist, 24 - dist), np.nan)
    # engagement rate of sends made near this hour, shrunk toward the person's own rate
    out["hour_rate"] = _rate(prof_h["p_engsend"], prof_h["p_send"], person_rate)
    out["hour_sends"] = prof_h["p_send"]
    return out


def _pair_columns(
    s: pd.DataFrame,
    rows: np.ndarray,
    prof_d: dict[str, np.ndarray],
    channel: np.ndarray,
    weekday: np.ndarray,
    ts: np.ndarray,
    priors: Priors,
    vocab: dict[str, list[str]],
) -> dict[str, np.ndarray]:
    """Features of a person x channel x weekday (not of the hour)."""
    n = len(rows)
    out: dict[str, np.ndarray] = {}
    ch_idx = np.select([channel == c for c in CHANNELS], list(range(len(CHANNELS))), -1)
    out["channel"] = ch_idx.astype(np.float64)
    out["weekday"] = weekday.astype(np.float64)
    dq = s["dq"].to_numpy()[rows]

    def pick(prefix: str) -> np.ndarray:
        mat = np.stack([s[f"{prefix}_{c}"].to_numpy(np.float64)[rows] for c in CHANNELS], axis=1)
        return mat[np.arange(n), np.clip(ch_idx, 0, None)]

    ch_prior = np.array([priors.channel_rate[c] for c in CHANNELS])[np.clip(ch_idx, 0, None)]
    ch_send, ch_eng = pick("n_send"), pick("n_eng")
    ch_dsend, ch_deng = pick("dw_send") / dq, pick("dw_eng") / dq
    out["ch_sends_all"] = ch_send
    out["ch_rate_all"] = _rate(ch_eng, ch_send, ch_prior)
    out["ch_rate_decay"] = _rate(ch_deng, ch_dsend, ch_prior)
    out["ch_sends_decay"] = ch_dsend
    out["ch_rate_90d"] = _rate(pick("r_eng"), pick("r_send"), ch_prior)
    out["ch_sends_90d"] = pick("r_send")
    tot_eng = _totals(s, "n_eng", rows)
    out["ch_eng_share"] = np.where(tot_eng > 0, ch_eng / np.maximum(tot_eng, 1), np.nan)
    last_ch = np.stack([s[f"last_eng_{c}"].to_numpy()[rows] for c in CHANNELS], axis=1)
    last_ch = last_ch[np.arange(n), np.clip(ch_idx, 0, None)]
    out["ch_days_since_eng"] = _days(ts, pd.Series(last_ch))
    tot_send = _totals(s, "n_send", rows)
    out["tot_sends_all"] = tot_send
    out["tot_rate_all"] = _rate(tot_eng, tot_send, priors.overall_rate)
    out["tot_rate_decay"] = _rate(
        _totals(s, "dw_eng", rows) / dq, _totals(s, "dw_send", rows) / dq, priors.overall_rate
    )
    out["tot_rate_90d"] = _rate(_totals(s, "r_eng", rows), _totals(s, "r_send", rows), priors.overall_rate)
    out["days_since_eng"] = _days(ts, s["last_eng"].iloc[rows])
    out["days_since_send"] = _days(ts, s["last_send"].iloc[rows])
    sv, cv = (np.round(s[k].to_numpy(np.float64)[rows], 9) for k in ("eng_sin", "eng_cos"))
    out["peak_concentration"] = np.where(tot_eng > 0, np.hypot(sv, cv) / np.maximum(tot_eng, 1), np.nan)
    person_rate = out["tot_rate_all"]
    out["wd_eng_share"] = np.where(tot_eng > 0, prof_d["p_eng"] / np.maximum(tot_eng, 1), np.nan)
    out["wd_rate"] = _rate(prof_d["p_engsend"], prof_d["p_send"], person_rate)
    out["orders_before"] = s["orders_before"].to_numpy(np.float64)[rows]
    out["revenue_before"] = s["revenue_before"].to_numpy(np.float64)[rows]
    out["days_since_order"] = _days(ts, s["last_order"].iloc[rows])
    out["tenure_days"] = s["tenure_days"].to_numpy(np.float64)[rows]
    # encode once per person, then broadcast: far fewer Python-level lookups than per candidate
    cats = s[[c for c in CAT_COLUMNS if c != "channel"]].reset_index(drop=True)
    encode_categories(cats, vocab)
    for col in cats.columns:
        out[col] = cats[col].to_numpy()[rows]
    return out


def assemble(
    state: pd.DataFrame,
    prof_h: dict[str, np.ndarray],
    prof_d: dict[str, np.ndarray],
    channel: np.ndarray,
    local_hour: np.ndarray,
    weekday: np.ndarray,
    ts: np.ndarray,
    priors: Priors,
    vocab: dict[str, list[str]],
    rows: np.ndarray,
) -> pd.DataFrame:
    """Model matrix (FEATURES order) for candidate rows; ``rows`` index into ``state``.

    prof_h / prof_d: per candidate row, the profile cell at its hour / weekday
    (keys p_eng, p_eng_d, p_send, p_engsend).
    """
    out = _pair_columns(state, rows, prof_d, channel, weekday, ts, priors, vocab)
    out |= _hour_columns(state, rows, prof_h, local_hour, weekday, priors)
    return pd.DataFrame({f: np.asarray(out[f], dtype=np.float32) for f in FEATURES})


def profile_arrays(profile: pd.DataFrame, n_queries: int, prefix: str, size: int) -> dict[str, np.ndarray]:
    """Long profile (qid, key, values) -> dense arrays [n_queries, size] per value column."""
    part = profile[profile["kt"].to_numpy() == prefix]
    k = part["k"].to_numpy(np.int64)
    q = part["qid"].to_numpy(np.int64)
    dense = {}
    for col in ("p_eng", "p_eng_d", "p_send", "p_engsend"):
        mat = np.zeros((n_queries, size), dtype=np.float64)
        mat[q, k] = part[col].to_numpy(np.float64)
        dense[col] = mat
    return dense


def own_profile(profile: pd.DataFrame, n_queries: int, prefix: str) -> dict[str, np.ndarray]:
    """Training: each query looked up one cell per prefix -> 1-D arrays (no [n, 24] matrices)."""
    part = profile[profile["kt"].to_numpy() == prefix]
    q = part["qid"].to_numpy(np.int64)
    dense = {}
    for col in ("p_eng", "p_eng_d", "p_send", "p_engsend"):
        vec = np.zeros(n_queries, dtype=np.float64)
        vec[q] = part[col].to_numpy(np.float64)
        dense[col] = vec
    return dense


def training_frame(
    con: duckdb.DuckDBPyConnection, cutoff: str, cfg: ModelConfig = DEFAULT_CONFIG
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(sends, state, own-hour profile, own-weekday profile) for every labelled send < cutoff."""
    sends = training_queries(con, cutoff, cfg)
    build_history(con, cutoff)
    state, profile = person_state(
        con,
        "select qid, customer_id, ts, 'h' || local_hour as key from _queries "
        "union all select qid, customer_id, ts, 'd' || weekday from _queries",
        cfg,
    )
    n = len(sends)
    return sends, state, own_profile(profile, n, "h"), own_profile(profile, n, "d")


def training_matrix(
    sends: pd.DataFrame,
    state: pd.DataFrame,
    prof_h: dict[str, np.ndarray],
    prof_d: dict[str, np.ndarray],
    priors: Priors,
    vocab: dict[str, list[str]],
) -> pd.DataFrame:
    """Features of each send at its own channel, hour and weekday."""
    n = len(sends)
    rows = np.arange(n)
    hr = sends["local_hour"].to_numpy(np.int64)
    wd = sends["weekday"].to_numpy(np.int64)
    return assemble(
        state,
        prof_h,
        prof_d,
        sends["channel"].to_numpy().astype(str),
        hr,
        wd,
        sends["ts"].to_numpy(),
        priors,
        vocab,
        rows,
    )


def scoring_state(
    con: duckdb.DuckDBPyConnection,
    as_of: str,
    people_sql: str,
    cfg: ModelConfig = DEFAULT_CONFIG,
    windows: bool = False,
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Person state at ``as_of`` for the people in ``people_sql`` (a customer_id column).

    Returns (state with customer_id by qid, hour profile [n,24], weekday profile [n,7]).
    Grouped aggregates (``cutoff_state``); ``windows=True``: training's window SQL (the
    reference the tests compare them with).
    """
    con.execute(
        f"""
        create or replace temp table _queries as
        select row_number() over (order by customer_id) - 1 as qid, customer_id,
               '{as_of}'::timestamp as ts
        from (select distinct customer_id from ({people_sql}))
        """
    )
    con.execute("create or replace temp table _people as select customer_id from _queries")
    build_history(con, as_of, customers="_people")
    if windows:
        state, profile = person_state(
            con,
            "select qid, customer_id, ts, 'h' || h as key from _queries, range(24) t(h) "
            "union all select qid, customer_id, ts, 'd' || d from _queries, range(7) t(d)",
            cfg,
        )
        n = len(state)
        prof_h, prof_d = profile_arrays(profile, n, "h", 24), profile_arrays(profile, n, "d", 7)
    else:
        state, prof_h, prof_d = cutoff_state(con, as_of, cfg)
    ids = con.execute("select qid, customer_id from _queries order by qid").df()
    state = state.merge(ids, on="qid", how="left")
    return state, prof_h, prof_d


def candidates(
    state: pd.DataFrame,
    prof_h: dict[str, np.ndarray],
    prof_d: dict[str, np.ndarray],
    person_rows: np.ndarray,
    channels: np.ndarray,
    hours: list[int],
    weekday: np.ndarray,
    priors: Priors,
    vocab: dict[str, list[str]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Broadcast (person, channel) pairs over the allowed hours, as a float32 matrix.

    person_rows / channels / weekday: aligned arrays, one entry per (person, channel) pair.
    The pair-level features are computed once per pair and repeated; only the hour features
    are computed per candidate. Returns (matrix [pairs * hours, FEATURES], pair index, hour).
    """
    hrs = np.asarray(hours, dtype=np.int64)
    n_pairs, n_h = len(person_rows), len(hrs)
    ts = state["ts"].to_numpy()[person_rows]
    pdw = {k: v[person_rows, weekday] for k, v in prof_d.items()}
    base = _pair_columns(state, person_rows, pdw, channels, weekday, ts, priors, vocab)
    pair = np.repeat(np.arange(n_pairs), n_h)
    hour = np.tile(hrs, n_pairs)
    rows = person_rows[pair]
    ph = {k: v[rows, hour] for k, v in prof_h.items()}
    per_hour = _hour_columns(state, rows, ph, hour, weekday[pair], priors)
    x = np.empty((n_pairs * n_h, len(FEATURES)), dtype=np.float32)
    for j, f in enumerate(FEATURES):
        x[:, j] = per_hour[f] if f in per_hour else np.repeat(np.asarray(base[f], dtype=np.float32), n_h)
    return x, pair, hour
