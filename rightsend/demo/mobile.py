"""Legacy SMS (Twilio message log + link clicks) and push (device lifecycle, sends, opens)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rightsend.demo.clock import DAY, day_to_date, iso_local, iso_z, rfc2822
from rightsend.demo.email import engage_delay, send_times
from rightsend.demo.ids import hex_ids, uuids
from rightsend.demo.world import SMS_OK, World

ACCOUNT_SID = "AC3f9a1c0d5e7b2a4c6e8f0a1b2c3d4e5f"
SERVICE_SID = "MG8e2b6d4f0a1c3e5b7d9f1a2c4e6b8d0f"
SENDERS = {
    "US": "+18335550147",
    "GB": "+447480812345",
    "DE": "+4915735982011",
    "FR": "+33644638201",
    "AU": "+61480012345",
}
STOP_WORDS = np.array(["STOP", "stop", "Stop ", "UNSUBSCRIBE", "quit", "End", "STOPALL", "cancel"])
START_WORDS = np.array(["START", "start", "UNSTOP", "Yes"])
CHATTER = np.array(["Thanks!", "what is this?", "Who is this", "ok", "Love it"])
ERRORS = {
    "undelivered": np.array(["30003", "30005", "30006"]),
    "failed": np.array(["30007", "30008", "21610"]),
}


def _sender(world: World, idx: np.ndarray) -> np.ndarray:
    return pd.Series(world.pop.country[idx]).map(SENDERS).to_numpy(dtype=str)


def _sms_rows(sid, frm, to, body, status, ts, direction, rng, rfc: bool, error=None) -> pd.DataFrame:
    n = len(sid)
    segments = np.where(np.strings.str_len(body.astype(str)) > 160, 2, 1)
    return pd.DataFrame(
        {
            "Sid": sid,
            "From": frm,
            "To": to,
            "Body": body,
            "Status": status,
            "SentDate": rfc2822(ts) if rfc else iso_z(ts),
            "ApiVersion": "2010-04-01",
            "Direction": direction,
            "NumSegments": segments,
            "ErrorCode": error if error is not None else np.full(n, ""),
            "Price": np.where(direction == "inbound", "-0.00790", np.char.mod("-%.5f", 0.0079 * segments)),
            "PriceUnit": "USD",
            "AccountSid": ACCOUNT_SID,
            "_ts": ts,
        }
    )


def sms_campaign(world: World, day: int) -> None:
    rng = world.rng(202, day)
    pop = world.pop
    eligible = np.flatnonzero(world.alive(day) & world.sms_ok & (pop.phone != ""))
    idx = eligible[rng.random(len(eligible)) < rng.uniform(0.4, 0.7)]
    if not len(idx):
        return
    n = len(idx)
    rfc = bool(rng.random() < 0.5)  # each export job used one date style
    t, hour, wd = send_times(world, idx, day, rng, 9, 21)
    sid = np.strings.add("SM", hex_ids(rng, n, 32))
    code = hex_ids(rng, n, 7)
    link = np.strings.add("https://rsnd.example/s/", code)
    promo = [
        "Weekend deal: 20% off everything",
        "New arrivals just dropped",
        "Your favourites are back in stock",
    ]
    body = np.strings.add(
        promo[rng.integers(len(promo))] + " ", np.strings.add(link, " Reply STOP to opt out")
    )
    frm = _sender(world, idx)
    to = pop.phone[idx]
    r = rng.random(n)
    final = np.where(r < 0.95, "delivered", np.where(r < 0.975, "undelivered", "failed"))
    err = np.full(n, "", dtype=object)
    for s, codes in ERRORS.items():
        m = final == s
        err[m] = codes[rng.integers(0, len(codes), int(m.sum()))]
    outbound = np.full(n, "outbound-api")
    frames = []
    trail = rng.random(n) < 0.4  # the status moves across rows for these Sids
    for status, dtime in (("queued", 0), ("sent", 1)):
        m = trail
        frames.append(_sms_rows(sid[m], frm[m], to[m], body[m], status, t[m] + dtime, outbound[m], rng, rfc))
    tf = t + rng.integers(2, 30, n)
    frames.append(_sms_rows(sid, frm, to, body, final, tf, outbound, rng, rfc, err))

    delivered = final == "delivered"
    p = pop.p_engage(idx, 1, hour, wd, day)
    clicked = delivered & (rng.random(n) < p)
    tc = tf + engage_delay(rng, n)
    k = int(clicked.sum())
    if k:
        clicks = pd.DataFrame(
            {
                "event_type": "click",
                "sms_sid": sid[clicked],
                "to": to[clicked],
                "from": frm[clicked],
                "link": link[clicked],
                "click_time": iso_z(tc[clicked]),
                "user_agent": np.where(
                    pop.platform[idx[clicked]] == "ios",
                    "Mozilla/5.0 (iPhone)",
                    "Mozilla/5.0 (Linux; Android 14)",
                ),
                "messaging_service_sid": SERVICE_SID,
                "account_sid": ACCOUNT_SID,
                "_ts": tc[clicked],
            }
        )
        world.landing.emit("sms_clicks", clicks)
        world.note_engagement(idx[clicked], tc[clicked], channel=1)

    # Replies: STOP (some come back with START later) and chatter.
    r = rng.random(n)
    stop = delivered & (r < 0.012)
    chat = delivered & (r >= 0.012) & (r < 0.017)
    ts_reply = tf + engage_delay(rng, n)
    restart = stop & (rng.random(n) < 0.2)
    ts_start = ts_reply + rng.integers(1, 25, n) * DAY + rng.integers(0, DAY, n)
    for m, words, ts in (
        (stop, STOP_WORDS, ts_reply),
        (chat, CHATTER, ts_reply),
        (restart, START_WORDS, ts_start),
    ):
        k = int(m.sum())
        if k:
            in_sid = np.strings.add("SM", hex_ids(rng, k, 32))
            frames.append(
                _sms_rows(
                    in_sid,
                    to[m],
                    frm[m],
                    words[rng.integers(0, len(words), k)],
                    np.full(k, "received"),
                    ts[m],
                    np.full(k, "inbound"),
                    rng,
                    rfc,
                )  # fmt: skip
            )
    world.change(SMS_OK, idx[stop], ts_reply[stop], False)
    world.change(SMS_OK, idx[restart], ts_start[restart], True)
    world.landing.emit("sms", pd.concat(frames, ignore_index=True))


def _push_frame(
    world: World, idx: np.ndarray, event: str, ts: np.ndarray, rng: np.random.Generator, **cols
) -> pd.DataFrame:
    pop = world.pop
    n = len(idx)
    cid = pop.cust_id[idx].astype(str)
    email = pop.email[idx]
    r = rng.random(n)
    # Some SDK events only know the email, some only the customer id.
    cid = np.where((r < 0.1) & (email != ""), "", cid)
    email = np.where(r > 0.6, "", email)
    f = pd.DataFrame(
        {
            "event_id": uuids(rng, n),
            "event_type": event,
            "occurred_at": iso_z(ts) if rng.random() < 0.7 else iso_local(world.cal, pop.zone[idx], ts),
            "customer_id": cid,
            "email": email,
            "device_token": world.device_token[idx].astype(str),
            "platform": pop.platform[idx],
            "_ts": ts,
        }
    )
    for c, v in cols.items():
        f[c] = v
    return f


def push_devices(world: World, day: int, schedule: dict[str, np.ndarray]) -> None:
    """Registrations, token rotations and uninstalls scheduled for `day`."""
    rng = world.rng(303, day)
    pop = world.pop
    frames = []
    for kind in ("register", "rotate", "uninstall"):
        idx = np.flatnonzero((schedule[kind] == day) & ~world.erased)
        if kind != "register":
            idx = idx[world.device_active[idx]]
        if not len(idx):
            continue
        local = day * DAY + rng.integers(8 * 3600, 23 * 3600, len(idx))
        ts = world.cal.local_to_utc(pop.zone[idx], local)
        if kind in ("rotate", "uninstall"):
            frames.append(_push_frame(world, idx, "device_unregistered", ts, rng))
            world.device_active[idx] = False
        if kind in ("register", "rotate"):
            width = np.where(pop.platform[idx] == "ios", 64, 152)
            tokens = hex_ids(rng, len(idx), 152)
            world.device_token[idx] = np.where(width == 64, np.strings.slice(tokens, 0, 64), tokens)
            world.device_active[idx] = True
            tz = np.array(world.cal.zones)[pop.zone[idx]]
            frames.append(
                _push_frame(world, idx, "device_registered", ts + 5, rng, timezone=tz, app_version="4.12.0")
            )
    if frames:
        world.landing.emit("push", pd.concat(frames, ignore_index=True))


def push_campaign(world: World, day: int) -> None:
    rng = world.rng(304, day)
    pop = world.pop
    eligible = np.flatnonzero(world.alive(day) & world.device_active & world.push_ok)
    idx = eligible[rng.random(len(eligible)) < rng.uniform(0.4, 0.7)]
    if not len(idx):
        return
    n = len(idx)
    campaign = f"push-{day_to_date(day):%Y%m%d}"
    t, hour, wd = send_times(world, idx, day, rng)
    mid = np.strings.add("lg-", hex_ids(rng, n, 20))  # the legacy sender's message id
    delivered = rng.random(n) < 0.93
    p = pop.p_engage(idx, 2, hour, wd, day)
    opened = delivered & (rng.random(n) < p)
    dismissed = delivered & ~opened & (rng.random(n) < 0.35)
    td = t + rng.integers(1, 20, n)
    te = td + engage_delay(rng, n)
    frames = []
    for m, event, ts in (
        (np.ones(n, bool), "send", t),
        (delivered, "delivered", td),
        (opened, "open", te),
        (dismissed, "dismissed", te),
    ):
        if m.any():
            frames.append(
                _push_frame(world, idx[m], event, ts[m], rng, campaign_id=campaign, message_id=mid[m])
            )
    world.landing.emit("push", pd.concat(frames, ignore_index=True))
    world.note_engagement(idx[opened], te[opened], channel=2)


def push_schedule(world: World) -> dict[str, np.ndarray]:
    """When each app user registers a device, rotates its token or uninstalls."""
    rng = world.rng(305)
    pop, cal = world.pop, world.cal
    n = pop.n
    never = np.full(n, 10**9, dtype=np.int64)
    created_day = pop.created_sec // DAY
    first = np.maximum(
        cal.start_day + rng.integers(0, min(10, cal.days), n), created_day + rng.integers(0, 3, n)
    )
    register = np.where(pop.has_app, first, never)
    later = first + rng.integers(5, max(6, cal.days), n)
    r = rng.random(n)
    rotate = np.where(pop.has_app & (r < 0.08) & (later <= cal.end_day), later, never)
    uninstall = np.where(pop.has_app & (r > 0.96) & (later <= cal.end_day), later, never)
    return {"register": register, "rotate": rotate, "uninstall": uninstall}
