"""Storefront events: browsing sessions, carts, checkouts; anonymous visitors who log in later.

Each person browses from one or two devices (anonymous ids). A device is anonymous until the
day the person first logs in on it (mid-session), identified afterwards (most sessions).
Web orders get a session that ends in checkout_started minutes before the order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rightsend.demo import behaviour as bh
from rightsend.demo.catalog import Catalog
from rightsend.demo.clock import DAY, iso_local, iso_z
from rightsend.demo.ids import uuids
from rightsend.demo.world import World

BROWSE_RATE = np.array([0.22, 0.10, 0.14, 0.08, 0.07, 0.03])  # sessions per day, by archetype
QUERIES = np.array(["hoodie", "black boots", "gift", "candle", "merino", "sale", "size 42", "tote bag"])
REFERRERS = np.array(["", "https://www.google.com/", "https://www.instagram.com/", "email", "sms"])
ANON, LOGIN, KNOWN = 0, 1, 2


@dataclass
class WebPeople:
    anon_id: np.ndarray  # (n, 2) cookie ids per device
    ident_day: np.ndarray  # (n, 2) day of first login on that device
    visitor_anon: np.ndarray  # anonymous-only visitors (not customers)
    visitor_zone: np.ndarray


def build_web_people(world: World) -> WebPeople:
    rng = world.rng(606)
    pop = world.pop
    n = pop.n
    created_day = pop.created_sec // DAY
    start = np.maximum(created_day, world.cal.start_day - 30)
    ident = start[:, None] + rng.geometric(0.08, (n, 2))
    ident[:, 1] += rng.integers(0, 40, n)
    n_vis = max(20, n // 3)
    return WebPeople(
        anon_id=uuids(rng, 2 * n).reshape(n, 2),
        ident_day=ident,
        visitor_anon=uuids(rng, n_vis),
        visitor_zone=pop.zone[rng.integers(0, n, n_vis)],
    )


def web_day(
    world: World, wp: WebPeople, day: int, catalog: Catalog, purchases: pd.DataFrame, activity: float = 1.0
) -> None:
    rng = world.rng(607, day)
    pop, cal = world.pop, world.cal
    created_day = pop.created_sec // DAY
    # Customers (and soon-to-be customers, still anonymous) browsing today.
    rate = BROWSE_RATE[pop.archetype] * np.maximum(bh.activity(day, pop.silent_day, pop.decline_day), 0.1)
    pre_signup = (created_day > day) & (created_day <= day + 14)
    rate = np.where(world.erased | ((created_day > day) & ~pre_signup), 0.0, np.where(pre_signup, 0.2, rate))
    who = np.flatnonzero(rng.random(pop.n) < rate * activity)
    vis = np.flatnonzero(rng.random(len(wp.visitor_anon)) < 0.05 * activity)
    buyers = purchases["who"].to_numpy(dtype=np.int64) if len(purchases) else np.array([], dtype=np.int64)

    person = np.concatenate([who, np.full(len(vis), -1), buyers])
    kind = np.concatenate([np.zeros(len(who), int), np.ones(len(vis), int), np.full(len(buyers), 2)])
    s = len(person)
    if not s:
        return
    p = np.where(person >= 0, person, 0)
    device = (rng.random(s) < 0.3).astype(int)
    anon = np.where(person >= 0, wp.anon_id[p, device], "")
    anon[kind == 1] = wp.visitor_anon[vis]
    zone = np.where(person >= 0, pop.zone[p], 0)
    zone[kind == 1] = wp.visitor_zone[vis]

    n_views = 1 + rng.poisson(1.6, s)
    search = (rng.random(s) < 0.3).astype(int)
    cart = ((kind == 2) | (rng.random(s) < 0.22)).astype(int)
    remove = (cart.astype(bool) & (kind != 2) & (rng.random(s) < 0.12)).astype(int)
    checkout = ((kind == 2) | (cart.astype(bool) & ~remove.astype(bool) & (rng.random(s) < 0.08))).astype(int)
    length = 1 + search + n_views + cart + remove + checkout

    ev_s = np.repeat(np.arange(s), length)
    offsets = np.r_[0, np.cumsum(length)[:-1]]
    pos = np.arange(len(ev_s)) - offsets[ev_s]
    bounds = np.cumsum(np.stack([np.ones(s, int), search, n_views, cart, remove, checkout]), axis=0)
    names = np.array(
        ["session_start", "search", "product_view", "add_to_cart", "remove_from_cart", "checkout_started"]
    )
    etype = names[(pos[None, :] >= bounds[:, ev_s]).sum(axis=0)]

    gaps = np.where(pos == 0, 0, rng.integers(15, 150, len(ev_s)))
    elapsed = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[offsets], length)
    duration = elapsed[offsets + length - 1]
    # Browsing follows the person's daily rhythm; buyers' sessions end just before the order.
    habit = np.where(rng.random(s) < 0.6, pop.peak_hour[p] + rng.normal(0, 2, s), rng.uniform(7, 24, s))
    local = day * DAY + (np.mod(habit, 24) * 3600).astype(np.int64)
    start = cal.local_to_utc(zone, local)
    if len(buyers):
        start[kind == 2] = (
            purchases["ts"].to_numpy() - duration[kind == 2] - rng.integers(60, 600, len(buyers))
        )
    ts = start[ev_s] + elapsed

    pub = np.flatnonzero(catalog.published())
    sku_i = pub[rng.integers(0, len(pub), len(ev_s))]
    target = pub[rng.integers(0, len(pub), s)]
    if len(buyers):
        lookup = {k: i for i, k in enumerate(catalog.sku)}
        target[kind == 2] = [lookup[k] for k in purchases["sku"]]
    last_view = pos == (bounds[2, ev_s] - 1)
    carty = np.isin(etype, ["add_to_cart", "remove_from_cart", "checkout_started"])
    sku_i = np.where(last_view | carty, target[ev_s], sku_i)
    has_sku = etype != "session_start"
    has_sku &= etype != "search"
    price, _ = catalog.price_cents(day)

    # Identity: anonymous until the device's first login, identified (mostly) afterwards.
    ident_day = np.where(person >= 0, wp.ident_day[p, device], 10**9)
    mode = np.where(
        day < ident_day, ANON, np.where(day == ident_day, LOGIN, np.where(rng.random(s) < 0.85, KNOWN, ANON))
    )
    mode = np.where(person < 0, ANON, mode)
    login_at = np.where(mode == LOGIN, length // 2, np.where(mode == KNOWN, 0, length))
    login_at = np.where(kind == 2, np.minimum(login_at, length - 1), login_at)  # checkout needs an email
    known = pos >= login_at[ev_s]
    pe = p[ev_s]
    r = rng.random(len(ev_s))
    cid = np.where(known & (r < 0.85), pop.cust_id[pe].astype(str), "")
    email = np.where(known & ((r >= 0.55) | (cid == "")), pop.email[pe], "")
    cid = np.where(known & (email == "") & (cid == ""), pop.cust_id[pe].astype(str), cid)

    tz_names = np.array(world.cal.zones)
    tz = np.where(rng.random(s) < 0.92, tz_names[zone], "")[ev_s]
    local_style = (rng.random(s) < 0.5)[ev_s]
    when = np.where(local_style, iso_local(cal, zone[ev_s], ts), iso_z(ts))
    frame = pd.DataFrame(
        {
            "event_id": uuids(rng, len(ev_s)),
            "event_type": etype,
            "occurred_at": when,
            "anonymous_id": anon[ev_s],
            "session_id": uuids(rng, s)[ev_s],
            "customer_id": cid,
            "email": email,
            "sku": np.where(has_sku, catalog.sku[sku_i], None),
            "category": np.where(has_sku, catalog.category[sku_i], None),
            "price": np.where(has_sku, price[sku_i] / 100, np.nan),
            "query": np.where(etype == "search", QUERIES[rng.integers(0, len(QUERIES), len(ev_s))], None),
            "referrer": np.where(
                etype == "session_start", REFERRERS[rng.integers(0, len(REFERRERS), len(ev_s))], None
            ),
            "timezone": tz,
            "_ts": ts,
        }
    )
    world.landing.emit("web", frame)
