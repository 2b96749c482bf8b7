"""The peers a user would pick instead of rightsend's dbt marts and scoring, on the same data.

RFM per customer (the ``marts.mart_customer_rfm`` contract) computed three ways from the raw
tables that ingestion loaded:

* ``rfm_pandas``  - an analyst's notebook: read raw.orders and raw.customers into pandas, join
  orders to customers by email, then phone, compute recency / frequency / monetary and the
  quintile scores.
* ``rfm_duckdb``  - one hand-written DuckDB query straight on the raw tables: the floor.
* ``rfm_dbt``     - the project's own models: ``dbt run|build --select +mart_customer_rfm``.

All three follow the same semantics (docs/landing-contract.md, dbt_project/models): latest
export of an order wins and order-level fields come from its first line item; cancelled or
voided orders and orders outside the RFM window do not count; monetary is net of refunds; an
order belongs to the Shopify customer owning its email, else its phone (owner of an address =
latest customer row, then lowest Customer ID), else to a guest person anchored on its email
(else phone); customer_id = 'rs_' + md5(anchor)[:16]; scores are ntile(5) with ties broken by
customer_id; the segment comes from the rfm_segment_map seed. ``compare_rfm`` checks that they
agree with the mart to the cent (tests/benchmarks/ asserts it).

Scoring: ``scoring_floor`` builds the same feature matrix ``models_ml.predict`` scores and
times ``booster.predict`` on it alone - the floor for LightGBM batch scoring on this machine.
"""

from __future__ import annotations

import csv
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rightsend.config import DBT_PROJECT_DIR, Settings

RFM_WINDOW_MONTHS = 12  # dbt var rfm_window_months
SEGMENT_MAP = DBT_PROJECT_DIR / "seeds" / "rfm_segment_map.csv"
RFM_COLUMNS = [
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
]


def _window_start(run_date: str) -> date:
    """run_date - rfm_window_months months (DuckDB month arithmetic: clamp to month end)."""
    d = date.fromisoformat(run_date)
    month = d.month - RFM_WINDOW_MONTHS
    year = d.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _segment_rows() -> list[tuple[int, int, str]]:
    with open(SEGMENT_MAP, newline="") as handle:
        return [(int(r["r_score"]), int(r["f_score"]), r["rfm_segment"]) for r in csv.DictReader(handle)]


