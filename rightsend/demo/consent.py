"""Consent and privacy requests: opt-ins/opt-outs per channel (incl. 'all') and erasures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rightsend.demo.clock import DAY, iso_z
from rightsend.demo.ids import uuids
from rightsend.demo.world import EMAIL_OK, PUSH_OK, SMS_OK, World

CHANNELS = np.array(["email", "sms", "push", "all"])
KIND_OF = {"email": (EMAIL_OK,), "sms": (SMS_OK,), "push": (PUSH_OK,), "all": (EMAIL_OK, SMS_OK, PUSH_OK)}


def consent_schedule(world: World) -> pd.DataFrame:
    """All requests of the window: person, time, type, channel, which identifier is given."""
    rng = world.rng(707)
    pop, cal = world.pop, world.cal
    n = pop.n
    r = rng.random(n)
    n_erase = max(2, n // 700)
    kind = np.where(r < 0.025, "opt_out", np.where(r < 0.04, "opt_in", ""))
    kind[rng.choice(n, n_erase, replace=False)] = "erasure"
    idx = np.flatnonzero(kind != "")
    k = len(idx)
    first_day = np.maximum(cal.start_day, pop.created_sec[idx] // DAY + 1)
    day = np.minimum(
        first_day + (rng.random(k) * (cal.end_day + 1 - first_day)).astype(np.int64), cal.end_day
    )
    local = day * DAY + rng.integers(7 * 3600, 23 * 3600, k)
    ts = cal.local_to_utc(pop.zone[idx], local)
    channel = CHANNELS[rng.choice(4, k, p=[0.45, 0.25, 0.15, 0.15])]
    channel = np.where(kind[idx] == "erasure", "all", channel)
    ident = rng.choice(3, k, p=[0.5, 0.35, 0.15])  # customer_id / email / phone
    ident = np.where((ident == 2) & (pop.phone[idx] == ""), 0, ident)
    ident = np.where((ident == 1) & (pop.email[idx] == ""), 0, ident)
    return pd.DataFrame(
        {"who": idx, "ts": ts, "type": kind[idx], "channel": channel, "ident": ident}
    ).sort_values(["ts", "who"], kind="stable")


def consent_day(world: World, schedule: pd.DataFrame, day: int) -> None:
    rows = schedule[(schedule["ts"] // DAY == day)]
    rows = rows[~world.erased[rows["who"].to_numpy()]]
    if rows.empty:
        return
    rng = world.rng(708, day)
    pop = world.pop
    who = rows["who"].to_numpy()
    ts = rows["ts"].to_numpy()
    ident = rows["ident"].to_numpy()
    n = len(rows)
    both = rng.random(n) < 0.3  # some requests carry a second identifier too
    frame = pd.DataFrame(
        {
            "request_id": uuids(rng, n),
            "occurred_at": iso_z(ts),
            "customer_id": np.where(ident == 0, pop.cust_id[who].astype(str), ""),
            "email": np.where((ident == 1) | (both & (ident == 0)), pop.email[who], ""),
            "phone": np.where(ident == 2, pop.phone[who], ""),
            "type": rows["type"].to_numpy(),
            "channel": rows["channel"].to_numpy(),
            "source": np.where(rows["type"].to_numpy() == "erasure", "privacy_portal", "preference_center"),
            "_ts": ts,
        }
    )
    world.landing.emit("consent", frame)
    for t in ("opt_in", "opt_out"):
        m = rows["type"].to_numpy() == t
        for ch, kinds in KIND_OF.items():
            sel = m & (rows["channel"].to_numpy() == ch)
            for kind in kinds:
                world.change(kind, who[sel], ts[sel], t == "opt_in")
    world.erased[who[rows["type"].to_numpy() == "erasure"]] = True
