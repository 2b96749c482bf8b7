"""Who is eligible for each campaign today: segment audiences and behavioural triggers.

Returns one candidate row per (customer, campaign): customer_id, campaign_id, sku (the
product it is about, if any), trigger_at, due_at (earliest send for trigger-timed
messages), step (reminder / series step) and detail (why this person, in words).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from rightsend.decide.campaigns import Campaign, Trigger
from rightsend.decide.inputs import DecisionInputs
from rightsend.decide.rules import Rules

CANDIDATE_COLUMNS = ["customer_id", "campaign_id", "sku", "trigger_at", "due_at", "step", "detail"]
CART_EVENTS = ("add_to_cart", "remove_from_cart", "checkout_started")


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=CANDIDATE_COLUMNS)


def _fmt(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def _known_events(inp: DecisionInputs, types: tuple[str, ...], hours: float) -> pd.DataFrame:
    web = inp.web_events
    since = inp.now - pd.Timedelta(hours=hours)
    mask = web["customer_id"].notna() & web["event_type"].isin(types)
    mask &= (web["occurred_at"] >= since) & (web["occurred_at"] < inp.now)
    return web[mask]


def _counted_lines(inp: DecisionInputs) -> pd.DataFrame:
    lines = inp.order_lines
    keep = lines["customer_id"].notna() & (lines["ordered_at"] < inp.now)
    keep &= ~lines["is_cancelled"].fillna(False).astype(bool)
    return lines[keep]


def _history(inp: DecisionInputs, campaign_id: str) -> pd.DataFrame:
    h = inp.history
    return h[h["campaign_id"] == campaign_id]


def _sent_times(inp: DecisionInputs, campaign_id: str, people: pd.Index | pd.Series) -> dict[str, pd.Series]:
    """Each of ``people``'s earlier send times for the campaign (none: an empty series): one
    grouping, instead of a scan of the campaign's whole history per person."""
    h = _history(inp, campaign_id)
    h = h[h["customer_id"].isin(people)]
    times = {cid: g["send_at_utc"] for cid, g in h.groupby("customer_id", sort=False)}
    none = h["send_at_utc"].iloc[:0]
    return {cid: times.get(cid, none) for cid in people}


def _titles(inp: DecisionInputs) -> dict[str, str]:
    p = inp.products
    return dict(zip(p["sku"], p["title"].fillna(p["sku"]), strict=True))


def _not_after(
    events: pd.DataFrame, later: pd.DataFrame, at: str = "occurred_at", later_at: str = "t"
) -> pd.Series:
    """For (customer, sku) events: True where no ``later`` row of the same pair is at/after it."""
    if later.empty:
        return pd.Series(True, index=events.index)
    last = later.groupby(["customer_id", "sku"])[later_at].max().rename("_later")
    merged = events.join(last, on=["customer_id", "sku"])
    return merged["_later"].isna() | (merged["_later"] < merged[at])