# --------------------------------------------------------------------------------------------
# (b) one DuckDB query: the floor
# --------------------------------------------------------------------------------------------
def rfm_sql(run_date: str) -> str:
    start = _window_start(run_date).isoformat()
    end_at = f"timestamp '{run_date}' + interval 1 day - interval 1 second"
    quoted = [(r, f, "'" + s.replace("'", "''") + "'") for r, f, s in _segment_rows()]
    segments = ", ".join(f"({r}, {f}, {s})" for r, f, s in quoted)
    return f"""
with latest_customer as (
    select customer_id, nullif(lower(trim(email)), '') as email, nullif(trim(phone), '') as phone,
           updated_at, _dt, _file, _line
    from raw.customers
    qualify row_number() over (
        partition by customer_id order by updated_at desc nulls last, _dt desc, _file desc, _line desc) = 1
),
contacts as (
    select 'email' as kind, email as value, customer_id, updated_at, _dt, _file, _line
    from latest_customer where email is not null
    union all
    select 'phone', phone, customer_id, updated_at, _dt, _file, _line
    from latest_customer where phone is not null
),
owner as (
    select kind, value, customer_id from contacts
    qualify row_number() over (partition by kind, value
        order by updated_at desc nulls last, _dt desc, _file desc, _line desc, customer_id) = 1
),
first_lines as (
    select order_id, nullif(lower(trim(email)), '') as email, nullif(trim(phone), '') as phone,
           created_at as ordered_at,
           (cancelled_at is not null and cancelled_at <= {end_at})
               or coalesce(lower(financial_status) = 'voided', false) as is_cancelled,
           coalesce(total, 0) - coalesce(refunded_amount, 0) as net_total
    from raw.orders
    qualify row_number() over (partition by order_id order by _dt desc, _file desc, _line) = 1
),
counted as (
    select
        coalesce(
            'rs_' || left(md5('customer_id:' || coalesce(by_email.customer_id, by_phone.customer_id)), 16),
            'rs_' || left(md5(case when o.email is not null then 'email:' || o.email
                                   else 'phone:' || o.phone end), 16)
        ) as customer_id,
        o.ordered_at, o.net_total
    from first_lines as o
    left join owner as by_email on by_email.kind = 'email' and by_email.value = o.email
    left join owner as by_phone on by_phone.kind = 'phone' and by_phone.value = o.phone
    where not o.is_cancelled
      and (o.email is not null or o.phone is not null)
      and o.ordered_at > timestamp '{start}' and o.ordered_at <= {end_at}
),
per_customer as (
    select customer_id,
           date_diff('day', cast(max(ordered_at) as date), date '{run_date}') as recency_days,
           count(*) as frequency, sum(net_total) as monetary
    from counted group by 1
),
scored as (
    select *,
           ntile(5) over (order by recency_days desc, customer_id) as r_score,
           ntile(5) over (order by frequency, customer_id) as f_score,
           ntile(5) over (order by monetary, customer_id) as m_score
    from per_customer
)
select scored.customer_id, cast(recency_days as integer) as recency_days,
       cast(frequency as integer) as frequency, cast(monetary as decimal(18, 2)) as monetary,
       cast(scored.r_score as integer) as r_score, cast(scored.f_score as integer) as f_score,
       cast(scored.m_score as integer) as m_score, seg.rfm_segment
from scored
left join (values {segments}) as seg(r_score, f_score, rfm_segment)
    on scored.r_score = seg.r_score and scored.f_score = seg.f_score
"""


PEER_SCHEMA = "bench"  # the hand-written query's table, beside the dbt schemas


def rfm_duckdb(settings: Settings, run_date: str, out: str | None = None) -> dict[str, Any]:
    """The single query, materialised as a table (like the mart); optionally exported to parquet."""
    from rightsend import warehouse

    with warehouse.connect(settings, read_only=False) as con:
        started = time.perf_counter()
        con.execute(f"create schema if not exists {PEER_SCHEMA}")
        con.execute(f"create or replace table {PEER_SCHEMA}.rfm_duckdb as {rfm_sql(run_date)}")
        seconds = time.perf_counter() - started
        rows = con.execute(f"select count(*) from {PEER_SCHEMA}.rfm_duckdb").fetchone()[0]
        if out:
            con.execute(f"select * from {PEER_SCHEMA}.rfm_duckdb").df().to_pickle(out)
    return {"seconds": round(seconds, 3), "customers": int(rows)}


