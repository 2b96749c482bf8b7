"""Property test: over random populations, histories and campaigns, no queued message ever
breaks erasure, consent, caps, quiet hours or the one-channel rule; deciding is
deterministic; and every eligible person is either queued or has a suppression reason."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rightsend.decide import samples as s
from rightsend.decide.audience import candidates
from rightsend.decide.campaigns import load_campaigns
from rightsend.decide.core import decide
from rightsend.decide.guards import DESTINATION
from rightsend.decide.timing import allowed_hours, zone
from rightsend.ingest import identifier_hash

from .helpers import campaign, rules

ZONES = ["Europe/London", "Europe/Paris", "America/New_York", "America/Los_Angeles", "Asia/Tokyo",
         "Pacific/Kiritimati", "Pacific/Pago_Pago", "Australia/Adelaide", "Asia/Kathmandu", None, "Not/AZone"]  # fmt: skip
DATES = ["2026-03-07", "2026-03-28", "2026-10-24", "2026-10-31", "2026-11-20", "2026-11-21"]
SKUS = ["A", "B", "C"]
CAMPAIGNS = load_campaigns() + [
    campaign("receipt", tags=["transactional"], priority=99,
             channels={"allowed": ["email", "sms", "push"], "default": "email", "selection": "model"}),
    campaign("urgent", overrides_caps=True, counts_toward_caps=False, priority=20, holdout_share=0.5,
             channels={"allowed": ["sms", "push"], "default": "sms", "selection": "fallback"}),
]  # fmt: skip
BY_ID = {c.id: c for c in CAMPAIGNS}


@st.composite
def population(draw):
    run_date = draw(st.sampled_from(DATES))
    now = pd.Timestamp(run_date, tz="UTC") + pd.Timedelta(days=1)
    n = draw(st.integers(1, 10))
    people = []
    for i in range(n):
        flags = {f: draw(st.booleans()) for f in (
            "has_email_consent", "has_sms_consent", "has_push_consent", "is_email_reachable",
            "is_sms_reachable", "is_push_reachable", "is_email_deliverable", "has_spam_complaint")}  # fmt: skip
        people.append(
            s.customer(
                f"c{i}",
                timezone=draw(st.sampled_from(ZONES)),
                country_code=draw(st.sampled_from(["GB", "FR", "DE", "US", None])),
                lifecycle_state=draw(
                    st.sampled_from(["new", "active", "lapsing", "silent", "never_engaged"])
                ),
                created_at=now - pd.Timedelta(hours=draw(st.integers(1, 2000))),
                push_device_token=draw(st.sampled_from([f"tok-{i}", None])),
                **flags,
            )  # fmt: skip
        )
    ago = st.integers(1, 60 * 24 * 10)
    web = [
        s.web(f"c{draw(st.integers(0, n - 1))}",
              draw(st.sampled_from(["product_view", "add_to_cart", "remove_from_cart", "checkout_started", "session_start"])),
              str(now - pd.Timedelta(minutes=draw(ago))), draw(st.sampled_from(SKUS)))
        for _ in range(draw(st.integers(0, 15)))
    ]  # fmt: skip
    orders = [
        s.order_line(f"c{draw(st.integers(0, n - 1))}", f"o{k}", str(now - pd.Timedelta(minutes=draw(ago))),
                     draw(st.sampled_from(SKUS)), category=draw(st.sampled_from(["Sofas", "Socks"])))
        for k in range(draw(st.integers(0, 5)))
    ]  # fmt: skip
    products = [
        s.product(sku, is_price_drop=draw(st.booleans()), price=40.0, previous_price=50.0,
                  inventory_qty=draw(st.integers(0, 8)), category=draw(st.sampled_from(["Sofas", "Socks"])))
        for sku in SKUS
    ]  # fmt: skip
    scores = [
        s.score(p["customer_id"], ch, best_hour=draw(st.integers(0, 23)), rank=r + 1)
        for p in people if draw(st.booleans()) for r, ch in enumerate(draw(st.permutations(["email", "sms", "push"])))
    ]  # fmt: skip
    history = []
    for _ in range(draw(st.integers(0, 12))):
        back = draw(st.integers(0, 9))
        day = (now - pd.Timedelta(days=back)).date()
        history.append(
            {
                "queue_date": day - dt.timedelta(days=1), "customer_id": f"c{draw(st.integers(0, n - 1))}",
                "campaign_id": draw(st.sampled_from(list(BY_ID))), "channel": draw(st.sampled_from(["email", "sms", "push"])),
                "send_at_utc": pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=12),
                "send_at_local": f"{day}T12:00:00+00:00", "is_holdout": draw(st.booleans()), "sku": None,
                "tags": draw(st.sampled_from(["promotional", "transactional"])), "counts_toward_caps": draw(st.booleans()),
            }
        )  # fmt: skip
    erased = [p for p in people if draw(st.integers(0, 5)) == 0]
    tombs = [
        {"identifier_hash": identifier_hash("email", p["email"]), "identifier_type": "email"} for p in erased
    ]
    sms_rate = draw(st.sampled_from([None, 1, 2]))
    return s.inputs(
        run_date, people, web_events=web, order_lines=orders, products=products, scores=scores,
        history=history, tombstones=tombs,
    ), {p["customer_id"] for p in erased}, sms_rate  # fmt: skip


def check_invariants(inp, erased, r, d):
    out = d.outbox
    people = inp.customers.set_index("customer_id")
    send_day = inp.run_date + dt.timedelta(days=1)
    now = pd.Timestamp(send_day, tz="UTC")
    assert out.message_id.is_unique
    assert not out.duplicated(["customer_id", "campaign_id"]).any()
    assert (out.groupby("customer_id")["channel"].nunique() <= 1).all(), "one channel per person per day"
    for m in out.itertuples():
        p = people.loc[m.customer_id]
        assert m.customer_id not in erased
        assert p[f"has_{m.channel}_consent"] and p[f"is_{m.channel}_reachable"], "consent/reachability"
        assert m.destination == p[DESTINATION[m.channel]]
        if m.channel == "email":
            assert p["is_email_deliverable"] and not p["has_spam_complaint"]
        tz = zone(p["timezone"] if isinstance(p["timezone"], str) else None)
        assert m.timezone == tz.key
        local = dt.datetime.fromisoformat(m.send_at_local)
        assert local == m.send_at_utc.to_pydatetime().astimezone(ZoneInfo(m.timezone))
        assert local.date() == send_day and m.send_at_utc >= now
        hours = allowed_hours(r, m.channel, p["country_code"], send_day)
        assert not isinstance(hours, str), hours
        assert hours[0] <= local.hour < hours[1], (m.channel, local)
        assert (
            isinstance(m.reason, str) and m.campaign_id in m.reason or BY_ID[m.campaign_id].label in m.reason
        )
    hist = inp.normalise().history
    for cap in r.caps:
        for cid, mine in out.groupby("customer_id"):

            def match(tags, ch, cap=cap):
                return bool(set(tags.split(",")) & set(cap.tags)) and (
                    cap.channels is None or ch in cap.channels
                )

            first = send_day - dt.timedelta(days=cap.days - 1)
            h = hist[hist.customer_id == cid]
            used = sum(
                1 for x in h.itertuples()
                if x.counts_toward_caps and match(x.tags, x.channel)
                and first <= dt.date.fromisoformat(x.send_at_local[:10]) <= send_day
            )  # fmt: skip
            capped = [
                x
                for x in mine.itertuples()
                if match(x.tags, x.channel) and not BY_ID[x.campaign_id].overrides_caps
            ]
            counted = sum(1 for x in mine.itertuples() if match(x.tags, x.channel) and x.counts_toward_caps)
            if capped:
                assert used < cap.max and used + counted <= cap.max, (cap.name, cid, used, counted)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(population())
def test_no_queued_message_breaks_a_rule(case):
    inp, erased, sms_rate = case
    r = rules(throughput_per_minute={"sms": sms_rate} if sms_rate else {})
    d = decide(inp, CAMPAIGNS, r)
    check_invariants(inp, erased, r, d)
    # Deterministic: the same inputs give the identical queue and suppressions.
    again = decide(inp, CAMPAIGNS, r)
    pd.testing.assert_frame_equal(d.outbox, again.outbox)
    pd.testing.assert_frame_equal(d.suppressions, again.suppressions)
    # Accounting: every (person, campaign) eligible today is queued, suppressed or counted.
    active = [c for c in CAMPAIGNS if c.is_active(inp.run_date + dt.timedelta(days=1))]
    cands = candidates(inp.normalise(), active, r)
    queued = set(zip(d.outbox.customer_id, d.outbox.campaign_id, strict=True))
    logged = set(zip(d.suppressions.customer_id, d.suppressions.campaign_id, strict=True))
    assert not queued & logged
    assert len(queued) + len(logged) + sum(d.unlogged.values()) == len(cands)
    assert queued | logged <= set(zip(cands.customer_id, cands.campaign_id, strict=True))
