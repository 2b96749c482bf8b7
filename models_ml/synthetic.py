"""Marts-shaped synthetic data with planted personal peak hours and channel preferences.

For unit tests and the benchmark while (or where) the real demo -> ingest -> dbt chain is not
available. Only the contract columns models_ml reads are created.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd

from models_ml.config import CHANNELS

TIMEZONES = ("America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo")
BASE = {"email": 0.10, "sms": 0.08, "push": 0.07}


@dataclass
class SynthTruth:
    customer_id: np.ndarray
    peak_hour: np.ndarray
    preferred: np.ndarray  # channel index with a 2.5x boost
    activity: np.ndarray

    def p(self, rows: np.ndarray, channel_idx: np.ndarray, local_hour: np.ndarray) -> np.ndarray:
        """True engagement probability for person rows at (channel, local hour)."""
        base = np.array([BASE[c] for c in CHANNELS])[channel_idx]
        boost = np.where(channel_idx == self.preferred[rows], 2.5, 0.6)
        d = np.abs(local_hour - self.peak_hour[rows])
        d = np.minimum(d, 24 - d)
        hour = 0.35 + 2.2 * np.exp(-(d**2) / (2 * 1.5**2))
        return np.clip(base * boost * hour * self.activity[rows], 0, 0.95)


def create_marts(
    con: duckdb.DuckDBPyConnection,
    customers: int = 300,
    days: int = 60,
    sends_per_day: float = 0.5,
    end_date: str = "2026-11-20",
    seed: int = 7,
) -> SynthTruth:
    """Create marts.{dim_customers,fct_sends,fct_orders,fct_message_events} in ``con``."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"c{i:07d}" for i in range(customers)])
    tz = np.array(TIMEZONES)[rng.integers(len(TIMEZONES), size=customers)]
    truth = SynthTruth(
        ids,
        rng.integers(8, 21, size=customers),
        rng.integers(len(CHANNELS), size=customers),
        rng.lognormal(0, 0.4, size=customers),
    )
    reach = rng.random((customers, 3)) < np.array([0.95, 0.6, 0.5])
    reach[np.arange(customers), truth.preferred] = True
    start = date.fromisoformat(end_date) - timedelta(days=days - 1)
    con.execute("create schema if not exists marts")
    dim = pd.DataFrame(
        {
            "customer_id": ids,
            "source_customer_id": ids,
            "country_code": np.where(
                np.char.startswith(tz, "America"), "US", np.where(tz == "Asia/Tokyo", "JP", "GB")
            ),
            "timezone": tz,
            "timezone_source": np.array(["device", "browser", "region"])[rng.integers(3, size=customers)],
            "is_email_reachable": reach[:, 0],
            "is_sms_reachable": reach[:, 1],
            "is_push_reachable": reach[:, 2],
            "push_platform": np.where(
                reach[:, 2], np.where(rng.random(customers) < 0.5, "ios", "android"), None
            ),
            "created_at": pd.Timestamp(start)
            - pd.to_timedelta(rng.integers(0, 400, size=customers), unit="D"),
            "lifecycle_state": "active",
            "rfm_segment": "mid",
        }
    )
    con.register("_dim", dim)
    con.execute("create or replace table marts.dim_customers as select * from _dim")
    con.unregister("_dim")
    # sends: Poisson count per person-day, random reachable channel, local hour 7..21 uniform
    n_per = rng.poisson(sends_per_day * days, size=customers)
    row = np.repeat(np.arange(customers), n_per)
    n = len(row)
    day = rng.integers(0, days, size=n)
    hour = rng.integers(7, 22, size=n)
    minute = rng.integers(0, 60, size=n)
    probs = reach[row] / reach[row].sum(axis=1, keepdims=True)
    ch = (probs.cumsum(axis=1) > rng.random(n)[:, None]).argmax(axis=1)
    p = truth.p(row, ch, hour)
    engaged = rng.random(n) < p
    delay_min = rng.exponential(90, size=n).clip(1, 60 * 30)  # a few land after the 24 h window
    local = (
        pd.Timestamp(start) + pd.to_timedelta(day, unit="D") + pd.to_timedelta(hour * 60 + minute, unit="m")
    )
    sends = pd.DataFrame(
        {
            "send_id": [f"s{i:09d}" for i in range(n)],
            "customer_id": ids[row],
            "channel": np.array(CHANNELS)[ch],
            "timezone": tz[row],
            "sent_local_at": local,
            "delay_min": np.where(engaged, delay_min, np.nan),
        }
    )
    con.register("_sends", sends)
    con.execute(
        """
        create or replace table marts.fct_sends as
        select send_id, customer_id, channel,
               timezone('UTC', timezone(timezone, sent_local_at)) as sent_at,
               'camp' as campaign_id, send_id as message_id, timezone, sent_local_at,
               hour(sent_local_at) as sent_local_hour, isodow(sent_local_at) - 1 as sent_local_weekday,
               (isodow(sent_local_at) - 1) * 24 + hour(sent_local_at) as sent_hour_of_week,
               case when delay_min is not null then timezone('UTC', timezone(timezone, sent_local_at))
                    + to_microseconds(cast(delay_min * 60e6 as bigint)) end as first_engaged_at,
               true as is_delivered
        from _sends
        """
    )
    con.unregister("_sends")
    # orders: a few per person
    n_ord = rng.poisson(1.5, size=customers)
    orow = np.repeat(np.arange(customers), n_ord)
    orders = pd.DataFrame(
        {
            "order_id": [f"o{i:08d}" for i in range(len(orow))],
            "customer_id": ids[orow],
            "ordered_at": pd.Timestamp(start)
            + pd.to_timedelta(rng.integers(0, days * 24 * 60, size=len(orow)), unit="m"),
            "is_cancelled": rng.random(len(orow)) < 0.05,
            "net_total": rng.gamma(2, 30, size=len(orow)).round(2),
        }
    )
    con.register("_orders", orders)
    con.execute("create or replace table marts.fct_orders as select * from _orders")
    con.unregister("_orders")
    con.execute(
        """
        create or replace table marts.fct_message_events as
        select send_id || '-e' as event_id, customer_id, channel, 'open' as event_type,
               first_engaged_at as occurred_at, send_id, campaign_id, message_id,
               false as is_machine_open, true as is_human_engagement, false as is_hard_bounce
        from marts.fct_sends where first_engaged_at is not null
        """
    )
    return truth