# --------------------------------------------------------------------------------------------
# (a) pandas: the analyst's notebook
# --------------------------------------------------------------------------------------------
def _ntile5(n: int):  # noqa: ANN202 - numpy array
    """DuckDB's ntile(5) for sorted positions 0..n-1: the first n % 5 buckets get one more row."""
    import numpy as np

    pos = np.arange(n)
    q, r = divmod(n, 5)
    big = r * (q + 1)
    small = r + (pos - big) // max(q, 1)
    return np.where(pos < big, pos // (q + 1), small) + 1


# The raw columns the notebook uses: reading only these (not `select *`, ~40 columns of every
# line item) is what lets it fit at 1M customers (~16M line-item rows) on this machine.
ORDER_COLUMNS = (
    "order_id", "email", "phone", "created_at", "cancelled_at", "financial_status", "total",
    "refunded_amount", "_dt", "_file", "_line",
)  # fmt: skip
CUSTOMER_COLUMNS = ("customer_id", "email", "phone", "updated_at", "_dt", "_file", "_line")


def rfm_pandas_frame(orders, customers, run_date: str):  # noqa: ANN001, ANN201 - pandas frames
    """RFM from raw.orders and raw.customers frames (as read from the warehouse)."""
    import hashlib

    import numpy as np
    import pandas as pd

    end_at = pd.Timestamp(run_date) + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    start = pd.Timestamp(_window_start(run_date))

    def clean(s: pd.Series, lower: bool) -> pd.Series:
        s = s.astype("string").str.strip()
        if lower:
            s = s.str.lower()
        return s.mask(s == "")

    # latest row per Shopify customer, then the owner of each email / phone
    c = customers[list(CUSTOMER_COLUMNS)].copy()
    c["email"], c["phone"] = clean(c["email"], True), clean(c["phone"], False)
    c = c.sort_values(
        ["updated_at", "_dt", "_file", "_line"], ascending=False, na_position="last", kind="stable"
    )
    c = c.drop_duplicates("customer_id", keep="first")
    owners = {}
    for kind in ("email", "phone"):
        k = c[c[kind].notna()].sort_values(
            ["updated_at", "_dt", "_file", "_line", "customer_id"],
            ascending=[False, False, False, False, True],
            na_position="last",
            kind="stable",
        )
        owners[kind] = k.drop_duplicates(kind, keep="first").set_index(kind)["customer_id"]

    # the latest export of each order, its first line item
    o = orders[list(ORDER_COLUMNS)]
    o = o.sort_values(
        ["order_id", "_dt", "_file", "_line"], ascending=[True, False, False, True], kind="stable"
    )
    o = o.drop_duplicates("order_id", keep="first").copy()
    o["email"], o["phone"] = clean(o["email"], True), clean(o["phone"], False)
    cancelled = (o["cancelled_at"].notna() & (o["cancelled_at"] <= end_at)) | (
        o["financial_status"].astype("string").str.lower() == "voided"
    ).fillna(False)
    keep = (
        ~cancelled
        & (o["email"].notna() | o["phone"].notna())
        & (o["created_at"] > start)
        & (o["created_at"] <= end_at)
    )
    o = o[keep.to_numpy(bool)]

    # join by email, then phone; else a guest anchored on the email (else the phone)
    shopify = o["email"].map(owners["email"])
    shopify = shopify.fillna(o["phone"].map(owners["phone"]))
    anchor = ("customer_id:" + shopify.astype("string")).fillna(
        ("email:" + o["email"]).fillna("phone:" + o["phone"])
    )
    ids = {a: "rs_" + hashlib.md5(a.encode()).hexdigest()[:16] for a in anchor.unique()}
    cents = np.round(o["total"].fillna(0).to_numpy(float) * 100).astype(np.int64) - np.round(
        o["refunded_amount"].fillna(0).to_numpy(float) * 100
    ).astype(np.int64)
    frame = pd.DataFrame(
        {"customer_id": anchor.map(ids).to_numpy(), "ordered_at": o["created_at"].to_numpy(), "cents": cents}
    )
    g = frame.groupby("customer_id", sort=True).agg(
        last=("ordered_at", "max"), frequency=("ordered_at", "size"), cents=("cents", "sum")
    )
    g = g.reset_index()
    g["recency_days"] = (pd.Timestamp(run_date) - g["last"].dt.normalize()).dt.days.astype(np.int64)
    n = len(g)
    for score, col, asc in (
        ("r_score", "recency_days", False),
        ("f_score", "frequency", True),
        ("m_score", "cents", True),
    ):
        order = g.sort_values([col, "customer_id"], ascending=[asc, True], kind="stable").index
        g.loc[order, score] = _ntile5(n)
    seg = pd.DataFrame(_segment_rows(), columns=["r_score", "f_score", "rfm_segment"])
    g[["r_score", "f_score", "m_score"]] = g[["r_score", "f_score", "m_score"]].astype(np.int64)
    g = g.merge(seg, on=["r_score", "f_score"], how="left")
    g["monetary"] = g["cents"] / 100
    return g[RFM_COLUMNS]


def rfm_pandas(settings: Settings, run_date: str, out: str | None = None) -> dict[str, Any]:
    """Read the columns RFM needs from the raw tables into pandas (as a notebook would), then
    compute RFM in pandas."""
    from rightsend import warehouse

    started = time.perf_counter()
    with warehouse.connect(settings, read_only=True) as con:
        orders = con.execute(f"select {', '.join(ORDER_COLUMNS)} from raw.orders").df()
        customers = con.execute(f"select {', '.join(CUSTOMER_COLUMNS)} from raw.customers").df()
    read = time.perf_counter() - started
    rfm = rfm_pandas_frame(orders, customers, run_date)
    seconds = time.perf_counter() - started
    if out:
        rfm.to_pickle(out)
    return {
        "seconds": round(seconds, 3),
        "read_seconds": round(read, 3),
        "compute_seconds": round(seconds - read, 3),
        "customers": len(rfm),
        "raw_order_rows": len(orders),
    }


# --------------------------------------------------------------------------------------------
# (c) dbt: the project's models
# --------------------------------------------------------------------------------------------
def rfm_dbt(settings: Settings, run_date: str, command: str = "run") -> dict[str, Any]:
    """`dbt <command> --select +mart_customer_rfm` (run: models only; build: with tests, seeds)."""
    from rightsend.transform import dbt

    started = time.perf_counter()
    result = dbt([command, "--select", "+mart_customer_rfm"], settings, run_date)
    seconds = time.perf_counter() - started
    nodes = {}
    for r in result.result.results:
        nodes[r.node.name] = round(float(r.execution_time), 3)
    return {"seconds": round(seconds, 3), "nodes": nodes, "node_seconds": round(sum(nodes.values()), 3)}


def compare_rfm(settings: Settings, run_date: str, frames: dict[str, Any]) -> dict[str, Any]:
    """Row-for-row equality of each peer's RFM with marts.mart_customer_rfm."""
    import pandas as pd

    from rightsend import warehouse

    with warehouse.connect(settings, read_only=True) as con:
        mart = con.execute("select * from marts.mart_customer_rfm").df()
    mart = _canonical(mart)
    out = {"mart_customers": len(mart)}
    for name, frame in frames.items():
        frame = _canonical(frame if isinstance(frame, pd.DataFrame) else pd.read_pickle(frame))
        merged = mart.merge(frame, on="customer_id", how="outer", suffixes=("_mart", "_peer"), indicator=True)
        only_mart = int((merged["_merge"] == "left_only").sum())
        only_peer = int((merged["_merge"] == "right_only").sum())
        both = merged[merged["_merge"] == "both"]
        diffs = {
            col: int((both[f"{col}_mart"] != both[f"{col}_peer"]).sum())
            for col in RFM_COLUMNS
            if col != "customer_id"
        }
        out[name] = {
            "customers": len(frame),
            "only_in_mart": only_mart,
            "only_in_peer": only_peer,
            "value_mismatches": {k: v for k, v in diffs.items() if v},
            "equal": only_mart == 0 and only_peer == 0 and not any(diffs.values()),
        }
    return out


def _canonical(frame):  # noqa: ANN001, ANN202
    import numpy as np

    f = frame[RFM_COLUMNS].copy()
    f["customer_id"] = f["customer_id"].astype(str)
    for col in ("recency_days", "frequency", "r_score", "f_score", "m_score"):
        f[col] = f[col].astype(np.int64)
    f["monetary"] = np.round(f["monetary"].astype(float) * 100).astype(np.int64)  # cents
    f["rfm_segment"] = f["rfm_segment"].astype(str)
    return f.sort_values("customer_id").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# scoring floor: booster.predict on the matrix models_ml.predict builds
# --------------------------------------------------------------------------------------------
def scoring_floor(settings: Settings, run_date: str) -> dict[str, Any]:
    """Same people, channels, hours and features as models_ml.predict; time each part."""
    import numpy as np

    from models_ml import features
    from models_ml.config import CHANNELS, DEFAULT_CONFIG
    from models_ml.predict import LoadedModel, _reachable_people
    from models_ml.registry import champion
    from rightsend import warehouse

    cfg = DEFAULT_CONFIG
    info = champion(settings)
    if info is None:
        return {"status": "no champion model: nothing to score"}
    model = LoadedModel.from_info(info)
    from models_ml.config import load_rules

    hours = load_rules().allowed_hours
    as_of = (date.fromisoformat(run_date) + timedelta(days=1)).isoformat()
    weekday_next = date.fromisoformat(as_of).weekday()
    t_feat = t_predict = t_contrib = 0.0
    n_people = n_pairs = n_rows = 0
    with warehouse.connect(settings, read_only=True) as con:
        con.execute(f"set threads = {cfg.num_threads}")
        people = _reachable_people(con)
        for start in range(0, len(people), cfg.batch_size):
            t0 = time.perf_counter()
            batch = people.iloc[start : start + cfg.batch_size].reset_index(drop=True)
            con.register("_batch", batch[["customer_id"]])
            state, ph, pdw = features.scoring_state(con, as_of, "select customer_id from _batch", cfg)
            con.unregister("_batch")
            import pandas as pd

            row_of = pd.Series(np.arange(len(state)), index=state["customer_id"].to_numpy())
            rows_people = row_of.loc[batch["customer_id"].to_numpy()].to_numpy()
            pi, ci = np.nonzero(batch[list(CHANNELS)].to_numpy(bool))
            x, _, _ = features.candidates(
                state,
                ph,
                pdw,
                rows_people[pi],
                np.array(CHANNELS)[ci],
                hours,
                np.full(len(pi), weekday_next),
                model.priors,
                model.vocab,
            )
            t1 = time.perf_counter()
            margin = model.booster.predict(x, raw_score=True, num_threads=cfg.num_threads)
            t2 = time.perf_counter()
            # the explanation predict.run computes: SHAP contributions of one row per pair
            best = margin.reshape(len(pi), len(hours)).argmax(axis=1)
            idx = np.arange(len(pi)) * len(hours) + best
            xb = x.iloc[idx] if hasattr(x, "iloc") else x[idx]
            model.booster.predict(xb, pred_contrib=True, num_threads=cfg.num_threads)
            t3 = time.perf_counter()
            t_feat, t_predict, t_contrib = t_feat + t1 - t0, t_predict + t2 - t1, t_contrib + t3 - t2
            n_people, n_pairs, n_rows = n_people + len(batch), n_pairs + len(pi), n_rows + len(x)
    return {
        "people": n_people,
        "pairs": n_pairs,
        "candidate_rows": n_rows,
        "features_seconds": round(t_feat, 3),
        "booster_predict_seconds": round(t_predict, 3),
        "shap_contrib_seconds": round(t_contrib, 3),
        "floor_rows_per_second": round(n_rows / t_predict) if t_predict else None,
        "model_version": info.version,
    }


__all__ = [
    "compare_rfm",
    "rfm_dbt",
    "rfm_duckdb",
    "rfm_pandas",
    "rfm_pandas_frame",
    "rfm_sql",
    "scoring_floor",
]


if __name__ == "__main__":  # quick manual check: python -m benchmarks.peers <workdir> <run_date>
    import json
    import sys

    w = Path(sys.argv[1])
    s = Settings(w / "landing", w / "out", w / "warehouse" / "rightsend.duckdb")
    d = sys.argv[2]
    print(rfm_duckdb(s, d, "/tmp/rfm_duckdb.pkl"))
    print(rfm_pandas(s, d, "/tmp/rfm_pandas.pkl"))
    print(
        json.dumps(
            compare_rfm(s, d, {"duckdb": "/tmp/rfm_duckdb.pkl", "pandas": "/tmp/rfm_pandas.pkl"}), indent=1
        )
    )
