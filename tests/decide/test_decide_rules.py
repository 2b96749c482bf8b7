"""Each decision rule on hand-built cases, through the pure core (no I/O)."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from rightsend.decide import samples as s
from rightsend.decide.core import decide, summarize
from rightsend.decide.rules import Cap, CountryRule, Hours, Saturation
from rightsend.ingest import identifier_hash

from .helpers import D, campaign, history_row, rules


def run(customers, campaigns, r=None, **frames):
    return decide(s.inputs(D, customers, **frames), campaigns, r or rules())


def rule_of(decision, customer_id, campaign_id):
    supp = decision.suppressions
    hit = supp[(supp.customer_id == customer_id) & (supp.campaign_id == campaign_id)]
    return None if hit.empty else hit.iloc[0]["rule"]


def local(decision, customer_id):
    row = decision.outbox[decision.outbox.customer_id == customer_id].iloc[0]
    return dt.datetime.fromisoformat(row["send_at_local"])


# ---- 1. erasure, consent, reachability -------------------------------------------------


def test_no_consent_hard_bounce_complaint_and_stop_suppress_their_channel():
    people = [
        s.customer("a", has_email_consent=False, is_email_reachable=False),
        s.customer("b", is_email_deliverable=False, is_email_reachable=False),
        s.customer("c", has_spam_complaint=True, is_email_reachable=False),
        s.customer("d", email=None),
        s.customer("ok"),
    ]
    d = run(people, [campaign()])
    assert list(d.outbox.customer_id) == ["ok"]
    assert [rule_of(d, c, "promo") for c in "abcd"] == [
        "no_consent",
        "hard_bounce",
        "spam_complaint",
        "no_contact_point",
    ]


def test_sms_stop_falls_back_and_never_sends_sms():
    c = campaign(channels={"allowed": ["push", "sms"], "default": "push", "selection": "fallback"})
    people = [
        s.customer("p", is_push_reachable=False, push_device_token=None),  # -> sms
        s.customer("q", is_push_reachable=False, has_sms_consent=False, is_sms_reachable=False),  # STOP
    ]
    d = run(people, [c])
    assert d.outbox.set_index("customer_id").loc["p", "channel"] == "sms"
    assert "fallback" in d.outbox.iloc[0]["reason"]
    assert rule_of(d, "q", "promo") == "unreachable"  # push first (not reachable); sms: STOP
    assert "sms: no_consent" in d.suppressions.iloc[0]["detail"]


def test_erased_person_is_never_messaged_nor_logged():
    people = [s.customer("gone", email="Gone@Example.com"), s.customer("kept")]
    tomb = [{"identifier_hash": identifier_hash("email", "gone@example.com"), "identifier_type": "email"}]
    d = run(people, [campaign()], tombstones=tomb)
    assert list(d.outbox.customer_id) == ["kept"]
    assert "gone" not in set(d.suppressions.customer_id)
    assert summarize(d, [campaign()])["suppressed"] == {"erased": 1}


def test_erasure_matches_any_identifier_type_spelling():
    tomb = [{"identifier_hash": identifier_hash("device_token", "tok-x"), "identifier_type": "device_token"}]
    d = run([s.customer("x")], [campaign()], tombstones=tomb)
    assert d.outbox.empty


# ---- 2. on the site now, in checkout, already bought ---------------------------------------


def test_active_session_and_checkout_get_no_marketing():
    people = [s.customer("live"), s.customer("checkout"), s.customer("paid"), s.customer("old")]
    web = [
        s.web("live", "product_view", "2026-11-20 23:50", "A"),
        s.web("checkout", "checkout_started", "2026-11-20 23:00"),
        s.web("paid", "checkout_started", "2026-11-20 22:00"),
        s.web("old", "session_start", "2026-11-20 20:00"),
    ]
    orders = [s.order_line("paid", "o1", "2026-11-20 22:10", "A")]
    d = run(people, [campaign()], web_events=web, order_lines=orders)
    assert rule_of(d, "live", "promo") == "active_session"
    assert rule_of(d, "checkout", "promo") == "in_checkout"
    assert set(d.outbox.customer_id) == {"paid", "old"}


def test_transactional_is_exempt_from_session_guard():
    web = [s.web("live", "product_view", "2026-11-20 23:50", "A")]
    d = run([s.customer("live")], [campaign(tags=["transactional"])], web_events=web)
    assert len(d.outbox) == 1


def test_no_marketing_about_a_product_already_bought():
    pd_c = campaign(
        "price_drop", audience={"trigger": {"type": "price_drop", "lookback_hours": 336}},
        channels={"allowed": ["push", "sms"], "default": "push", "selection": "fallback"},
    )  # fmt: skip
    web = [s.web(c, "product_view", "2026-11-15 10:00", "A") for c in ("buyer", "viewer")]
    orders = [s.order_line("buyer", "o1", "2026-11-16 10:00", "A")]
    prods = [s.product("A", price=40.0, previous_price=50.0, is_price_drop=True)]
    d = run(
        [s.customer("buyer"), s.customer("viewer")],
        [pd_c],
        web_events=web,
        order_lines=orders,
        products=prods,
    )
    assert list(d.outbox.customer_id) == ["viewer"]
    assert d.outbox.iloc[0]["channel"] == "push"
    assert rule_of(d, "buyer", "price_drop") == "already_bought"


# ---- abandoned cart ---------------------------------------------------------------------

CART = dict(
    audience={
        "trigger": {"type": "cart_abandoned", "delay_hours": 2, "lookback_hours": 168, "max_reminders": 2,
                    "reminder_interval_hours": 24, "send_at_trigger_time": True}
    },
    priority=90,
)  # fmt: skip


def test_cart_first_reminder_two_hours_after_and_inside_allowed_hours():
    people = [s.customer("late", timezone="America/Los_Angeles"), s.customer("early")]
    web = [
        s.web("late", "add_to_cart", "2026-11-21 00:00", "A"),  # after "now": ignored
        s.web("late", "add_to_cart", "2026-11-20 23:00", "A"),  # LA 15:00 on D -> due 17:00 D
        s.web("early", "add_to_cart", "2026-11-20 09:00", "A"),
    ]
    d = run(people, [campaign("cart", **CART)], web_events=web)
    assert local(d, "late").strftime("%Y-%m-%d %H:%M") == "2026-11-21 08:00"  # first allowed on D+1
    assert local(d, "early").strftime("%Y-%m-%d %H:%M") == "2026-11-21 08:00"


def test_cart_reminder_at_trigger_time_when_due_inside_d_plus_1():
    # Tokyo: cart left 2026-11-20 20:00 UTC = 05:00 JST on D+1 -> due 07:00 JST -> 09:00 JST
    # (window 08:00, but "now" = 09:00 JST is the earliest moment).
    web = [s.web("t", "add_to_cart", "2026-11-20 20:00", "A")]
    d = run([s.customer("t", timezone="Asia/Tokyo")], [campaign("cart", **CART)], web_events=web)
    at = local(d, "t")
    assert (at.hour, at.minute) == (9, 0) and at.utcoffset() == dt.timedelta(hours=9)


def test_cart_emptied_or_bought_stops_reminders():
    web = [
        s.web("emptied", "add_to_cart", "2026-11-20 09:00", "A"),
        s.web("emptied", "remove_from_cart", "2026-11-20 09:05", "A"),
        s.web("bought", "add_to_cart", "2026-11-20 09:00", "A"),
    ]
    orders = [s.order_line("bought", "o1", "2026-11-20 09:30", "A")]
    d = run(
        [s.customer("emptied"), s.customer("bought")],
        [campaign("cart", **CART)],
        web_events=web,
        order_lines=orders,
    )
    assert d.outbox.empty and d.suppressions.empty  # not eligible at all


def test_cart_second_reminder_24h_after_first_then_no_more():
    web = [s.web("a", "add_to_cart", "2026-11-19 06:00", "A")]
    first = history_row("a", "cart", "2026-11-20", send_at_utc="2026-11-20 09:15:00+00:00",
                        send_at_local="2026-11-20T09:15:00+00:00")  # fmt: skip
    d = run([s.customer("a")], [campaign("cart", **CART)], web_events=web, history=[first])
    assert local(d, "a").strftime("%H:%M") == "09:15"
    assert "reminder 2 of at most 2" in d.outbox.iloc[0]["reason"]
    second = history_row("a", "cart", "2026-11-19", send_at_utc="2026-11-19 08:00:00+00:00")
    d2 = run([s.customer("a")], [campaign("cart", **CART)], web_events=web, history=[first, second])
    assert d2.outbox.empty


# ---- 3. caps ----------------------------------------------------------------------------


def test_one_promotional_per_local_day_and_priority_wins():
    hi, lo = campaign("hi", priority=90), campaign("lo", priority=10)
    d = run([s.customer("a")], [lo, hi])
    assert list(d.outbox.campaign_id) == ["hi"]
    assert rule_of(d, "a", "lo") == "frequency_cap:promo_per_day"


def test_rolling_seven_day_cap_counts_history_including_holdout():
    hist = [
        history_row("a", "x", "2026-11-16"),
        history_row("a", "x", "2026-11-18", is_holdout=True),  # holdout rows count
        history_row("a", "x", "2026-11-20"),
        history_row("b", "x", "2026-11-14"),  # outside the 7 local days ending 11-21
        history_row("b", "x", "2026-11-18"),
        history_row("b", "x", "2026-11-19"),
    ]
    d = run([s.customer("a"), s.customer("b")], [campaign()], history=hist)
    assert rule_of(d, "a", "promo") == "frequency_cap:promo_per_7_days"
    assert list(d.outbox.customer_id) == ["b"]


def test_sms_cap_and_cross_channel_caps():
    c = campaign(channels={"allowed": ["sms", "email"], "default": "sms", "selection": "fallback"})
    hist = [
        history_row("a", "x", "2026-11-18", channel="sms"),
        history_row("a", "x", "2026-11-19", channel="sms"),
    ]
    d = run([s.customer("a")], [c], history=hist)
    row = d.outbox.iloc[0]
    assert row["channel"] == "email" and "sms frequency_cap:sms_per_7_days" in row["reason"]


def test_transactional_exempt_and_override_and_not_counting():
    hist = [history_row("a", "x", "2026-11-21")]  # today's promotional slot already used
    trans = campaign("receipt", tags=["transactional"], priority=99)
    override = campaign("urgent", overrides_caps=True, priority=98)
    d = run([s.customer("a")], [trans, override], history=hist)
    assert set(d.outbox.campaign_id) == {"receipt", "urgent"}
    free = campaign("free", counts_toward_caps=False, priority=90)
    d2 = run([s.customer("b")], [free, campaign("paid", priority=10)])
    assert set(d2.outbox.campaign_id) == {"free", "paid"}  # "free" did not use the daily slot


def test_custom_caps_most_restrictive_wins():
    r = rules(
        caps=(Cap(name="loose", days=1, max=5), Cap(name="email_daily", channels=("email",), days=1, max=0))
    )
    d = run([s.customer("a")], [campaign()], r=r)
    assert rule_of(d, "a", "promo") == "frequency_cap:email_daily"


def test_saturation_tightens_the_cap():
    eng = [{"customer_id": "tired", "channel": "email", "sends_30d": 12, "engagements_30d": 1,
            "sends_90d": 18, "engagements_90d": 6}]  # fmt: skip
    events = [
        {
            "customer_id": "burst",
            "channel": "email",
            "event_type": "send",
            "occurred_at": f"2026-11-1{i} 10:00",
        }
        for i in (2, 3, 4)
    ]
    events.append(
        {
            "customer_id": "burst",
            "channel": "email",
            "event_type": "unsubscribe",
            "occurred_at": "2026-11-15 10:00",
        }
    )
    hist = [history_row(c, "x", "2026-11-17") for c in ("tired", "burst", "fine")]
    r = rules(saturation=Saturation(tightened_caps={"promo_per_7_days": 1}))
    people = [s.customer("tired"), s.customer("burst"), s.customer("fine")]
    d = run(people, [campaign()], r=r, engagement=eng, message_events=events, history=hist)
    assert list(d.outbox.customer_id) == ["fine"]
    assert rule_of(d, "tired", "promo") == "saturation_cap:promo_per_7_days"
    assert rule_of(d, "burst", "promo") == "saturation_cap:promo_per_7_days"


# ---- 4. one channel ---------------------------------------------------------------------


def test_one_channel_per_person_per_day():
    push_t = campaign("alert", tags=["transactional"], priority=99,
                      channels={"allowed": ["push"], "default": "push", "selection": "fixed"})  # fmt: skip
    email_t = campaign("receipt", tags=["transactional"], priority=90)
    both = campaign(
        "news",
        priority=10,
        channels={"allowed": ["email", "push"], "default": "email", "selection": "fallback"},
    )
    d = run([s.customer("a")], [push_t, email_t, both])
    assert list(d.outbox.sort_values("priority", ascending=False).campaign_id) == ["alert", "news"]
    assert set(d.outbox.channel) == {"push"}
    assert rule_of(d, "a", "receipt") == "one_channel_per_day"


# ---- 5. channel and time ----------------------------------------------------------------


def test_model_channel_and_best_hour():
    c = campaign(channels={"allowed": ["email", "push", "sms"], "default": "email", "selection": "model"})
    scores = [s.score("a", "sms", best_hour=17, rank=1), s.score("a", "email", best_hour=9, rank=2)]
    d = run([s.customer("a")], [c], scores=scores)
    row = d.outbox.iloc[0]
    assert row["channel"] == "sms" and local(d, "a").hour == 17
    assert row["p_engage"] == 0.2 and row["model_version"] == "m-test"
    assert "best reachable channel" in row["reason"] and "best hour 17:00" in row["reason"]


def test_quiet_best_hour_moves_to_nearest_allowed_hour():
    people = [s.customer("night"), s.customer("dawn"), s.customer("sms_late", rfm_segment="other")]
    scores = [s.score("night", "email", best_hour=23), s.score("dawn", "email", best_hour=3)]
    scores.append(s.score("sms_late", "sms", best_hour=20))
    sms = campaign("sms", channels={"allowed": ["sms"], "default": "sms", "selection": "fixed"})
    d = run(people, [campaign(audience={"rfm_segments": ["loyal"]}), sms], scores=scores)
    assert local(d, "night").hour == 20 and local(d, "dawn").hour == 8
    assert local(d, "sms_late").hour == 19  # SMS hours are 09-20 in rules.yaml


def test_country_sms_rules_block_sunday():
    sms = campaign("sms", channels={"allowed": ["sms", "email"], "default": "sms", "selection": "fallback"})
    people = [s.customer("fr", country_code="FR", timezone="Europe/Paris"), s.customer("gb")]
    d = decide(s.inputs("2026-11-21", people), [sms], rules())  # D+1 = Sunday
    by = d.outbox.set_index("customer_id")["channel"]
    assert by["fr"] == "email" and by["gb"] == "sms"
    assert "no SMS on Sundays in FR" in d.outbox.set_index("customer_id").loc["fr", "reason"]
    r = rules(sms_country_rules={"FR": CountryRule(blocked_weekdays=(6,))})
    only_sms = campaign("sms", channels={"allowed": ["sms"], "default": "sms", "selection": "fixed"})
    d2 = decide(s.inputs("2026-11-21", people), [only_sms], r)
    assert rule_of(d2, "fr", "sms") == "sms_country_rule"


def test_dst_day_local_times_are_correct():
    # 2026-03-29: Europe/London springs forward; 2026-11-01: America/New_York falls back.
    d = decide(
        s.inputs("2026-03-28", [s.customer("uk")], scores=[s.score("uk", "email", best_hour=9)]),
        [campaign()],
        rules(),
    )
    row = d.outbox.iloc[0]
    assert row["send_at_local"] == "2026-03-29T09:00:00+01:00"
    assert row["send_at_utc"] == pd.Timestamp("2026-03-29 08:00", tz="UTC")
    ny = s.customer("ny", timezone="America/New_York")
    d2 = decide(
        s.inputs("2026-10-31", [ny], scores=[s.score("ny", "email", best_hour=9)]), [campaign()], rules()
    )
    assert d2.outbox.iloc[0]["send_at_local"] == "2026-11-01T09:00:00-05:00"


def test_throughput_spreads_minutes_without_leaving_allowed_hours():
    r = rules(throughput_per_minute={"sms": 2})
    sms = campaign("sms", channels={"allowed": ["sms"], "default": "sms", "selection": "fixed"})
    people = [s.customer(f"p{i}") for i in range(5)]
    d = run(people, [sms], r=r, scores=[s.score(f"p{i}", "sms", best_hour=12) for i in range(5)])
    minutes = sorted(t.strftime("%H:%M") for t in d.outbox.send_at_utc)
    assert minutes == ["12:00", "12:00", "12:01", "12:01", "12:02"]
    # At the very end of the window sends move earlier, never past 20:00 (SMS hours 09-20).
    late = run(people, [sms], r=r, scores=[s.score(f"p{i}", "sms", best_hour=19) for i in range(5)])
    late = rules(throughput_per_minute={"sms": 1})
    d3 = decide(
        s.inputs(D, people, scores=[s.score(f"p{i}", "sms", best_hour=19) for i in range(5)]),
        [campaign("sms", channels={"allowed": ["sms"], "default": "sms", "selection": "fixed"})],
        late,
    )
    assert all(19 <= dt.datetime.fromisoformat(x).hour < 20 for x in d3.outbox.send_at_local)
    assert d3.outbox.send_at_utc.is_unique


def test_throughput_exhausted_is_suppressed():
    r = rules(throughput_per_minute={"sms": 1}, channel_hours={"sms": Hours(start_hour=9, end_hour=10)})
    sms = campaign("sms", channels={"allowed": ["sms"], "default": "sms", "selection": "fixed"})
    people = [s.customer(f"p{i:02d}") for i in range(61)]
    d = run(people, [sms], r=r)
    assert len(d.outbox) == 60
    assert summarize(d, [sms])["suppressed"] == {"throughput_limit": 1}


# ---- 6. holdout, variants, ids, reasons -------------------------------------------------


def test_holdout_and_variants_are_deterministic_hash_splits():
    c = campaign(holdout_share=0.3, variants=[{"id": "a", "split": 0.5}, {"id": "b", "split": 0.5}])
    people = [s.customer(f"p{i:03d}") for i in range(400)]
    d1, d2 = run(people, [c]), run(list(reversed(people)), [c])
    pd.testing.assert_frame_equal(d1.outbox, d2.outbox)
    share = d1.outbox.is_holdout.mean()
    assert 0.22 < share < 0.38
    assert 0.4 < (d1.outbox.variant == "a").mean() < 0.6
    assert d1.outbox.message_id.is_unique
    held = d1.outbox[d1.outbox.is_holdout]
    assert held.reason.str.contains("Held out").all()


def test_reason_names_campaign_person_channel_and_time():
    d = run([s.customer("a")], [campaign(name="Autumn promo")], scores=[s.score("a", "email")])
    reason = d.outbox.iloc[0]["reason"]
    assert (
        reason.startswith("Autumn promo")
        and "Channel email" in reason
        and "Time 12:00 local (Europe/London)" in reason
    )


# ---- demo campaign triggers -------------------------------------------------------------


def test_win_back_once_and_pauses_other_promotions():
    wb = campaign("win_back", priority=85, audience={"lifecycle_states": ["silent"]}, max_sends_per_person=1,
                  pauses_other_promotions=True)  # fmt: skip
    news = campaign("news", priority=10)
    silent = s.customer("s", lifecycle_state="silent")
    d = run([silent, s.customer("a")], [wb, news])
    assert set(zip(d.outbox.customer_id, d.outbox.campaign_id, strict=False)) == {
        ("s", "win_back"),
        ("a", "news"),
    }
    d2 = run([silent], [wb, news], history=[history_row("s", "win_back", "2026-10-01")])
    assert d2.outbox.empty
    assert (
        rule_of(d2, "s", "win_back") == "campaign_limit" and rule_of(d2, "s", "news") == "paused_by_win_back"
    )


def test_post_purchase_never_the_product_nor_a_one_off_category():
    c = campaign(
        "xsell", audience={"trigger": {"type": "post_purchase", "delay_hours": 48, "lookback_hours": 168}}
    )
    prods = [
        s.product("SOFA1", category="Sofas"), s.product("SOFA2", category="Sofas"),
        s.product("CUSH", category="Cushions"), s.product("SOCK1", category="Socks"), s.product("SOCK2", category="Socks"),
    ]  # fmt: skip
    orders = [
        s.order_line("a", "o1", "2026-11-17 10:00", "SOFA1", category="Sofas"),
        s.order_line("b", "o2", "2026-11-17 10:00", "SOCK1", category="Socks"),
        s.order_line("z", "o9", "2026-11-01 10:00", "SOFA2", category="Sofas", quantity=5),
        s.order_line("c", "o3", "2026-11-20 10:00", "SOCK1", category="Socks"),  # too recent
    ]
    d = run([s.customer(x) for x in "abcz"], [c], products=prods, order_lines=orders)
    sku = d.outbox.set_index("customer_id")["sku"]
    assert sku["a"] not in {"SOFA1", "SOFA2"}
    assert sku["b"] == "SOCK2"
    assert "c" not in sku.index


def test_welcome_series_steps():
    c = campaign(
        "welcome", audience={"trigger": {"type": "signup", "lookback_hours": 720, "steps_days": [0, 3]}}
    )
    new = s.customer("n", created_at=pd.Timestamp("2026-11-20 08:00"))
    assert "1 of 2" in run([new], [c]).outbox.iloc[0]["reason"]
    hist = [history_row("n", "welcome", "2026-11-21")]
    d = decide(s.inputs("2026-11-21", [new], history=hist), [c], rules())
    assert d.outbox.empty  # step 2 is due on 2026-11-24
    d = decide(s.inputs("2026-11-23", [new], history=hist), [c], rules())
    assert "2 of 2" in d.outbox.iloc[0]["reason"]


def test_browse_abandoned_and_low_stock():
    browse = campaign(
        "browse", priority=70, audience={"trigger": {"type": "browse_abandoned", "lookback_hours": 24}}
    )
    low = campaign("low", priority=75, audience={"trigger": {"type": "low_stock", "lookback_hours": 168}},
                   channels={"allowed": ["push"], "default": "push", "selection": "fixed"})  # fmt: skip
    web = [
        s.web("v", "product_view", "2026-11-20 10:00", "A"),
        s.web("c", "product_view", "2026-11-20 10:00", "A"),
        s.web("c", "add_to_cart", "2026-11-20 10:05", "A"),
        s.web("l", "product_view", "2026-11-18 10:00", "RARE"),
    ]
    prods = [s.product("A"), s.product("RARE", inventory_qty=2)]
    d = run([s.customer(x) for x in "vcl"], [browse, low], web_events=web, products=prods)
    got = set(zip(d.outbox.customer_id, d.outbox.campaign_id, d.outbox.sku, strict=False))
    assert got == {("v", "browse", "A"), ("l", "low", "RARE")}


def test_inactive_campaign_and_weekday_schedule():
    off = campaign("off", active={"start": "2026-12-01"})
    weekly = campaign("weekly", send_weekdays=[0])  # Mondays only; D+1 is a Saturday
    d = run([s.customer("a")], [off, weekly])
    assert d.outbox.empty and d.suppressions.empty


def test_a_person_listed_twice_is_decided_once_and_the_inputs_are_left_as_given():
    people = [s.customer("a"), s.customer("a"), s.customer("b", has_email_consent=False)]
    inputs = s.inputs(D, people)
    twice = decide(inputs, [campaign()], rules())
    assert list(twice.outbox.customer_id) == ["a"]
    assert list(twice.suppressions.rule) == ["no_consent"]
    assert len(inputs.customers) == 3  # decide() deduplicates its own copy
    again = decide(inputs, [campaign()], rules())
    pd.testing.assert_frame_equal(again.outbox.drop(columns="reason"), twice.outbox.drop(columns="reason"))
