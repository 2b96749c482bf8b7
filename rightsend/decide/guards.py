"""Who must not get something, before caps: erasure, consent/reachability, people on the
site right now, products already bought, and the saturation signal that tightens caps."""

from __future__ import annotations

import pandas as pd

from rightsend.decide.inputs import DecisionInputs
from rightsend.decide.rules import CHANNELS, Rules
from rightsend.ingest.erasure import identifier_hash  # the tombstones' own hash

IDENTIFIER_COLUMNS = ("customer_id", "source_customer_id", "email", "phone", "push_device_token")
DESTINATION = {"email": "email", "sms": "phone", "push": "push_device_token"}


def erased(inp: DecisionInputs) -> pd.Series:
    """True for people any of whose identifiers is tombstoned. The hash is
    sha256(type || ':' || value); the type spelling is the ingester's, so every type
    present in the tombstones is tried against every identifier (and lower-cased email)."""
    cust = inp.customers
    hashes = set(inp.tombstones["identifier_hash"].dropna())
    if not hashes:
        return pd.Series(False, index=cust.index)
    types = set(inp.tombstones["identifier_type"].dropna()) | {
        "email",
        "phone",
        "customer_id",
        "device_token",
    }
    hit = pd.Series(False, index=cust.index)
    for col in IDENTIFIER_COLUMNS:
        values = cust[col].astype("string")
        variants = [values, values.str.strip().str.lower()] if col == "email" else [values]
        for vals in variants:
            # each distinct value hashed once per type, not once per row and type
            unique = [str(v) for v in vals.dropna().unique()]
            tombstoned = {v for v in unique for typ in types if identifier_hash(typ, v) in hashes}
            if tombstoned:
                hit |= vals.isin(tombstoned).fillna(False).astype(bool)
    return hit


def _flag(cust: pd.DataFrame, col: str, default: bool = False) -> pd.Series:
    return cust[col].astype("boolean").fillna(default).astype(bool)


def unreachable_reasons(inp: DecisionInputs) -> dict[str, pd.Series]:
    """Per channel: None where the person can get it, else the rule that forbids it."""
    cust = inp.customers
    out: dict[str, pd.Series] = {}
    for ch in CHANNELS:
        reason = pd.Series(None, index=cust.index, dtype="object")
        dest = cust[DESTINATION[ch]]
        no_dest = dest.isna() | (dest.astype("string").str.strip() == "")
        reason[~_flag(cust, f"is_{ch}_reachable")] = "unreachable"
        if ch == "email":
            reason[~_flag(cust, "is_email_deliverable", True)] = "hard_bounce"
            reason[_flag(cust, "has_spam_complaint")] = "spam_complaint"
        reason[no_dest] = "no_contact_point"
        # Missing consent is the strongest statement (includes SMS STOP): reported first.
        reason[~_flag(cust, f"has_{ch}_consent", True)] = "no_consent"
        out[ch] = reason
    return out


def active_now(inp: DecisionInputs, rules: Rules) -> tuple[set[str], set[str]]:
    """(people active on the site in the last N minutes, people in a checkout right now)."""
    now = inp.now
    web = inp.web_events[inp.web_events["customer_id"].notna() & (inp.web_events["occurred_at"] < now)]
    recent = now - pd.Timedelta(minutes=rules.active_session_minutes)
    session = set(web.loc[web["occurred_at"] >= recent, "customer_id"])
    last_seen = inp.customers["last_web_activity_at"]
    session |= set(inp.customers.loc[(last_seen >= recent) & (last_seen < now), "customer_id"])
    co = web[
        (web["event_type"] == "checkout_started")
        & (web["occurred_at"] >= now - pd.Timedelta(minutes=rules.checkout_minutes))
    ]
    if co.empty:
        return session, set()
    lines = inp.order_lines[inp.order_lines["ordered_at"] < now]
    last_order = lines.groupby("customer_id")["ordered_at"].max()
    started = co.groupby("customer_id")["occurred_at"].max()
    ordered_since = started.index.map(lambda c: c in last_order.index and last_order[c] >= started[c])
    return session, set(started.index[~ordered_since.astype(bool)])


def bought_pairs(inp: DecisionInputs, rules: Rules) -> set[tuple[str, str]]:
    lines = inp.order_lines
    since = inp.now - pd.Timedelta(days=rules.bought_product_days)
    keep = (lines["ordered_at"] >= since) & (lines["ordered_at"] < inp.now) & lines["sku"].notna()
    keep &= ~lines["is_cancelled"].fillna(False).astype(bool)
    return set(zip(lines.loc[keep, "customer_id"], lines.loc[keep, "sku"], strict=True))


def saturated(inp: DecisionInputs, rules: Rules) -> dict[str, str]:
    """People whose caps tighten, with why: engagement falling while volume rises, or an
    unsubscribe/complaint soon after a burst of sends."""
    s = rules.saturation
    out: dict[str, str] = {}
    eng = inp.engagement
    if not eng.empty:
        tot = eng.groupby("customer_id")[
            ["sends_30d", "engagements_30d", "sends_90d", "engagements_90d"]
        ].sum()
        r30 = tot["engagements_30d"] / tot["sends_30d"].where(tot["sends_30d"] > 0)
        r90 = tot["engagements_90d"] / tot["sends_90d"].where(tot["sends_90d"] > 0)
        rising = tot["sends_30d"] > tot["sends_90d"] / 3  # last month above the 90-day monthly average
        hit = (
            (tot["sends_30d"] >= s.min_sends_30d) & rising & (r90 > 0) & (r30 < s.engagement_drop_ratio * r90)
        )
        for cid in tot.index[hit.fillna(False)]:
            out[cid] = (
                f"engagement rate fell to {r30[cid]:.0%} (90 days: {r90[cid]:.0%}) "
                f"while sends rose to {int(tot.loc[cid, 'sends_30d'])} in 30 days"
            )
    ev = inp.message_events
    if not ev.empty:
        ev = ev[
            (ev["occurred_at"] < inp.now)
            & (ev["occurred_at"] >= inp.now - pd.Timedelta(days=s.lookback_days + s.burst_days))
        ]
        sends = ev[ev["event_type"] == "send"]
        quits = ev[
            ev["event_type"].isin(["unsubscribe", "complaint"])
            & (ev["occurred_at"] >= inp.now - pd.Timedelta(days=s.lookback_days))
        ]
        # only the people who quit: grouping every recipient's sends cost seconds at 100k people
        sends = sends[sends["customer_id"].isin(quits["customer_id"])]
        by_person = {cid: g["occurred_at"] for cid, g in sends.groupby("customer_id")}
        for q in quits.itertuples():
            times = by_person.get(q.customer_id)
            if times is None or q.customer_id in out:
                continue
            n = int(
                ((times <= q.occurred_at) & (times > q.occurred_at - pd.Timedelta(days=s.burst_days))).sum()
            )
            if n >= s.burst_sends:
                out[q.customer_id] = (
                    f"{q.event_type} on {q.occurred_at:%Y-%m-%d} after {n} sends in {s.burst_days} days"
                )
    return out
