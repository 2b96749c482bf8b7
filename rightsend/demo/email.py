"""Legacy email campaigns as SendGrid Event Webhook events.

The legacy sender picked a random local hour 7-22 for every recipient, which is what makes
the send-time effect learnable: engagement is drawn with the person's true p at that hour.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rightsend.demo.clock import DAY, day_to_date
from rightsend.demo.ids import b64_ids, hex_ids
from rightsend.demo.world import EMAIL_OK, World

CATEGORIES = ("newsletter", "promo", "new-arrivals", "winback")
LINKS = np.array(
    [
        "https://shop.example.com/collections/new",
        "https://shop.example.com/sale",
        "https://shop.example.com/products/",
    ]
)
AGENTS = np.array(
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    ]
)
PROXY_AGENT = "Mozilla/5.0"


def send_times(world: World, idx: np.ndarray, day: int, rng: np.random.Generator, lo: int = 7, hi: int = 22):
    """Random local send times on local calendar `day`: (utc seconds, local hour, weekday)."""
    hour = rng.integers(lo, hi + 1, len(idx))
    local = day * DAY + hour * 3600 + rng.integers(0, 3600, len(idx))
    utc = world.cal.local_to_utc(world.pop.zone[idx], local)
    return utc, hour, np.full(len(idx), (day + 3) % 7)


def engage_delay(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds from delivery to engagement: mostly within the hour, a long tail."""
    return np.minimum(rng.lognormal(np.log(1200), 1.0, n), 30 * 3600).astype(np.int64) + 30


def _ip(rng: np.random.Generator, n: int) -> np.ndarray:
    parts = [rng.integers(11, 223, n).astype(str)] + [rng.integers(0, 255, n).astype(str) for _ in range(3)]
    out = parts[0]
    for p in parts[1:]:
        out = np.strings.add(np.strings.add(out, "."), p)
    return out


def email_campaign(world: World, day: int) -> None:
    rng = world.rng(101, day)
    pop = world.pop
    cat = CATEGORIES[rng.integers(len(CATEGORIES))]
    campaign = f"em-{day_to_date(day):%Y%m%d}-{cat}"
    eligible = np.flatnonzero(world.alive(day) & world.email_ok & (pop.email != ""))
    idx = eligible[rng.random(len(eligible)) < rng.uniform(0.35, 0.6)]
    if not len(idx):
        return
    n = len(idx)
    t, hour, wd = send_times(world, idx, day, rng)
    msg = np.strings.add(hex_ids(rng, n, 22), ".filterdrecv-7d9c8b-1-0.0")
    category: object = cat if rng.random() < 0.5 else [cat, "legacy"]
    frames: list[pd.DataFrame] = []

    def add(sel: np.ndarray, ts: np.ndarray, event: str, **cols: object) -> None:
        k = int(sel.sum()) if sel.dtype == bool else len(sel)
        if not k:
            return
        f = pd.DataFrame(
            {
                "email": pop.email[idx[sel]],
                "timestamp": ts,
                "event": event,
                "sg_event_id": b64_ids(rng, k),
                "sg_message_id": msg[sel],
                "campaign_id": campaign,
                "_ts": ts,
            }
        )
        f["category"] = [category] * k
        for c, v in cols.items():
            f[c] = v
        frames.append(f)

    everyone = np.ones(n, dtype=bool)
    add(everyone, t, "processed")
    bounced_before = world.hard_bounced[idx]
    add(bounced_before, t[bounced_before] + 1, "dropped", reason="Bounced Address")
    live = ~bounced_before
    hard = live & pop.bad_email[idx]
    r = rng.random(n)
    soft = live & ~hard & (r < 0.008)
    dropped = live & ~hard & (r >= 0.008) & (r < 0.012)
    deferred = live & ~hard & (r >= 0.012) & (r < 0.045)
    delivered = live & ~hard & ~soft & ~dropped
    add(hard, t[hard] + rng.integers(5, 60, int(hard.sum())), "bounce", type="bounce",
        reason="550 5.1.1 The email account that you tried to reach does not exist.",
        bounce_classification="Invalid Address")  # fmt: skip
    add(soft, t[soft] + rng.integers(5, 60, int(soft.sum())), "bounce", type="blocked",
        reason="421 4.7.0 Temporary rate limit", bounce_classification="Reputation")  # fmt: skip
    add(dropped, t[dropped] + 1, "dropped", reason="Spam Content (if spam checker app enabled)")
    add(deferred, t[deferred] + rng.integers(10, 120, int(deferred.sum())), "deferred",
        reason="451 4.3.0 Mailbox temporarily unavailable", attempt="1")  # fmt: skip
    world.hard_bounced[idx[hard]] = True
    td = t + np.where(deferred, rng.integers(600, 5400, n), rng.integers(2, 40, n))
    add(delivered, td[delivered], "delivered", response="250 OK", ip=_ip(rng, int(delivered.sum())))

    # Privacy-proxy opens: right after delivery, for proxy users, unrelated to the hour.
    machine = delivered & pop.apple_proxy[idx] & (rng.random(n) < 0.8)
    add(machine, td[machine] + rng.integers(3, 240, int(machine.sum())), "open", sg_machine_open=True,
        useragent=PROXY_AGENT, ip=_ip(rng, int(machine.sum())))  # fmt: skip

    p = pop.p_engage(idx, 0, hour, wd, day)
    engaged = delivered & (rng.random(n) < p)
    te = td + engage_delay(rng, n)
    opened = engaged & (rng.random(n) < 0.88)
    clicked = engaged & (~opened | (rng.random(n) < 0.35))
    agent = AGENTS[rng.integers(0, len(AGENTS), n)]
    add(
        opened,
        te[opened],
        "open",
        sg_machine_open=False,
        useragent=agent[opened],
        ip=_ip(rng, int(opened.sum())),
    )
    tc = te + np.where(opened, rng.integers(8, 400, n), 0)
    add(clicked, tc[clicked], "click", url=LINKS[rng.integers(0, len(LINKS), int(clicked.sum()))],
        useragent=agent[clicked], ip=_ip(rng, int(clicked.sum())))  # fmt: skip

    # Opt-outs after reading.
    r = rng.random(n)
    unsub = delivered & (r < 0.0025)
    group_unsub = delivered & (r >= 0.0025) & (r < 0.0035)
    spam = delivered & (r >= 0.0035) & (r < 0.0040)
    tu = td + engage_delay(rng, n)
    add(unsub, tu[unsub], "unsubscribe")
    add(group_unsub, tu[group_unsub], "group_unsubscribe", asm_group_id=12345)
    add(spam, tu[spam], "spamreport")
    out = unsub | group_unsub | spam
    world.change(EMAIL_OK, idx[out], tu[out], False)
    back = group_unsub & (rng.random(n) < 0.3)  # some come back through the preference page
    tb = tu + rng.integers(2, 20, n) * DAY + rng.integers(0, DAY, n)
    add(back, tb[back], "group_resubscribe", asm_group_id=12345)
    world.change(EMAIL_OK, idx[back], tb[back], True)

    frame = pd.concat(frames, ignore_index=True)
    world.landing.emit("email", frame)
    world.note_engagement(idx[engaged], np.minimum(te, tc)[engaged], channel=0)