def cart_abandoned(inp: DecisionInputs, c: Campaign, t: Trigger) -> pd.DataFrame:
    ev = _known_events(inp, CART_EVENTS, t.lookback_hours)
    if ev.empty:
        return _empty()
    # Only what happened since the person's last order: an order closes the cart.
    last_order = _counted_lines(inp).groupby("customer_id")["ordered_at"].max().rename("_last_order")
    ev = ev.join(last_order, on="customer_id")
    ev = ev[ev["_last_order"].isna() | (ev["occurred_at"] > ev["_last_order"])]
    items = ev[ev["event_type"].isin(["add_to_cart", "remove_from_cart"]) & ev["sku"].notna()]
    items = items.sort_values(["occurred_at", "event_type"]).groupby(["customer_id", "sku"]).tail(1)
    in_cart = items[items["event_type"] == "add_to_cart"]  # emptied carts drop out here
    if in_cart.empty:
        return _empty()
    latest = (
        in_cart.sort_values(["occurred_at", "sku"]).groupby("customer_id").tail(1).set_index("customer_id")
    )
    n_items = in_cart.groupby("customer_id").size()
    span = ev.groupby("customer_id")["occurred_at"].agg(["min", "max"])
    sent = _sent_times(inp, c.id, latest.index)
    rows = []
    for cid, item in latest.iterrows():
        started, left_at = span.loc[cid, "min"], span.loc[cid, "max"]
        prior = sent[cid]
        prior = prior[prior >= started]
        if len(prior) >= t.max_reminders:
            continue
        due = left_at + pd.Timedelta(hours=t.delay_hours)
        if len(prior):
            due = max(due, prior.max() + pd.Timedelta(hours=t.reminder_interval_hours))
        step = len(prior) + 1
        detail = (
            f"left {n_items[cid]} item(s) in the cart, last touched {_fmt(left_at)} "
            f"(reminder {step} of at most {t.max_reminders}, due {_fmt(due)})"
        )
        rows.append((cid, c.id, item["sku"], left_at, due, step, detail))
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def browse_abandoned(inp: DecisionInputs, c: Campaign, t: Trigger) -> pd.DataFrame:
    views = _known_events(inp, ("product_view",), t.lookback_hours)
    views = views[views["sku"].notna()]
    if views.empty:
        return _empty()
    carts = inp.web_events[inp.web_events["event_type"] == "add_to_cart"].rename(columns={"occurred_at": "t"})
    bought = _counted_lines(inp).rename(columns={"ordered_at": "t"})
    views = views[_not_after(views, carts) & _not_after(views, bought)]
    last = views.sort_values(["occurred_at", "sku"]).groupby("customer_id").tail(1)
    titles = _titles(inp)
    rows = [
        (
            r.customer_id, c.id, r.sku, r.occurred_at, r.occurred_at + pd.Timedelta(hours=t.delay_hours), 1,
            f"viewed '{titles.get(r.sku, r.sku)}' at {_fmt(r.occurred_at)} without carting or buying it",
        )
        for r in last.itertuples()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def _interest(inp: DecisionInputs, c: Campaign, t: Trigger, products: pd.DataFrame) -> pd.DataFrame:
    """Views/carts of the given products in the lookback, minus ones already announced."""
    ev = _known_events(inp, ("product_view", "add_to_cart"), t.lookback_hours)
    ev = ev[ev["sku"].isin(products["sku"])]
    if ev.empty:
        return ev
    told = _history(inp, c.id)
    told = told[told["send_at_utc"] >= inp.now - pd.Timedelta(hours=t.lookback_hours)]
    told_pairs = set(zip(told["customer_id"], told["sku"], strict=True))
    keep = [(cid, sku) not in told_pairs for cid, sku in zip(ev["customer_id"], ev["sku"], strict=True)]
    ev = ev[keep]
    return ev.groupby(["customer_id", "sku"], as_index=False).agg(
        trigger_at=("occurred_at", "max"), carted=("event_type", lambda s: bool((s == "add_to_cart").any()))
    )


def price_drop(inp: DecisionInputs, c: Campaign, t: Trigger) -> pd.DataFrame:
    p = inp.products
    dropped = p[p["is_price_drop"].fillna(False).astype(bool) & p["is_published"].fillna(True).astype(bool)]
    interest = _interest(inp, c, t, dropped)
    if interest.empty:
        return _empty()
    df = interest.merge(dropped, on="sku")
    df["drop"] = (df["previous_price"] - df["price"]) / df["previous_price"]
    df = (
        df.sort_values(["customer_id", "drop", "sku"], ascending=[True, False, True])
        .groupby("customer_id")
        .head(1)
    )
    rows = [
        (
            r.customer_id, c.id, r.sku, r.trigger_at, None, 1,
            f"{'carted' if r.carted else 'viewed'} '{r.title or r.sku}' (last {_fmt(r.trigger_at)}); "
            f"its price dropped from {r.previous_price:g} to {r.price:g}",
        )
        for r in df.itertuples()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def low_stock(inp: DecisionInputs, c: Campaign, t: Trigger) -> pd.DataFrame:
    p = inp.products
    qty = pd.to_numeric(p["inventory_qty"], errors="coerce")
    scarce = p[(qty >= 1) & (qty <= t.stock_threshold) & p["is_published"].fillna(True).astype(bool)]
    interest = _interest(inp, c, t, scarce)
    if interest.empty:
        return _empty()
    df = interest.merge(scarce, on="sku")
    df = df.sort_values(
        ["customer_id", "inventory_qty", "trigger_at", "sku"], ascending=[True, True, False, True]
    )
    df = df.groupby("customer_id").head(1)
    rows = [
        (
            r.customer_id, c.id, r.sku, r.trigger_at, None, 1,
            f"viewed '{r.title or r.sku}' (last {_fmt(r.trigger_at)}); only {int(r.inventory_qty)} left",
        )
        for r in df.itertuples()
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def post_purchase(inp: DecisionInputs, c: Campaign, t: Trigger, rules: Rules) -> pd.DataFrame:
    lines = _counted_lines(inp)
    lo, hi = inp.now - pd.Timedelta(hours=t.lookback_hours), inp.now - pd.Timedelta(hours=t.delay_hours)
    recent = lines[(lines["ordered_at"] >= lo) & (lines["ordered_at"] < hi)]
    if recent.empty:
        return _empty()
    last = recent.sort_values(["ordered_at", "order_id", "sku"], kind="stable").groupby("customer_id").tail(1)
    products = inp.products
    stocked = products[
        products["is_published"].fillna(True).astype(bool)
        & (pd.to_numeric(products["inventory_qty"], errors="coerce").fillna(1) > 0)
    ]
    since = inp.now - pd.Timedelta(days=90)
    popularity = lines[lines["ordered_at"] >= since].groupby("sku")["quantity"].sum()
    ranked = stocked.assign(_pop=stocked["sku"].map(popularity).fillna(0)).sort_values(
        ["_pop", "sku"], ascending=[False, True]
    )
    catalogue = [
        (rank, sku, cat, title, str(cat).lower())
        for rank, (sku, cat, title) in enumerate(
            zip(ranked["sku"], ranked["category"], ranked["title"], strict=True)
        )
    ]
    by_category: dict[str, list[tuple[int, str, Any, Any, str]]] = {}
    for item in catalogue:
        by_category.setdefault(item[4], []).append(item)
    one_off = {x.lower() for x in rules.one_off_categories}
    recent_buys = lines[lines["ordered_at"] >= inp.now - pd.Timedelta(days=rules.bought_product_days)]
    # plain sets per person and per order, built in one pass: pandas per buyer costs ~1 ms
    bought_by: dict[str, set[Any]] = {}
    for cid, sku in zip(recent_buys["customer_id"], recent_buys["sku"], strict=True):
        bought_by.setdefault(cid, set()).add(sku)
    order_skus: dict[Any, set[Any]] = {}
    order_cats: dict[Any, set[str]] = {}
    for oid, sku, cat in zip(recent["order_id"], recent["sku"], recent["category"], strict=True):
        if pd.isna(oid):
            continue
        if not pd.isna(sku):
            order_skus.setdefault(oid, set()).add(sku)
        if not pd.isna(cat):
            order_cats.setdefault(oid, set()).add(str(cat).lower())
    sent = _sent_times(inp, c.id, last["customer_id"])
    rows = []
    for r in last.itertuples():
        if sent[r.customer_id].max() >= r.ordered_at:  # NaT (none sent) compares False
            continue  # already followed up on this order
        exclude_skus = order_skus.get(r.order_id, set()) | bought_by.get(r.customer_id, set())
        cats = order_cats.get(r.order_id, set())
        blocked = cats & one_off
        open_cats = cats - one_off
        # Same (repeat-purchase) category first: accessories and refills; else the best seller
        # not bought and not of a one-off category. Each is the first of a ranked list that is
        # not excluded: a few steps, not a pass over the whole catalogue per buyer.
        same = [
            next((o for o in by_category.get(cat, ()) if o[1] not in exclude_skus), None) for cat in open_cats
        ]
        pick = min((o for o in same if o is not None), default=None) or next(
            (o for o in catalogue if o[1] not in exclude_skus and o[4] not in blocked), None
        )
        if pick is None:
            continue
        _, sku, category, title, _ = pick
        why = f"; {', '.join(sorted(blocked))} is a one-off category" if blocked else ""
        detail = (
            f"ordered '{r.product_name or r.sku}' on {r.ordered_at:%Y-%m-%d}; suggesting "
            f"'{title or sku}' ({category}), not the product bought{why}"
        )
        rows.append((r.customer_id, c.id, sku, r.ordered_at, None, 1, detail))
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def signup(inp: DecisionInputs, c: Campaign, t: Trigger) -> pd.DataFrame:
    cust = inp.customers
    joined = cust["created_at"].fillna(cust["first_order_at"])
    mask = joined.notna() & (joined >= inp.now - pd.Timedelta(hours=t.lookback_hours)) & (joined < inp.now)
    sent_counts = _history(inp, c.id).groupby("customer_id").size()
    rows = []
    for cid, at in zip(cust.loc[mask, "customer_id"], joined[mask], strict=True):
        k = int(sent_counts.get(cid, 0))
        if k >= len(t.steps_days):
            continue
        due_day = at.date() + dt.timedelta(days=t.steps_days[k] + 1)  # step 1: the day after sign-up
        if inp.send_day < due_day:
            continue
        detail = f"new customer since {at:%Y-%m-%d}; welcome message {k + 1} of {len(t.steps_days)}"
        rows.append((cid, c.id, None, at, None, k + 1, detail))
    return pd.DataFrame(rows, columns=CANDIDATE_COLUMNS)


def segment_audience(inp: DecisionInputs, c: Campaign) -> pd.DataFrame:
    cust = inp.customers
    a = c.audience
    mask = pd.Series(True, index=cust.index)
    parts = []
    if a.rfm_segments:
        mask &= cust["rfm_segment"].isin(a.rfm_segments)
        parts.append(f"RFM segment in {list(a.rfm_segments)}")
    if a.lifecycle_states:
        mask &= cust["lifecycle_state"].isin(a.lifecycle_states)
        parts.append(f"lifecycle state in {list(a.lifecycle_states)}")
    sel = cust[mask]
    labels = (
        ("RFM segment '" + sel["rfm_segment"].fillna("none") + "'") if a.rfm_segments else None,
        ("lifecycle state '" + sel["lifecycle_state"].fillna("none") + "'") if a.lifecycle_states else None,
    )
    used = [lab for lab in labels if lab is not None]
    if used:
        detail = used[0] if len(used) == 1 else used[0] + ", " + used[1]
    else:
        detail = pd.Series("in the all-customers audience", index=sel.index)
    return pd.DataFrame(
        {
            "customer_id": sel["customer_id"], "campaign_id": c.id, "sku": None, "trigger_at": None,
            "due_at": None, "step": 1, "detail": detail,
        }
    )[CANDIDATE_COLUMNS]  # fmt: skip


TRIGGERS = {
    "cart_abandoned": lambda inp, c, t, rules: cart_abandoned(inp, c, t),
    "browse_abandoned": lambda inp, c, t, rules: browse_abandoned(inp, c, t),
    "price_drop": lambda inp, c, t, rules: price_drop(inp, c, t),
    "low_stock": lambda inp, c, t, rules: low_stock(inp, c, t),
    "post_purchase": post_purchase,
    "signup": lambda inp, c, t, rules: signup(inp, c, t),
}


def candidates(inp: DecisionInputs, campaigns: list[Campaign], rules: Rules) -> pd.DataFrame:
    frames = []
    for c in campaigns:
        t = c.audience.trigger
        if t is None:
            df = segment_audience(inp, c)
        else:
            df = TRIGGERS[t.type](inp, c, t, rules)
            if c.audience.rfm_segments or c.audience.lifecycle_states:
                seg = segment_audience(inp, c)
                df = df[df["customer_id"].isin(seg["customer_id"])]
        if not df.empty:
            frames.append(df)
    if not frames:
        return _empty()
    out = pd.concat(frames, ignore_index=True)
    for col in ("trigger_at", "due_at"):
        out[col] = pd.to_datetime(out[col], utc=True)
    return out.drop_duplicates(["customer_id", "campaign_id"]).reset_index(drop=True)
