"""A small hand-made warehouse with every table the exports read.

People (run date D = 2026-11-20):
- c1 alice: email + SMS reachable, champions, bought a promoted sku 3 days ago
- c2 bob: email reachable, SMS NOT consented (phone must never appear), at risk
- c3 erin: ERASED (tombstoned) - still in the mart here to prove the exports check again
- c4 carol: no orders, no email consent, SMS reachable
- c5 dave: lost (no audience for lost), SMS only
- c6 eve: "Can't Lose Them", email with spaces and capitals (normalisation)
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import pytest

from rightsend import summary, warehouse
from rightsend.config import Settings

D = "2026-11-20"
DAY = date.fromisoformat(D)

PEOPLE = [
    # id, src, first, email, phone, email_ok, sms_ok, segment, r, f, m, lifecycle, preferred, orders, revenue, last_order
    (
        "c1",
        "1001",
        "Alice",
        "alice@example.com",
        "+14155550101",
        True,
        True,
        "champions",
        5,
        5,
        5,
        "active",
        "email",
        7,
        812.5,
        DAY - timedelta(days=3),
    ),
    (
        "c2",
        "1002",
        "Bob",
        "bob@example.com",
        "+447700900123",
        True,
        False,
        "at_risk",
        2,
        4,
        4,
        "lapsing",
        "email",
        4,
        300.0,
        DAY - timedelta(days=60),
    ),
    (
        "c3",
        "1003",
        "Erin",
        "erin@example.com",
        "+14155550103",
        True,
        True,
        "champions",
        5,
        4,
        4,
        "active",
        "sms",
        5,
        500.0,
        DAY - timedelta(days=2),
    ),
    (
        "c4",
        None,
        "Carol",
        "carol@example.com",
        "+14155550104",
        False,
        True,
        None,
        None,
        None,
        None,
        "never_engaged",
        None,
        0,
        0.0,
        None,
    ),
    (
        "c5",
        "1005",
        "Dave",
        None,
        "+14155550105",
        False,
        True,
        "lost",
        1,
        1,
        1,
        "silent",
        "sms",
        1,
        20.0,
        DAY - timedelta(days=400),
    ),
    (
        "c6",
        "1006",
        "Eve",
        "  Eve@Example.COM ",
        None,
        True,
        False,
        "Can't Lose Them",
        1,
        5,
        5,
        "lapsing",
        "email",
        9,
        2000.0,
        DAY - timedelta(days=200),
    ),
]


def tomb(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _ts(d: date, hour: int = 10) -> datetime:
    return datetime(d.year, d.month, d.day, hour)


def build_warehouse(settings: Settings) -> None:
    with warehouse.connect(settings) as con:
        warehouse.bootstrap(con)
        con.execute("create schema marts; create schema ml")
        con.execute(
            """create table marts.dim_customers (
                customer_id varchar, source_customer_id varchar, first_name varchar, last_name varchar,
                email varchar, phone varchar, city varchar, province_code varchar, country_code varchar,
                timezone varchar, timezone_source varchar, has_email_consent boolean, has_sms_consent boolean,
                has_push_consent boolean, is_email_deliverable boolean, has_spam_complaint boolean,
                is_email_reachable boolean, is_sms_reachable boolean, is_push_reachable boolean,
                push_device_token varchar, push_platform varchar, order_count integer, net_revenue decimal(18,2),
                avg_order_value decimal(18,2), first_order_at timestamp, last_order_at timestamp, top_category varchar,
                last_email_engaged_at timestamp, last_sms_engaged_at timestamp, last_push_engaged_at timestamp,
                last_engaged_at timestamp, last_web_activity_at timestamp, recency_days integer, frequency integer,
                monetary decimal(18,2), r_score integer, f_score integer, m_score integer, rfm_segment varchar,
                lifecycle_state varchar, engagement_persona varchar, preferred_channel varchar, created_at timestamp)"""
        )
        for cid, src, first, email, phone, e_ok, s_ok, seg, r, f, m, life, pref, n, rev, last in PEOPLE:
            con.execute(
                """insert into marts.dim_customers (customer_id, source_customer_id, first_name, email, phone, timezone,
                   has_email_consent, has_sms_consent, is_email_reachable, is_sms_reachable, is_push_reachable,
                   order_count, net_revenue, last_order_at, recency_days, r_score, f_score, m_score, rfm_segment,
                   lifecycle_state, preferred_channel) values (?,?,?,?,?,'America/New_York',?,?,?,?,false,?,?,?,?,?,?,?,?,?,?)""",
                [
                    cid,
                    src,
                    first,
                    email,
                    phone,
                    e_ok,
                    s_ok,
                    e_ok,
                    s_ok,
                    n,
                    rev,
                    _ts(last) if last else None,
                    (DAY - last).days if last else None,
                    r,
                    f,
                    m,
                    seg,
                    life,
                    pref,
                ],
            )
        con.execute(
            """create table ml.send_scores (score_date date, customer_id varchar, channel varchar, best_local_hour integer,
               best_hour_of_week integer, p_engage double, expected_value double, p_by_hour double[], channel_rank integer,
               is_personal boolean, reason varchar, model_version varchar)"""
        )
        scores = [
            ("c1", "email", 9, 1, True),
            ("c1", "sms", 19, 2, True),
            ("c2", "email", 18, 1, False),
            ("c5", "sms", 12, 1, True),
            ("c6", "email", 20, 1, False),
            ("c3", "sms", 10, 1, True),
        ]
        for cid, ch, h, rank, personal in scores:
            con.execute(
                "insert into ml.send_scores values (?,?,?,?,?,0.2,0.1,null,?,?,'why','m1')",
                [D, cid, ch, h, 24 + h, rank, personal],
            )
        # yesterday's scores must not leak into today's best hour
        con.execute(
            "insert into ml.send_scores values (?, 'c4', 'sms', 15, 15, 0.1, 0.1, null, 1, false, 'old', 'm1')",
            [(DAY - timedelta(days=1)).isoformat()],
        )

        con.execute(
            """create table marts.fct_order_lines (order_line_id varchar, order_id varchar, customer_id varchar,
               ordered_at timestamp, sku varchar, product_name varchar, category varchar, quantity integer,
               unit_price decimal(18,2), line_total decimal(18,2), is_cancelled boolean)"""
        )
        con.execute(
            """insert into marts.fct_order_lines values
               ('l1','o1','c1',?,'BOOT-1','Boot','boots',1,100,100,false),
               ('l2','o2','c2',?,'BOOT-1','Boot','boots',1,100,100,false),
               ('l3','o3','c6',?,'HAT-1','Hat','hats',1,20,20,false),
               ('l4','o4','c5',?,'BOOT-2','Boot','boots',1,100,100,true)""",
            [
                _ts(DAY - timedelta(days=3)),
                _ts(DAY - timedelta(days=60)),
                _ts(DAY - timedelta(days=5)),
                _ts(DAY - timedelta(days=1)),
            ],
        )
        con.execute(
            """create table marts.fct_orders (order_id varchar, order_name varchar, customer_id varchar, ordered_at timestamp,
               financial_status varchar, is_cancelled boolean, currency varchar, subtotal decimal(18,2),
               discount_amount decimal(18,2), total decimal(18,2), refunded_amount decimal(18,2), net_total decimal(18,2), source varchar)"""
        )
        con.execute(
            """create table marts.fct_sends (send_id varchar, customer_id varchar, channel varchar, sent_at timestamp,
               campaign_id varchar, message_id varchar, timezone varchar, sent_local_at timestamp, sent_local_hour integer,
               sent_local_weekday integer, sent_hour_of_week integer, first_engaged_at timestamp, is_delivered boolean)"""
        )
        # Lift data: promo_boots on D-5, 40 treated (10 convert) and 20 holdout (2 convert).
        old = DAY - timedelta(days=5)
        send_at = _ts(old + timedelta(days=1), 15)
        for i in range(60):
            holdout = i >= 40
            cid, mid = f"x{i}", f"m-old-{i}"
            _outbox(
                con,
                old.isoformat(),
                mid,
                cid,
                "promo_boots",
                "email",
                f"{cid}@example.net",
                send_at,
                holdout,
                "A",
            )
            if not holdout:
                con.execute(
                    "insert into marts.fct_sends values (?,?,'email',?,'promo_boots',?,'UTC',?,15,2,63,?,true)",
                    [
                        f"s{i}",
                        cid,
                        send_at,
                        mid,
                        send_at,
                        send_at + timedelta(hours=1) if i % 4 == 0 else None,
                    ],
                )
            if i < 10 or 40 <= i < 42:
                con.execute(
                    "insert into marts.fct_orders values (?,?,?,?,'paid',false,'USD',50,0,50,0,50,'web')",
                    [f"ox{i}", f"#{i}", cid, send_at + timedelta(days=1)],
                )
        # A legacy (non-rightsend) send pattern: mostly 10:00 local.
        for i in range(12):
            con.execute(
                "insert into marts.fct_sends values (?,?,'email',?,'legacy',null,'UTC',?,?,1,0,null,true)",
                [
                    f"legacy{i}",
                    "c1",
                    _ts(DAY - timedelta(days=30 + i)),
                    _ts(DAY - timedelta(days=30 + i)),
                    10 if i < 9 else 14,
                ],
            )
        # Today's queue.
        tomorrow = DAY + timedelta(days=1)
        _outbox(con, D, "q1", "c1", "winback", "email", "alice@example.com", _ts(tomorrow, 14), False, "A", 9)
        _outbox(con, D, "q2", "c2", "winback", "email", "bob@example.com", _ts(tomorrow, 23), False, "B", 18)
        _outbox(con, D, "q3", "c5", "promo_boots", "sms", "+14155550105", _ts(tomorrow, 17), True, "A", 12)
        _outbox(
            con, D, "q4", "c6", "promo_boots", "email", "eve@example.com", _ts(tomorrow, 1), False, "A", 20
        )
        con.execute(
            """insert into queue.suppression_log values
               (?, 'c4', 'winback', 'email', 'no_consent', null), (?, 'c2', 'promo_boots', 'sms', 'no_consent', null),
               (?, 'c1', 'promo_boots', 'email', 'frequency_cap', 'one per day'), (?, 'c5', 'winback', 'sms', 'quiet_hours', null)""",
            [D, D, D, D],
        )
        con.execute(
            """create table marts.mart_customer_segments_daily (snapshot_date date, customer_id varchar,
               rfm_segment varchar, lifecycle_state varchar)"""
        )
        week, yest = (DAY - timedelta(days=7)).isoformat(), (DAY - timedelta(days=1)).isoformat()
        snapshots = {
            week: [
                ("c1", "loyal", "active"),
                ("c2", "at_risk", "lapsing"),
                ("c5", "hibernating", "silent"),
                ("gone1", "lost", "silent"),
            ],
            yest: [
                ("c1", "loyal", "active"),
                ("c2", "champions", "active"),
                ("c5", "lost", "silent"),
                ("c6", "Can't Lose Them", "lapsing"),
            ],
            D: [(p[0], p[7], p[11]) for p in PEOPLE if p[0] != "c3"],
        }
        for snap, rows in snapshots.items():
            for cid, seg, life in rows:
                con.execute(
                    "insert into marts.mart_customer_segments_daily values (?,?,?,?)", [snap, cid, seg, life]
                )
        con.execute(
            """create table marts.mart_customer_channel_engagement (customer_id varchar, channel varchar, sends_30d integer,
               human_opens_30d integer, clicks_30d integer, engagements_30d integer, engagement_rate_30d double,
               sends_90d integer, human_opens_90d integer, clicks_90d integer, engagements_90d integer,
               engagement_rate_90d double, last_sent_at timestamp, last_engaged_at timestamp, is_reachable boolean)"""
        )
        con.execute(
            """insert into marts.mart_customer_channel_engagement values
               ('c1','email',10,3,1,4,0.4,30,9,3,12,0.4,null,null,true),
               ('c2','email',8,1,0,1,0.125,20,2,1,3,0.15,null,null,true),
               ('c5','sms',4,0,1,1,0.25,10,0,2,2,0.2,null,null,true),
               ('c1','sms',2,0,0,0,0,5,0,1,1,0.2,null,null,true)"""
        )
        con.execute(
            "create table marts.mart_campaign_results (campaign_id varchar, variant varchar, queue_date date, queued integer, holdout integer, sent integer, engaged integer, converted integer)"
        )
        now = _ts(DAY, 2)
        for kind, value in (
            ("email", "erin@example.com"),
            ("phone", "+14155550103"),
            ("customer_id", "1003"),
        ):
            con.execute(
                "insert into ops.erasure_tombstones values (?,?,'r-erase',?)", [tomb(kind, value), kind, now]
            )
        con.execute(
            """insert into ops.manifest (path, source, dt, size_bytes, sha256, status, rows_loaded,
                   rows_quarantined, rows_erased, error, run_date, loaded_at) values
               ('customers/dt=2026-11-20/customers.csv','customers',?,100,'abc','loaded',6,1,1,null,?,?),
               ('email/dt=2026-11-20/events.json','email',?,100,'def','loaded',120,2,0,null,?,?),
               ('sms/dt=2026-11-20/broken.csv','sms',?,10,'ghi','failed',0,0,0,'missing column Sid',?,?)""",
            [D, D, now] * 3,
        )
        con.execute(
            """insert into ops.quarantine (source, file, line, raw_text, reason, run_date, quarantined_at) values
               ('customers','customers/dt=2026-11-20/customers.csv',7,'x','invalid phone',?,?),
               ('email','email/dt=2026-11-20/events.json',3,'x','missing sg_event_id',?,?),
               ('email','email/dt=2026-11-20/events.json',9,'x','missing sg_event_id',?,?)""",
            [D, now] * 3,
        )
    summary.record(
        settings,
        D,
        "ingest",
        {"files_loaded": 2, "files_failed": 1, "rows_loaded": 126, "rows_quarantined": 3},
        1.5,
    )
    summary.record(settings, D, "decide", {"queued": 3, "held_out": 1, "suppressed": 4}, 0.7)


def _outbox(con, qd, mid, cid, campaign, channel, dest, send_at, holdout, variant, local_hour=None, sku=None):  # noqa: ANN001
    local = f"{send_at.date().isoformat()}T{(local_hour if local_hour is not None else send_at.hour):02d}:00:00-05:00"
    con.execute(
        """insert into queue.outbox (queue_date, message_id, customer_id, source_customer_id, campaign_id, use_case,
               channel, destination, send_at_utc, timezone, send_at_local, priority, variant, is_holdout,
               model_version, p_engage, reason, created_at)
           values (?,?,?,?,?,'promo',?,?,?,'America/New_York',?,10,?,?,'m1',0.2,'why',?)""",
        [qd, mid, cid, None, campaign, channel, dest, send_at, local, variant, holdout, send_at],
    )
    if sku:
        con.execute("update queue.outbox set sku = ? where message_id = ?", [sku, mid])


def write_champion(settings: Settings) -> None:
    """A champion in the registry's format, if the registry module is there."""
    registry = pytest.importorskip("models_ml.registry")
    meta = {
        "run_date": D,
        "metrics": {
            "validation": {
                "auc": 0.71,
                "log_loss": 0.41,
                "ece": 0.012,
                "base_rate": 0.12,
                "mean_p": 0.118,
                "n": 5000,
            }
        },
        "calibration": [
            {"mean_p": 0.05, "observed": 0.04, "n": 2000},
            {"mean_p": 0.15, "observed": 0.17, "n": 900},
            {"mean_p": 0.3, "observed": 0.28, "n": 300},
        ],
        "policy_replay": {
            "model": {"matched_sends": 400, "engaged": 80, "rate": 0.2},
            "legacy": {"matched_sends": 900, "engaged": 110, "rate": 0.122},
        },
    }
    info = registry.save(settings, "m1", "tree\n", meta)
    registry.promote(settings, info, "test")
